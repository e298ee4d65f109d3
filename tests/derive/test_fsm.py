"""FSM measures at a reference date, from hand-built pupil histories.

Windows (child_mdh.derive.fsm): fsm_at_reference uses the latest census in
(reference - 1 year, reference]; ever_fsm_6 / fsm_share / n_censuses_6 use
(reference - 6 years, reference] (NPD EVERFSM_6: the six years up to and including
the reference date).
"""

import pandas as pd
import pytest

from child_mdh.derive.fsm import FsmInputError, fsm_measures

REF = "2021-03-21"  # Census 2021 day


def history(rows):
    return pd.DataFrame(
        [
            {
                "pupil_id": p,
                "census_date": pd.Timestamp(d),
                "la_code": "E1",
                "school_id": "s1",
                "fsm_eligible": e,
            }
            for p, d, e in rows
        ]
    )


def measures(rows, ref=REF):
    return fsm_measures(history(rows), ref).set_index("pupil_id")


def test_latest_census_in_the_year_gives_fsm_at_reference():
    # spring 2021 (21 Jan) is the latest census on or before 21 Mar 2021
    m = measures(
        [("A", "2020-10-01", False), ("A", "2021-01-21", True), ("A", "2021-05-20", False)]
    )  # summer 2021 is after the reference
    assert m.loc["A", "fsm_at_reference"] == True  # noqa: E712
    assert m.loc["A", "latest_census_date"] == pd.Timestamp("2021-01-21")


def test_census_on_the_reference_date_is_included():
    m = measures([("A", "2021-01-21", False), ("A", "2021-03-21", True)])
    assert m.loc["A", "fsm_at_reference"] == True  # noqa: E712
    assert m.loc["A", "n_censuses_6"] == 2


def test_census_exactly_one_year_before_is_outside_the_one_year_window():
    # (2020-03-21, 2021-03-21]: 2020-03-21 is out, 2020-03-22 is in
    m = measures([("A", "2020-03-21", True), ("B", "2020-03-22", True)])
    assert m.loc["A", "fsm_at_reference"] is pd.NA
    assert m.loc["B", "fsm_at_reference"] == True  # noqa: E712
    # both are inside the six-year window
    assert m.loc["A", "ever_fsm_6"] == True and m.loc["B", "ever_fsm_6"] == True  # noqa: E712


def test_ever_fsm_6_window_boundaries():
    # (2015-03-21, 2021-03-21]: eligibility on 2015-03-21 is too old; 2015-03-22 counts
    m = measures(
        [
            ("old", "2015-03-21", True),
            ("old", "2021-01-21", False),
            ("edge", "2015-03-22", True),
            ("edge", "2021-01-21", False),
        ]
    )
    assert m.loc["old", "ever_fsm_6"] == False  # noqa: E712
    assert m.loc["old", "n_censuses_6"] == 1
    assert m.loc["edge", "ever_fsm_6"] == True  # noqa: E712
    assert m.loc["edge", "n_censuses_6"] == 2
    # share of censuses in the window at which eligible: 1 of 2
    assert m.loc["edge", "fsm_share"] == pytest.approx(0.5)


def test_ever_fsm_all_sees_the_whole_history_up_to_the_reference_date():
    # GUiE: school censuses from January 2002, census day 27 March 2011. Eligible only in
    # 2003: outside EVERFSM_6's (2005-03-27, 2011-03-27] but inside the whole history;
    # eligible only after the reference date: not counted; no census before it: missing.
    ref = "2011-03-27"
    m = measures(
        [
            ("early", "2002-01-17", False),
            ("early", "2003-01-16", True),
            ("early", "2011-01-20", False),
            ("later", "2010-01-21", False),
            ("later", "2012-01-19", True),
            ("after", "2012-01-19", True),
        ],
        ref=ref,
    )
    assert m.loc["early", "ever_fsm_6"] == False  # noqa: E712
    assert m.loc["early", "ever_fsm_all"] == True  # noqa: E712
    assert m.loc["early", "n_censuses_all"] == 3
    assert m.loc["later", "ever_fsm_all"] == False  # noqa: E712
    assert m.loc["later", "n_censuses_all"] == 1
    assert pd.isna(m.loc["after", "ever_fsm_all"])
    assert m.loc["after", "n_censuses_all"] == 0


