"""Round trip: one synthetic England, two routes, the same children and the same index.

Contract route: synthetic contract tables -> validate -> derive_children (the census
cohort), restricted to one local authority (LA).
LA route: the same data -> write_la_formats (the LA's SSDA903, CIN census XML, school
census and household flags files) -> import_la -> validate (LA tables,
unmatched_pupils="keep") -> derive_children_la.

The two cohorts differ only as docs/la-returns.md says (children are counted where they
go to school, not where they live; no census-to-pupil linkage to fail). The aligned
cohort, the LA's resident and linked children on the roll of its schools, must give
exactly the same children with the same domains, FSM, outcomes and Alkire-Foster index.
Expected sets are computed here from the synthetic truth, independently of the code
under test.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from child_mdh.aggregates.index.alkire_foster import DEFAULT_WEIGHTS, alkire_foster
from child_mdh.contract.vocabulary import DOMAINS
from child_mdh.derive.children import derive_children
from child_mdh.derive.la_cohort import derive_children_la
from child_mdh.derive.outcomes import OUTCOME_COLUMNS
from child_mdh.sources.la_returns import import_la, pseudonymise
from child_mdh.sources.synthetic import generate
from child_mdh.sources.synthetic.la_formats import upn_lookup, write_la_formats
from child_mdh.validation.folder import LA_ROUTE_TABLES, validate_folder

#: two routes built end to end from one synthetic England: the slow tier
pytestmark = pytest.mark.slow

SALT = "round-trip-salt-0123456789"
REFERENCE = pd.Timestamp("2021-03-21")  # census day 2021, the contract route's default
EXTRACT = "2026-03-21"  # the synthetic extract date (5 years of follow-up)
CHECK_DATE = "2026-06-01"
SOCIAL_CARE = {
    "cin_referrals": "referral_date",
    "child_protection_plans": "cpp_start_date",
    "looked_after_episodes": "episode_start",
}


def _choose_la(d) -> str:
    """The LA with most pupils at the reference census among those whose data hold every
    kind of cohort difference (so each is exercised): pupils living elsewhere, residents
    at another LA's school, social care children not on its school roll."""
    pc = pd.read_parquet(d / "pupil_census.parquet")
    tc = pd.read_parquet(d / "truth_children.parquet")
    cin = pd.read_parquet(d / "cin_referrals.parquet")
    at = pc[pc["census_date"] == pc.loc[pc["census_date"] <= REFERENCE, "census_date"].max()]
    at = at.merge(tc[["pupil_id", "la_code"]].rename(columns={"la_code": "home"}), on="pupil_id")
    size = at.groupby("la_code").size()
    away = at[at["la_code"] != at["home"]]
    care = (
        cin[["la_code", "pupil_id"]]
        .drop_duplicates()
        .merge(pc[["la_code", "pupil_id"]].drop_duplicates(), how="left", indicator=True)
    )
    off_roll = set(care.loc[care["_merge"] == "left_only", "la_code"])
    ok = [
        c
        for c in size.index
        if c in set(away["la_code"]) and c in set(away["home"]) and c in off_roll
    ]
    return str(size[ok].idxmax())


@pytest.fixture(scope="module")
def routes(tmp_path_factory):
    base = tmp_path_factory.mktemp("round_trip")
    synth = base / "synth"
    generate(16000, 7, synth)
    la = _choose_la(synth)

    validate_folder(synth, base / "contract", base / "contract_q", reference_date=CHECK_DATE)
    census_children, *_ = derive_children(base / "contract", extract_date=EXTRACT)

    written = write_la_formats(synth, la, base / "formats")
    imported = import_la(written["sources"], la, base / "import", SALT, synthetic=True)
    validation = validate_folder(
        base / "import",
        base / "la_contract",
        base / "la_q",
        reference_date=CHECK_DATE,
        tables=list(LA_ROUTE_TABLES),
        unmatched_pupils="keep",
    )
    la_children, la_report = derive_children_la(
        base / "la_contract",
        reference_date=REFERENCE,
        child_domains_path=base / "import" / "child_domains.parquet",
        extract_date=EXTRACT,
    )

    tables = {
        n: pd.read_parquet(synth / f"{n}.parquet")
        for n in ("pupil_census", "census_npd_link", "truth_children", "persons", *SOCIAL_CARE)
    }
    lookup = upn_lookup(tables["truth_children"]["pupil_id"])
    # the LA route's id of each synthetic pupil: keyed hash of the synthetic UPN
    la_id = dict(zip(lookup["pupil_id"], pseudonymise(lookup["upn"], SALT, "upn")))
    return {
        "la": la,
        "synth": synth,
        "base": base,
        "tables": tables,
        "la_id": la_id,
        "census": census_children,
        "la_children": la_children,
        "la_report": la_report,
        "validation": validation,
        "import": imported,
        "written": written,
    }


