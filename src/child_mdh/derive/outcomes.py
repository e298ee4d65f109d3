"""Children's social care outcomes relative to the reference date (the census day).

One row per child of the analysis cohort, with what happened in the follow-up window
after the reference date and what had happened before it (methods.md section 5):

Follow-up window
    From the reference date (included) for ``follow_up_years`` calendar years (end
    excluded); shortened to the extract date (the last date the social care data cover,
    included) when the data end earlier, and, with ``end_age``, at the child's
    ``end_age``-th birthday. Only age in completed years on census day is known, so the
    birthday is placed half a year after the census-day age (age + 0.5): an
    approximation, exact on average.

Outcomes in the window (nullable booleans; missing for children not linked to the pupil
database, whose social care records cannot be found)
    ``any_referral``    a CIN referral dated in the window;
    ``any_cin``         a referral in the window that did not end in no further action
                        (a referral is NFA only if every record of it says so);
    ``any_cpp``         a child protection plan started in the window;
    ``entered_care``    a looked-after episode starting in the window that starts a
                        period of care: reason for new episode (RNE) 'S', or the child's
                        first episode in the data (a first episode whose RNE was miscoded);
    ``n_referrals``     referrals in the window, de-duplicated by (pupil_id, referral_date)
                        since the CIN census repeats a referral in every return year it is
                        open;
    ``exposure_years``  length of the window in years (``follow_up_years`` when complete;
                        proportionally less when shortened);
    ``time_to_first_referral`` days from the reference date to the first referral, or to
                        the end of the window if none (censored); ``referral_event`` says
                        which.

Prior contact (before the reference date; within the last ``history_years`` if given,
otherwise all the data hold)
    ``prior_referral``  a referral dated before the reference date;
    ``prior_cpp``       a plan open at some time in the history;
    ``prior_in_care``   a looked-after episode open at some time in the history;
    ``in_care_at_reference`` an episode that began before the reference date and had not
                        ended by it (end missing or after the reference date: a child
                        whose episode ends on the day is not counted, as in the DfE
                        'looked after at 31 March' convention; an episode starting on the
                        reference date is an outcome, entering care, not prior contact).

Prior-contact policy
    ``"adjust"`` keeps every child; the models add the prior-contact flags as
    covariates. ``"exclude_in_care"`` drops children in care at the reference date
    (their 'entry to care' cannot be a new event); they are counted in the report.

Everything is counted: ``result.attrs["report"]`` records children in, linked, unlinked,
excluded and why, and for each social care table the records used, outside the cohort,
duplicated, before, in and after the window, and dated after the extract date.
The computation is vectorised (index look-ups and ``numpy.bincount``), so it runs on
millions of children and records.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from child_mdh.contract.columns import require_columns
from child_mdh.contract.tables import CENSUS_DAY
from child_mdh.contract.vocabulary import OUTCOME_FLAGS
from child_mdh.errors import UserError

POLICIES = ("adjust", "exclude_in_care")
PRIOR_FLAGS = ("prior_referral", "prior_cpp", "prior_in_care", "in_care_at_reference")
OUTCOME_COLUMNS = (
    "linked",
    *OUTCOME_FLAGS,
    "n_referrals",
    "exposure_years",
    "time_to_first_referral",
    "referral_event",
    *PRIOR_FLAGS,
)
_REQUIRED = {
    "children": ("pupil_id",),
    "cin_referrals": ("pupil_id", "referral_date", "referral_nfa"),
    "child_protection_plans": ("pupil_id", "cpp_start_date", "cpp_end_date"),
    "looked_after_episodes": ("pupil_id", "episode_start", "episode_end", "reason_new_episode"),
}
_DATES = {
    "cin_referrals": ("referral_date",),
    "child_protection_plans": ("cpp_start_date", "cpp_end_date"),
    "looked_after_episodes": ("episode_start", "episode_end"),
}
_NEVER = np.datetime64("NaT", "ns")


class OutcomeInputError(UserError):
    """An input table cannot give outcomes; the message names the table, column and fix."""


def as_reference_date(value) -> pd.Timestamp:
    """The reference date as a Timestamp: a date, a date string, or a census year (2011,
    2021: the census day, ``contract.CENSUS_DAY``)."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        if int(value) not in CENSUS_DAY:
            raise ValueError(f"no census day known for {value}; known: {list(CENSUS_DAY)}")
        value = CENSUS_DAY[int(value)]
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as err:
        raise ValueError(f"reference date {value!r} is not a date ({err})") from None
    if pd.isna(ts):
        raise ValueError("the reference date is missing")
    return ts.normalize().as_unit("ns")


