"""Deprivation profiles, attributable fractions and inequality indices against independent
calculations: Miettinen's formula by hand, statsmodels on the expanded rows, a hand-worked
SII/RII, and the recovery of known profile ratios from simulated children."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from simulated import simulated_outcomes

from child_mdh.aggregates.models.collapse import binary_cells
from child_mdh.aggregates.models.glm import fit_binomial
from child_mdh.aggregates.models.inequality import (
    NO_DEPRIVATION,
    POOLED,
    PROFILE,
    add_profiles,
    attributable_fraction,
    fit_profile_model,
    miettinen_paf,
    profile_counts,
    profile_levels,
    profile_ratios,
    ridits,
    slope_index,
)
from child_mdh.contract.vocabulary import INDICATORS
from child_mdh.studies.model_recovery import DEFAULT_BETA, simulate_cohort


def _rows(table):
    """Expand (x, n, events) cells to one row per child."""
    out = []
    for rec in table:
        *keys, n, e = rec
        out += [(*keys, 1)] * e + [(*keys, 0)] * (n - e)
    return out


def test_profile_levels_are_every_combination():
    levels = profile_levels(INDICATORS)
    assert len(levels) == 32 == len(set(levels))
    assert levels[0] == NO_DEPRIVATION and levels[-1] == "+".join(INDICATORS)


def test_add_profiles_and_counts():
    f = pd.DataFrame(
        {
            "employment": [True, False, True, None],
            "fsm": [True, False, False, True],
            "any_cin": [True, False, False, True],
        }
    )
    f = add_profiles(f, ("employment", "fsm"))
    assert f[PROFILE].tolist()[:3] == ["employment+fsm", "none", "employment"]
    assert pd.isna(f[PROFILE].iloc[3])
    counts = profile_counts(f, ["any_cin"], ("employment", "fsm"))
    assert counts[PROFILE].tolist() == ["none", "employment", "fsm", "employment+fsm"]
    assert counts["children_n"].tolist() == [1, 1, 0, 1]
    assert counts["any_cin_n"].tolist() == [0, 0, 0, 1]


def test_paf_of_one_binary_exposure_is_miettinens():
    # exposed: 50 of 200; unexposed: 80 of 800 -> RR 2.5, 50 of 130 cases exposed
    rows = _rows([(True, 200, 50), (False, 800, 80)])
    frame = pd.DataFrame(rows, columns=["x", "y"])
    cells = binary_cells(frame, "y", ["x"])
    fit = fit_binomial(cells, ["x"], cluster=None, outcome="y")
    got = attributable_fraction(fit, {"x": False})
    assert got.paf == pytest.approx(miettinen_paf(50, 130, 2.5), rel=1e-9)
    assert got.paf == pytest.approx(30 / 130, rel=1e-9)  # by hand: 1 - 1000 x 0.1 / 130
    assert got.low < got.paf < got.high


def _adjusted_frame(seed=3, n=6000):
    rng = np.random.default_rng(seed)
    x = rng.random(n) < 0.3
    age = rng.integers(0, 3, n)
    sex = np.where(rng.random(n) < 0.5, "F", "M")
    eta = -2 + 0.8 * x + 0.3 * age - 0.2 * (sex == "M")
    y = rng.random(n) < 1 / (1 + np.exp(-eta))
    return pd.DataFrame({"x": x, "age": age, "sex": sex, "y": y})


@pytest.mark.parametrize("clustered", [False, True], ids=["model-based", "cluster-robust"])
def test_model_based_paf_and_interval_match_statsmodels_on_rows(clustered):
    frame = _adjusted_frame()
    frame["la_code"] = np.random.default_rng(4).integers(0, 25, len(frame)).astype(str)
    cluster = "la_code" if clustered else None
    keys = ["x", "age", "sex", *([cluster] if clustered else [])]
    cells = binary_cells(frame, "y", keys)
    fit = fit_binomial(cells, ["x", "age", "sex"], cluster=cluster, outcome="y")
    got = attributable_fraction(fit, {"x": False})

    rows = frame.assign(x=frame["x"].astype(int), yi=frame["y"].astype(int))
    model = smf.glm("yi ~ x + C(age) + C(sex)", rows, family=sm.families.Binomial())
    res = (
        model.fit(cov_type="cluster", cov_kwds={"groups": pd.factorize(rows["la_code"])[0]})
        if clustered
        else model.fit()
    )
    cf = rows.assign(x=0)

    def paf(beta):
        def mean(d):
            xm = res.model.data.orig_exog.copy()
            xm["x"] = d["x"].to_numpy()
            return (1 / (1 + np.exp(-(xm.to_numpy() @ beta)))).sum()

        return 1 - mean(cf) / mean(rows)

    beta = res.params.to_numpy()
    assert got.paf == pytest.approx(paf(beta), rel=1e-6)
    # delta method on log(1 - PAF) with a numerical gradient of statsmodels' fit
    g = np.array(
        [
            (np.log(1 - paf(beta + h)) - np.log(1 - paf(beta - h))) / (2 * 1e-6)
            for h in np.eye(len(beta)) * 1e-6
        ]
    )
    se = float(np.sqrt(g @ res.cov_params().to_numpy() @ g))
    assert got.std_error_log == pytest.approx(se, rel=1e-4)
    r = 1 - paf(beta)
    assert got.low == pytest.approx(1 - r * np.exp(1.959964 * se), rel=1e-4)


def test_ridits_and_sii_rii_by_hand():
    # three groups of 1000, 2000, 1000 children: ridits 0.125, 0.5, 0.875
    n = np.array([1000, 2000, 1000])
    x = np.array([100, 300, 250])
    np.testing.assert_allclose(ridits(n), [0.125, 0.5, 0.875])
    # weighted least squares by hand: mean ridit 0.5, weighted mean rate 650/4000 = 0.1625
    # Sxy = 1000(-0.375)(0.1-0.1625) + 0 + 1000(0.375)(0.25-0.1625) = 56.25
    # Sxx = 2 x 1000 x 0.375^2 = 281.25 -> slope 0.2; intercept 0.1625 - 0.2 x 0.5 = 0.0625
    got = slope_index(x, n, repetitions=20_000)
    assert got.sii == pytest.approx(0.2)
    assert got.rii == pytest.approx((0.0625 + 0.2) / 0.0625)
    assert got.sii_low < 0.2 < got.sii_high
    assert got.rii_low < got.rii < got.rii_high
    # independent: numpy's weighted polyfit (weights are sqrt(n) on the residuals)
    slope, intercept = np.polyfit(ridits(n), x / n, 1, w=np.sqrt(n))
    assert got.sii == pytest.approx(slope) and got.rii == pytest.approx(1 + slope / intercept)


def test_rii_is_missing_when_the_fitted_rate_at_ridit_zero_is_not_positive():
    # a large least deprived group with a low rate, a small group with a high one:
    # the line falls below zero at ridit 0
    got = slope_index([5, 40], [9000, 1000], repetitions=2000)
    assert got.sii > 0
    assert np.isnan(got.rii) and np.isnan(got.rii_low) and np.isnan(got.rii_high)


def test_sii_interval_matches_the_normal_theory_interval():
    # the simulated SII is a linear function of normal draws: its interval is
    # sii -/+ 1.96 sqrt(sum c_i^2 se_i^2), c the WLS slope weights
    n = np.array([4000.0, 3000, 2000, 1000])
    x = np.array([200.0, 240, 220, 150])
    got = slope_index(x, n, repetitions=200_000, seed=7)
    a = ridits(n)
    c = n * (a - np.average(a, weights=n)) / np.sum(n * (a - np.average(a, weights=n)) ** 2)
    z = 1.959964
    p = x / n
    half = z * np.sqrt(z**2 + 4 * x * (1 - p))
    se = (half / (2 * (n + z**2))) * 2 / (2 * z)
    sd = np.sqrt(np.sum(c**2 * se**2))
    assert got.sii_low == pytest.approx(got.sii - z * sd, abs=3e-4)
    assert got.sii_high == pytest.approx(got.sii + z * sd, abs=3e-4)


def _simulated_children(n=60_000, seed=11):
    """Children whose outcome follows a logit model with known effects of the indicators
    (additive on the log-odds scale, so a profile's odds ratio is exp(sum of betas))."""
    rng = np.random.default_rng(seed)
    beta = {"employment": 0.6, "education": 0.3, "health": 0.4, "housing": 0.2, "fsm": 0.5}
    frame = pd.DataFrame(
        {i: rng.random(n) < p for i, p in zip(INDICATORS, (0.15, 0.2, 0.25, 0.2, 0.2))}
    )
    frame["age"] = rng.integers(0, 4, n)
    frame["sex"] = np.where(rng.random(n) < 0.5, "F", "M")
    frame["la_code"] = [f"E{6000000 + i:08d}" for i in rng.integers(0, 30, n)]
    eta = -2.5 + sum(b * frame[i] for i, b in beta.items()) + 0.1 * frame["age"]
    frame["any_cin"] = rng.random(n) < 1 / (1 + np.exp(-eta))
    return add_profiles(frame, INDICATORS), beta


def test_profile_ratios_recover_the_simulated_truth():
    frame, beta = _simulated_children()
    fit = fit_profile_model(frame, "any_cin", ("age", "sex"), min_count=10)
    ratios = profile_ratios(fit).set_index(PROFILE)
    assert POOLED not in ratios.index and ratios.loc[NO_DEPRIVATION, "ratio"] == 1
    single = ratios.loc[list(beta)]
    truth = np.array(list(beta.values()))
    z = (single["estimate"] - truth) / single["std_error"]
    assert (np.abs(z) < 3.5).all()
    covered = (single["ratio_low"] < np.exp(truth)) & (np.exp(truth) < single["ratio_high"])
    assert covered.sum() >= 4
    # the ordering of well-estimated profiles follows the truth
    big = ratios.loc[ratios["std_error"] < 0.15]
    true = big.index.map(lambda p: sum(beta[i] for i in p.split("+")))
    rho = pd.Series(big["estimate"].to_numpy()).corr(pd.Series(np.asarray(true)), "spearman")
    assert rho > 0.8


def test_profile_model_pools_small_profiles():
    frame, _ = _simulated_children(n=3000)
    fit = fit_profile_model(frame, "any_cin", ("age",), min_count=10)
    assert POOLED in fit.design.levels[PROFILE]
    assert POOLED not in profile_ratios(fit)[PROFILE].tolist()


def test_cloglog_profile_ratios_recover_the_simulation_truth():
    # the simulation's referrals follow a proportional-hazards model with log hazard
    # ratios beta (recovery.DEFAULT_BETA, with an employment x health term): a profile's
    # hazard ratio in the grouped (cloglog) model is exp of the sum of its betas
    sim = simulate_cohort(60_000, n_las=30, seed=8, la_sd=0.0)
    kids = simulated_outcomes(sim)
    frame = add_profiles(kids, INDICATORS)
    fit = fit_profile_model(frame, "any_referral", ("age", "sex"), link="cloglog")
    got = profile_ratios(fit).set_index(PROFILE)

    def truth(profile):
        parts = profile.split("+")
        inter = DEFAULT_BETA["employment:health"] if {"employment", "health"} <= set(parts) else 0
        return sum(DEFAULT_BETA[p] for p in parts) + inter

    checked = got.loc[got["std_error"] < 0.2].drop(NO_DEPRIVATION, errors="ignore")
    assert len(checked) >= 10
    z = (checked["estimate"] - checked.index.map(truth)) / checked["std_error"]
    assert (np.abs(z) < 3.5).all(), z
    assert abs(z.mean()) < 3 / np.sqrt(len(z))  # no systematic bias
