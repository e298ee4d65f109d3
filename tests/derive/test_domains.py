"""ONS household deprivation dimensions, case by case against the ONS wording.

Rule texts quoted in the tests: Census 2021 dictionary, hh_deprivation (TS011), and Census
2011 QS119EW. The contract codes the two years the same way, so each rule is checked
for both years.
"""

import numpy as np
import pandas as pd
import pytest

from child_mdh.contract import tables as contract
from child_mdh.derive.domains import (
    DEFAULT_LEVEL2_CODES,
    DomainInputError,
    child_domains,
    household_deprivation,
    missing_domains_summary,
)

YEARS = pytest.mark.parametrize("year", [2011, 2021])


def household(hid="h1", year=2021, **kw):
    row = dict(
        household_id=hid,
        census_year=year,
        la_code="E06000001",
        occupancy_rating_rooms=0,
        shared_dwelling=False,
        central_heating=True,
    )
    row.update(kw)
    return row


_pid = iter(range(10**6))


def person(hid="h1", **kw):
    row = dict(
        person_id=f"p{next(_pid)}",
        household_id=hid,
        age=40,
        sex="F",
        economic_activity="in_employment",
        full_time_student=False,
        highest_qualification="level3",
        general_health=2,
        disability="not_limited",
    )
    row.update(kw)
    return row


def tri(v):
    """A cell as Python True / False / pd.NA (so tests can use `is`)."""
    return pd.NA if pd.isna(v) else bool(v)


def as_tri(df):
    out = df.copy()
    for d in ["employment", "education", "health", "housing"]:
        if d in out:
            out[d] = pd.Series([tri(v) for v in out[d]], index=out.index, dtype=object)
    return out


def derive(persons, households=None, year=2021, **kw):
    households = households or [household(year=year)]
    hh = pd.DataFrame(households)
    p = pd.DataFrame(persons) if persons else contract.empty_frame("persons")
    out = household_deprivation(p, hh, **kw)
    return as_tri(out.set_index("household_id"))


def one(persons, domain, year=2021, **kw):
    return derive(persons, [household(year=year, **kw.pop("hh", {}))], **kw).loc["h1", domain]


# ------------------------------------------------------------------------- employment
# 2021: "any member, not a full-time student, is either unemployed or economically
# inactive due to long-term sickness or disability"; 2011: "any member of a household,
# who is not a full-time student, is either unemployed or long-term sick".


@YEARS
def test_unemployed_member_makes_household_employment_deprived(year):
    assert one([person(economic_activity="unemployed"), person()], "employment", year) is True


@YEARS
def test_long_term_sick_or_disabled_member_makes_household_employment_deprived(year):
    ps = [person(economic_activity="inactive_long_term_sick_or_disabled"), person()]
    assert one(ps, "employment", year) is True


@YEARS
def test_unemployed_full_time_student_does_not_make_household_employment_deprived(year):
    # "... any member, NOT A FULL-TIME STUDENT, is either unemployed ..."
    ps = [person(age=20, economic_activity="unemployed", full_time_student=True), person()]
    assert one(ps, "employment", year) is False


@YEARS
def test_long_term_sick_full_time_student_does_not_count(year):
    ps = [
        person(
            age=19, economic_activity="inactive_long_term_sick_or_disabled", full_time_student=True
        )
    ]
    assert one(ps, "employment", year) is False


@YEARS
@pytest.mark.parametrize(
    "activity",
    [
        "in_employment",
        "inactive_student",
        "inactive_retired",
        "inactive_looking_after_home",
        "inactive_other",
    ],
)
def test_other_economic_activity_is_not_employment_deprivation(year, activity):
    assert one([person(economic_activity=activity)], "employment", year) is False


def test_employment_missing_when_no_member_known_deprived_but_one_unknown():
    # Missing is not 'not deprived' (methods.md s.6): the unknown member might be unemployed.
    ps = [person(), person(economic_activity=None)]
    assert one(ps, "employment") is pd.NA


