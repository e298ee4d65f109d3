"""Fixtures for the local-authority return adapters' tests."""

from __future__ import annotations

import textwrap

import pytest

from la_builders import FSM_HEADER, PUPIL_HEADER, cin_child, cin_plan, cin_referral, cin_xml, write


@pytest.fixture
def tiny_la(tmp_path) -> dict:
    """A tiny, consistent set of returns for one local authority.

    Children (UPN):
    - A123456789012: SSDA903 CHILD 1001 (2 episodes), CIN LA1 (referral + plan), pupil P1
    - B123456789013: SSDA903 CHILD 1003 (written in lower case with a space), pupil P2
    - C123456789014: CIN LA3, pupil P3 (FSM eligible on census day)
    - no UPN: SSDA903 CHILD 1002 (UPN 'UN2'), CIN LA2 (UPNunknown UN1), pupil P4
    """
    d = tmp_path / "returns"
    write(
        d / "903" / "header.csv",
        """
        CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB
        1001,1,01/02/2012,WBRI,A123456789012,,
        1002,2,03/04/2013,WBRI,UN2,,
        1003,1,05/06/2014,WBRI,b12345678901 3,,
        """,
    )
    write(
        d / "903" / "episodes.csv",
        """
        CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN
        1001,01/05/2023,S,C2,N1,U1,PR1,01/08/2023,X1,,,,
        1001,01/08/2023,P,C2,N1,U2,PR1,,,,,,
        1002,10/01/2024,S,V2,N4,U1,PR1,,,,,,
        1003,15/02/2024,S,C1,N1,U1,PR1,,,,,,
        """,
    )
    children = "\n".join(
        [
            cin_child(
                "LA1",
                "A123456789012",
                cin_referral("2023-04-10", "N1", plans=cin_plan("2023-05-01")),
                dob="2012-02-01",
            ),
            cin_child("LA2", None, cin_referral("2023-06-01", "N5", "2023-07-01", nfa="true")),
            cin_child("LA3", "C123456789014", cin_referral("2023-09-01", "N4")),
        ]
    )
    write(d / "cin" / "CIN_2024.xml", cin_xml(children))
    write(
        d / "census" / "2025_spring_pupilonroll.csv",
        PUPIL_HEADER
        + textwrap.dedent("""
        P1,SCH1,A123456789012,C,M
        P2,SCH2,B123456789013,C,M
        P3,SCH1,C123456789014,C,F
        P4,SCH2,,C,F
        """).lstrip("\n"),
    )
    write(
        d / "census" / "2025_spring_fsmperiodsonroll.csv",
        FSM_HEADER
        + textwrap.dedent("""
        P3,SCH1,f1,2024-Sep-01 00:00:00,
        P2,SCH2,f2,2024-Sep-01 00:00:00,2024-Dec-20 00:00:00
        """).lstrip("\n"),
    )
    return {"ssda903": d / "903", "cin_census": d / "cin", "school_census": d / "census"}
