"""On a synthetic England whose non-linkage depends on deprivation, the unweighted index
of the linked children is biased and the linkage-weighted index recovers the truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from child_mdh.contract.vocabulary import DOMAINS
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


def _toy_census(seed: int, n: int = 4000) -> pd.DataFrame:
    """Census children whose FSM is seen only when linked, linkage falling with the
    number of deprived census domains (missing at random given them): two children a
    household."""
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=n // 2).repeat(2)
    frame = pd.DataFrame(
        {d: latent + rng.normal(size=n) > 1.0 for d in DOMAINS},
    )
    k = frame[list(DOMAINS)].sum(axis=1).to_numpy()
    frame["fsm"] = rng.random(n) < 1 / (1 + np.exp(-(-2.0 + 0.8 * k)))
    frame["age"] = rng.integers(5, 16, n)
    frame["sex"] = np.where(rng.random(n) < 0.5, "F", "M")
    frame["region_code"] = np.where(rng.random(n) < 0.5, "E12000001", "E12000002")
    frame["household_id"] = np.arange(n) // 2
    linked = rng.random(n) < 1 / (1 + np.exp(-(2.2 - 0.6 * k)))
    frame["fsm"] = frame["fsm"].astype("boolean").where(linked)
    return frame


@pytest.mark.slow
def test_the_stacked_se_matches_the_spread_over_repeated_samples():
    """Over repeated toy censuses the weighted index's SD is what the stacked SE says;
    the SE with the weights held fixed is larger (Lunceford & Davidian 2004). About 15
    seconds."""
    runs = pd.concat(
        [lb.stacked_index_se(_toy_census(s)).assign(seed=s) for s in range(80)],
        ignore_index=True,
    )
    for measure, g in runs.groupby("measure"):
        sd = g["estimate"].std(ddof=1)
        # the SD over 80 samples is known to about 8% (one SE)
        assert g["se_stacked"].mean() == pytest.approx(sd, rel=0.2), measure
        assert (g["se_fixed"] > g["se_stacked"]).mean() > 0.9, measure