def _check_columns(df: pd.DataFrame, table: str) -> None:
    require_columns(
        df,
        table,
        _REQUIRED[table],
        OutcomeInputError,
        "The data contract (docs/data-contract.md) lists the columns; map or "
        "rename them in the input.",
    )


def _dates(df: pd.DataFrame, table: str, column: str) -> np.ndarray:
    s = df[column]
    if not pd.api.types.is_datetime64_any_dtype(s.dtype):
        conv = pd.to_datetime(s, errors="coerce")
        bad = conv.isna() & s.notna()
        if bad.any():
            rows = s.index[bad][:5].tolist()
            raise OutcomeInputError(
                f"table {table}: column {column} has values that are not dates, e.g. "
                f"{s[bad].head(3).tolist()} in rows {rows}. Use ISO dates (YYYY-MM-DD), "
                "or run `child-mdh validate` first."
            )
        s = conv
    if getattr(s.dt, "tz", None) is not None:
        s = s.dt.tz_localize(None)
    return s.dt.normalize().to_numpy(dtype="datetime64[ns]")


def _pupils(df: pd.DataFrame) -> pd.Series:
    return df["pupil_id"].astype("str").where(df["pupil_id"].notna())


def _window_end(ref: pd.Timestamp, years: float) -> pd.Timestamp:
    if float(years).is_integer():
        return ref + pd.DateOffset(years=int(years))
    return ref + pd.Timedelta(days=round(float(years) * 365.25))


