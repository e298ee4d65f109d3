"""Deprivation profiles, attributable fractions and inequality gradients: written through
disclosure control, audited, and the gradient and its indices drawn from the published
profile counts."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from simulated import simulated_outcomes

from child_mdh.aggregates.index.tables import child_index
from child_mdh.aggregates.models.inequality import PROFILE, profile_levels, slope_index
from child_mdh.contract.vocabulary import ENGLAND_CODE, INDICATORS
from child_mdh.release.models import inequality as rel
from child_mdh.release.sdc import (
    Manifest,
    RowMargin,
    SDCConfig,
    TableSpec,
    audit_release,
    merge_manifests,
)
from child_mdh.studies.model_recovery import simulate_cohort

WEIGHTS = dict.fromkeys(INDICATORS, 0.2)
OUTCOMES = ("any_referral", "any_cin")


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    sim = simulate_cohort(12_000, n_las=30, seed=5)
    kids = simulated_outcomes(sim)
    kids["age"] = kids["age"].clip(5, 15)
    kids = kids.drop(columns="mdh")
    idx = child_index(kids, WEIGHTS, 0.4)
    las = sorted(kids["la_code"].unique())
    areas = pd.DataFrame(
        {
            "la_code": las,
            "la_name": las,
            "region_code": ["E12000001" if i % 2 else "E12000002" for i in range(len(las))],
            "region_name": ["North" if i % 2 else "South" for i in range(len(las))],
        }
    )
    release = tmp_path_factory.mktemp("release")
    manifest = Manifest(release, "inequality", SDCConfig(mitigation="both"))
    settings = {"models": {"outcomes": list(OUTCOMES)}, "index": {"weights": WEIGHTS, "k": 0.4}}
    written = rel.inequality_outputs(
        kids, settings, release, manifest, child_index=idx, areas=areas
    )
    merge_manifests([manifest], release / "outputs.json")
    tables = {
        k: pd.read_csv(release / v, dtype={"deprived_indicators": "string"})
        for k, v in written.items()
    }
    return release, manifest, written, tables


def test_every_table_is_written_passes_and_the_release_audit_is_clean(released):
    release, manifest, written, _ = released
    assert set(written) == {"profiles", "profiles_by_region", "fractions", "gradients", "indices"}
    files = {p.relative_to(release).as_posix() for p in (release / rel.FOLDER).iterdir()}
    # each table as CSV and as a workbook laid out after the GSS guidance
    csvs = set(written.values())
    assert files == csvs | {c.removesuffix(".csv") + ".xlsx" for c in csvs}
    from child_mdh.release.workbook import read_workbook_table

    for csv in csvs:
        book = read_workbook_table(release / csv.replace(".csv", ".xlsx"))
        assert list(book.columns) == list(pd.read_csv(release / csv).columns)
    assert all(e["status"] == "pass" for e in manifest.results.values())
    assert audit_release(release) == []


def test_profiles_list_every_combination_for_england_and_each_region(released):
    assert set(released[3]["profiles"]["area_code"]) == {ENGLAND_CODE}
    t = released[3]["profiles_by_region"]
    assert list(t["area_code"].unique()) == [ENGLAND_CODE, "E12000001", "E12000002"]
    for _, area in t.groupby("area_code"):
        profiles = area.loc[area["row_type"] == "profile", PROFILE].tolist()
        assert profiles == profile_levels(INDICATORS)
        assert (area["row_type"] == "total").sum() == 1


@pytest.mark.parametrize("table", ["profiles", "profiles_by_region"])
def test_published_counts_pass_the_threshold_and_add_up(released, table):
    t = released[3][table]
    counts = t[["children_n", *[f"{o}_n" for o in OUTCOMES]]]
    published = counts.stack().dropna()
    assert (published >= 10).all() and (published % 5 == 0).all()
    # every published subtotal is the sum of its parts where they are all published
    for (area, parent), parts in t.groupby(["area_code", "profile_parent"]):
        total = t.loc[(t["area_code"] == area) & (t[PROFILE] == parent), "children_n"]
        if parts["children_n"].notna().all() and total.notna().all():
            assert parts["children_n"].sum() == total.iloc[0]
    # a ratio is published only beside its counts; the reference profile's is 1
    for o in OUTCOMES:
        shown = t[f"{o}_ratio"].notna()
        assert t.loc[shown, ["children_n", f"{o}_n"]].notna().all().all()
        ref = t.loc[(t[PROFILE] == "none") & shown, f"{o}_ratio"]
        assert (ref == 1).all()


def test_ranks_follow_the_published_ratios(released):
    t = released[3]["profiles"]
    eng = t.loc[(t["area_code"] == ENGLAND_CODE) & t["any_referral_ratio"].notna()]
    ordered = eng.sort_values("any_referral_rank")["any_referral_ratio"].to_numpy()
    assert (np.diff(ordered) <= 0).all()
    assert eng["any_referral_rank"].min() == 1


def test_gradient_is_the_published_profile_rows_and_indices_follow_from_it(released):
    tables = released[3]
    t, g = tables["profiles"], tables["gradients"]
    eng = t.loc[t["area_code"] == ENGLAND_CODE]
    total = eng.loc[eng["row_type"] == "total"].iloc[0]
    last = g.loc[g["deprived_indicators"] == "all"].iloc[0]
    assert last["children_n"] == total["children_n"]
    none = eng.loc[eng[PROFILE] == "none"].iloc[0]
    assert g.loc[g["deprived_indicators"] == "0", "children_n"].iloc[0] == none["children_n"]
    groups = g.loc[g["deprived_indicators"] != "all"]
    for o in OUTCOMES:
        if groups[f"{o}_n"].isna().any():
            continue
        r = slope_index(groups[f"{o}_n"], groups["children_n"])
        idx = tables["indices"].set_index(["outcome", "statistic"])
        assert idx.loc[(o, "sii_per_10000"), "value"] == pytest.approx(1e4 * r.sii, abs=0.05)
        assert idx.loc[(o, "rii"), "value"] == pytest.approx(r.rii, abs=5e-4)
    # the 99.8% interval contains the 95% one
    assert (g["any_cin_rate_lower_99_8"] <= g["any_cin_rate_lower_95"]).all()


def test_attributable_fractions_are_labelled_and_within_their_intervals(released):
    f = released[3]["fractions"]
    assert set(f["exposure"]) >= {"mdh", "all indicators", *INDICATORS}
    assert ((f["paf_low_pct"] <= f["paf_pct"]) & (f["paf_pct"] <= f["paf_high_pct"])).all()
    # the simulation's indicators all raise the hazard: positive fractions
    assert (f.loc[f["exposure"] == "all indicators", "paf_pct"] > 0).all()


def test_index_sums_follow_the_weights_and_the_cut_off():
    equal = {c.column: set(c.where[PROFILE]) for c in rel.index_sums(WEIGHTS, 0.4)}
    levels = profile_levels(list(WEIGHTS))
    assert equal["index_n"] == {"all children"}
    # k = 0.4 with five weights of 0.2: MDH is two or more indicators
    assert equal["mdh_n"] == {p for p in levels if p.count("+") >= 1}
    assert len(equal["deprived_fsm_n"]) == 16 and len(equal["censored_fsm_n"]) == 15
    # FSM weighs 0.5: FSM alone makes a child MDH, two other indicators do not
    half = dict.fromkeys(INDICATORS, 0.125) | {"fsm": 0.5}
    mdh = {c.column: set(c.where[PROFILE]) for c in rel.index_sums(half, 0.4)}["mdh_n"]
    assert "fsm" in mdh and "employment+education" not in mdh
    assert "employment+education+health+housing" in mdh  # 0.5 >= 0.4
    assert rel.index_sums(None, 0.4) == ()


def test_profile_tables_declare_their_sums_to_the_index_counts(released):
    release, _, written, tables = released
    outputs = json.loads((release / "outputs.json").read_text())["results"]
    for key in ("profiles", "profiles_by_region"):
        structure = outputs[written[key]]["structure"]
        assert structure["population"] == "deprivation profiles"
        sums = {s["column"]: s for s in structure["sums"]}
        assert set(sums) >= {"index_n", "mdh_n", "deprived_fsm_n", "censored_fsm_n"}
        assert sums["mdh_n"]["by"] == ["area_code"]
    # the same counts: England's total row in both tables, which the audit links
    eng = [
        tables[k]
        .loc[
            (tables[k]["area_code"] == ENGLAND_CODE) & (tables[k][PROFILE] == "all children"),
            "children_n",
        ]
        .iloc[0]
        for k in ("profiles", "profiles_by_region")
    ]
    assert abs(eng[0] - eng[1]) <= 2 * 9  # rounded directly and summed over 2 regions


def _audit_release(tmp_path, tables):
    """Write ``tables`` ({name: (frame, spec)}, unrounded) with a manifest listing them
    and run the release-wide interval audit over them."""
    from child_mdh.release.sdc.audit import interval_audit

    results = {}
    for name, (df, spec) in tables.items():
        df.to_csv(tmp_path / name, index=False)
        structure = spec.structure(df)
        structure.update({"rounded": False, "rounding_base": 5, "threshold": 10})
        results[name] = {"files": [{"name": name}], "structure": structure, "status": "pass"}
    return interval_audit(tmp_path, {"disclosure": {"threshold": 10}, "results": results})


def test_the_gradient_is_declared_the_profile_rows_it_repeats(tmp_path):
    # England's profiles: none and profile b withheld, their subtotal withheld with them;
    # the gradient publishes the subtotal (37) and withholds the other two rows. Each file
    # alone leaves every withheld count open; read together, b = 37 - 30 = 7 and none =
    # 100 - 37 = 63, a recovery only through the gradient's repeating the profile rows
    profiles = pd.DataFrame(
        {
            "area_code": ENGLAND_CODE,
            PROFILE: ["none", "a", "b", "any 1 or more", "all children"],
            "profile_parent": [
                "all children",
                "any 1 or more",
                "any 1 or more",
                "all children",
                "",
            ],
            "children_n": [np.nan, 30, np.nan, np.nan, 100],
        }
    )
    gradient = pd.DataFrame(
        {"deprived_indicators": ["0", "1+", "all"], "children_n": [np.nan, 37, np.nan]}
    )
    repeats = {"0": "none", "1+": "any 1 or more", "all": "all children"}
    spec = rel.profile_spec((), None)

    def audit(gradient_spec):
        return _audit_release(
            tmp_path,
            {"profiles.csv": (profiles, spec), "gradients.csv": (gradient, gradient_spec)},
        )

    assert audit(rel.gradient_spec(())).passed  # undeclared: unrelated numbers
    report = audit(rel.gradient_spec((), repeats))
    found = {(f.file, f.row, f.kind, f.lower, f.upper) for f in report.findings}
    assert ("profiles.csv", 2, "exact", 7.0, 7.0) in found
    assert ("profiles.csv", 0, "exact", 63.0, 63.0) in found


def test_the_released_gradient_declares_its_profile_rows(released):
    release, _, written, tables = released
    structure = json.loads((release / "outputs.json").read_text())["results"][written["gradients"]][
        "structure"
    ]
    repeats = {
        (s["where"]["deprived_indicators"][0], s["at"]["profile"]) for s in structure["sums"]
    }
    assert ("0", "none") in repeats and ("all", "all children") in repeats
    assert {label for label, _ in repeats} == set(tables["gradients"]["deprived_indicators"])


def test_a_region_of_the_profiles_is_the_sum_of_its_local_profile_authorities(tmp_path):
    # local profiles (area_statistics): A withheld with England, B = 40, C = 30; the
    # regional deprivation profiles publish R1's children (A and B: 47) and withhold the
    # rest. Each alone leaves A open; read together, A = 47 - 40 = 7
    from dataclasses import replace

    from child_mdh.release.profiles.tables import region_sums

    local = pd.DataFrame(
        {
            "la_code": ["E92000001", "A", "B", "C"],
            "region_code": [None, "R1", "R1", "R2"],
            "area_level": ["england", *["local_authority"] * 3],
            "children_n": [np.nan, np.nan, 40, 30],
        }
    )
    local_spec = TableSpec(
        key_columns=("la_code",),
        margins=(RowMargin("la_code", total=ENGLAND_CODE),),
        population="profile children",
        dimensions={"la_code": "area"},
    )
    rows = [
        ("none", "all children"),
        ("x", "any 1 or more"),
        ("y", "any 1 or more"),
        ("x+y", "any 1 or more"),
        ("any 1 or more", "all children"),
        ("all children", ""),
    ]
    by_region = pd.DataFrame(
        [
            (area, parent, profile, profile_parent)
            for area, parent in ((ENGLAND_CODE, ""), ("R1", ENGLAND_CODE), ("R2", ENGLAND_CODE))
            for profile, profile_parent in rows
        ],
        columns=["area_code", "area_parent", PROFILE, "profile_parent"],
    ).assign(children_n=np.nan)
    r1_total = (by_region["area_code"] == "R1") & (by_region[PROFILE] == "all children")
    by_region.loc[r1_total, "children_n"] = 47
    weights = {"x": 0.5, "y": 0.5}
    sums = rel.profile_children_sums(weights, 1.0, ())
    assert {s.column for s in sums} >= {"children_n", "mdh_n", "non_mdh_n", "censored_x_n"}
    spec = rel.profile_spec((), None, regions=True)

    def audit(profile_sums, local_sums):
        return _audit_release(
            tmp_path,
            {
                "local.csv": (local, replace(local_spec, sums=local_sums)),
                "by_region.csv": (by_region, replace(spec, sums=profile_sums)),
            },
        )

    local_sums = region_sums(local, ["children_n"])
    assert audit((), local_sums).passed and audit(sums, ()).passed
    found = {(f.file, f.row, f.kind, f.lower) for f in audit(sums, local_sums).findings}
    assert ("local.csv", 1, "exact", 7.0) in found


def test_profiles_declare_the_local_profile_counts_only_for_the_same_children():
    kids = pd.DataFrame(
        {
            "x": [1.0, 0.0, np.nan],
            "y": [0.0, 1.0, 1.0],
            "any_referral": [True, False, True],
            "any_cin": [False, False, True],
            "any_cpp": False,
            "entered_care": False,
            "n_referrals": [1, 0, 2],
            "exposure_years": 1.0,
        }
    )
    weights = {"x": 0.5, "y": 0.5}
    same = rel.same_children_as_local_profiles
    assert same(kids, ("x", "y"), weights, ["any_referral"])
    # an outcome the local profiles need unknown for a child the profiles count
    assert not same(kids.assign(any_cpp=[False, None, False]), ("x", "y"), weights, ["any_cin"])
    assert not same(kids, ("x",), weights, ["any_referral"])  # other indicators
    # counts: any_cin among MDH children is the sum of the profiles that make a child MDH
    sums = {s.column: s for s in rel.profile_children_sums(weights, 1.0, ["any_cin"])}
    assert sums["cin_mdh_n"].where[PROFILE] == ("x+y",) and sums["cin_mdh_n"].parts == "any_cin_n"
    assert sums["cin_all_n"].where[PROFILE] == ("all children",)


def test_the_inequality_indices_repeat_englands_total_row(tmp_path):
    # England's profiles: b, the subtotal and the total withheld (none = 63, a = 30
    # published); the indices repeat England's children (100): the subtotal is 37 and
    # b = 37 - 30 = 7, a recovery only through the indices' repeating the total row
    profiles = pd.DataFrame(
        {
            "area_code": ENGLAND_CODE,
            PROFILE: ["none", "a", "b", "any 1 or more", "all children"],
            "profile_parent": [
                "all children",
                "any 1 or more",
                "any 1 or more",
                "all children",
                "",
            ],
            "children_n": [63, 30, np.nan, np.nan, np.nan],
            "any_cin_n": np.nan,
        }
    )
    indices = pd.DataFrame(
        {
            "outcome": "any_cin",
            "statistic": ["sii_per_10000", "rii"],
            "value": [1.0, 2.0],
            "children_n": 100,
            "events_n": np.nan,
        }
    )
    spec = rel.profile_spec(("any_cin",), None)

    def audit(indices_spec):
        return _audit_release(
            tmp_path, {"profiles.csv": (profiles, spec), "indices.csv": (indices, indices_spec)}
        )

    assert audit(rel.INDEX_SPEC).passed
    found = {(f.file, f.row, f.kind, f.lower) for f in audit(rel.index_spec(indices)).findings}
    assert ("profiles.csv", 2, "exact", 7.0) in found