def test_share_over_several_censuses():
    # 6 censuses in the window, eligible at 2 of them -> 2/6; one older census ignored
    rows = [
        ("A", d, e)
        for d, e in [
            ("2014-01-16", True),
            ("2019-01-17", False),
            ("2019-05-16", False),
            ("2019-10-03", True),
            ("2020-01-16", True),
            ("2020-10-01", False),
            ("2021-01-21", False),
        ]
    ]
    m = measures(rows)
    assert m.loc["A", "n_censuses_6"] == 6
    assert m.loc["A", "n_eligible_6"] == 2
    assert m.loc["A", "fsm_share"] == pytest.approx(2 / 6)
    assert m.loc["A", "ever_fsm_6"] == True  # noqa: E712
    assert m.loc["A", "fsm_at_reference"] == False  # noqa: E712


def test_pupil_with_no_census_in_the_window_is_missing_not_ineligible():
    m = measures(
        [("A", "2021-01-21", False), ("late", "2021-05-20", True), ("early", "2010-01-14", True)]
    )
    for p in ("late", "early"):
        assert m.loc[p, "fsm_at_reference"] is pd.NA
        assert m.loc[p, "ever_fsm_6"] is pd.NA
        assert m.loc[p, "n_censuses_6"] == 0
        assert pd.isna(m.loc[p, "fsm_share"])
        assert pd.isna(m.loc[p, "latest_census_date"])
    assert set(m.index) == {"A", "late", "early"}


def test_no_census_in_last_year_but_earlier_in_window():
    m = measures([("A", "2019-01-17", True)])
    assert m.loc["A", "fsm_at_reference"] is pd.NA
    assert m.loc["A", "ever_fsm_6"] == True  # noqa: E712


def test_leap_day_reference():
    # 2020-02-29 minus one year is 2019-02-28 (calendar years): 2019-02-28 is out
    m = measures([("A", "2019-02-28", True), ("B", "2019-03-01", True)], ref="2020-02-29")
    assert m.loc["A", "fsm_at_reference"] is pd.NA
    assert m.loc["B", "fsm_at_reference"] == True  # noqa: E712


def test_unknown_eligibility_rows_are_ignored_and_counted():
    m = measures([("A", "2020-10-01", True), ("A", "2021-01-21", None)])
    assert m.loc["A", "fsm_at_reference"] == True  # noqa: E712  (latest known census)
    assert m.loc["A", "n_censuses_6"] == 1
    assert m.loc["A", "n_unknown_6"] == 1


def test_reference_date_is_recorded_and_types():
    out = fsm_measures(history([("A", "2021-01-21", True)]), "2021-03-21")
    assert out.attrs["reference_date"] == "2021-03-21"
    assert str(out["fsm_at_reference"].dtype) == "boolean"
    assert str(out["ever_fsm_6"].dtype) == "boolean"
    assert out["n_censuses_6"].dtype == "int64"


def test_duplicate_pupil_census_is_an_error():
    with pytest.raises(FsmInputError, match=r"pupil_id=A.*Keep one record"):
        measures([("A", "2021-01-21", True), ("A", "2021-01-21", False)])


def test_missing_census_date_is_an_error():
    df = history([("A", "2021-01-21", True)])
    df["census_date"] = pd.NaT
    with pytest.raises(FsmInputError, match="census_date"):
        fsm_measures(df, REF)


def test_bad_reference_date_is_an_error():
    with pytest.raises(FsmInputError, match="reference_date"):
        fsm_measures(history([("A", "2021-01-21", True)]), "not a date")
