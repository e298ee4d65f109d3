"""On a synthetic England whose non-linkage depends on deprivation, the unweighted index
of the linked children is biased and the linkage-weighted index recovers the truth."""

from __future__ import annotations

import pytest

from child_mdh.studies import linkage_bias as lb

#: about 15 seconds: 30,000 children, of whom about 20,000 aged 5-15
N_CHILDREN = 30_000


@pytest.fixture(scope="module")
def draw():
    children, truth = lb.census_cohort_for_draw(N_CHILDREN, 2021)
    return lb.estimate_draw(children, truth), truth


def test_unweighted_h_is_biased_and_weighted_h_recovers_the_truth(draw):
    results, truth = draw
    h = results[results["measure"] == "H"].set_index("estimator")
    true = truth["index"]["all_children"]["H"]
    # the linked children are less deprived than all census children
    assert truth["index"]["linked_children"]["H"] < true - 0.01
    unweighted, ipw = h.loc["unweighted"], h.loc["ipw"]
    assert true - unweighted["estimate"] > 3 * unweighted["se"]
    assert abs(ipw["estimate"] - true) < 3 * ipw["se"]
    # the weighted interval is wider, but not by much (weights near 1 on average)
    assert ipw["se"] < 1.5 * unweighted["se"]


def test_the_truth_lies_within_the_worst_case_bounds(draw):
    results, truth = draw
    h = results[(results["measure"] == "H")].iloc[0]
    assert h["bound_lower"] <= truth["index"]["all_children"]["H"] <= h["bound_upper"]


def test_summary_of_draws(draw):
    results, _ = draw
    summary = lb.summarise(results.assign(seed=1))
    assert set(summary["estimator"]) == {"unweighted", "ipw", lb.STACKED}
    assert summary.set_index(["estimator", "measure"]).loc[("ipw", "H"), "draws"] == 1
