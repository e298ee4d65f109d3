"""Parameter recovery on simulated proportional-hazards data, end to end:
simulate -> build_outcomes -> collapse -> fit -> compare with the truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from simulated import simulated_outcomes

from child_mdh.aggregates.models.collapse import binary_cells, count_cells
from child_mdh.aggregates.models.glm import fit_binomial, fit_poisson
from child_mdh.aggregates.models.hazard import fit_discrete_time_hazard, person_period_cells
from child_mdh.derive.outcomes import outcomes_report
from child_mdh.studies.model_recovery import (
    compare_with_truth,
    coverage_summary,
    simulate_cohort,
)

DOMAINS = ["employment", "education", "health", "housing"]
TERMS = DOMAINS + ["fsm", "employment:health", "sex"]
KEYS = DOMAINS + ["fsm", "sex", "age", "la_code"]


@pytest.fixture(scope="module")
def cohort():
    sim = simulate_cohort(150_000, n_las=40, seed=2024)
    out = simulated_outcomes(sim)
    return sim, out


def test_simulated_records_exercise_the_outcome_rules(cohort):
    _sim, out = cohort
    rep = outcomes_report(out)
    assert rep["records"]["cin_referrals"]["duplicates_removed"] > 0
    assert rep["unlinked_outcomes_missing"] > 0
    assert out["any_cin"].sum() < out["any_referral"].sum()
    # every child-in-need child was referred; every referral count >= 1 if referred
    assert not (out["any_cin"].fillna(False) & ~out["any_referral"].fillna(False)).any()
    assert (out.loc[out["any_referral"].fillna(False), "n_referrals"] >= 1).all()


@pytest.mark.parametrize("outcome", ["any_referral", "any_cin", "any_cpp", "entered_care"])
def test_cloglog_with_la_fixed_effects_recovers_log_hazard_ratios(cohort, outcome):
    sim, out = cohort
    cells = binary_cells(out, outcome, KEYS)
    fit = fit_binomial(
        cells,
        TERMS + ["age"],
        link="cloglog",
        cluster="la_code",
        fixed_effects="la_code",
        outcome=outcome,
    )
    cmp = compare_with_truth(fit, sim.truth[outcome])
    bad = cmp.loc[cmp["z"].abs() >= 3.5]
    assert bad.empty, bad.to_string()
    # the test is sharp: standard errors small relative to the effects
    assert cmp.loc[cmp["term"] == "employment[T.True]", "std_error"].iloc[0] < 0.1


def test_logit_odds_ratios_are_further_from_the_hazard_ratios(cohort):
    sim, out = cohort
    cells = binary_cells(out, "any_referral", KEYS)
    lo = fit_binomial(cells, TERMS + ["age"], link="logit", fixed_effects="la_code")
    cl = fit_binomial(cells, TERMS + ["age"], link="cloglog", fixed_effects="la_code")
    truth = sim.truth["any_referral"]
    err_logit = compare_with_truth(lo, truth)["bias"].abs().sum()
    err_cloglog = compare_with_truth(cl, truth)["bias"].abs().sum()
    assert err_cloglog < err_logit


def test_poisson_counts_recover_log_rate_ratios(cohort):
    sim, out = cohort
    cells = count_cells(out, "n_referrals", "exposure_years", KEYS)
    fit = fit_poisson(cells, TERMS + ["age"], cluster="la_code", fixed_effects="la_code")
    cmp = compare_with_truth(fit, sim.truth["n_referrals"])
    assert (cmp["z"].abs() < 3.5).all(), cmp.to_string()


def test_discrete_time_hazard_recovers_log_hazard_ratios(cohort):
    sim, out = cohort
    cells = person_period_cells(out, KEYS[:-2] + ["la_code"], age="age", end_age=18)
    fit = fit_discrete_time_hazard(cells, TERMS, baseline=("attained_age", "la_code"))
    cmp = compare_with_truth(fit, sim.truth["any_referral"])
    assert (cmp["z"].abs() < 3.5).all(), cmp.to_string()


def test_without_la_effects_the_frailty_biases_towards_zero(cohort):
    # an omitted LA frailty, correlated with deprivation through the LA shift, is
    # absorbed by the fixed effects; without them the domain effects are distorted
    sim, out = cohort
    cells = binary_cells(out, "any_referral", KEYS)
    fe = fit_binomial(cells, TERMS + ["age"], link="cloglog", fixed_effects="la_code")
    no = fit_binomial(cells, TERMS + ["age"], link="cloglog")
    truth = sim.truth["any_referral"]
    assert (
        compare_with_truth(fe, truth)["bias"].abs().max()
        < compare_with_truth(no, truth)["bias"].abs().max() + 0.05
    )


def test_compare_with_truth_by_hand():
    tidy = pd.DataFrame({"term": ["a", "b"], "estimate": [0.5, 1.0], "std_error": [0.1, 0.2]})
    cmp = compare_with_truth(tidy, {"a": 0.3, "b": 1.1}).set_index("term")
    # a: bias 0.2, z = 2, CI 0.5 -/+ 0.196 = (0.304, 0.696): misses 0.3
    assert cmp.loc["a", "bias"] == pytest.approx(0.2)
    assert cmp.loc["a", "z"] == pytest.approx(2.0)
    assert not cmp.loc["a", "covered"]
    # b: bias -0.1, CI 1.0 -/+ 0.392 covers 1.1
    assert cmp.loc["b", "covered"]
    with pytest.raises(KeyError, match="c"):
        compare_with_truth(tidy, {"c": 0.0})


def test_coverage_summary_by_hand():
    reps = [
        pd.DataFrame(
            {
                "term": ["a"],
                "truth": [1.0],
                "estimate": [e],
                "std_error": [0.1],
                "bias": [e - 1.0],
                "covered": [c],
            }
        )
        for e, c in ((1.1, True), (0.8, False), (1.0, True), (1.3, False))
    ]
    s = coverage_summary(reps).set_index("term").loc["a"]
    # biases 0.1, -0.2, 0, 0.3: mean 0.05; rmse sqrt((0.01+0.04+0+0.09)/4) = sqrt(0.035)
    assert s["replications"] == 4
    assert s["mean_bias"] == pytest.approx(0.05)
    assert s["rmse"] == pytest.approx(np.sqrt(0.035))
    assert s["coverage"] == pytest.approx(0.5)


def test_generator_terms_map_to_design_columns():
    from child_mdh.studies.model_recovery import TRUTH_OUTCOMES, design_column, design_truth

    assert design_column("employment") == "employment[T.True]"
    assert design_column("employment:health") == "employment[T.True]:health[T.True]"
    assert design_column("sex_male") == "sex[T.M]"
    assert design_column("mdh:la_mdh_prevalence_centred") == "mdh[T.True]:la_mdh_prevalence_centred"
    truth = design_truth({"employment": 0.5, "any_domain": 0.0, "fsm": 0.3})
    assert truth == {"employment[T.True]": 0.5, "fsm[T.True]": 0.3}
    assert TRUTH_OUTCOMES["cla"] == "entered_care"


def test_truth_wald_by_hand():
    from child_mdh.studies.model_recovery import truth_wald

    # d = (0.2, -0.1); V = [[0.04, 0.01], [0.01, 0.01]], det = 0.0003,
    # V^-1 = [[0.01, -0.01], [-0.01, 0.04]] / 0.0003
    # d' V^-1 d = (0.0004 + 0.0004 + 0.0004) / 0.0003 = 4
    w = truth_wald([0.7, 0.9], [0.5, 1.0], [[0.04, 0.01], [0.01, 0.01]])
    assert w["statistic"] == pytest.approx(4.0)
    assert w["df"] == 2
    assert w["p_value"] == pytest.approx(np.exp(-2.0))  # chi-square(2) tail: exp(-W/2)


def _replications(scale: float, seeds: int = 400, seed: int = 7) -> pd.DataFrame:
    """Stacked comparisons of a 2-term model whose estimates are drawn from N(truth, V)
    while the reported covariance is ``scale`` * V."""
    import json

    rng = np.random.default_rng(seed)
    v = np.array([[0.04, 0.01], [0.01, 0.01]])
    truth = np.array([0.5, 1.0])
    terms = ["a", "b"]
    rows = []
    for s in range(seeds):
        est = rng.multivariate_normal(truth, v)
        for i, t in enumerate(terms):
            rows.append(
                {
                    "seed": s,
                    "prevalence": "analysis",
                    "outcome": "y",
                    "term": t,
                    "truth": truth[i],
                    "estimate": est[i],
                    "covariance": json.dumps(dict(zip(terms, scale * v[i], strict=True))),
                }
            )
    return pd.DataFrame(rows)


def test_wald_calibration_of_a_correct_covariance():
    from child_mdh.studies.model_recovery import wald_by_replication, wald_calibration

    walds = wald_by_replication(_replications(1.0))
    assert len(walds) == 400 and set(walds["df"]) == {2}
    c = wald_calibration(walds).iloc[0]
    assert c["replications"] == 400
    # 5% nominal: MC SE sqrt(0.05 * 0.95 / 400) = 0.011
    assert abs(c["reject_05"] - 0.05) < 3 * 0.011
    assert c["statistic_over_df"] == pytest.approx(1.0, abs=0.2)
    assert c["ks_p"] > 0.01


def test_wald_calibration_detects_a_covariance_scaled_down():
    from child_mdh.studies.model_recovery import wald_by_replication, wald_calibration

    # reported covariance half the true one: W is 2 x chi-square(2), P(W > 5.99) =
    # P(chi-square(2) > 3.0) = exp(-1.5) = 0.22
    c = wald_calibration(wald_by_replication(_replications(0.5))).iloc[0]
    assert c["reject_05"] == pytest.approx(np.exp(-1.5), abs=0.06)
    assert c["reject_05"] - 3 * c["reject_05_mcse"] > 0.05
    assert c["statistic_over_df"] == pytest.approx(2.0, abs=0.3)
    assert c["ks_p"] < 1e-6


def test_compare_with_truth_keeps_the_covariance_of_a_fit(cohort):
    import json

    sim, out = cohort
    cells = binary_cells(out, "any_referral", KEYS)
    fit = fit_binomial(
        cells, TERMS + ["age"], link="cloglog", cluster="la_code", fixed_effects="la_code"
    )
    cmp = compare_with_truth(fit, sim.truth["any_referral"])
    cov = [list(json.loads(c).values()) for c in cmp["covariance"]]
    terms = list(sim.truth["any_referral"])
    assert np.allclose(cov, fit.cov.loc[terms, terms].to_numpy())


def test_the_summary_step_writes_the_wald_calibration(tmp_path):
    from types import SimpleNamespace

    from child_mdh.steps.simulation import model_recovery_summary

    reps = pd.concat(
        [_replications(1.0, seeds=50).assign(prevalence=p) for p in ("analysis", "population")],
        ignore_index=True,
    )
    se = np.sqrt(np.where(reps["term"] == "a", 0.04, 0.01))
    reps = reps.assign(
        std_error=se,
        bias=reps["estimate"] - reps["truth"],
        z=(reps["estimate"] - reps["truth"]) / se,
        covered=np.abs(reps["estimate"] - reps["truth"]) <= 1.96 * se,
    )
    reps.to_csv(tmp_path / "batch_0.csv", index=False)
    out = SimpleNamespace(
        summary=tmp_path / "summary.csv",
        wald=tmp_path / "wald.csv",
        wald_replications=tmp_path / "wald_replications.csv",
        report=tmp_path / "summary.md",
    )
    smk = SimpleNamespace(
        input=[str(tmp_path / "batch_0.csv")],
        output=out,
        log=[],
        params=SimpleNamespace(settings={"seeds": 50}),
    )
    model_recovery_summary(smk)
    wald = pd.read_csv(out.wald)
    assert set(wald["prevalence"]) == {"analysis", "population"}
    assert (wald["replications"] == 50).all() and (wald["df"] == 2).all()
    assert len(pd.read_csv(out.wald_replications)) == 100
    assert "Joint Wald test of the true values" in out.report.read_text()


def test_truth_wald_hotelling_reference_by_hand():
    from scipy import stats

    from child_mdh.studies.model_recovery import truth_wald

    # W = 4 with p = 2 terms and G = 12 clusters: F = (12 - 2) * 4 / (2 * 11) = 20/11
    # on (2, 10) degrees of freedom
    w = truth_wald([0.7, 0.9], [0.5, 1.0], [[0.04, 0.01], [0.01, 0.01]], clusters=12)
    assert w["p_value_t2"] == pytest.approx(stats.f.sf(20 / 11, 2, 10))
    assert w["p_value_t2"] > w["p_value"]  # the chi-square test is the more liberal
