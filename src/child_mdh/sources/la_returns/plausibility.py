"""Plausibility checks of the returns: things a return can say that are legal but unlikely.

None of these stops the import or drops a row: each is reported, row by row, with the
action ``kept`` (a warning) and a count, so that an analyst can look before trusting the
figures built on them:

- SSDA903 episodes of one child that overlap (an episode starting before the previous
  one ended), or that follow an episode never closed (two open at once);
- SSDA903 episodes that start before the child's date of birth;
- CIN referrals more than a year before the child's birth (a referral of an unborn child
  comes months before birth, not years: a mistyped year);
- a CIN return whose ReferenceDate is not 31 March (the end of a collection year), or
  disagrees with its Year.
"""

from __future__ import annotations

import pandas as pd

from child_mdh.sources.la_returns.errors import KEPT, ProblemLog
from child_mdh.sources.la_returns.records import USED

#: How long before birth a CIN referral is still plausible (an unborn child's referral).
BEFORE_BIRTH = pd.DateOffset(years=1)


def _dob_of(children: pd.DataFrame | None, refs: pd.Series) -> pd.Series:
    """Each row's child's date of birth (from the child lookup; NaT when unknown)."""
    if children is None or "dob" not in children or children.empty:
        return pd.Series(pd.NaT, index=refs.index, dtype="datetime64[ns]")
    known = children.dropna(subset=["child_ref", "dob"]).drop_duplicates("child_ref", keep="last")
    dob = pd.to_datetime(known.set_index("child_ref")["dob"])
    return pd.to_datetime(refs.map(dob))


def check_episodes(episodes: pd.DataFrame, children, log: ProblemLog, return_name: str) -> None:
    """Report overlapping, never-closed and before-birth SSDA903 episodes (kept)."""
    used = episodes[episodes["status"] == USED]
    if used.empty:
        return
    ordered = used.sort_values(["child_ref", "episode_start"], kind="stable")
    same_child = ordered["child_ref"].eq(ordered["child_ref"].shift())
    prev_end = ordered["episode_end"].shift()
    prev_open = same_child & prev_end.isna()
    overlap = same_child & prev_end.notna() & (ordered["episode_start"] < prev_end)
    for mask, problem in (
        (
            prev_open,
            "episode starts while the child's previous episode was never closed (no DEC): "
            "two episodes open at once; check DEC of the previous episode",
        ),
        (
            overlap,
            "episode starts before the child's previous episode ended (DECOM before the "
            "previous DEC): overlapping episodes; check both dates",
        ),
    ):
        log.add_rows(
            episodes,
            mask.reindex(episodes.index, fill_value=False),
            return_name=return_name,
            table="episodes",
            field="DECOM",
            problem=problem,
            action=KEPT,
            value_column="DECOM",
        )
    dob = _dob_of(children, used["child_ref"])
    early = used["episode_start"] < dob
    log.add_rows(
        episodes,
        early.reindex(episodes.index, fill_value=False),
        return_name=return_name,
        table="episodes",
        field="DECOM",
        problem="episode starts before the child's date of birth (DOB in the header): "
        "check both dates",
        action=KEPT,
        value_column="DECOM",
    )


def check_referrals(referrals: pd.DataFrame, children, log: ProblemLog, return_name: str) -> None:
    """Report CIN referrals more than a year before the child's birth (kept)."""
    used = referrals[referrals["status"] == USED]
    if used.empty:
        return
    dob = _dob_of(children, used["child_ref"])
    early = used["referral_date"] < dob - BEFORE_BIRTH
    log.add_rows(
        referrals,
        early.reindex(referrals.index, fill_value=False),
        return_name=return_name,
        table="CINdetails",
        field="CINreferralDate",
        problem="CINreferralDate is more than a year before the child's birth "
        "(PersonBirthDate): a referral of an unborn child comes months before birth, not "
        "years; check the year of both dates",
        action=KEPT,
    )


def check_reference_date(
    reference_date, year: int | None, path, log: ProblemLog, return_name: str
) -> None:
    """Report a CIN ReferenceDate that is not 31 March or disagrees with the Year (kept)."""
    if reference_date is None:
        return
    ref = pd.Timestamp(reference_date)
    problems = []
    if (ref.month, ref.day) != (3, 31):
        problems.append(
            f"ReferenceDate {ref.date()} is not 31 March, the end of a collection year: "
            "dates are checked against it and returns are ordered by it; check the header"
        )
    if year is not None and year != ref.year:
        problems.append(
            f"Year {year} disagrees with ReferenceDate {ref.date()} (the collection year "
            f"ending 31 March {year} has ReferenceDate {year}-03-31); the returns are "
            "ordered by ReferenceDate; check the header"
        )
    for problem in problems:
        log.add(
            return_name=return_name,
            file=str(path),
            table="Header",
            field="ReferenceDate",
            value=str(ref.date()),
            problem=problem,
            action=KEPT,
            rows_affected=0,
        )
