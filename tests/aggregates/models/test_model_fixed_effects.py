"""Local-authority fixed effects: absorbed LPM on cells vs rows vs dummy variables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from linearmodels.iv.absorbing import AbsorbingLS

from child_mdh.aggregates.models.collapse import binary_cells
from child_mdh.aggregates.models.fixed_effects import (
    fit_glm_fixed_effects,
    fit_linear_probability_fe,
)
from child_mdh.aggregates.models.specs import add_area_prevalence

TERMS = ["count", "sex", "age_band"]
KEYS = ["count", "sex", "age_band", "la_code"]


@pytest.fixture(scope="module")
def lpm(rows):
    return fit_linear_probability_fe(binary_cells(rows, "y", KEYS), TERMS, outcome="y")


def test_absorbed_lpm_on_cells_equals_absorbing_ls_on_rows(rows, lpm):
    x = pd.DataFrame(lpm.design_matrix(rows), columns=lpm.params.index)
    la = rows["la_code"]
    ref = AbsorbingLS(
        rows["y"].astype(float), x, absorb=pd.DataFrame({"la": pd.Categorical(la)})
    ).fit(cov_type="clustered", clusters=pd.factorize(la)[0], debiased=True)
    assert np.max(np.abs(lpm.params.to_numpy() - ref.params.to_numpy())) < 1e-8
    assert np.max(np.abs(lpm.bse.to_numpy() - ref.std_errors.to_numpy())) < 1e-8


def test_absorbed_lpm_matches_dummy_variable_ols(rows, lpm):
    x = pd.DataFrame(lpm.design_matrix(rows), columns=lpm.params.index)
    dummies = pd.get_dummies(rows["la_code"], drop_first=True, dtype=float)
    xd = pd.concat([x, dummies], axis=1)
    ols = sm.OLS(rows["y"].astype(float), xd).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(rows["la_code"])[0]}
    )
    slopes = [c for c in lpm.params.index if c != "Intercept"]
    # coefficients: identical (Frisch-Waugh-Lovell); the intercepts differ in meaning
    assert np.max(np.abs(lpm.params[slopes].to_numpy() - ols.params[slopes].to_numpy())) < 1e-8
    # errors: statsmodels' dummy fit uses (N-1)/(N-K) with K = k + 24 dummies;
    # the absorbed fit does not count the nested dummies, (N-1)/(N-k), so
    # se_absorbed = se_dummies * sqrt((N-K)/(N-k))
    n, k = len(rows), len(lpm.params)
    big_k = xd.shape[1]
    assert big_k == k + 24
    scaled = ols.bse[slopes].to_numpy() * np.sqrt((n - big_k) / (n - k))
    assert np.max(np.abs(lpm.bse[slopes].to_numpy() - scaled)) < 1e-8
    assert lpm.residual_df == 24


def test_area_level_covariate_is_omitted_under_absorbed_effects(rows):
    data = add_area_prevalence(rows, "mdh")
    cells = binary_cells(data, "y", KEYS + ["mdh", "la_mdh_prevalence_centred"])
    fit = fit_linear_probability_fe(
        cells, ["mdh", "la_mdh_prevalence_centred", "mdh:la_mdh_prevalence_centred"], outcome="y"
    )
    assert fit.omitted == ["la_mdh_prevalence_centred"]
    assert "mdh[T.True]:la_mdh_prevalence_centred" in fit.params.index


def test_fixed_effect_glm_wrapper_adds_dummies(rows):
    cells = binary_cells(rows, "y", KEYS)
    fit = fit_glm_fixed_effects(cells, TERMS, link="logit")
    assert fit.fixed_effects == "la_code"
    assert sum(c.startswith("la_code[") for c in fit.params.index) == 24
    with pytest.raises(ValueError, match="family"):
        fit_glm_fixed_effects(cells, TERMS, family="gamma")
