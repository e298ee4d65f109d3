"""Social care outcomes relative to the reference date, on hand-made histories."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from child_mdh.contract import tables as contract
from child_mdh.derive.outcomes import (
    OUTCOME_COLUMNS,
    OutcomeInputError,
    as_reference_date,
    build_outcomes,
    outcomes_report,
)

REF = "2021-03-21"  # census day 2021; window [2021-03-21, 2026-03-21)


def _children(pupils, ages=None):
    ages = ages or [8] * len(pupils)
    return pd.DataFrame(
        {
            "person_id": [f"c{i}" for i in range(len(pupils))],
            "pupil_id": pd.array(pupils, dtype="str"),
            "age": ages,
            "la_code": "E08000004",
        }
    )


def _referrals(rows):
    """rows: (pupil, date, nfa)"""
    df = (
        contract.empty_frame("cin_referrals")
        if not rows
        else pd.DataFrame(
            {
                "pupil_id": [r[0] for r in rows],
                "la_code": "E08000004",
                "referral_date": pd.to_datetime([r[1] for r in rows]),
                "primary_need_code": "N1",
                "cin_closure_date": pd.NaT,
                "referral_nfa": [r[2] for r in rows],
            }
        )
    )
    return contract.conform(df, "cin_referrals")


def _plans(rows):
    """rows: (pupil, start, end or None)"""
    if not rows:
        return contract.empty_frame("child_protection_plans")
    return contract.conform(
        pd.DataFrame(
            {
                "pupil_id": [r[0] for r in rows],
                "la_code": "E08000004",
                "cpp_start_date": pd.to_datetime([r[1] for r in rows]),
                "cpp_end_date": pd.to_datetime([r[2] for r in rows]),
            }
        ),
        "child_protection_plans",
    )


def _episodes(rows):
    """rows: (pupil, start, end or None, rne)"""
    if not rows:
        return contract.empty_frame("looked_after_episodes")
    return contract.conform(
        pd.DataFrame(
            {
                "pupil_id": [r[0] for r in rows],
                "la_code": "E08000004",
                "episode_start": pd.to_datetime([r[1] for r in rows]),
                "episode_end": pd.to_datetime([r[2] for r in rows]),
                "legal_status": "C2",
                "reason_new_episode": [r[3] for r in rows],
            }
        ),
        "looked_after_episodes",
    )


def _build(children, refs=(), plans=(), eps=(), **kw):
    return build_outcomes(
        children,
        _referrals(list(refs)),
        _plans(list(plans)),
        _episodes(list(eps)),
        kw.pop("reference_date", REF),
        **kw,
    )


def _row(out, pupil):
    return out.loc[out["pupil_id"] == pupil].iloc[0]


def test_reference_date_from_census_year_and_string():
    assert as_reference_date(2021) == pd.Timestamp("2021-03-21")
    assert as_reference_date(2011) == pd.Timestamp("2011-03-27")
    assert as_reference_date(dt.date(2021, 3, 21)) == pd.Timestamp(REF)
    with pytest.raises(ValueError, match="no census day"):
        as_reference_date(2016)


def test_window_boundaries_referrals():
    children = _children(["A", "B", "C", "D"])
    refs = [
        ("A", "2021-03-21", False),  # on the reference date: in the window
        ("B", "2026-03-20", False),  # last day of the window: in
        ("C", "2026-03-21", False),  # 5 years on: outside (end excluded)
        ("D", "2021-03-20", False),  # the day before: prior contact, not an outcome
    ]
    out = _build(children, refs)
    assert _row(out, "A")["any_referral"] and _row(out, "A")["time_to_first_referral"] == 0
    assert _row(out, "B")["any_referral"]
    # 2021-03-21 -> 2026-03-20 is 1825 days (one leap day, 2024-02-29)
    assert _row(out, "B")["time_to_first_referral"] == 1825
    assert not _row(out, "C")["any_referral"]
    assert not _row(out, "D")["any_referral"]
    assert _row(out, "D")["prior_referral"]
    assert not _row(out, "A")["prior_referral"]
    rec = outcomes_report(out)["records"]["cin_referrals"]
    assert (rec["in_window"], rec["before_reference"], rec["after_window"]) == (2, 1, 1)


def test_censored_time_is_the_window_length_and_exposure_is_five_years():
    out = _build(_children(["A"]))
    r = _row(out, "A")
    # 2021-03-21 to 2026-03-21 = 365*5 + 1 leap day = 1826 days
    assert r["time_to_first_referral"] == 1826
    assert not r["referral_event"]
    assert r["exposure_years"] == 5.0
    assert r["n_referrals"] == 0


def test_deduplication_and_counts():
    refs = [
        ("A", "2022-01-10", True),  # repeated in two return years
        ("A", "2022-01-10", True),
        ("A", "2023-06-01", True),
        ("A", "2019-01-01", True),  # before the window: not counted
    ]
    out = _build(_children(["A"]), refs)
    r = _row(out, "A")
    assert r["n_referrals"] == 2
    assert outcomes_report(out)["records"]["cin_referrals"]["duplicates_removed"] == 1
    # first referral 2022-01-10: 2021-03-21 -> 2022-03-21 is 365 days, minus 70 days
    assert r["time_to_first_referral"] == (pd.Timestamp("2022-01-10") - pd.Timestamp(REF)).days
    assert r["time_to_first_referral"] == 295


def test_nfa_rules():
    refs = [
        ("A", "2022-01-10", True),  # NFA only
        ("B", "2022-01-10", True),
        ("B", "2022-01-10", False),  # one record not NFA
        ("C", "2022-01-10", True),
        ("C", "2023-01-10", False),  # second referral CIN
    ]
    out = _build(_children(["A", "B", "C"]), refs)
    assert _row(out, "A")["any_referral"] and not _row(out, "A")["any_cin"]
    assert _row(out, "B")["any_cin"]
    assert _row(out, "C")["any_cin"] and _row(out, "C")["n_referrals"] == 2


def test_entered_care_rules_and_open_episodes():
    eps = [
        # A: first episode in window, RNE S -> entered care
        ("A", "2022-05-01", None, "S"),
        # B: in care since 2020 (open): placement change in window is not an entry
        ("B", "2020-01-01", None, "S"),
        ("B", "2022-05-01", None, "P"),
        # C: first ever episode in window, miscoded RNE 'L' -> still an entry
        ("C", "2023-01-01", "2023-06-01", "L"),
        # D: left care before the reference date, re-entered in the window (RNE S)
        ("D", "2018-01-01", "2019-01-01", "S"),
        ("D", "2024-01-01", None, "S"),
        # E: episode ended on the reference date: not in care at the reference date
        ("E", "2019-01-01", REF, "S"),
        # F: episode starting on the reference date: an entry, not prior contact
        ("F", REF, None, "S"),
    ]
    out = _build(_children(list("ABCDEF")), eps=eps)
    got = out.set_index("pupil_id")
    assert got["entered_care"].to_dict() == {
        "A": True,
        "B": False,
        "C": True,
        "D": True,
        "E": False,
        "F": True,
    }
    assert got["in_care_at_reference"].to_dict() == {
        "A": False,
        "B": True,
        "C": False,
        "D": False,
        "E": False,
        "F": False,
    }
    assert got["prior_in_care"].to_dict() == {
        "A": False,
        "B": True,
        "C": False,
        "D": True,
        "E": True,
        "F": False,
    }


def test_plans_in_window_and_history():
    plans = [
        ("A", "2021-06-01", None),  # started in window
        ("B", "2020-01-01", "2020-06-01"),  # before: prior contact
        ("C", "2026-04-01", None),  # after the window
    ]
    out = _build(_children(["A", "B", "C"]), plans=plans)
    got = out.set_index("pupil_id")
    assert got["any_cpp"].to_dict() == {"A": True, "B": False, "C": False}
    assert got["prior_cpp"].to_dict() == {"A": False, "B": True, "C": False}


def test_history_years_limits_prior_contact():
    refs = [("A", "2018-01-01", True), ("B", "2020-06-01", True)]
    plans = [("A", "2017-01-01", "2018-01-01"), ("B", "2017-01-01", "2020-01-01")]
    out = _build(_children(["A", "B"]), refs, plans, history_years=2)
    # history = [2019-03-21 (approx.), 2021-03-21): A's referral and plan are older
    got = out.set_index("pupil_id")
    assert got["prior_referral"].to_dict() == {"A": False, "B": True}
    assert got["prior_cpp"].to_dict() == {"A": False, "B": True}


def test_extract_date_shortens_follow_up():
    refs = [("A", "2022-06-01", False), ("A", "2023-06-01", False)]
    out = _build(_children(["A", "B"]), refs, extract_date="2023-03-20")
    a, b = _row(out, "A"), _row(out, "B")
    # observed window [2021-03-21, 2023-03-21) = 730 days of the full 1826
    assert b["exposure_years"] == pytest.approx(5 * 730 / 1826)
    assert b["time_to_first_referral"] == 730 and not b["referral_event"]
    assert a["n_referrals"] == 1  # the 2023-06-01 referral is after the extract date
    rep = outcomes_report(out)
    assert rep["follow_up_shortened_at_extract_date"] is True
    assert rep["records"]["cin_referrals"]["after_extract_date"] == 1


def test_extract_date_before_reference_is_refused():
    with pytest.raises(ValueError, match="before the reference date"):
        _build(_children(["A"]), extract_date="2020-01-01")


def test_end_age_stops_follow_up_at_the_birthday():
    refs = [("A", "2021-06-01", False), ("A", "2022-01-01", False)]
    out = _build(_children(["A", "B"], ages=[17, 18]), refs, end_age=18)
    a, b = _row(out, "A"), _row(out, "B")
    # aged 17 on census day: 18th birthday placed 0.5 years on, round(0.5*365.25)=183 days
    assert a["time_to_first_referral"] == (pd.Timestamp("2021-06-01") - pd.Timestamp(REF)).days
    assert a["n_referrals"] == 1  # the 2022 referral is after the 18th birthday
    assert a["exposure_years"] == pytest.approx(5 * 183 / 1826)
    assert pd.isna(b["any_referral"])  # already 18: not at risk
    assert outcomes_report(out)["children_at_or_past_end_age"] == 1


def test_unlinked_children_have_missing_outcomes_and_are_counted():
    out = _build(_children(["A", None]), [("A", "2022-01-01", False)])
    unlinked = out.loc[out["pupil_id"].isna()].iloc[0]
    assert not unlinked["linked"]
    for col in (
        "any_referral",
        "any_cin",
        "any_cpp",
        "entered_care",
        "n_referrals",
        "time_to_first_referral",
        "prior_referral",
        "in_care_at_reference",
    ):
        assert pd.isna(unlinked[col]), col
    assert np.isnan(unlinked["exposure_years"])
    rep = outcomes_report(out)
    assert rep["linked"] == 1 and rep["unlinked_outcomes_missing"] == 1
    assert rep["analysable"] == 1


def test_records_outside_the_cohort_are_counted():
    out = _build(_children(["A"]), [("A", "2022-01-01", False), ("Z", "2022-01-01", False)])
    assert outcomes_report(out)["records"]["cin_referrals"]["outside_cohort"] == 1


def test_policy_exclude_in_care_drops_and_counts():
    eps = [("B", "2020-01-01", None, "S")]
    kept = _build(_children(["A", "B"]), eps=eps, prior_contact="adjust")
    dropped = _build(_children(["A", "B"]), eps=eps, prior_contact="exclude_in_care")
    assert len(kept) == 2 and len(dropped) == 1
    assert dropped["pupil_id"].tolist() == ["A"]
    rep = outcomes_report(dropped)
    assert rep["excluded_in_care_at_reference"] == 1 and rep["children_out"] == 1
    assert outcomes_report(kept)["excluded_in_care_at_reference"] == 0
    with pytest.raises(ValueError, match="prior_contact"):
        _build(_children(["A"]), prior_contact="drop")


def test_output_columns_and_children_columns_kept():
    out = _build(_children(["A"]))
    for c in ("person_id", "age", "la_code", *OUTCOME_COLUMNS):
        assert c in out.columns
    assert str(out["any_referral"].dtype) == "boolean"
    assert str(out["n_referrals"].dtype) == "Int64"


def test_bad_input_errors_name_table_column_and_rows():
    with pytest.raises(OutcomeInputError, match="cin_referrals.*referral_nfa"):
        build_outcomes(
            _children(["A"]),
            _referrals([]).drop(columns="referral_nfa"),
            _plans([]),
            _episodes([]),
            REF,
        )
    with pytest.raises(OutcomeInputError, match="pupil_id is repeated"):
        _build(_children(["A", "A"]))
    bad = _referrals([("A", "2022-01-01", False)]).astype({"referral_date": "str"})
    bad.loc[0, "referral_date"] = "not a date"
    with pytest.raises(OutcomeInputError, match="referral_date.*rows \\[0\\]"):
        build_outcomes(_children(["A"]), bad, _plans([]), _episodes([]), REF)


def test_string_dates_are_accepted():
    refs = _referrals([("A", "2022-01-01", False)]).astype({"referral_date": "str"})
    out = build_outcomes(_children(["A"]), refs, _plans([]), _episodes([]), REF)
    assert _row(out, "A")["any_referral"]


def _slow_reference(children, refs, plans, eps, ref, end):
    """A plain per-child implementation of the definitions, to check the vectorised one."""
    out = {}
    for pid in children["pupil_id"]:
        r = refs.loc[refs["pupil_id"] == pid]
        dates = sorted(set(r["referral_date"]))
        in_w = [d for d in dates if ref <= d < end]
        cin = [d for d in in_w if not r.loc[r["referral_date"] == d, "referral_nfa"].all()]
        p = plans.loc[plans["pupil_id"] == pid]
        e = eps.loc[eps["pupil_id"] == pid]
        first_ep = e["episode_start"].min() if len(e) else None
        entered = any(
            ref <= s < end and (rne == "S" or s == first_ep)
            for s, rne in zip(e["episode_start"], e["reason_new_episode"])
        )
        in_care = any(
            s < ref and (pd.isna(x) or x > ref)
            for s, x in zip(e["episode_start"], e["episode_end"])
        )
        out[pid] = {
            "any_referral": bool(in_w),
            "any_cin": bool(cin),
            "n_referrals": len(in_w),
            "any_cpp": bool(((p["cpp_start_date"] >= ref) & (p["cpp_start_date"] < end)).any()),
            "entered_care": entered,
            "in_care_at_reference": in_care,
            "prior_referral": any(d < ref for d in dates),
            "time_to_first_referral": (in_w[0] - ref).days if in_w else (end - ref).days,
        }
    return pd.DataFrame.from_dict(out, orient="index")


def test_vectorised_outcomes_match_a_per_child_reference_on_random_histories():
    rng = np.random.default_rng(11)
    n = 150
    pupils = [f"P{i}" for i in range(n)]
    ref, end = pd.Timestamp(REF), pd.Timestamp("2026-03-21")

    def dates(k):
        return pd.Timestamp("2017-01-01") + pd.to_timedelta(rng.integers(0, 365 * 11, k), "D")

    k = 400
    refs = pd.DataFrame(
        {
            "pupil_id": rng.choice(pupils, k),
            "referral_date": dates(k),
            "referral_nfa": rng.random(k) < 0.4,
        }
    )
    refs = pd.concat([refs, refs.sample(60, random_state=1)], ignore_index=True)
    refs = refs.assign(la_code="E1", primary_need_code="N1", cin_closure_date=pd.NaT)
    kp = 80
    starts = dates(kp)
    plans = pd.DataFrame(
        {
            "pupil_id": rng.choice(pupils, kp),
            "cpp_start_date": starts,
            "cpp_end_date": starts + pd.to_timedelta(300, "D"),
            "la_code": "E1",
        }
    )
    ke = 120
    es = dates(ke)
    ends = pd.Series(es + pd.to_timedelta(rng.integers(1, 900, ke), "D"))
    ends[rng.random(ke) < 0.3] = pd.NaT
    eps = pd.DataFrame(
        {
            "pupil_id": rng.choice(pupils, ke),
            "episode_start": es,
            "episode_end": ends.to_numpy(),
            "la_code": "E1",
            "legal_status": "C2",
            "reason_new_episode": rng.choice(["S", "P", "L"], ke),
        }
    )
    eps = eps.drop_duplicates(["pupil_id", "episode_start"])
    plans = plans.drop_duplicates(["pupil_id", "cpp_start_date"])
    out = build_outcomes(_children(pupils), refs, plans, eps, REF).set_index("pupil_id")
    expected = _slow_reference(_children(pupils), refs, plans, eps, ref, end)
    for col in expected.columns:
        got = out.loc[expected.index, col].astype("int64").to_numpy()
        assert (got == expected[col].astype("int64").to_numpy()).all(), col


def test_scales_to_many_children():
    import time

    rng = np.random.default_rng(3)
    n = 400_000
    pupils = np.array([f"P{i:07d}" for i in range(n)])
    k = 150_000
    refs = pd.DataFrame(
        {
            "pupil_id": rng.choice(pupils, k),
            "la_code": "E1",
            "referral_date": pd.Timestamp("2019-01-01")
            + pd.to_timedelta(rng.integers(0, 2500, k), "D"),
            "primary_need_code": "N1",
            "cin_closure_date": pd.NaT,
            "referral_nfa": rng.random(k) < 0.3,
        }
    )
    t0 = time.perf_counter()
    out = build_outcomes(_children(list(pupils)), refs, _plans([]), _episodes([]), REF)
    elapsed = time.perf_counter() - t0
    assert len(out) == n
    # every in-window (de-duplicated) referral is counted once
    assert out["n_referrals"].sum() == outcomes_report(out)["records"]["cin_referrals"]["in_window"]
    assert elapsed < 30
