"""Free school meals (FSM) measures from the school census at a reference date.

The National Pupil Database records, at each termly school census (autumn, spring,
summer), whether a pupil is eligible for free school meals on census day
(``FSMeligible``), and derives ``EVERFSM_6``: eligible at any census in the last six
years. This module computes the analogous measures from the contract table
``pupil_census`` relative to a chosen reference date (normally census day), with the
windows stated exactly:

- ``fsm_at_reference``: eligibility at the latest school census dated in
  ``(reference - 1 year, reference]``; missing when the pupil has no census there;
- ``ever_fsm_6``: eligible at any census dated in ``(reference - 6 years, reference]``
  (the EVERFSM_6 window: six years up to and including the reference date); missing
  when there is no census in the window;
- ``ever_fsm_all``: eligible at any census dated on or before the reference date, however
  long ago (the whole school history the data hold: in Growing Up in England, the school
  censuses from 2001/02); missing when there is none; ``n_censuses_all`` counts them;
- ``n_censuses_6``: number of censuses in that window; ``fsm_share``: the share of them
  at which the pupil was eligible (missing when there are none).

Years are calendar years (``pd.DateOffset(years=...)``; 29 February steps back to
28 February). Census rows whose ``fsm_eligible`` is empty carry no information and are
ignored (counted in ``n_unknown_6``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from child_mdh.errors import UserError


class FsmInputError(UserError):
    """The pupil census cannot be used as given; the message says why and how to fix it."""


def _examples(df: pd.DataFrame, mask, cols, n: int = 5) -> str:
    rows = df.loc[np.asarray(mask), list(cols)].head(n)
    return "; ".join(
        ", ".join(f"{c}={v!s}" for c, v in zip(cols, r)) for r in rows.itertuples(index=False)
    )


def _to_timestamp(value, name: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise FsmInputError(f"{name} {value!r} is not a date; give it as YYYY-MM-DD.") from None
    if pd.isna(ts):
        raise FsmInputError(f"{name} is empty; give the reference date as YYYY-MM-DD.")
    return ts.normalize()


def fsm_measures(pupil_census: pd.DataFrame, reference_date) -> pd.DataFrame:
    """FSM eligibility measures for every pupil, relative to ``reference_date``.

    Method: see the module docstring (NPD FSMeligible and EVERFSM_6 definitions, DfE
    National Pupil Database user guide), with windows ``(reference - 1 year, reference]``
    for ``fsm_at_reference`` and ``(reference - 6 years, reference]`` for the six-year
    measures. Vectorised: one sort and a few ``bincount`` passes, no loop over pupils.

    Returns one row per distinct ``pupil_id`` in ``pupil_census`` with:
    ``pupil_id``, ``fsm_at_reference`` (boolean, NA when no census in the last year),
    ``latest_census_date`` (date of that census, NaT when none), ``ever_fsm_6``
    (boolean, NA when no census in the six-year window), ``n_censuses_6`` (int),
    ``n_eligible_6`` (int), ``fsm_share`` (float, NaN when ``n_censuses_6`` is 0),
    ``n_unknown_6`` (censuses in the window with an empty eligibility flag),
    ``ever_fsm_all`` (boolean, NA when no census on or before the reference date) and
    ``n_censuses_all`` (int). The
    reference date is recorded in ``result.attrs["reference_date"]``.
    """
    ref = _to_timestamp(reference_date, "reference_date")
    for col in ("pupil_id", "census_date", "fsm_eligible"):
        if col not in pupil_census.columns:
            raise FsmInputError(
                f"table pupil_census: column {col} is missing (found: "
                f"{', '.join(map(str, pupil_census.columns))}). Map the school census "
                "columns to the contract names before computing FSM measures."
            )
    pc = pupil_census
    ids = pc["pupil_id"]
    if ids.isna().any():
        raise FsmInputError(
            f"table pupil_census, column pupil_id: {int(ids.isna().sum())} row(s) have no "
            "pupil identifier. Remove them or fill in the pupil matching reference."
        )
    try:
        dates = pd.to_datetime(pc["census_date"], errors="raise")
    except (TypeError, ValueError):
        bad = pd.to_datetime(pc["census_date"], errors="coerce").isna() & pc["census_date"].notna()
        raise FsmInputError(
            f"table pupil_census, column census_date: {int(bad.sum())} value(s) are not dates, "
            f"e.g. {_examples(pc, bad, ['pupil_id', 'census_date'])}. Use YYYY-MM-DD."
        ) from None
    if dates.isna().any():
        miss = dates.isna()
        raise FsmInputError(
            f"table pupil_census, column census_date: {int(miss.sum())} row(s) have no date, "
            f"e.g. {_examples(pc, miss, ['pupil_id', 'census_date'])}. Every school census "
            "row needs its census day; remove rows without one."
        )
    try:
        elig = pd.array(pc["fsm_eligible"], dtype="boolean")
    except (TypeError, ValueError):
        raise FsmInputError(
            "table pupil_census, column fsm_eligible: values are not true/false. Store it "
            "as a boolean (True/False or 1/0; empty when unknown)."
        ) from None
    codes, uniques = pd.factorize(ids, sort=False)
    d = dates.to_numpy(dtype="datetime64[ns]")
    # one sort by (pupil, date) serves the duplicate check and the 'latest census'
    order = np.lexsort((d, codes))
    same = (codes[order][1:] == codes[order][:-1]) & (d[order][1:] == d[order][:-1])
    if same.any():
        dup = np.zeros(len(pc), dtype=bool)
        dup[order[1:][same]] = True
        dup[order[:-1][same]] = True
        raise FsmInputError(
            f"table pupil_census: {int(dup.sum())} rows repeat a (pupil_id, census_date) "
            f"pair, e.g. {_examples(pc, dup, ['pupil_id', 'census_date'])}. Keep one record "
            "per pupil per census (the contract key) before computing FSM measures."
        )
    n_pupils = len(uniques)
    ref64 = np.datetime64(ref, "ns")
    start6 = np.datetime64(ref - pd.DateOffset(years=6), "ns")
    start1 = np.datetime64(ref - pd.DateOffset(years=1), "ns")
    known = ~np.asarray(elig.isna())
    eligible = elig.to_numpy(dtype=bool, na_value=False)

    in6 = (d > start6) & (d <= ref64)
    in6_known = in6 & known
    n6 = np.bincount(codes[in6_known], minlength=n_pupils)
    e6 = np.bincount(codes[in6_known & eligible], minlength=n_pupils)
    u6 = np.bincount(codes[in6 & ~known], minlength=n_pupils)
    upto = (d <= ref64) & known
    n_all = np.bincount(codes[upto], minlength=n_pupils)
    e_all = np.bincount(codes[upto & eligible], minlength=n_pupils)

    # latest known census in (ref - 1 year, ref]: the last such row of each pupil in
    # (pupil, date) order
    in1 = (d > start1) & (d <= ref64) & known
    rows1 = order[in1[order]]
    last = np.ones(len(rows1), dtype=bool)
    if len(rows1) > 1:
        last[:-1] = codes[rows1][1:] != codes[rows1][:-1]
    rows_last = rows1[last]
    at_ref_val = np.zeros(n_pupils, dtype=bool)
    at_ref_mask = np.ones(n_pupils, dtype=bool)
    latest = np.full(n_pupils, np.datetime64("NaT"), dtype="datetime64[ns]")
    at_ref_val[codes[rows_last]] = eligible[rows_last]
    at_ref_mask[codes[rows_last]] = False
    latest[codes[rows_last]] = d[rows_last]

    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(n6 > 0, e6 / np.maximum(n6, 1), np.nan)
    out = pd.DataFrame(
        {
            "pupil_id": pd.Series(uniques, dtype="str").reset_index(drop=True),
            "fsm_at_reference": pd.arrays.BooleanArray(at_ref_val, at_ref_mask),
            "latest_census_date": latest,
            "ever_fsm_6": pd.arrays.BooleanArray(e6 > 0, n6 == 0),
            "n_censuses_6": n6.astype("int64"),
            "n_eligible_6": e6.astype("int64"),
            "fsm_share": share,
            "n_unknown_6": u6.astype("int64"),
            "ever_fsm_all": pd.arrays.BooleanArray(e_all > 0, n_all == 0),
            "n_censuses_all": n_all.astype("int64"),
        }
    )
    out.attrs["reference_date"] = ref.date().isoformat()
    return out
