"""School census: census day, FSM eligibility on census day from periods, one row per pupil."""

import datetime as dt

import pandas as pd
import pytest

from child_mdh.sources.la_returns.school_census import (
    census_day,
    census_from_name,
    fsm_eligible_on,
    read_school_census,
)

from la_builders import DATA, FSM_HEADER, PUPIL_HEADER, write


def test_census_days_follow_the_dfe_rule():
    # published census days: 18 Jan 2024 (spring), 16 May 2024 (summer), 3 Oct 2024 (autumn),
    # 16 Jan 2025 (spring), 15 May 2025 (summer), 5 Oct 2023 (autumn)
    assert census_day(2024, "spring") == dt.date(2024, 1, 18)
    assert census_day(2024, "summer") == dt.date(2024, 5, 16)
    assert census_day(2024, "autumn") == dt.date(2024, 10, 3)
    assert census_day(2025, "SPR") == dt.date(2025, 1, 16)
    assert census_day(2025, "summer") == dt.date(2025, 5, 15)
    assert census_day(2023, "aut") == dt.date(2023, 10, 5)
    with pytest.raises(ValueError):
        census_day(2024, "winter")


def test_census_from_file_name():
    assert census_from_name("2024_autumn_pupilonroll.csv") == (2024, "autumn")
    assert census_from_name("2025-SPR_fsmperiod.csv") == (2025, "spring")
    assert census_from_name("pupilonroll_2024_autumn.csv") is None
    assert census_from_name("2024_autumnal.csv") is None
    assert census_from_name("returns/2025_summer/pupilonroll.csv") == (2025, "summer")


def test_fsm_on_census_day_boundary_cases():
    day = pd.Timestamp("2025-01-16")
    ts = pd.Timestamp
    periods = pd.DataFrame(
        {
            "key": ["k1", "k2", "k3", "k4", "k5", "k5", "k7"],
            "start": [
                ts("2025-01-16"),
                ts("2024-09-01"),
                ts("2024-09-01"),
                ts("2025-01-17"),
                ts("2024-01-01"),
                ts("2024-12-01"),
                ts("2024-09-01"),
            ],
            "end": [
                pd.NaT,
                ts("2025-01-16"),
                ts("2025-01-15"),
                pd.NaT,
                ts("2024-06-01"),
                pd.NaT,
                ts("2025-01-17"),
            ],
        }
    )
    pupils = pd.Series(["k1", "k2", "k3", "k4", "k5", "k6", "k7"])
    # k1 starts on census day (eligible); k2 ends on census day (eligible); k3 ended the day
    # before (not); k4 starts the day after (not); k5 has an old closed period and an open
    # one covering the day (eligible); k6 has no period (not); k7 ends the day after (eligible)
    assert fsm_eligible_on(pupils, periods, day).tolist() == [
        True,
        True,
        False,
        False,
        True,
        False,
        True,
    ]


def _census(tmp_path, pupils: str, periods: str | None, name="2025_spring"):
    write(tmp_path / f"{name}_pupilonroll.csv", PUPIL_HEADER + pupils)
    if periods is not None:
        write(tmp_path / f"{name}_fsmperiodsonroll.csv", FSM_HEADER + periods)
    return read_school_census(tmp_path)


def test_fsm_from_files_on_census_day(tmp_path):
    # spring 2025 census day: Thursday 16 January 2025
    data = _census(
        tmp_path,
        (
            "P1,S1,A000000000001,C,M\n"
            "P2,S1,A000000000002,C,M\n"
            "P3,S1,A000000000003,C,M\n"
            "P4,S1,A000000000004,C,M\n"
            "P5,S1,A000000000005,C,M\n"
        ),
        (
            "P1,S1,a,2025-Jan-16 00:00:00,\n"
            "P2,S1,b,2024-Sep-01 00:00:00,2025-Jan-16 00:00:00\n"
            "P3,S1,c,2024-Sep-01 00:00:00,2025-Jan-15 00:00:00\n"
            "P4,S1,d,2025-Jan-17 00:00:00,\n"
        ),
    )
    pupils = data.tables["pupils"].set_index("child_ref")
    assert pupils["fsm_eligible"].to_dict() == {
        "P1": True,
        "P2": True,
        "P3": False,
        "P4": False,
        "P5": False,
    }
    assert (pupils["census_date"] == pd.Timestamp("2025-01-16")).all()
    assert pupils["school_id"].unique().tolist() == ["S1"]


def test_broken_period_quarantines_the_pupil_only_when_it_could_matter(tmp_path):
    data = _census(
        tmp_path,
        ("P1,S1,A000000000001,C,M\nP2,S1,A000000000002,C,M\n"),
        (
            "P1,S1,a,2024-Sep-01 00:00:00,\n"
            "P1,S1,b,2024-Dec-01 00:00:00,2024-Nov-01 00:00:00\n"
            "P2,S1,c,2024-Dec-01 00:00:00,2024-Nov-01 00:00:00\n"
            "P9,S1,d,2024-Sep-01 00:00:00,\n"
        ),
    )
    pupils = data.tables["pupils"].set_index("child_ref")
    assert pupils.loc["P1", "status"] == "used" and pupils.loc["P1", "fsm_eligible"]
    assert pupils.loc["P2", "status"] == "quarantined"
    assert "unknown" in pupils.loc["P2", "reason"]
    periods = data.tables["fsm_periods"].set_index("source_row")
    assert periods["status"].tolist() == ["used", "quarantined", "quarantined", "quarantined"]
    assert "before fsmstartdate" in periods.loc["3", "reason"]
    assert "no pupil with this pupilonrolltableid" in periods.loc["5", "reason"]


