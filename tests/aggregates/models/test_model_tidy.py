"""Tidy tables, standardised predicted rates, marginal effects, sentences."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from child_mdh.aggregates.models.collapse import binary_cells, count_cells
from child_mdh.aggregates.models.glm import fit_binomial, fit_poisson
from child_mdh.aggregates.models.tidy import (
    average_marginal_effects,
    plain_term,
    predicted_rates,
    summary_sentence,
    tidy,
    tidy_models,
)

KEYS = ["count", "sex", "age_band", "la_code"]


@pytest.fixture(scope="module")
def saturated():
    """x (exposure) and z (confounder) with the saturated logit model.

    z=0: 600 children; z=1: 400.
    x=1,z=0: 30/300 = 0.10   x=1,z=1: 80/200 = 0.40
    x=0,z=0: 15/300 = 0.05   x=0,z=1: 40/200 = 0.20
    Two clusters per (x, z) cell so that cluster-robust errors exist.
    """
    cells = pd.DataFrame(
        {
            "x": [1, 1, 1, 1, 0, 0, 0, 0],
            "z": [0, 0, 1, 1, 0, 0, 1, 1],
            "la_code": ["a", "b"] * 4,
            "trials": [150, 150, 100, 100, 150, 150, 100, 100],
            "events": [15, 15, 40, 40, 7, 8, 20, 20],
        }
    )
    return fit_binomial(
        cells,
        ["x", "z", "x:z"],
        link="logit",
        cluster="la_code",
        name="saturated",
        outcome="any_cpp",
        exposure_terms=("x",),
        adjust_terms=("z",),
    )


def test_standardised_rates_by_hand(saturated):
    pr = predicted_rates(saturated, "x")
    # P(x=1) standardised over z: 0.6 * 0.10 + 0.4 * 0.40 = 0.22 -> 2200 per 10,000
    # P(x=0):                     0.6 * 0.05 + 0.4 * 0.20 = 0.11 -> 1100 per 10,000
    got = pr.set_index("level")["rate"]
    assert got["1"] == pytest.approx(2200, rel=1e-9)
    assert got["0"] == pytest.approx(1100, rel=1e-9)
    assert pr.set_index("level")["children_n"].to_dict() == {"0": 500, "1": 500}
    assert pr.set_index("level")["events_n"].to_dict() == {"0": 55, "1": 110}
    assert (pr["rate_low"] < pr["rate"]).all() and (pr["rate"] < pr["rate_high"]).all()
    assert pr["unit"].iloc[0] == "per 10,000 children"


def test_average_marginal_effect_is_difference_of_standardised_rates(saturated):
    ame = average_marginal_effects(saturated, "x")
    # 2200 - 1100 = 1100 per 10,000
    assert ame["ame"].iloc[0] == pytest.approx(1100, rel=1e-9)
    assert ame["reference"].iloc[0] == "0" and ame["level"].iloc[0] == "1"


def test_delta_method_agrees_with_simulation(rows):
    fit = fit_binomial(
        binary_cells(rows, "y", KEYS), ["count", "sex", "age_band"], cluster="la_code"
    )
    d = predicted_rates(fit, "count", method="delta").set_index("level")
    s = predicted_rates(fit, "count", method="simulation", n_sims=4000).set_index("level")
    assert np.allclose(d["rate"], (s["rate_low"] + s["rate_high"]) / 2, rtol=0.05)
    width_d = d["rate_high"] - d["rate_low"]
    width_s = s["rate_high"] - s["rate_low"]
    assert np.allclose(width_d, width_s, rtol=0.1)


def test_delta_method_standard_error_by_hand():
    # Two groups, 10 events of 50 each; saturated logit without clusters.
    # Standardised P(g=0) = p0 = 0.2, gradient in (b0, b1) = (p0(1-p0), 0) = (0.16, 0);
    # Var(b0) = 1 / (n p0 (1 - p0)) = 1 / (50 * 0.16) = 1/8,
    # SE(p) = 0.16 * sqrt(1/8) = 0.0565685 -> 565.685 per 10,000.
    cells = pd.DataFrame({"g": [0, 1], "trials": [50, 50], "events": [10, 10]})
    fit = fit_binomial(cells, ["g"], cluster=None)
    pr = predicted_rates(fit, "g").set_index("level")
    assert pr.loc["0", "rate"] == pytest.approx(2000)
    assert pr.loc["0", "std_error"] == pytest.approx(1e4 * 0.16 * np.sqrt(1 / 8), rel=1e-8)
    # interval on the logit scale: logit(0.2) -/+ z * sqrt(1/8), back-transformed
    z = stats.norm.ppf(0.975)
    lo = 1 / (1 + np.exp(-(np.log(0.25) - z * np.sqrt(1 / 8))))
    hi = 1 / (1 + np.exp(-(np.log(0.25) + z * np.sqrt(1 / 8))))
    assert pr.loc["0", "rate_low"] == pytest.approx(lo * 1e4, rel=1e-8)
    assert pr.loc["0", "rate_high"] == pytest.approx(hi * 1e4, rel=1e-8)


def test_tidy_columns_ratios_and_counts(rows):
    fit = fit_binomial(
        binary_cells(rows, "y", KEYS),
        ["count", "sex", "age_band"],
        link="cloglog",
        cluster="la_code",
        fixed_effects="la_code",
        name="m",
        outcome="any_referral",
    )
    t = tidy(fit)
    assert not t["term"].str.startswith("la_code").any()
    assert "Intercept" not in t["term"].tolist()
    row = t.set_index("term").loc["count[T.2]"]
    assert row["ratio"] == pytest.approx(np.exp(row["estimate"]))
    assert row["ratio_low"] == pytest.approx(np.exp(row["estimate"] - 1.959964 * row["std_error"]))
    assert row["ratio_name"] == "hazard ratio"
    assert row["residual_df"] == rows["la_code"].nunique() - 1
    assert row["children_n"] == len(rows) and row["events_n"] == rows["y"].sum()
    assert row["term_observations_n"] == (rows["count"] == 2).sum()
    assert row["term_events_n"] == rows.loc[rows["count"] == 2, "y"].sum()
    assert row["p_value"] == pytest.approx(2 * stats.norm.sf(abs(row["statistic"])))
    full = tidy(fit, include_fixed_effects=True, include_intercept=True)
    assert len(full) == len(fit.params)
    assert len(tidy_models([fit, fit])) == 2 * len(t)


def test_poisson_rates_are_per_child_year(rows):
    fit = fit_poisson(
        count_cells(rows, "n_events", "exposure", KEYS),
        ["count", "sex"],
        cluster="la_code",
        outcome="n_referrals",
    )
    pr = predicted_rates(fit, "count")
    assert pr["unit"].iloc[0] == "per 10,000 child-years"
    # standardised rate for count=0 is the model rate exp(b0 + b_sex * share male)
    # averaged over children; check against a direct computation
    b = fit.params
    share_m = fit.cells.loc[fit.cells["sex"] == "M", "rows"].sum() / fit.cells["rows"].sum()
    direct = (1 - share_m) * np.exp(b["Intercept"]) + share_m * np.exp(
        b["Intercept"] + b["sex[T.M]"]
    )
    assert pr.set_index("level").loc["0", "rate"] == pytest.approx(direct * 1e4, rel=1e-9)


def test_summary_sentence_states_ratio_interval_and_counts(saturated):
    s = summary_sentence(saturated)
    t = tidy(saturated).set_index("term").loc["x[T.1]"]
    assert f"odds ratio {t['ratio']:.2f}" in s
    assert f"95% CI {t['ratio_low']:.2f} to {t['ratio_high']:.2f}" in s
    assert "adjusted for z" in s and "1,000 children" in s and "165 events" in s
    assert plain_term(saturated, "x[T.1]:z[T.1]") == "x 1 (vs 0) x z 1 (vs 0)"
