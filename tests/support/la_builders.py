"""Paths and small file builders for the local-authority return adapters' tests."""

from __future__ import annotations

import textwrap
from pathlib import Path

from paths import SHARED_FIXTURES, TEST_DATA

DATA = TEST_DATA / "la_formats"
SHARED = SHARED_FIXTURES / "la_formats"
SALT = "test-salt-0123456789abcdef"
LA = "E08000004"


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding=encoding)
    return path


def cin_xml(children: str, *, year: str = "2024", reference_date: str = "2024-03-31") -> str:
    """A CIN census message with the given <Child> elements."""
    return f"""<Message>
  <Header>
    <CollectionDetails><Collection>CIN</Collection><Year>{year}</Year>
      <ReferenceDate>{reference_date}</ReferenceDate></CollectionDetails>
    <Source><SourceLevel>L</SourceLevel><LEA>353</LEA></Source>
  </Header>
  <Children>
{children}
  </Children>
</Message>
"""


def cin_child(
    la_id: str, upn: str | None, referrals: str, unknown: str | None = None, dob: str = "2015-03-27"
) -> str:
    ids = f"<LAchildID>{la_id}</LAchildID>"
    ids += f"<UPN>{upn}</UPN>" if upn else f"<UPNunknown>{unknown or 'UN1'}</UPNunknown>"
    ids += f"<PersonBirthDate>{dob}</PersonBirthDate><GenderCurrent>1</GenderCurrent>"
    return f"<Child><ChildIdentifiers>{ids}</ChildIdentifiers>{referrals}</Child>"


def cin_referral(
    date: str, need: str = "N1", closure: str | None = None, nfa: str = "0", plans: str = ""
) -> str:
    close = f"<CINclosureDate>{closure}</CINclosureDate>" if closure else ""
    return (
        f"<CINdetails><CINreferralDate>{date}</CINreferralDate><ReferralSource>1A"
        f"</ReferralSource><PrimaryNeedCode>{need}</PrimaryNeedCode>{close}"
        f"<ReferralNFA>{nfa}</ReferralNFA>{plans}</CINdetails>"
    )


def cin_plan(start: str, end: str | None = None) -> str:
    stop = f"<CPPendDate>{end}</CPPendDate>" if end else ""
    return (
        f"<ChildProtectionPlans><CPPstartDate>{start}</CPPstartDate>{stop}</ChildProtectionPlans>"
    )


PUPIL_HEADER = "pupilonrolltableid,NativeId,upn,enrolstatus,sex\n"
FSM_HEADER = "pupilonrolltableid,NativeId,fsmperiodsonrolltableid,fsmstartdate,fsmenddate\n"