def build_outcomes(  # noqa: C901  (the outcome rules in the order docs/models.md states them)
    children: pd.DataFrame,
    cin_referrals: pd.DataFrame,
    child_protection_plans: pd.DataFrame,
    looked_after_episodes: pd.DataFrame,
    reference_date,
    follow_up_years: float = 5,
    prior_contact: str = "adjust",
    extract_date=None,
    *,
    history_years: float | None = None,
    end_age: int | None = None,
    age_column: str = "age",
) -> pd.DataFrame:
    """Social care outcomes of every child relative to ``reference_date``.

    Returns ``children`` (all its columns) with the columns of ``OUTCOME_COLUMNS`` added
    (definitions in the module docstring) and ``attrs["report"]`` counting children,
    linkage, exclusions and records. Children with a missing ``pupil_id`` are kept, with
    ``linked`` false and every outcome missing.
    """
    if prior_contact not in POLICIES:
        raise ValueError(f"prior_contact must be one of {POLICIES}, not {prior_contact!r}")
    if not follow_up_years or follow_up_years <= 0:
        raise ValueError("follow_up_years must be positive")
    for df, name in (
        (children, "children"),
        (cin_referrals, "cin_referrals"),
        (child_protection_plans, "child_protection_plans"),
        (looked_after_episodes, "looked_after_episodes"),
    ):
        _check_columns(df, name)
    if end_age is not None and age_column not in children.columns:
        raise OutcomeInputError(
            f"table children: end_age={end_age} needs the age column {age_column!r}"
        )

    ref = as_reference_date(reference_date)
    full_end = _window_end(ref, follow_up_years)
    observed_end = full_end
    extract = None
    if extract_date is not None:
        extract = as_reference_date(extract_date)
        if extract < ref:
            raise ValueError(
                f"the extract date {extract.date()} is before the reference date "
                f"{ref.date()}: there is no follow-up. Check the dates in the configuration."
            )
        observed_end = min(full_end, extract + pd.Timedelta(days=1))
    hist_start = (
        None
        if history_years is None
        else ref - pd.Timedelta(days=round(float(history_years) * 365.25))
    )

    n = len(children)
    pupils = _pupils(children)
    linked = pupils.notna().to_numpy()
    dup = pupils[linked].duplicated(keep=False)
    if dup.any():
        ex = pupils[linked][dup].head(5).tolist()
        raise OutcomeInputError(
            f"table children: pupil_id is repeated ({int(dup.sum())} rows, e.g. {ex}); "
            "a pupil can be linked to one child only. Check census_npd_link."
        )
    index = pd.Index(pupils[linked].to_numpy())
    child_pos = np.flatnonzero(linked)

    ref64 = ref.to_datetime64()
    end = np.full(n, _NEVER)
    end[linked] = observed_end.to_datetime64()
    past_end_age = np.zeros(n, dtype=bool)
    if end_age is not None:
        age = pd.to_numeric(children[age_column], errors="coerce").to_numpy(float, na_value=np.nan)
        days = np.round((end_age - age - 0.5) * 365.25)
        age_end = ref64 + np.where(np.isnan(days), 0, np.maximum(days, 0)).astype("timedelta64[D]")
        age_end = age_end.astype("datetime64[ns]")
        end = np.where(linked & (age_end < end), age_end, end)
        past_end_age = linked & ~np.isnan(age) & (age + 0.5 >= end_age)

    report: dict = {
        "reference_date": ref.date().isoformat(),
        "follow_up_years": float(follow_up_years),
        "window_end_exclusive": full_end.date().isoformat(),
        "extract_date": None if extract is None else extract.date().isoformat(),
        "follow_up_shortened_at_extract_date": bool(observed_end < full_end),
        "history_from": None if hist_start is None else hist_start.date().isoformat(),
        "end_age": end_age,
        "prior_contact_policy": prior_contact,
        "children": int(n),
        "linked": int(linked.sum()),
        "unlinked_outcomes_missing": int((~linked).sum()),
        "children_at_or_past_end_age": int(past_end_age.sum()),
        "records": {},
    }

    def locate(df: pd.DataFrame, table: str) -> tuple[np.ndarray, pd.DataFrame]:
        p = _pupils(df)
        pos = index.get_indexer(p.to_numpy())
        inside = pos >= 0
        report["records"][table] = {
            "rows": len(df),
            "missing_pupil_id": int(p.isna().sum()),
            "outside_cohort": int((~inside & p.notna().to_numpy()).sum()),
        }
        return child_pos[pos[inside]], df.loc[inside]

    def count_window(table, dates, rows_pos):
        rec = report["records"][table]
        in_w = (dates >= ref64) & (dates < end[rows_pos])
        rec["in_window"] = int(in_w.sum())
        rec["before_reference"] = int((dates < ref64).sum())
        rec["after_window"] = int((dates >= end[rows_pos]).sum())
        if extract is not None:
            rec["after_extract_date"] = int((dates > extract.to_datetime64()).sum())
        return in_w

    def any_by_child(mask, rows_pos):
        return np.bincount(rows_pos[mask], minlength=n) > 0

    # ---- referrals, de-duplicated by (pupil_id, referral_date)
    rpos, ref_df = locate(cin_referrals, "cin_referrals")
    rdate = _dates(ref_df, "cin_referrals", "referral_date")
    nfa = ref_df["referral_nfa"].astype("boolean").fillna(True).to_numpy(dtype=bool)
    keyed = pd.DataFrame({"pos": rpos, "date": rdate, "nfa": nfa})
    dedup = keyed.groupby(["pos", "date"], sort=False, as_index=False)["nfa"].all()
    report["records"]["cin_referrals"]["duplicates_removed"] = int(len(keyed) - len(dedup))
    rpos = dedup["pos"].to_numpy()
    rdate = dedup["date"].to_numpy(dtype="datetime64[ns]")
    rnfa = dedup["nfa"].to_numpy(dtype=bool)
    in_w = count_window("cin_referrals", rdate, rpos)
    any_referral = any_by_child(in_w, rpos)
    any_cin = any_by_child(in_w & ~rnfa, rpos)
    n_referrals = np.bincount(rpos[in_w], minlength=n)
    first = np.full(n, _NEVER)
    if in_w.any():
        firsts = pd.Series(rdate[in_w]).groupby(rpos[in_w]).min()
        first[firsts.index.to_numpy()] = firsts.to_numpy(dtype="datetime64[ns]")
    before = rdate < ref64
    if hist_start is not None:
        before &= rdate >= hist_start.to_datetime64()
    prior_referral = any_by_child(before, rpos)

    # ---- child protection plans
    cpos, cpp = locate(child_protection_plans, "child_protection_plans")
    cstart = _dates(cpp, "child_protection_plans", "cpp_start_date")
    cend = _dates(cpp, "child_protection_plans", "cpp_end_date")
    any_cpp = any_by_child(count_window("child_protection_plans", cstart, cpos), cpos)
    hist64 = None if hist_start is None else hist_start.to_datetime64()
    open_in_history = cstart < ref64
    if hist64 is not None:
        open_in_history &= np.isnat(cend) | (cend >= hist64)
    prior_cpp = any_by_child(open_in_history, cpos)

    # ---- looked-after episodes
    epos, eps = locate(looked_after_episodes, "looked_after_episodes")
    estart = _dates(eps, "looked_after_episodes", "episode_start")
    eend = _dates(eps, "looked_after_episodes", "episode_end")
    rne = eps["reason_new_episode"].astype("str").str.strip().str.upper().to_numpy()
    first_start = np.full(n, _NEVER)
    if len(epos):
        fs = pd.Series(estart).groupby(epos).min()
        first_start[fs.index.to_numpy()] = fs.to_numpy(dtype="datetime64[ns]")
    e_in_w = count_window("looked_after_episodes", estart, epos)
    starts_care = (rne == "S") | (estart == first_start[epos])
    entered_care = any_by_child(e_in_w & starts_care, epos)
    in_care_now = any_by_child((estart < ref64) & (np.isnat(eend) | (eend > ref64)), epos)
    care_hist = estart < ref64
    if hist64 is not None:
        care_hist &= np.isnat(eend) | (eend >= hist64)
    prior_in_care = any_by_child(care_hist, epos)

    # ---- follow-up and time to first referral
    window_days = (full_end - ref).days
    end_days = np.where(linked, (end - ref64) / np.timedelta64(1, "D"), np.nan)
    exposure = float(follow_up_years) * end_days / window_days
    event = ~np.isnat(first)
    first_days = np.where(event, (first - ref64) / np.timedelta64(1, "D"), np.nan)
    time_to = np.where(event, first_days, end_days)

    out = children.copy()
    at_risk = linked & ~past_end_age

    def flag(values, mask=at_risk):
        return pd.Series(values, dtype="boolean").where(mask, pd.NA).array

    out["linked"] = linked
    for name, values in (
        ("any_referral", any_referral),
        ("any_cin", any_cin),
        ("any_cpp", any_cpp),
        ("entered_care", entered_care),
    ):
        out[name] = flag(values)
    out["n_referrals"] = pd.Series(n_referrals, dtype="Int64").where(at_risk, pd.NA).array
    out["exposure_years"] = np.where(linked, exposure, np.nan)
    out["time_to_first_referral"] = (
        pd.Series(np.round(time_to), dtype="Float64").astype("Int64").where(linked, pd.NA).array
    )
    out["referral_event"] = flag(event, linked)
    for name, values in (
        ("prior_referral", prior_referral),
        ("prior_cpp", prior_cpp),
        ("prior_in_care", prior_in_care),
        ("in_care_at_reference", in_care_now),
    ):
        out[name] = flag(values, linked)

    report["in_care_at_reference"] = int((in_care_now & linked).sum())
    report["with_prior_contact"] = int(
        ((prior_referral | prior_cpp | prior_in_care) & linked).sum()
    )
    if prior_contact == "exclude_in_care":
        drop = in_care_now & linked
        out = out.loc[~drop].reset_index(drop=True)
        report["excluded_in_care_at_reference"] = int(drop.sum())
    else:
        report["excluded_in_care_at_reference"] = 0
    report["children_out"] = len(out)
    report["analysable"] = int(out["any_referral"].notna().sum())
    for name in OUTCOME_FLAGS:
        report[f"{name}_events"] = int(out[name].fillna(False).sum())
    out.attrs["report"] = report
    return out


def outcomes_report(outcomes: pd.DataFrame) -> dict:
    """The counting report of :func:`build_outcomes` (``attrs["report"]``)."""
    try:
        return outcomes.attrs["report"]
    except KeyError:
        raise KeyError(
            "this frame carries no outcomes report: build it with build_outcomes"
        ) from None
