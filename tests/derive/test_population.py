"""The analysis cohort and its linkage report, on a hand-built world of seven persons."""

import pandas as pd
import pytest

from child_mdh.aggregates.index.alkire_foster import alkire_foster
from child_mdh.contract.vocabulary import ENGLAND_CODE
from child_mdh.derive.fsm import fsm_measures
from child_mdh.derive.population import PopulationInputError, build_children

REF = "2021-03-21"


def world():
    households = pd.DataFrame(
        {
            "household_id": ["h1", "h2", "h3", "h4"],
            "census_year": [2021, 2021, 2021, 2011],
            "la_code": ["E1", "E1", "E2", "E2"],
            "occupancy_rating_rooms": [0, 0, 0, 0],
            "shared_dwelling": [False] * 4,
            "central_heating": [True] * 4,
        }
    )
    persons = pd.DataFrame(
        {
            "person_id": ["c1", "c2", "c3", "c4", "c5", "c6", "c7", "a1"],
            "household_id": ["h1", "h1", "h2", "h2", "h3", "h3", "h4", "h1"],
            "age": [7, 15, 4, 16, 3, 10, 9, 40],
            "sex": ["F", "M", "F", "M", "F", "M", "F", "F"],
        }
    )
    link = pd.DataFrame(
        {"person_id": ["c1", "c2", "c6", "c4", "c7"], "pupil_id": ["P1", "P2", "P6", "P4", "P7"]}
    )
    pupil_census = pd.DataFrame(
        {
            "pupil_id": ["P1", "P2", "P6", "P4", "P7"],
            "census_date": pd.to_datetime(
                ["2021-01-21", "2019-01-17", "2021-01-21", "2021-01-21", "2021-01-21"]
            ),
            "la_code": "E1",
            "school_id": "s",
            "fsm_eligible": [True, True, False, True, True],
        }
    )
    fsm = fsm_measures(pupil_census, REF)
    # domains by hand: h1 deprived in housing only; h2 has health unknown; h3 none
    domains = pd.DataFrame(
        {
            "household_id": ["h1", "h2", "h3", "h4"],
            "census_year": [2021, 2021, 2021, 2011],
            "employment": pd.array([False, True, False, False], dtype="boolean"),
            "education": pd.array([False, True, False, False], dtype="boolean"),
            "health": pd.array([False, pd.NA, False, False], dtype="boolean"),
            "housing": pd.array([True, False, False, False], dtype="boolean"),
            "n_domains": pd.array([1, pd.NA, 0, 0], dtype="Int64"),
        }
    )
    return persons, households, link, fsm, domains


def build(**kw):
    persons, households, link, fsm, domains = world()
    return build_children(persons, households, link, fsm, domains, REF, 2021, **kw)


def test_scope_is_ages_4_to_15_in_households_of_the_census():
    # c1 (7), c2 (15), c3 (4), c6 (10) in 2021 households; c4 is 16, c5 is 3, c7 lives in
    # a 2011 household, a1 is an adult
    children, _ = build(unlinked="fsm_missing")
    assert sorted(children["person_id"]) == ["c1", "c2", "c3", "c6"]


def test_exclude_rule_drops_unlinked_children_and_reports_them():
    children, report = build()
    assert sorted(children["person_id"]) == ["c1", "c2", "c6"]  # c3 unlinked
    assert children["linked"].all()
    r = report.set_index("la_code")
    # E1: c1, c2, c3 in scope; c1, c2 linked; c1 has FSM at reference, c2 only in 2019
    assert r.loc[
        "E1",
        [
            "children_n",
            "linked_n",
            "unlinked_n",
            "linked_with_fsm_n",
            "linked_without_fsm_n",
            "kept_n",
        ],
    ].tolist() == [3, 2, 1, 1, 1, 2]
    assert r.loc["E1", "share_linked"] == pytest.approx(2 / 3)
    assert r.loc["E2", ["children_n", "linked_n", "unlinked_n", "kept_n"]].tolist() == [1, 1, 0, 1]
    # England: 4 in scope, 3 linked (3/4), 3 kept; h2's unknown domain count: c3
    assert r.loc[
        ENGLAND_CODE, ["children_n", "linked_n", "kept_n", "domains_missing_n"]
    ].tolist() == [4, 3, 3, 1]
    assert r.loc[ENGLAND_CODE, "share_linked"] == pytest.approx(0.75)
    assert children.attrs["unlinked_excluded_n"] == 1