@pytest.fixture(scope="module")
def expected(routes) -> dict:
    """The cohorts worked out from the synthetic truth."""
    r = routes
    t, la, la_id = r["tables"], r["la"], r["la_id"]
    pc = t["pupil_census"]
    census_day = pc.loc[pc["census_date"] <= REFERENCE, "census_date"].max()
    at = pc[pc["census_date"] == census_day]
    school_la = dict(zip(at["pupil_id"], at["la_code"]))
    tc = t["truth_children"].dropna(subset=["pupil_id"])
    dob = pd.to_datetime(tc["date_of_birth"])
    # completed years on the reference date: birthday not yet reached -> one year less
    age = (
        REFERENCE.year
        - dob.dt.year
        - (
            (REFERENCE.month < dob.dt.month)
            | ((REFERENCE.month == dob.dt.month) & (REFERENCE.day < dob.dt.day))
        ).astype(int)
    )
    tc = tc.assign(age=age.to_numpy())
    roll = tc[tc["pupil_id"].map(school_la).eq(la) & tc["age"].between(5, 15)]
    linked = set(t["census_npd_link"]["pupil_id"])
    aligned = roll[(roll["la_code"] == la) & roll["pupil_id"].isin(linked)]
    census = r["census"]
    census_la = census[census["la_code"] == la]
    return {
        "census_day": census_day,
        "la_route": {la_id[p] for p in roll["pupil_id"]},
        "aligned": {la_id[p] for p in aligned["pupil_id"]},
        "living_elsewhere": {la_id[p] for p in roll.loc[roll["la_code"] != la, "pupil_id"]},
        "unlinked_residents": {
            la_id[p]
            for p in roll.loc[(roll["la_code"] == la) & ~roll["pupil_id"].isin(linked), "pupil_id"]
        },
        "census_at_other_schools": {
            la_id[p] for p in census_la["pupil_id"] if school_la.get(p) != la
        },
        "census_la": census_la.assign(la_pupil=census_la["pupil_id"].map(la_id)),
    }


def test_import_gives_back_the_authority_rows_of_every_contract_table(routes):
    r = routes
    keys = {
        "pupil_census": ["pupil_id", "census_date"],
        "cin_referrals": ["pupil_id", "referral_date"],
        "child_protection_plans": ["pupil_id", "cpp_start_date"],
        "looked_after_episodes": ["pupil_id", "episode_start"],
    }
    for name, key in keys.items():
        want = r["tables"][name]
        want = want[want["la_code"] == r["la"]].assign(
            pupil_id=lambda d: d["pupil_id"].map(r["la_id"])
        )
        got = pd.read_parquet(r["base"] / "import" / f"{name}.parquet")
        assert len(want) > 0, name
        cols = [c for c in want.columns if c != "school_id"]
        pd.testing.assert_frame_equal(
            got.sort_values(key).reset_index(drop=True)[cols],
            want.sort_values(key).reset_index(drop=True)[cols],
            check_dtype=False,
            obj=name,
        )
    # schools get the LA's own establishment numbers: one for one
    got = pd.read_parquet(r["base"] / "import" / "pupil_census.parquet")
    want = r["tables"]["pupil_census"].query("la_code == @r['la']")
    both = want.assign(pupil_id=want["pupil_id"].map(r["la_id"])).merge(
        got, on=["pupil_id", "census_date"], suffixes=("_synth", "_la")
    )
    assert len(both) == len(want)
    assert (both.groupby("school_id_synth")["school_id_la"].nunique() == 1).all()
    assert (both.groupby("school_id_la")["school_id_synth"].nunique() == 1).all()
    assert r["import"].rows_quarantined == 0


def test_dates_of_birth_and_sex_come_back_exactly(routes):
    r = routes
    chars = pd.read_parquet(r["base"] / "import" / "pupil_characteristics.parquet")
    truth = (
        r["tables"]["truth_children"]
        .dropna(subset=["pupil_id"])
        .merge(r["tables"]["persons"][["person_id", "sex"]], on="person_id")
    )
    truth = truth.assign(la_pupil=truth["pupil_id"].map(r["la_id"])).set_index("la_pupil")
    got = chars.set_index("pupil_id")
    assert got.index.isin(truth.index).all()
    assert (got["date_of_birth"] == pd.to_datetime(truth.loc[got.index, "date_of_birth"])).all()
    assert (got["sex"] == truth.loc[got.index, "sex"]).all()


def test_social_care_children_not_on_the_roll_are_kept_and_noted(routes):
    r = routes
    roll = set(r["tables"]["pupil_census"].query("la_code == @r['la']")["pupil_id"])
    acc = r["validation"].tables
    n_unmatched = 0
    for name in SOCIAL_CARE:
        rows = r["tables"][name].query("la_code == @r['la']")
        off_roll = int((~rows["pupil_id"].isin(roll)).sum())
        n_unmatched += off_roll
        assert acc[name].rows_quarantined == 0
        assert acc[name].rows_used == len(rows)
        assert acc[name].notes.get("pupil not in pupil_census (kept)", 0) == off_roll, name
    assert n_unmatched > 0  # the chosen LA exercises the option