def test_employment_known_deprived_despite_another_member_unknown():
    ps = [person(economic_activity="unemployed"), person(economic_activity=None)]
    assert one(ps, "employment") is True


def test_unknown_student_status_of_unemployed_member_is_missing():
    ps = [person(economic_activity="unemployed", full_time_student=None)]
    assert one(ps, "employment") is pd.NA


def test_unknown_student_status_of_employed_member_is_not_deprived():
    # in employment: not deprived whatever the student status
    assert one([person(full_time_student=None)], "employment") is False


# -------------------------------------------------------------------------- education
# 2021: "no one has at least level 2 education and no one aged 16 to 18 years is a
# full-time student"; 2011 the same ("no person in the household has at least level 2
# education, and no person aged 16-18 is a full-time student").


@YEARS
def test_no_level2_and_no_young_student_is_education_deprived(year):
    ps = [
        person(highest_qualification="level1"),
        person(highest_qualification="none"),
        person(
            age=8,
            highest_qualification="not_applicable",
            economic_activity="not_applicable",
            full_time_student=True,
        ),
    ]
    assert one(ps, "education", year) is True


@YEARS
@pytest.mark.parametrize("code", ["level2", "level3", "level4_plus"])
def test_one_member_with_level2_or_above_prevents_education_deprivation(year, code):
    ps = [person(highest_qualification="none"), person(highest_qualification=code)]
    assert one(ps, "education", year) is False


@YEARS
def test_apprenticeship_counts_as_level2_by_default(year):
    # default mapping: ONS places apprenticeships at level 2 or above
    ps = [person(highest_qualification="apprenticeship")]
    assert one(ps, "education", year) is False
    assert "apprenticeship" in DEFAULT_LEVEL2_CODES


def test_qualification_mapping_is_configurable():
    ps = [person(highest_qualification="apprenticeship")]
    narrow = ("level2", "level3", "level4_plus")
    assert one(ps, "education", qualification_level2=narrow) is True


@YEARS
@pytest.mark.parametrize("code", ["unknown", "other"])
def test_unknown_and_other_qualifications_count_as_below_level2(year, code):
    # ONS: an unknown highest qualification "is a category that is considered deprived"
    ps = [person(highest_qualification=code)]
    assert one(ps, "education", year) is True


@YEARS
@pytest.mark.parametrize("age", [16, 17, 18])
def test_full_time_student_aged_16_to_18_prevents_education_deprivation(year, age):
    ps = [
        person(highest_qualification="none"),
        person(
            age=age,
            highest_qualification="level1",
            full_time_student=True,
            economic_activity="inactive_student",
        ),
    ]
    assert one(ps, "education", year) is False


@YEARS
@pytest.mark.parametrize("age", [15, 19])
def test_full_time_student_outside_16_to_18_does_not_prevent_it(year, age):
    ps = [
        person(highest_qualification="none"),
        person(
            age=age,
            highest_qualification="level1",
            full_time_student=True,
            economic_activity="inactive_student",
        ),
    ]
    assert one(ps, "education", year) is True


def test_aged_17_not_a_student_does_not_prevent_education_deprivation():
    ps = [
        person(highest_qualification="none"),
        person(age=17, highest_qualification="level1", full_time_student=False),
    ]
    assert one(ps, "education") is True


def test_missing_qualification_leaves_education_missing():
    ps = [person(highest_qualification="none"), person(highest_qualification=None)]
    assert one(ps, "education") is pd.NA


def test_missing_qualification_does_not_matter_when_another_member_has_level2():
    ps = [person(highest_qualification="level4_plus"), person(highest_qualification=None)]
    assert one(ps, "education") is False


def test_missing_student_status_of_17_year_old_leaves_education_missing():
    ps = [
        person(highest_qualification="none"),
        person(age=17, highest_qualification="level1", full_time_student=None),
    ]
    assert one(ps, "education") is pd.NA


@pytest.mark.parametrize("bad", [("level5",), ("not_applicable",), ()])
def test_invalid_level2_mapping_is_refused(bad):
    with pytest.raises(DomainInputError, match="qualification_level2"):
        derive([person()], qualification_level2=bad)