def test_dual_registration_keeps_main_row_and_fsm_from_either(tmp_path):
    data = _census(
        tmp_path,
        ("P1,S1,A000000000001,S,M\nP2,S2,A000000000001,M,M\n"),
        "P1,S1,a,2024-Sep-01 00:00:00,\n",
    )
    pupils = data.tables["pupils"].set_index("child_ref")
    assert pupils["status"].to_dict() == {"P1": "duplicate", "P2": "used"}
    assert pupils.loc["P2", "school_id"] == "S2"
    assert bool(pupils.loc["P2", "fsm_eligible"]) is True


def test_no_fsm_file_quarantines_pupils(tmp_path):
    data = _census(tmp_path, "P1,S1,A000000000001,C,M\n", None)
    pupils = data.tables["pupils"]
    assert pupils["status"].tolist() == ["quarantined"]
    assert "no FSM periods file" in pupils["reason"].iloc[0]


def test_census_unknown_file_skipped_unless_date_given(tmp_path):
    write(tmp_path / "pupils.csv", PUPIL_HEADER + "P1,S1,A000000000001,C,M\n")
    write(tmp_path / "fsm.csv", FSM_HEADER + "P1,S1,a,2024-Sep-01 00:00:00,\n")
    data = read_school_census(tmp_path)
    p = data.problems.frame()
    skipped = p[p["action"] == "file skipped"]
    assert len(skipped) == 2
    assert "2024_autumn_pupilonroll.csv" in skipped["problem"].iloc[0]
    assert data.tables["pupils"].empty
    given = {"pupils.csv": "2024-10-03", "fsm.csv": "2024-10-03"}
    data = read_school_census(tmp_path, census_dates=given)
    pupils = data.tables["pupils"]
    assert pupils["census_date"].tolist() == [pd.Timestamp("2024-10-03")]
    assert pupils["fsm_eligible"].tolist() == [True]


def test_census_date_column(tmp_path):
    write(
        tmp_path / "p.csv", "census_date," + PUPIL_HEADER + "2024-10-03,P1,S1,A000000000001,C,M\n"
    )
    write(
        tmp_path / "f.csv",
        "census_date," + FSM_HEADER + "2024-10-03,P1,S1,a,2024-Oct-04 00:00:00,\n",
    )
    pupils = read_school_census(tmp_path).tables["pupils"]
    assert pupils["census_date"].tolist() == [pd.Timestamp("2024-10-03")]
    assert pupils["fsm_eligible"].tolist() == [False]  # the period starts the day after


def test_school_id_column(tmp_path):
    write(
        tmp_path / "2025_spring_pupilonroll.csv",
        "pupilonrolltableid,upn,laestab,NativeId\nP1,A000000000001,3534000,SCH1\n",
    )
    write(tmp_path / "2025_spring_fsmperiod.csv", FSM_HEADER)
    assert read_school_census(tmp_path).tables["pupils"]["school_id"].tolist() == ["3534000"]
    pupils = read_school_census(tmp_path, school_id_column="NativeId").tables["pupils"]
    assert pupils["school_id"].tolist() == ["SCH1"]
    pupils = read_school_census(tmp_path, school_id_column="urn").tables["pupils"]
    assert pupils["status"].tolist() == ["quarantined"]
    assert "'urn' is not in the file" in pupils["reason"].iloc[0]


def test_slice_imports_with_fsm_on_the_autumn_census_day():
    data = read_school_census(DATA / "school_census")
    pupils = data.tables["pupils"]
    assert len(pupils) == 30
    assert (pupils["census_date"] == pd.Timestamp("2024-10-03")).all()
    periods = data.tables["fsm_periods"]
    ok = periods[periods["status"] == "used"]
    # independent check: a used pupil is eligible iff one of its usable periods covers
    # 3 October 2024
    day = pd.Timestamp("2024-10-03")
    cover = ok[(ok["start"] <= day) & (ok["end"].isna() | (ok["end"] >= day))]["child_ref"]
    used = pupils[pupils["status"] == "used"]
    assert (used["fsm_eligible"] == used["child_ref"].isin(set(cover))).all()
    assert used["fsm_eligible"].sum() == 12  # 8 + 4 chosen eligible pupils (PROVENANCE.md)
    assert (pupils["status"] == "quarantined").sum() == 4  # only broken periods
    files = pd.DataFrame(data.files).set_index("table")
    assert files.loc["fsm_periods", "rows_read"] == len(periods)
