"""On a synthetic England with known truth, the analysis recovers the true effects.

The whole chain runs at a fixed seed: ``child_mdh.sources.synthetic.generate`` -> validation -> the
derive step (children aged 5-15, linked) -> the Child-MDH index -> the model frame
(``models.prepare``). The generator's social care process is proportional-hazards by
design (docs/models.md, section 9), so a complementary log-log model of 'any X in the
follow-up window' with age categories and local-authority fixed effects estimates the
log hazard ratios written to truth.json. Every coefficient of every outcome must lie
within 3.5 standard errors of the truth (about 1 in 2,000 by chance per coefficient at
a correct model), and the standard errors must be small enough for that to mean
something. The simulation over many seeds (bias, SD against SE, coverage) is
``benchmarks/recovery_models.py``; its table is in docs/models.md.
"""

from __future__ import annotations

import numpy as np
import pytest

from child_mdh.studies.model_recovery import (
    POPULATION_PREVALENCE,
    TRUTH_OUTCOMES,
    compare_with_truth,
    fit_generator_model,
    generator_truth,
    synthetic_model_frame,
)

N_CHILDREN = 150_000  # aged 0-17; about 92,000 in the analysis cohort
SEED = 20250101
TOLERANCE_Z = 3.5


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    return synthetic_model_frame(N_CHILDREN, SEED, tmp_path_factory.mktemp("recovery"))


@pytest.fixture(scope="module")
def comparisons(synthetic):
    frame, truth = synthetic
    out = {}
    for key, column in TRUTH_OUTCOMES.items():
        fit = fit_generator_model(frame, column)
        out[column] = (fit, compare_with_truth(fit, generator_truth(truth, key)))
    return out


@pytest.mark.slow
@pytest.mark.parametrize("outcome", list(TRUTH_OUTCOMES.values()))
def test_cloglog_with_la_fixed_effects_recovers_every_log_hazard_ratio(comparisons, outcome):
    fit, cmp = comparisons[outcome]
    # every generator term is estimated: the domains, any domain, FSM, employment x health,
    # sex, MDH (true 0) and MDH x the LA's MDH prevalence
    assert len(cmp) == 10
    bad = cmp.loc[cmp["z"].abs() >= TOLERANCE_Z]
    assert bad.empty, bad.to_string()
    # the prevalence main effect is absorbed by the LA dummies, as it must be
    assert "la_mdh_prevalence_centred" not in fit.params.index


@pytest.mark.slow
def test_the_test_has_power(comparisons):
    # standard errors small against the effects: FSM's log-HR (0.9 for referral) is
    # estimated to within a few hundredths, the interaction (-1.0) within about 0.6
    _, ref = comparisons["any_referral"]
    se = ref.set_index("term")["std_error"]
    assert se["fsm[T.True]"] < 0.04
    assert se["mdh[T.True]:la_mdh_prevalence_centred"] < 0.7
    _, care = comparisons["entered_care"]
    assert care.set_index("term").loc["fsm[T.True]", "std_error"] < 0.2


@pytest.mark.slow
def test_a_wrong_truth_is_detected(comparisons):
    # the check can fail: shifting one true value by 0.3 (about 15 SE for FSM) breaks it
    fit, cmp = comparisons["any_referral"]
    truth = dict(zip(cmp["term"], cmp["truth"]))
    truth["fsm[T.True]"] += 0.3
    assert (compare_with_truth(fit, truth)["z"].abs() >= TOLERANCE_Z).any()


@pytest.mark.slow
def test_the_analysis_prevalence_tracks_the_generators(synthetic):
    # the analysis computes each LA's MDH prevalence among its own children (aged 5-15,
    # linked); the generator used all children aged 0-17. They differ by sampling and
    # by population, but the LA-level slope is close to 1 (no systematic stretching of
    # the interaction; docs/models.md section 9 for the simulation over seeds)
    frame, _ = synthetic
    la = frame.groupby("la_code")[["la_mdh_prevalence_centred", POPULATION_PREVALENCE]].first()
    slope = np.polyfit(la[POPULATION_PREVALENCE], la["la_mdh_prevalence_centred"], 1)[0]
    assert 0.85 < slope < 1.2
    assert np.corrcoef(la.to_numpy().T)[0, 1] > 0.9
