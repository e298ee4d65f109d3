"""Persons and dwellings reproduce each household's true deprivation flags (ONS rules).

The checker below is written independently of the generator, from the ONS definitions of
the household deprivation dimensions (Census 2011 QS119EW; Census 2021 TS011):

- employment: "any member of a household not a full-time student is either unemployed or
  long-term sick or disabled" (2021: economically inactive because of long-term sickness or
  disability);
- education: "no person in the household has at least level 2 education, and no person aged
  16 to 18 years is a full-time student";
- health and disability: "any person in the household has general health 'bad or very bad'
  or has a long-term health problem" (2021: is disabled, day-to-day activities limited a
  little or a lot);
- housing: "the household's accommodation is either overcrowded (occupancy rating -1 or
  less), in a shared dwelling, or has no central heating".
"""

from __future__ import annotations

import pandas as pd
import pyarrow.parquet as pq
import pytest

LEVEL2_OR_ABOVE = {"level2", "apprenticeship", "level3", "level4_plus"}


def ons_flags(persons: pd.DataFrame, households: pd.DataFrame) -> pd.DataFrame:
    """The four ONS dimensions of each household, from persons and households tables."""
    p = persons
    not_student = ~p["full_time_student"]
    emp = not_student & p["economic_activity"].isin(
        ["unemployed", "inactive_long_term_sick_or_disabled"]
    )
    level2 = p["highest_qualification"].isin(LEVEL2_OR_ABOVE)
    student_16_18 = p["full_time_student"] & p["age"].between(16, 18)
    health = (p["general_health"] >= 4) | p["disability"].isin(
        ["limited_a_lot", "limited_a_little"]
    )
    g = (
        pd.DataFrame(
            {
                "household_id": p["household_id"],
                "emp": emp,
                "l2": level2,
                "st": student_16_18,
                "health": health,
            }
        )
        .groupby("household_id")
        .any()
    )
    h = households.set_index("household_id")
    out = pd.DataFrame(index=h.index)
    out["employment"] = g["emp"].reindex(h.index, fill_value=False)
    out["education"] = ~g["l2"].reindex(h.index, fill_value=False) & ~g["st"].reindex(
        h.index, fill_value=False
    )
    out["health"] = g["health"].reindex(h.index, fill_value=False)
    out["housing"] = (
        (h["occupancy_rating_rooms"] <= -1) | h["shared_dwelling"] | ~h["central_heating"]
    )
    return out


def test_checker_on_a_hand_made_example():
    # household A: a full-time student who is unemployed -> not employment-deprived;
    #   a 17-year-old full-time student, no level 2 -> not education-deprived.
    # household B: parent unemployed (not a student) -> employment; nobody level 2 and the
    #   only student is 19 -> education-deprived; health 4 -> health; no central heating.
    persons = pd.DataFrame(
        {
            "household_id": ["A", "A", "B", "B", "B"],
            "age": [40, 17, 45, 19, 8],
            "full_time_student": [True, True, False, True, True],
            "economic_activity": [
                "unemployed",
                "inactive_student",
                "unemployed",
                "inactive_student",
                "not_applicable",
            ],
            "highest_qualification": ["level1", "level1", "other", "unknown", "not_applicable"],
            "general_health": [2, 1, 4, 1, 1],
            "disability": ["not_limited"] * 5,
        }
    )
    households = pd.DataFrame(
        {
            "household_id": ["A", "B"],
            "occupancy_rating_rooms": [0, 1],
            "shared_dwelling": [False, False],
            "central_heating": [True, False],
        }
    )
    got = ons_flags(persons, households)
    assert got.loc["A"].tolist() == [False, False, False, False]
    assert got.loc["B"].tolist() == [True, True, True, True]


@pytest.mark.parametrize("folder_name", ["synth_dir", "small_2011"])
def test_generated_persons_reproduce_the_true_flags(request, folder_name):
    folder = request.getfixturevalue(folder_name)
    persons = pq.read_table(folder / "persons.parquet").to_pandas()
    households = pq.read_table(folder / "households.parquet").to_pandas()
    truth = pq.read_table(folder / "truth_households.parquet").to_pandas().set_index("household_id")
    got = ons_flags(persons, households)
    cols = ["employment", "education", "health", "housing"]
    mismatch = (got[cols] != truth.loc[got.index, cols]).any(axis=1)
    assert not mismatch.any(), got[mismatch].head()
    assert (truth[cols].sum(axis=1) == truth["n_domains"]).all()


def test_noise_that_must_not_change_the_flags_is_present(synth_dir):
    """The data exercise the rule's edge cases, so a wrong implementation would show."""
    p = pq.read_table(synth_dir / "persons.parquet").to_pandas()
    truth = (
        pq.read_table(synth_dir / "truth_households.parquet").to_pandas().set_index("household_id")
    )
    not_emp = ~truth.loc[p["household_id"], "employment"].to_numpy()
    not_edu = ~truth.loc[p["household_id"], "education"].to_numpy()
    # unemployed full-time students in households that are not employment-deprived
    assert (p["full_time_student"] & (p["economic_activity"] == "unemployed") & not_emp).sum() > 0
    # 16-18 full-time students as the only guard against education deprivation
    l2 = p["highest_qualification"].isin(LEVEL2_OR_ABOVE).groupby(p["household_id"]).any()
    st = (p["full_time_student"] & p["age"].between(16, 18)).groupby(p["household_id"]).any()
    assert (st & ~l2).sum() > 0
    # students aged 19-24 in education-deprived households (they do not count)
    assert (p["full_time_student"] & p["age"].between(19, 24) & ~not_edu).sum() > 0
    # every code of the activity and qualification lists is used, 'unknown' and 'other' too
    assert {"other", "unknown", "apprenticeship"} <= set(p["highest_qualification"])
    assert {"inactive_retired", "inactive_long_term_sick_or_disabled"} <= set(
        p["economic_activity"]
    )
    # under 16s are not_applicable for activity and qualification
    young = p["age"] < 16
    assert (p.loc[young, "economic_activity"] == "not_applicable").all()
    assert (p.loc[young, "highest_qualification"] == "not_applicable").all()
    assert (p.loc[~young, "economic_activity"] != "not_applicable").all()