def test_cohorts_differ_only_as_documented(routes, expected):
    r = routes
    e = expected
    la_children = r["la_children"]
    got = set(la_children["pupil_id"])
    assert len(got) == len(la_children)
    # the LA route: pupils on the roll of the LA's schools at the reference census, aged 5-15
    assert got == e["la_route"]
    assert r["la_report"]["school_census"] == e["census_day"].date().isoformat()
    # it differs from the aligned cohort by pupils living elsewhere and unlinked residents
    assert got - e["aligned"] == e["living_elsewhere"] | e["unlinked_residents"]
    assert e["living_elsewhere"] and e["unlinked_residents"]
    # the census route (the LA's residents, linked) differs from the aligned cohort by
    # the residents at another LA's school
    census = set(e["census_la"]["la_pupil"])
    assert census - e["aligned"] == e["census_at_other_schools"]
    assert e["census_at_other_schools"]
    assert census & got == e["aligned"]


def test_pupils_living_elsewhere_have_no_domains_and_no_outcomes(routes, expected):
    r = routes
    e = expected
    away = r["la_children"][r["la_children"]["pupil_id"].isin(e["living_elsewhere"])]
    assert len(away) == len(e["living_elsewhere"])
    assert away[list(DOMAINS) + ["n_domains"]].isna().all().all()
    assert (away["household_id"] == "not-listed-" + away["pupil_id"]).all()
    assert not away["linked"].any()
    assert away["any_referral"].isna().all()
    assert away["fsm"].notna().all()  # on the roll: FSM known


def test_aligned_children_have_the_same_domains_fsm_and_outcomes(routes, expected):
    r = routes
    e = expected
    ids = sorted(e["aligned"])
    a = e["census_la"].set_index("la_pupil").loc[ids]
    b = r["la_children"].set_index("pupil_id").loc[ids]
    same = ["age", "sex", "la_code", *DOMAINS, "n_domains", "fsm", *list(OUTCOME_COLUMNS)]
    pd.testing.assert_frame_equal(
        a[same].reset_index(drop=True), b[same].reset_index(drop=True), check_dtype=False
    )
    assert list(r["la_children"].columns) == list(r["census"].columns)
    # households: the LA's pseudonymised household reference of the same household
    hh = "household-" + pseudonymise(a["household_id"], SALT, "household")
    assert (hh.to_numpy() == b["household_id"].to_numpy()).all()
    # fsm_share sees only the censuses at the LA's schools: equal for pupils who were at
    # them at every census of the six years, and only those may differ
    pc = r["tables"]["pupil_census"]
    window = pc[
        (pc["census_date"] > REFERENCE - pd.DateOffset(years=6)) & (pc["census_date"] <= REFERENCE)
    ]
    elsewhere = {r["la_id"][p] for p in window.loc[window["la_code"] != r["la"], "pupil_id"]}
    stayed = [i for i in ids if i not in elsewhere]
    assert (a.loc[stayed, "fsm_share"].to_numpy() == b.loc[stayed, "fsm_share"].to_numpy()).all()
    differ = a["fsm_share"].to_numpy() != b["fsm_share"].to_numpy()
    assert set(np.asarray(ids)[differ]) <= elsewhere


@pytest.mark.parametrize("k", [0.2, 0.4, 0.6])
def test_the_index_of_the_aligned_cohort_is_the_same(routes, expected, k):
    r = routes
    e = expected
    ids = sorted(e["aligned"])
    w = DEFAULT_WEIGHTS
    a = e["census_la"].set_index("la_pupil").loc[ids, list(w)].reset_index(drop=True)
    b = r["la_children"].set_index("pupil_id").loc[ids, list(w)].reset_index(drop=True)
    ra, rb = alkire_foster(a, w, k), alkire_foster(b, w, k)
    assert ra.summary() == rb.summary()
    assert ra.n_obs == len(ids) and ra.q > 0
    pd.testing.assert_series_equal(ra.uncensored_headcount, rb.uncensored_headcount)
    pd.testing.assert_series_equal(ra.censored_headcount, rb.censored_headcount)


def test_the_whole_la_route_table_leaves_out_only_children_without_flags(routes, expected):
    r = routes
    e = expected
    w = DEFAULT_WEIGHTS
    res = alkire_foster(r["la_children"][list(w)], w, 0.4)
    assert res.n_missing == len(e["living_elsewhere"])
    assert res.n_obs == len(e["la_route"]) - len(e["living_elsewhere"])
    cohort = r["la_report"]["cohort"]
    assert cohort["not_in_domain_file_n"] == len(e["living_elsewhere"])
    assert cohort["children_n"] == len(e["la_route"])
