"""derive_children_la: the local-authority cohort, its ages, domains, FSM and outcomes."""

import pandas as pd
import pytest

from child_mdh.derive.la_cohort import (
    LACohortError,
    age_on,
    derive_children_la,
    latest_census,
    local_domain_paths,
)
from child_mdh.sources.la_returns.local_domains import AREA_LEVEL_CAVEAT
from child_mdh.validation.folder import LA_ROUTE_TABLES, validate_folder

from la_tiny import LA1, tiny_import_folder

REF = "2021-03-21"

CHILDREN = [
    {"pupil_id": "P1", "date_of_birth": "2010-03-21", "sex": "M"},  # 11th birthday on the day
    {"pupil_id": "P2", "date_of_birth": "2010-03-22", "sex": "F"},  # 11 the day after: 10
    {"pupil_id": "P3", "date_of_birth": "2016-03-22", "sex": "F"},  # 4: too young
    {"pupil_id": "P4", "date_of_birth": None, "sex": "M"},  # no date of birth
    {"pupil_id": "P5", "date_of_birth": "2012-01-01", "sex": "M"},  # not on the 2021 roll
    {"pupil_id": "P6", "date_of_birth": "2008-02-29", "sex": "F"},  # 13 on 1 March 2021
    {"pupil_id": "P7", "date_of_birth": "2011-07-01", "sex": "M"},  # lives elsewhere
]
CENSUS = (
    [
        {"pupil_id": p, "census_date": "2021-01-21", "fsm_eligible": p in ("P1", "P7")}
        for p in ("P1", "P2", "P3", "P4", "P6", "P7")
    ]
    + [
        {"pupil_id": "P5", "census_date": "2020-01-16", "fsm_eligible": True},
        {"pupil_id": "P1", "census_date": "2020-01-16", "fsm_eligible": False},
        {"pupil_id": "P2", "census_date": "2021-05-20", "fsm_eligible": True},
    ]  # after the reference
)
REFERRALS = [
    {
        "pupil_id": "P1",
        "referral_date": "2021-06-01",
        "primary_need_code": "N1",
        "cin_closure_date": None,
        "referral_nfa": False,
    },
    {
        "pupil_id": "P7",
        "referral_date": "2021-07-01",
        "primary_need_code": "N2",
        "cin_closure_date": None,
        "referral_nfa": False,
    },
    {
        "pupil_id": "U1",
        "referral_date": "2021-08-01",
        "primary_need_code": "N1",
        "cin_closure_date": None,
        "referral_nfa": False,
    },  # an under-five: not on the roll
]
DOMAINS = [
    {
        "pupil_id": "P1",
        "household_id": "household-a",
        "employment": True,
        "education": False,
        "health": False,
        "housing": True,
    },
    {
        "pupil_id": "P2",
        "household_id": "household-a",
        "employment": True,
        "education": False,
        "health": False,
        "housing": True,
    },
    {
        "pupil_id": "P6",
        "household_id": "household-b",
        "employment": None,
        "education": True,
        "health": False,
        "housing": False,
    },
]


@pytest.fixture
def la_folder(tmp_path):
    imp = tiny_import_folder(
        tmp_path / "import",
        children=CHILDREN,
        pupil_census=CENSUS,
        referrals=REFERRALS,
        domains=DOMAINS,
    )
    report = validate_folder(
        imp,
        tmp_path / "valid",
        tmp_path / "q",
        reference_date="2026-01-01",
        tables=list(LA_ROUTE_TABLES),
        unmatched_pupils="keep",
    )
    assert report.rows_quarantined == 0
    return imp, tmp_path / "valid"


def _derive(la_folder, **kw):
    imp, valid = la_folder
    args = {
        "reference_date": REF,
        "child_domains_path": imp / "child_domains.parquet",
        "extract_date": "2026-03-21",
        **kw,
    }
    return derive_children_la(valid, **args)


def test_ages_follow_birthdays_including_29_february():
    dob = pd.Series(pd.to_datetime(["2010-03-21", "2010-03-22", "2008-02-29", None]))
    assert age_on(dob, pd.Timestamp("2021-03-21")).tolist()[:3] == [11, 10, 13]
    # born 29 February: 12 on 28 February 2021, 13 on 1 March 2021 (no 29th that year)
    assert age_on(dob, pd.Timestamp("2021-02-28")).tolist()[2] == 12
    assert age_on(dob, pd.Timestamp("2021-03-01")).tolist()[2] == 13
    assert age_on(dob, pd.Timestamp("2024-02-29")).tolist()[2] == 16
    assert pd.isna(age_on(dob, pd.Timestamp("2021-03-21")).iloc[3])


def test_cohort_is_the_roll_of_the_latest_census_within_a_year(la_folder):
    children, report = _derive(la_folder)
    # on the roll of 2021-01-21 (2021-05-20 is after the reference date): P1, P2, P3, P4,
    # P6, P7; P3 is 4 (out of 5-15), P4 has no date of birth
    assert children["pupil_id"].tolist() == ["P1", "P2", "P6", "P7"]
    assert children["age"].tolist() == [11, 10, 13, 9]
    assert children["sex"].tolist() == ["M", "F", "F", "M"]
    assert report["school_census"] == "2021-01-21"
    assert report["cohort"] == {
        "pupils_on_roll_n": 6,
        "no_date_of_birth_n": 1,
        "outside_ages_n": 1,
        "children_n": 4,
        "in_domain_file_n": 3,
        "not_in_domain_file_n": 1,
        "domains_missing_n": 2,
        "fsm_missing_n": 0,
        "outcomes_missing_n": 1,
    }
    assert (children["la_code"] == LA1).all() and (
        children["person_id"] == children["pupil_id"]
    ).all()