# ----------------------------------------------------------------------------- health
# 2021: "any person in the household has general health that is bad or very bad or is
# identified as disabled" (day-to-day activities limited a lot or a little, Equality Act);
# 2011: general health 'bad or very bad' or "a long-term health problem or disability".


@YEARS
@pytest.mark.parametrize("gh,expected", [(1, False), (2, False), (3, False), (4, True), (5, True)])
def test_general_health_bad_or_very_bad(year, gh, expected):
    assert one([person(general_health=gh)], "health", year) is expected


@YEARS
@pytest.mark.parametrize(
    "dis,expected", [("limited_a_lot", True), ("limited_a_little", True), ("not_limited", False)]
)
def test_disability_limited_a_lot_or_a_little(year, dis, expected):
    # a child's limitation counts too: "any person in the household"
    ps = [
        person(),
        person(
            age=9,
            economic_activity="not_applicable",
            highest_qualification="not_applicable",
            disability=dis,
        ),
    ]
    assert one(ps, "health", year) is expected


def test_missing_general_health_leaves_health_missing():
    assert one([person(general_health=None)], "health") is pd.NA


def test_missing_health_does_not_matter_when_a_member_is_disabled():
    ps = [person(general_health=None), person(disability="limited_a_lot")]
    assert one(ps, "health") is True


# ---------------------------------------------------------------------------- housing
# "the household's accommodation is either overcrowded [occupancy rating -1 or less], in
# a shared dwelling, or has no central heating".


@YEARS
@pytest.mark.parametrize("occ,expected", [(1, False), (0, False), (-1, True), (-3, True)])
def test_overcrowding_is_occupancy_rating_minus_one_or_less(year, occ, expected):
    assert one([person()], "housing", year, hh=dict(occupancy_rating_rooms=occ)) is expected


@YEARS
def test_shared_dwelling_is_housing_deprivation(year):
    assert one([person()], "housing", year, hh=dict(shared_dwelling=True)) is True


@YEARS
def test_no_central_heating_is_housing_deprivation(year):
    assert one([person()], "housing", year, hh=dict(central_heating=False)) is True


def test_missing_occupancy_rating_leaves_housing_missing_unless_otherwise_deprived():
    hh = [
        household("h1", occupancy_rating_rooms=None),
        household("h2", occupancy_rating_rooms=None, shared_dwelling=True),
    ]
    out = derive([person("h1"), person("h2")], hh)
    assert out.loc["h1", "housing"] is pd.NA
    assert out.loc["h2", "housing"] is True


# ----------------------------------------------------------------- household results


def test_count_of_domains_and_types():
    hh = [household("h1", occupancy_rating_rooms=-1), household("h2")]
    ps = [
        person(
            "h1", economic_activity="unemployed", highest_qualification="none", general_health=4
        ),
        person("h2"),
    ]
    out = household_deprivation(pd.DataFrame(ps), pd.DataFrame(hh)).set_index("household_id")
    assert out.loc["h1", "n_domains"] == 4  # 1 + 1 + 1 + 1
    assert out.loc["h2", "n_domains"] == 0
    assert str(out["employment"].dtype) == "boolean"
    assert str(out["n_domains"].dtype) == "Int64"
    assert list(out["n_persons"]) == [1, 1]


def test_any_missing_domain_makes_the_count_missing():
    # deprived in employment, health unknown: the count is not 1, it is unknown
    ps = [person(economic_activity="unemployed", general_health=None)]
    out = derive(ps)
    assert out.loc["h1", "employment"] is True and out.loc["h1", "health"] is pd.NA
    assert out.loc["h1", "n_domains"] is pd.NA


