"""The linkage tables pass disclosure control and the release audit, and their
statistics follow from their published counts."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from child_mdh.aggregates import linkage as lk
from child_mdh.aggregates.formulas import evaluate
from child_mdh.aggregates.linkage_stacked import (
    VARIANCE_FIXED,
    VARIANCE_STACKED,
    stacked_index_inference,
    stacked_logistic_se,
)
from child_mdh.contract.vocabulary import DOMAINS, ENGLAND_CODE
from child_mdh.release.linkage import (
    BOUND_FORMULAS,
    bounds_views,
    estimate_views,
    linkage_outputs,
    table_specs,
)
from child_mdh.release.sdc import (
    Manifest,
    RowMargin,
    SDCConfig,
    TableSpec,
    audit_release,
    write_release_table,
)

INDEX = {
    "weights": dict.fromkeys([*DOMAINS, "fsm"], 0.2),
    "k": 0.4,
    "confidence": 0.95,
}
LINKAGE = {"model_area": "region_code", "stabilised": True, "trim_percentile": 99}
#: The declaration of a table like ``index/index_by_area.csv``: children with the index
#: and MDH children, regions adding up to England
INDEX_AREA_SPEC = TableSpec(
    key_columns=("area_level", "area_code"),
    count_columns=("index_n", "mdh_n"),
    margins=(RowMargin("area_code", parent="parent_code"),),
    population="index",
    dimensions={"area_code": "area"},
)


def _census(n=6_000, seed=2):
    rng = np.random.default_rng(seed)
    flags = rng.random((n, 4)) < [0.1, 0.15, 0.2, 0.1]
    n_domains = flags.sum(axis=1)
    linked = rng.random(n) < 1 / (1 + np.exp(-(2.5 - 0.8 * n_domains)))
    fsm = rng.random(n) < 0.1 + 0.2 * n_domains
    la = rng.choice(["E06000001", "E06000002", "E08000001", "E08000002"], n)
    return pd.DataFrame(
        {
            "person_id": [f"p{i}" for i in range(n)],
            "household_id": [f"h{i // 2}" for i in range(n)],
            "la_code": la,
            "region_code": np.where(
                np.char.startswith(la.astype(str), "E06"), "E12000001", "E12000002"
            ),
            "age": rng.integers(5, 16, n),
            "sex": rng.choice(["1", "2"], n),
            "linked": linked,
            **{d: pd.array(flags[:, j], dtype="boolean") for j, d in enumerate(DOMAINS)},
            "n_domains": pd.array(n_domains, dtype="Int64"),
            "fsm": pd.array(np.where(linked, fsm, None), dtype="boolean"),
            "any_referral": pd.array(rng.random(n) < 0.1 + 0.1 * (n_domains >= 2), "boolean"),
        }
    )


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    out = tmp_path_factory.mktemp("release")
    manifest = Manifest(out, "linkage", SDCConfig.from_mapping({}), about={"synthetic": True})
    result = linkage_outputs(_census(), INDEX, LINKAGE, ["any_referral"], "la_code", out, manifest)
    manifest.write()
    return out, result


def test_three_tables_written_and_the_audit_passes(release):
    out, result = release
    assert set(result["uids"]) == {"rates", "estimates", "bounds"}
    for name in ("linkage_rates", "linkage_weighted_estimates", "linkage_bounds"):
        assert (out / "linkage" / f"{name}.csv").is_file()
    assert audit_release(out) == []


def test_every_breakdown_of_the_linkage_rates_publishes_one_total(tmp_path):
    """England's children in scope, linked and not, are one count shown once per group
    type: controlled rounding publishes one value for each (the count to the nearest 5)
    and each breakdown's parts add up to it, so the breakdowns read together narrow
    nothing (rounded independently they pinned 8 parts in the test workflow's release)."""
    out = tmp_path
    config = SDCConfig.from_mapping({"mitigation": "both"})
    manifest = Manifest(out, "linkage", config, about={"synthetic": True})
    linkage_outputs(_census(), INDEX, LINKAGE, ["any_referral"], "la_code", out, manifest)
    manifest.write()
    assert audit_release(out) == []
    rates = pd.read_csv(out / "linkage" / "linkage_rates.csv")
    totals = rates[rates["group"] == "All"]
    assert totals["group_type"].nunique() > 3
    for col in ("children_n", "linked_n", "unlinked_n"):
        assert totals[col].nunique() == 1, totals[["group_type", col]]
    parts = rates[rates["group"] != "All"]
    for group_type, g in parts.groupby("group_type"):
        if g["linked_n"].notna().all():
            assert g["linked_n"].sum() == totals["linked_n"].iloc[0], group_type
    # the shared total is the count to the nearest 5 (every census child of the test
    # data has its domains known, so all are in scope)
    exact = int(_census()["linked"].sum())
    assert totals["linked_n"].iloc[0] == 5 * np.floor(exact / 5 + 0.5)
    structure = json.loads((out / "outputs.json").read_text())["results"]
    rates_entry = next(v for k, v in structure.items() if k.endswith("linkage_rates.csv"))
    assert any(m.get("same_total") for m in rates_entry["structure"]["margins"])


def test_bounds_follow_from_their_counts_and_bracket_the_observed_h(release):
    out, _ = release
    bounds = pd.read_csv(out / "linkage" / "linkage_bounds.csv")
    for stat, formula in BOUND_FORMULAS.items():
        np.testing.assert_allclose(bounds[stat], evaluate(formula, bounds), atol=1e-4)
    england = bounds[bounds["area_code"] == ENGLAND_CODE].iloc[0]
    assert (
        england["H_no_information_lower_bound"]
        <= england["H_lower_bound"]
        <= england["H_upper_bound"]
    )
    assert england["H_upper_bound"] <= england["H_no_information_upper_bound"]


def test_unweighted_index_is_not_published_again_from_exact_counts(release):
    """The unweighted H, A and M0 are index_by_area.csv's; given here from the exact
    counts to 4 decimals they would give back the rounded counts beside them."""
    out, _ = release
    est = pd.read_csv(out / "linkage" / "linkage_weighted_estimates.csv")
    index = est[est["section"] == "index"]
    assert len(index) > 0
    unweighted = [c for c in est.columns if c.endswith("_unweighted")]
    assert index[unweighted].isna().all().all()
    assert index["estimate_ipw"].notna().any()
    assert est.loc[est["section"] == "model", "estimate_unweighted"].notna().all()


def test_weighted_and_unweighted_estimates_side_by_side(release):
    out, result = release
    est = pd.read_csv(out / "linkage" / "linkage_weighted_estimates.csv")
    h = est[(est["section"] == "index") & (est["measure"] == "H")]
    assert set(h["area_code"]) == {ENGLAND_CODE, "E12000001", "E12000002"}
    england = h[h["area_code"] == ENGLAND_CODE].iloc[0]
    # deprived children link less here, so weighting raises H above the unweighted H
    # (here from the published counts: the exact one is index_by_area.csv's to publish)
    assert england["estimate_ipw"] > england["events_n"] / england["children_n"] + 0.005
    model = est[est["section"] == "model"].iloc[0]
    assert model["conf_low_unweighted"] < model["estimate_unweighted"]
    assert model["conf_low_ipw"] < model["estimate_ipw"] < model["conf_high_ipw"]
    assert result["weights"]["mean_weight"] == pytest.approx(1, abs=0.05)


def test_index_intervals_account_for_the_estimated_linkage_model(tmp_path):
    """Untrimmed weights: the weighted index rows carry the stacked SE (narrower than the
    fixed-weight one here) and say so, and so do the odds ratios. With the
    weights trimmed (the module's release), every row says the weights are fixed."""
    manifest = Manifest(tmp_path, "linkage", SDCConfig.from_mapping({}), about={"synthetic": True})
    children = _census()
    untrimmed = {**LINKAGE, "trim_percentile": None}
    result = linkage_outputs(
        children, INDEX, untrimmed, ["any_referral"], "la_code", tmp_path, manifest
    )
    assert result["variance_ipw"] == VARIANCE_STACKED
    manifest.write()
    assert audit_release(tmp_path) == []
    est = pd.read_csv(tmp_path / "linkage" / "linkage_weighted_estimates.csv")
    index, model = est[est["section"] == "index"], est[est["section"] == "model"]
    assert (index["variance_ipw"] == VARIANCE_STACKED).all()
    assert (model["variance_ipw"] == VARIANCE_STACKED).all()
    w = INDEX["weights"]
    fit = lk.fit_linkage_model(children, list(w))
    stacked = stacked_index_inference(children, fit, w, INDEX["k"]).set_index(
        ["area_code", "measure"]
    )
    for row in index.itertuples():
        s = stacked.loc[(row.area_code, row.measure)]
        assert row.std_error_ipw == pytest.approx(s["se_stacked"], abs=1e-4)
        assert row.conf_low_ipw == pytest.approx(s["conf_low"], abs=1e-4)
        assert row.std_error_ipw < s["se_fixed"]
    odds = stacked_logistic_se(children, fit, fit.p_hat**-1.0, w, INDEX["k"], "any_referral")
    assert model["std_error_ipw"].item() == pytest.approx(odds["se_stacked"], abs=1e-4)
    assert model["estimate_ipw"].item() == pytest.approx(np.exp(odds["estimate"]), abs=1e-4)


def test_trimmed_release_says_the_weights_are_fixed(release):
    out, _ = release
    est = pd.read_csv(out / "linkage" / "linkage_weighted_estimates.csv")
    assert (est["variance_ipw"] == VARIANCE_FIXED).all()


def _audit(tmp_path, tables):
    """The release-wide interval audit of ``tables`` ({name: (frame, spec)}, unrounded)."""
    from child_mdh.release.sdc.audit import interval_audit

    results = {}
    for name, (df, spec) in tables.items():
        df.to_csv(tmp_path / name, index=False)
        structure = spec.structure(df)
        structure.update({"rounded": False, "rounding_base": 5, "threshold": 10})
        results[name] = {"files": [{"name": name}], "structure": structure, "status": "pass"}
    return interval_audit(tmp_path, {"disclosure": {"threshold": 10}, "results": results})


def _exact(report):
    return {(f.file, f.row, f.column, f.lower) for f in report.findings if f.kind == "exact"}


def test_a_region_of_the_linkage_rates_is_declared_the_sum_of_its_authorities(tmp_path):
    # linkage_by_la withholds A's and B's children (and England's with them); the rates
    # publish region R1 = A + C = 57 and withhold R2 = B. Alone each leaves A open;
    # together A = 57 - 50 = 7
    from child_mdh.release.index import _specs, linkage_sums

    counts = ["linked_n", "unlinked_n", "linked_with_fsm_n", "linked_without_fsm_n"]
    by_la = pd.DataFrame(
        {
            "la_code": ["A", "B", "C", ENGLAND_CODE],
            "area_level": ["local_authority"] * 3 + ["england"],
            "children_n": [np.nan, np.nan, 50, np.nan],
            **dict.fromkeys(counts, np.nan),
            "domains_missing_n": np.nan,
        }
    )
    rates = pd.DataFrame(
        {
            "group_type": "region",
            "group": ["All", "R1", "R2"],
            "children_n": [np.nan, 57, np.nan],
            "linked_n": np.nan,
            "unlinked_n": np.nan,
        }
    )
    spec = _specs(INDEX["weights"], 0.95)["linkage"]
    rates_spec = table_specs(0.95, None)["rates"]

    def audit(sums):
        return _audit(
            tmp_path,
            {
                "linkage_by_la.csv": (by_la, replace(spec, sums=sums)),
                "linkage_rates.csv": (rates, rates_spec),
            },
        )

    assert audit(()).passed
    regions = {"A": "R1", "B": "R2", "C": "R1"}
    assert ("linkage_by_la.csv", 0, "children_n", 7.0) in _exact(
        audit(linkage_sums(by_la["la_code"], regions))
    )
    # a region lookup missing an authority declares no region sum (it would be false)
    assert audit(linkage_sums(by_la["la_code"], {"A": "R1", "C": "R1"})).passed


def test_linkage_bounds_and_estimates_repeat_the_index_counts(tmp_path):
    # the index withholds region R1's MDH children (and R2's with them), England's 40
    # published; the bounds without the index's table, and the weighted estimates,
    # publish R2's MDH children (25). Each alone leaves R1 open; declared the index's
    # counts, R1 = 40 - 25 = 15. Given the index's table, the bounds publish its values
    # (R2 withheld, as there) and R1 stays open
    index = pd.DataFrame(
        {
            "area_level": ["england", "region", "region"],
            "area_code": [ENGLAND_CODE, "R1", "R2"],
            "parent_code": ["", ENGLAND_CODE, ENGLAND_CODE],
            "index_n": [300, 120, 180],
            "mdh_n": [40, np.nan, np.nan],
        }
    )
    exact = pd.DataFrame(
        {
            "area_level": ["england", "region", "region"],
            "area_code": [ENGLAND_CODE, "R1", "R2"],
            "children_n": [330, 130, 200],
            "index_n": [300, 120, 180],
            "unknown_n": [30, 10, 20],
            "mdh_n": [40, 15, 25],
            "unknown_sure_mdh_n": [np.nan] * 3,
            "unknown_possible_mdh_n": [np.nan] * 3,
        }
    )
    rates = pd.DataFrame(
        {"group_type": "region", "group": ["All", "R1", "R2"], "children_n": np.nan}
    )
    own, own_sums = bounds_views(exact, rates)
    own = own.assign(children_n=np.nan, index_n=np.nan, mdh_n=[np.nan, np.nan, 25.0])
    viewed, view_sums = bounds_views(exact, rates, index)
    assert viewed["mdh_n"].tolist()[0] == 40 and viewed["mdh_n"].iloc[1:].isna().all()
    assert viewed["index_n"].tolist() == [300, 120, 180]
    assert all(s.view for s in view_sums if s.population == "index")
    estimates = pd.DataFrame(
        {
            "section": "index",
            "area_code": ["R2"] * 3,
            "measure": ["H", "A", "M0"],
            "children_n": np.nan,
            "events_n": 25.0,
        }
    )
    estimates, estimate_sums = estimate_views(estimates)
    viewed_estimates, estimate_view_sums = estimate_views(estimates, index)
    assert viewed_estimates["events_n"].isna().all()
    assert viewed_estimates["children_n"].tolist() == [180] * 3
    assert all(s.view for s in estimate_view_sums) and len(estimate_view_sums) == 6
    specs = table_specs(0.95, None)
    cases = (
        ("bounds.csv", own, replace(specs["bounds"], sums=own_sums)),
        ("estimates.csv", estimates, replace(specs["estimates"], sums=estimate_sums)),
    )

    def audit(name, frame, spec):
        return _audit(tmp_path, {"index.csv": (index, INDEX_AREA_SPEC), name: (frame, spec)})

    for name, frame, spec in cases:
        assert audit(name, frame, replace(spec, sums=())).passed
        assert ("index.csv", 1, "mdh_n", 15.0) in _exact(audit(name, frame, spec))
    viewed = viewed.assign(children_n=np.nan)
    assert audit("bounds.csv", viewed, replace(specs["bounds"], sums=view_sums)).passed
    estimates_spec = replace(specs["estimates"], sums=estimate_view_sums)
    assert audit("estimates.csv", viewed_estimates, estimates_spec).passed


def test_linkage_bounds_publish_the_rates_and_index_counts_as_published(tmp_path):
    """Each area's children in scope are linkage_rates.csv's and its children with the
    index and MDH children index_by_area.csv's, as published there (declared views);
    the children with an indicator unknown are their difference; the release of the
    three tables passes the audit."""
    out = tmp_path
    config = SDCConfig.from_mapping({"mitigation": "both"})
    manifest = Manifest(out, "linkage", config, about={"synthetic": True})
    census = _census()
    exact = lk.index_bounds(census, INDEX["weights"], INDEX["k"])
    index = exact[["area_level", "area_code", "index_n", "mdh_n"]].assign(
        parent_code=np.where(exact["area_level"] == "england", None, ENGLAND_CODE)
    )
    write_release_table(index, out / "index" / "index_by_area.csv", INDEX_AREA_SPEC, manifest)
    published = pd.read_csv(out / "index" / "index_by_area.csv", dtype={"area_code": "str"})
    linkage_outputs(
        census, INDEX, LINKAGE, ["any_referral"], "la_code", out, manifest, index_area=published
    )
    manifest.write()
    assert audit_release(out) == []
    bounds = pd.read_csv(out / "linkage" / "linkage_bounds.csv").set_index("area_code")
    rates = pd.read_csv(out / "linkage" / "linkage_rates.csv")
    region = rates[rates["group_type"] == "region"].set_index("group")
    assert bounds.at[ENGLAND_CODE, "children_n"] == region.at["All", "children_n"]
    for code in ("E12000001", "E12000002"):
        assert bounds.at[code, "children_n"] == region.at[code, "children_n"]
    published = published.set_index("area_code")
    for col in ("index_n", "mdh_n"):
        np.testing.assert_array_equal(bounds[col], published.loc[bounds.index, col])
    np.testing.assert_array_equal(bounds["unknown_n"], bounds["children_n"] - bounds["index_n"])
    assert str(bounds["unknown_n"].dtype) == "int64"  # written as whole numbers
    # the counts only the bounds publish are rounded here, regions adding up to England
    sure = bounds["unknown_sure_mdh_n"]
    if sure.notna().all():
        assert sure.drop(ENGLAND_CODE).sum() == sure[ENGLAND_CODE]
    entry = next(
        v
        for k, v in json.loads((out / "outputs.json").read_text())["results"].items()
        if k.endswith("linkage_bounds.csv")
    )
    estimates = pd.read_csv(out / "linkage" / "linkage_weighted_estimates.csv")
    rows = estimates[estimates["section"] == "index"]
    np.testing.assert_array_equal(rows["children_n"], published.loc[rows["area_code"], "index_n"])
    np.testing.assert_array_equal(rows["events_n"], published.loc[rows["area_code"], "mdh_n"])
    views = [s for s in entry["structure"]["sums"] if s["view"]]
    assert {s["parts"] for s in views} == {"children_n", "index_n", "mdh_n"}
    assert len(views) == 3 * len(bounds)


def test_the_step_reads_the_index_table_and_stops_without_it(tmp_path):
    """The rule's index tables give the published table of areas; given without it, the
    step stops (rounding the index's counts again here is what the views prevent)."""
    from types import SimpleNamespace

    from child_mdh.steps.linkage import INDEX_BY_AREA, published_index_area

    smk = SimpleNamespace(input=SimpleNamespace(index_tables=str(tmp_path)))
    with pytest.raises(FileNotFoundError, match="index_outputs"):
        published_index_area(smk)
    (tmp_path / INDEX_BY_AREA).parent.mkdir(parents=True)
    (tmp_path / INDEX_BY_AREA).write_text("area_code,index_n\nE92000001,300\n")
    assert published_index_area(smk)["area_code"].tolist() == [ENGLAND_CODE]
    assert published_index_area(SimpleNamespace(input=SimpleNamespace())) is None
