"""The inequality recovery study's true values against a large simulated population of
its own sampler (the exact values come from enumerating the design, the population from
drawing children one by one: two separate paths), and one draw's estimates near them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from child_mdh.aggregates.models.inequality import ridits
from child_mdh.studies import inequality_recovery as ir

N_POPULATION = 1_000_000


@pytest.fixture(scope="module")
def truth():
    return ir.true_values()


@pytest.fixture(scope="module")
def population():
    return ir.simulate_children(N_POPULATION, seed=99)


def test_the_design_is_a_distribution(truth):
    cells = ir.design_cells()
    assert cells["prob"].sum() == pytest.approx(1)
    assert len(cells) == 18 * 2 * 32
    # the profile odds ratios are the sums of the indicators' log odds ratios
    assert truth["log OR employment+fsm"] == pytest.approx(ir.BETA["employment"] + ir.BETA["fsm"])


def test_true_values_match_a_large_population_of_the_sampler(truth, population):
    f = population
    ey = f["y"].mean()
    se_y = np.sqrt(ey * (1 - ey) / len(f))
    cells = ir.design_cells()
    assert ey == pytest.approx((cells["prob"] * cells["p"]).sum(), abs=4 * se_y)
    # MDH: 1 - sum over age and sex of P(age, sex) x the rate of children not MDH, over
    # the rate of all, counted on the population (no model)
    strata = f.groupby(["age", "sex"])
    rate0 = f.loc[~f["mdh"]].groupby(["age", "sex"])["y"].mean()
    paf_mdh = 1 - (strata.size() / len(f) * rate0).sum() / ey
    assert paf_mdh == pytest.approx(truth["PAF MDH"], abs=0.01)
    # the SII of the population's own rates by group
    g = f.assign(group=ir.sii_groups(f["deprived_indicators"].astype(int))).groupby("group")
    n, rate = g.size().to_numpy(float), g["y"].mean().to_numpy()
    slope = np.polyfit(ridits(n), rate, 1, w=np.sqrt(n))[0]
    assert slope == pytest.approx(truth["SII"], abs=0.01)
    # the all-indicators PAF: the events of the population against those expected with no
    # deprivation, from the known model's rate at the children's own age and sex
    base = ir.INTERCEPT + ir.age_effect(f["age"].to_numpy()) + ir.MALE * (f["sex"] == "M")
    p0 = 1 / (1 + np.exp(-base))
    assert 1 - p0.mean() / ey == pytest.approx(truth["PAF all indicators"], abs=0.01)


def test_one_draw_is_near_the_truth(truth):
    d = ir.draw_estimates(40_000, seed=5, n_las=40, truth=truth).set_index("estimand")
    assert set(d.index) >= {"PAF MDH", "PAF all indicators", "SII", "log OR employment"}
    z = (d["estimate"] - d["truth"]) / d["se"]
    assert (z.abs() < 4).all(), z
    assert (d["lower"] < d["estimate"]).all() and (d["estimate"] < d["upper"]).all()


def test_summary_columns_and_monte_carlo_errors():
    draws = pd.DataFrame(
        {
            "estimand": ["SII"] * 4,
            "estimate": [0.1, 0.2, 0.3, 0.2],
            "se": [0.1] * 4,
            "truth": [0.2] * 4,
            "covered": [True, True, False, True],
        }
    )
    s = ir.summarise(draws).iloc[0]
    assert s["bias"] == pytest.approx(0)
    assert s["bias_mc_se"] == pytest.approx(np.std([0.1, 0.2, 0.3, 0.2], ddof=1) / 2)
    assert s["coverage"] == 0.75
    assert s["coverage_mc_se"] == pytest.approx(np.sqrt(0.75 * 0.25 / 4))