def test_household_without_persons_has_person_domains_missing():
    # ONS: households with no usual residents 'do not apply'; we keep the row, missing
    hh = [household("h1"), household("h2", central_heating=False)]
    out = derive([person("h1")], hh)
    row = out.loc["h2"]
    assert row["n_persons"] == 0
    assert row["employment"] is pd.NA and row["education"] is pd.NA and row["health"] is pd.NA
    assert row["housing"] is True
    assert row["n_domains"] is pd.NA
    summary = missing_domains_summary(out.reset_index()).set_index("census_year")
    assert summary.loc["all", "no_persons_n"] == 1
    assert summary.loc["all", "n_domains_missing_n"] == 1
    assert summary.loc["all", "employment_missing_n"] == 1


def test_rows_follow_the_households_table_and_census_year_is_kept():
    hh = [household("b", 2011), household("a", 2021)]
    out = household_deprivation(pd.DataFrame([person("a"), person("b")]), pd.DataFrame(hh))
    assert list(out["household_id"]) == ["b", "a"]
    assert list(out["census_year"]) == [2011, 2021]


def test_child_domains_inherits_household_domains():
    hh = [household("h1", shared_dwelling=True), household("h2")]
    ps = [
        person("h1", person_id="adult"),
        person("h1", person_id="kid", age=7),
        person("h2", person_id="kid2", age=9),
    ]
    dom = household_deprivation(pd.DataFrame(ps), pd.DataFrame(hh))
    kids = as_tri(child_domains(pd.DataFrame(ps).iloc[1:], dom).set_index("person_id"))
    assert kids.loc["kid", "housing"] is True and kids.loc["kid2", "housing"] is False
    # a person whose household has no domains row gets missing, not 'not deprived'
    stray = as_tri(child_domains(pd.DataFrame([person("h9", person_id="x")]), dom))
    assert stray.loc[0, "housing"] is pd.NA and stray.loc[0, "n_domains"] is pd.NA


# ---------------------------------------------------------------------------- errors


def test_person_in_unknown_household_is_an_error_naming_rows():
    with pytest.raises(DomainInputError, match=r"persons.*household_id.*p_orphan"):
        derive([person("h1"), person("nope", person_id="p_orphan")])


def test_code_outside_contract_is_an_error_naming_the_column():
    with pytest.raises(DomainInputError, match=r"economic_activity.*'jobless'"):
        derive([person(economic_activity="jobless")])


def test_unsupported_census_year_is_an_error():
    with pytest.raises(DomainInputError, match="census_year"):
        derive([person()], [household(year=2001)])


def test_general_health_out_of_range_is_an_error():
    with pytest.raises(DomainInputError, match="general_health"):
        derive([person(general_health=7)])


def test_missing_column_is_an_error_with_the_fix():
    p = pd.DataFrame([person()]).drop(columns="disability")
    with pytest.raises(DomainInputError, match="disability.*missing"):
        household_deprivation(p, pd.DataFrame([household()]))


# --------------------------------------------------------- against a slow reference


def _reference(persons: pd.DataFrame, households: pd.DataFrame) -> pd.DataFrame:
    """Per-household loop with three-valued logic written out literally (slow)."""

    def any3(values):
        if any(v is True for v in values):
            return True
        return pd.NA if any(v is pd.NA for v in values) or not values else False

    def known(v):
        return not (v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)))

    rows = []
    for h in households.itertuples(index=False):
        members = persons[persons["household_id"] == h.household_id].to_dict("records")
        emp, prot, hea = [], [], []
        for m in members:
            ea, st = m["economic_activity"], m["full_time_student"]
            if not known(ea):  # unknown activity: irrelevant only for a known student
                emp.append(False if known(st) and st else pd.NA)
            elif ea in ("unemployed", "inactive_long_term_sick_or_disabled"):
                emp.append(pd.NA if not known(st) else (not st))
            else:
                emp.append(False)
            q = m["highest_qualification"]
            l2 = pd.NA if not known(q) else q in DEFAULT_LEVEL2_CODES
            young = 16 <= m["age"] <= 18
            ys = (pd.NA if not known(st) else bool(st)) if young else False
            prot.append(any3([l2, ys]))
            gh, d = m["general_health"], m["disability"]
            bad = pd.NA if not known(gh) else gh >= 4
            dis = pd.NA if not known(d) else d != "not_limited"
            hea.append(any3([bad, dis]))
        p = any3(prot)
        edu = pd.NA if p is pd.NA else (not p)
        occ = h.occupancy_rating_rooms
        hou = any3(
            [pd.NA if not known(occ) else occ <= -1, bool(h.shared_dwelling), not h.central_heating]
        )
        rows.append((h.household_id, any3(emp), edu, any3(hea), hou))
    return pd.DataFrame(
        rows, columns=["household_id", "employment", "education", "health", "housing"]
    )


