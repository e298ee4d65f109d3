"""Coverage of the index's 95% intervals on repeated draws of the synthetic England.

A small version of the simulation workflow's index coverage study
(:mod:`child_mdh.studies.synthetic_coverage`): the truth is one draw of 200,000
children, and 40 independent draws of 5,000 children each go through generate ->
validate -> derive_children -> af_inference (England, clustered by household as the
pipeline does at every level, and by local authority for comparison). The full study and
its reading are in docs/index-methods.md, "Coverage on the synthetic data".
"""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from child_mdh.contract.vocabulary import ENGLAND_CODE
from child_mdh.studies import synthetic_coverage as cov

N_DRAWS = 40
N_CHILDREN = 5_000
TRUTH_N = 200_000
DESIGNS = ("linearization/la", "linearization/household")


@pytest.fixture(scope="module")
def study():
    truth_runs = cov.run_draws(TRUTH_N, [cov.TRUTH_SEED_BASE + 1], workers=1, progress=False)
    truth = cov.truth_from_draws(truth_runs)
    draws = cov.run_draws(N_CHILDREN, range(1, N_DRAWS + 1), workers=2, progress=False)
    summary = cov.summarise(draws, truth).set_index(["design", "area", "measure"])
    return truth.set_index(["area", "measure"]), summary


@pytest.mark.slow
@pytest.mark.parametrize("design", DESIGNS)
@pytest.mark.parametrize("measure", ["H", "M0"])
def test_england_intervals_cover_the_truth(study, design, measure):
    # With correct SEs each draw's interval covers with probability ~0.95, so the number
    # covering in 40 draws is Binomial(40, 0.95): P(X <= 31) = 0.00013, i.e. coverage
    # below 0.80 (32/40) happens by chance about once in 8,000 runs. Intervals half as
    # wide as they should be cover with probability ~2 Phi(0.98) - 1 = 0.67, and then
    # P(X >= 32) = 0.03.
    assert stats.binom.cdf(31, N_DRAWS, 0.95) < 0.001
    _, summary = study
    row = summary.loc[(design, ENGLAND_CODE, measure)]
    assert row["R"] == N_DRAWS
    assert row["coverage"] >= 0.80, row.to_dict()


@pytest.mark.slow
@pytest.mark.parametrize("design", DESIGNS)
@pytest.mark.parametrize("measure", ["H", "A", "M0"])
def test_england_standard_errors_are_not_too_small(study, design, measure):
    # The mean SE over draws estimates the SD of the estimates; the empirical SD from 40
    # draws has (n-1) s^2 / sigma^2 ~ chi-square(39), so with SEs right, mean SE / SD is
    # below sqrt(39 / chi2_0.999(39)) = sqrt(39 / 72.05) = 0.736 with probability 0.001.
    lower = np.sqrt((N_DRAWS - 1) / stats.chi2.ppf(0.999, N_DRAWS - 1))
    assert lower == pytest.approx(0.736, abs=0.001)
    _, summary = study
    row = summary.loc[(design, ENGLAND_CODE, measure)]
    assert row["se_ratio"] >= lower, row.to_dict()


@pytest.mark.slow
@pytest.mark.parametrize("measure", ["H", "A", "M0"])
def test_household_clustered_standard_errors_match_the_spread(study, measure):
    # Children of one household share its domains; households are drawn independently by
    # the generator, so household-clustered SEs should match the spread of the estimates
    # (up to the local-authority effects the generator redraws with each seed). Upper
    # bound as above: sqrt(39 / chi2_0.001(39)) = sqrt(39 / 17.26) = 1.503.
    upper = np.sqrt((N_DRAWS - 1) / stats.chi2.ppf(0.001, N_DRAWS - 1))
    assert upper == pytest.approx(1.503, abs=0.001)
    _, summary = study
    row = summary.loc[("linearization/household", ENGLAND_CODE, measure)]
    assert row["se_ratio"] <= upper, row.to_dict()


@pytest.mark.slow
@pytest.mark.parametrize("measure", ["H", "A", "M0", "censored_fsm", "uncensored_housing"])
def test_estimates_are_unbiased_for_the_population_value(study, measure):
    # The mean of 40 estimates differs from the truth by sampling error only:
    # SD(mean) = sqrt(SD^2 / 40 + SE(truth)^2), with SE(truth) the household-clustered SE
    # of the 200,000-child draw. Allow 4 of those (two-sided P about 0.00006).
    truth, summary = study
    row = summary.loc[("linearization/household", ENGLAND_CODE, measure)]
    truth_se = truth.loc[(ENGLAND_CODE, measure), "truth_household_se"]
    tol = 4 * np.sqrt(row["sd_estimate"] ** 2 / N_DRAWS + truth_se**2)
    assert abs(row["bias"]) <= tol, (row["bias"], tol)


def test_la_report_by_interval_and_size_third():
    rows = []
    for i in range(6):
        for design, cover in (
            ("linearization/household", 0.90),
            ("linearization-logit/household", 0.95),
        ):
            for m in ("H", "A", "M0"):
                rows.append(
                    {
                        "design": design,
                        "area": f"E0600000{i}",
                        "measure": m,
                        "R": 100,
                        "index_n": 50 * (i + 1),
                        "coverage": cover + 0.01 * (i // 2),
                        "se_ratio": 1.0,
                    }
                )
    text = cov.la_report_text(pd.DataFrame(rows))
    # thirds of 2 authorities each: coverage + 0, 0.01, 0.02
    assert "| H | linearization/household | 175 | 0.910 |" in text
    assert "0.950, 0.960, 0.970 |" in text
    assert "smallest 75, middle 175, largest 275" in text