def test_domains_fsm_and_outcomes(la_folder):
    children, _ = _derive(la_folder)
    c = children.set_index("pupil_id")
    assert c.loc["P1", ["employment", "education", "health", "housing"]].tolist() == [
        True,
        False,
        False,
        True,
    ]
    assert c.loc["P1", "n_domains"] == 2
    assert pd.isna(c.loc["P6", "n_domains"])  # employment unknown: no count
    assert pd.isna(c.loc["P7", "employment"])
    assert c.loc["P7", "household_id"] == "not-listed-P7"  # a household of its own
    assert c.loc["P1", "household_id"] == c.loc["P2", "household_id"] == "household-a"
    # FSM at the 2021-01-21 census; fsm_share over the six-year window: P1 1 of 2
    assert c["fsm"].tolist() == [True, False, False, True]
    assert c.loc["P1", "fsm_share"] == 0.5
    # residents (in the flags file) get outcomes; P7 lives elsewhere: outcomes missing
    assert bool(c.loc["P1", "any_referral"]) and not bool(c.loc["P2", "any_referral"])
    assert c.loc["P1", "time_to_first_referral"] == 72  # 2021-03-21 -> 2021-06-01
    assert not c.loc["P7", "linked"] and pd.isna(c.loc["P7", "any_referral"])
    assert c.loc["P1", "exposure_years"] == 5.0


def test_outcomes_of_every_pupil_when_asked(la_folder):
    children, report = _derive(la_folder, outcomes_scope="all_pupils")
    c = children.set_index("pupil_id")
    assert bool(c.loc["P7", "any_referral"]) and c["linked"].all()
    assert report["outcomes"]["records"]["cin_referrals"]["outside_cohort"] == 1  # U1


def test_columns_and_types_match_the_contract_route(la_folder):
    children, _ = _derive(la_folder)
    assert children.columns.tolist()[:17] == [
        "person_id",
        "household_id",
        "la_code",
        "lsoa_code",
        "census_year",
        "age",
        "sex",
        "ethnic_group",
        "pupil_id",
        "linked",
        "employment",
        "education",
        "health",
        "housing",
        "n_domains",
        "fsm",
        "fsm_share",
    ]
    assert children.columns.tolist()[-3:] == ["la_name", "region_code", "region_name"]
    assert str(children["age"].dtype) == "int64" and str(children["fsm"].dtype) == "boolean"
    assert children["census_year"].isna().all()


def test_area_level_route_carries_the_caveat_and_no_household_flags(la_folder, tmp_path):
    imp, valid = la_folder
    area = pd.DataFrame(
        {
            "pupil_id": ["P1", "P2"],
            "lsoa_code": ["E01000001"] * 2,
            "area_households_n": [100, 100],
            "area_share_deprived_ge1": [0.5] * 2,
            "area_share_deprived_ge2": [0.2] * 2,
            "area_share_deprived_ge3": [0.05] * 2,
            "area_share_deprived_ge4": [0.0] * 2,
            "area_mean_dimensions": [0.75] * 2,
            "area_matched": [True] * 2,
        }
    )
    area.to_parquet(imp / "child_area_domains.parquet")
    children, report = derive_children_la(
        valid, reference_date=REF, area_domains_path=imp / "child_area_domains.parquet"
    )
    assert children["n_domains"].isna().all() and children["employment"].isna().all()
    c = children.set_index("pupil_id")
    assert c.loc["P1", "area_share_deprived_ge1"] == 0.5 and c.loc["P1", "lsoa_code"] == "E01000001"
    assert not c.loc["P6", "area_matched"]
    assert AREA_LEVEL_CAVEAT in report["caveats"]
    assert not report["extract_date_given"]


def test_clear_errors(la_folder):
    imp, valid = la_folder
    with pytest.raises(LACohortError, match="needs a reference date"):
        derive_children_la(
            valid, reference_date=None, child_domains_path=imp / "child_domains.parquet"
        )
    with pytest.raises(LACohortError, match="exactly one local domain file"):
        derive_children_la(valid, reference_date=REF)
    with pytest.raises(LACohortError, match="no school census in the year up to"):
        derive_children_la(
            valid, reference_date="2019-06-01", child_domains_path=imp / "child_domains.parquet"
        )
    with pytest.raises(LACohortError, match="outcomes_scope"):
        _derive(la_folder, outcomes_scope="everyone")
    with pytest.raises(LACohortError, match="pupil_characteristics"):
        derive_children_la(
            valid,
            reference_date=REF,
            child_domains_path=imp / "child_domains.parquet",
            characteristics_path=imp / "missing.parquet",
        )


def test_latest_census_is_within_a_year():
    pc = pd.DataFrame({"census_date": pd.to_datetime(["2020-01-16", "2021-01-21", "2021-05-20"])})
    assert latest_census(pc, pd.Timestamp("2021-03-21")) == pd.Timestamp("2021-01-21")
    assert latest_census(pc, pd.Timestamp("2021-05-20")) == pd.Timestamp("2021-05-20")
    with pytest.raises(LACohortError, match="2020-01-16"):
        latest_census(pc, pd.Timestamp("2019-12-31"))


def test_local_domain_paths_follow_the_domains_setting(tmp_path):
    assert local_domain_paths(tmp_path) == {
        "child_domains_path": tmp_path / "child_domains.parquet"
    }
    assert local_domain_paths(tmp_path, "area_level") == {
        "area_domains_path": tmp_path / "child_area_domains.parquet"
    }
    with pytest.raises(LACohortError, match="household_flags or area_level"):
        local_domain_paths(tmp_path, "both")