def test_vectorised_result_equals_a_literal_per_household_reference():
    rng = np.random.default_rng(5)
    n_hh = 300
    hh = pd.DataFrame(
        {
            "household_id": [f"h{i}" for i in range(n_hh)],
            "census_year": rng.choice([2011, 2021], n_hh),
            "la_code": "E1",
            "occupancy_rating_rooms": pd.array(rng.integers(-2, 3, n_hh), dtype="Int64"),
            "shared_dwelling": rng.random(n_hh) < 0.05,
            "central_heating": rng.random(n_hh) > 0.05,
        }
    )
    hh.loc[rng.random(n_hh) < 0.05, "occupancy_rating_rooms"] = pd.NA
    n_p = 900
    ea = rng.choice(contract.ECONOMIC_ACTIVITY_CODES, n_p).astype(object)
    ea[rng.random(n_p) < 0.03] = None
    qual = rng.choice(contract.QUALIFICATION_CODES, n_p).astype(object)
    qual[rng.random(n_p) < 0.03] = None
    gh = pd.array(rng.integers(1, 6, n_p), dtype="Int64")
    gh[rng.random(n_p) < 0.03] = pd.NA
    st = pd.array(rng.random(n_p) < 0.2, dtype="boolean")
    st[rng.random(n_p) < 0.03] = pd.NA
    ps = pd.DataFrame(
        {
            "person_id": [f"p{i}" for i in range(n_p)],
            "household_id": [f"h{i}" for i in rng.integers(0, n_hh + 20, n_p) % n_hh],
            "age": rng.integers(0, 90, n_p),
            "sex": "F",
            "economic_activity": ea,
            "full_time_student": st,
            "highest_qualification": qual,
            "general_health": gh,
            "disability": rng.choice(contract.DISABILITY_CODES, n_p),
        }
    )
    ps = ps[ps["household_id"] != "h7"]  # one household without persons
    got = household_deprivation(ps, hh).set_index("household_id")
    ref = _reference(
        ps.astype(object).where(ps.notna(), None), hh.astype(object).where(hh.notna(), None)
    ).set_index("household_id")
    for d in ["employment", "education", "health", "housing"]:
        g = got[d].astype(object).where(got[d].notna(), "NA")
        r = ref[d].astype(object).where(ref[d].notna(), "NA")
        assert (g == r).all(), d
    assert got.loc["h7", "n_domains"] is pd.NA


def test_a_household_whose_member_was_quarantined_is_not_recomputed_from_the_rest():
    # what validation writes: each household's count of quarantined members
    households = [
        household("clean", persons_quarantined=1),  # the rest not deprived: unknown
        household("settled", persons_quarantined=1),  # a deprived member settles it
        household("whole", persons_quarantined=0),
    ]
    persons = [
        person("clean"),
        person(
            "settled",
            economic_activity="unemployed",
            general_health=5,
            highest_qualification="none",
        ),
        person("whole"),
    ]
    out = derive(persons, households)
    assert out.loc["clean", "employment"] is pd.NA and out.loc["clean", "health"] is pd.NA
    assert out.loc["clean", "education"] is False  # a member with level 3 protects it
    assert out.loc["settled", "employment"] is True and out.loc["settled", "health"] is True
    assert out.loc["settled", "education"] is pd.NA  # the missing member might protect it
    assert out.loc["whole", "employment"] is False and out.loc["whole", "education"] is False
    assert out.loc["clean", "housing"] is False  # from the household record, unaffected
    assert pd.isna(out.loc["clean", "n_domains"])