def test_fsm_missing_rule_keeps_unlinked_children_with_fsm_missing():
    children, report = build(unlinked="fsm_missing")
    c3 = children.set_index("person_id").loc["c3"]
    assert not c3["linked"] and c3["fsm"] is pd.NA and pd.isna(c3["pupil_id"])
    assert report.set_index("la_code").loc[ENGLAND_CODE, "kept_n"] == 4


def test_fsm_measure_and_missing_fsm_for_linked_child_without_recent_census():
    kids = build()[0].set_index("person_id")
    assert kids.loc["c1", "fsm"] == True  # noqa: E712  eligible on 2021-01-21
    assert kids.loc["c6", "fsm"] == False  # noqa: E712
    assert kids.loc["c2", "fsm"] is pd.NA  # last census 2019: no FSM at reference
    kids6 = build(fsm_measure="ever_fsm_6")[0].set_index("person_id")
    assert kids6.loc["c2", "fsm"] == True  # noqa: E712  eligible in 2019, within 6 years


def test_children_inherit_household_domains_and_missing_stays_missing():
    kids = build(unlinked="fsm_missing")[0].set_index("person_id")
    assert kids.loc["c1", "housing"] == True and kids.loc["c2", "housing"] == True  # noqa: E712
    assert kids.loc["c3", "health"] is pd.NA and kids.loc["c3", "n_domains"] is pd.NA
    assert kids.loc["c6", "n_domains"] == 0
    assert {"la_code", "household_id", "age", "sex", "census_year"} <= set(kids.columns)


def test_fsm_missing_children_leave_fsm_measures_only():
    # The documented choice: unlinked children are excluded from measures that use FSM
    # (counted as n_missing) and included in measures on the census domains alone.
    kids = build(unlinked="fsm_missing")[0]
    five = dict.fromkeys(["employment", "education", "health", "housing", "fsm"], 0.2)
    four = dict.fromkeys(["employment", "education", "health", "housing"], 0.25)
    r5 = alkire_foster(kids[list(five)], five, 0.4)
    # c2 (no FSM at reference), c3 (unlinked, also health unknown) are excluded
    assert (r5.n_obs, r5.n_missing) == (2, 2)
    r4 = alkire_foster(kids[list(four)], four, 0.5)
    # only c3 (health unknown) is excluded from the census-only measure
    assert (r4.n_obs, r4.n_missing) == (3, 1)


def test_reference_date_must_match_the_fsm_table():
    persons, households, link, fsm, domains = world()
    with pytest.raises(PopulationInputError, match="reference date"):
        build_children(persons, households, link, fsm, domains, "2020-03-21", 2021)


def test_duplicate_link_is_an_error():
    persons, households, link, fsm, domains = world()
    link = pd.concat([link, pd.DataFrame({"person_id": ["c3"], "pupil_id": ["P1"]})])
    with pytest.raises(PopulationInputError, match="census_npd_link, column pupil_id"):
        build_children(persons, households, link, fsm, domains, REF, 2021)


def test_unknown_rule_and_wrong_year_are_errors():
    with pytest.raises(PopulationInputError, match="unlinked"):
        build(unlinked="impute")
    persons, households, link, fsm, domains = world()
    with pytest.raises(PopulationInputError, match="no households from census 2001"):
        build_children(persons, households, link, fsm, domains, REF, 2001)


def test_custom_age_range():
    kids = build(min_age=3, max_age=16, unlinked="fsm_missing")[0]
    assert sorted(kids["person_id"]) == ["c1", "c2", "c3", "c4", "c5", "c6"]
