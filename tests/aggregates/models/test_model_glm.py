"""Collapsed GLMs equal the row-level statsmodels fits, including cluster-robust errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from child_mdh.aggregates.models.collapse import binary_cells, count_cells
from child_mdh.aggregates.models.glm import (
    SparseLevelError,
    cluster_robust_cov,
    fit_binomial,
    fit_negative_binomial,
    fit_poisson,
    wald_test,
)

TERMS = ["count", "sex", "age_band"]
KEYS = ["count", "sex", "age_band", "la_code"]
LINKS = {"logit": sm.families.links.Logit, "cloglog": sm.families.links.CLogLog}


def _groups(rows):
    return pd.factorize(rows["la_code"])[0]


@pytest.mark.parametrize("link", ["logit", "cloglog"])
def test_binomial_collapsed_equals_row_level(rows, link):
    cells = binary_cells(rows, "y", KEYS)
    assert len(cells) < len(rows) / 10
    fit = fit_binomial(cells, TERMS, link=link, cluster="la_code", outcome="y")
    x = fit.design_matrix(rows)
    ref = sm.GLM(rows["y"].astype(float), x, family=sm.families.Binomial(link=LINKS[link]())).fit(
        tol=1e-13, cov_type="cluster", cov_kwds={"groups": _groups(rows)}
    )
    assert np.max(np.abs(fit.params.to_numpy() - ref.params)) < 1e-8
    assert np.max(np.abs(fit.bse.to_numpy() - ref.bse)) < 1e-8
    assert fit.n_rows == len(rows) and fit.n_events == rows["y"].sum()
    assert fit.n_clusters == rows["la_code"].nunique()
    assert fit.residual_df == fit.n_clusters - 1


def test_poisson_with_exposure_collapsed_equals_row_level(rows):
    cells = count_cells(rows, "n_events", "exposure", KEYS)
    fit = fit_poisson(cells, TERMS, cluster="la_code", outcome="n_events")
    x = fit.design_matrix(rows)
    ref = sm.GLM(
        rows["n_events"].astype(float), x, family=sm.families.Poisson(), exposure=rows["exposure"]
    ).fit(tol=1e-13, cov_type="cluster", cov_kwds={"groups": _groups(rows)})
    assert np.max(np.abs(fit.params.to_numpy() - ref.params)) < 1e-8
    assert np.max(np.abs(fit.bse.to_numpy() - ref.bse)) < 1e-8
    assert fit.exposure == pytest.approx(rows["exposure"].sum())


def test_nonrobust_errors_equal_row_level(rows):
    cells = binary_cells(rows, "y", ["count", "sex"])
    fit = fit_binomial(cells, ["count", "sex"], link="cloglog", cluster=None)
    ref = sm.GLM(
        rows["y"].astype(float),
        fit.design_matrix(rows),
        family=sm.families.Binomial(link=sm.families.links.CLogLog()),
    ).fit(tol=1e-13)
    assert np.max(np.abs(fit.bse.to_numpy() - ref.bse)) < 1e-8
    # K = intercept + 3 count dummies + 1 sex dummy = 5
    assert fit.cov_type == "nonrobust" and fit.residual_df == len(rows) - 5
    # the reported log-likelihood is the row-level one
    assert fit.llf == pytest.approx(ref.llf, rel=1e-10)


def test_fixed_effect_glm_equals_row_level_dummy_fit(rows):
    cells = binary_cells(rows, "y", KEYS)
    fit = fit_binomial(cells, TERMS, link="cloglog", cluster="la_code", fixed_effects="la_code")
    x = fit.design_matrix(rows)
    assert x.shape[1] == 1 + 24 + 3 + 1 + 2  # intercept, 24 LA dummies, count, sex, age
    ref = sm.GLM(
        rows["y"].astype(float), x, family=sm.families.Binomial(link=sm.families.links.CLogLog())
    ).fit(tol=1e-13, cov_type="cluster", cov_kwds={"groups": _groups(rows)})
    assert np.max(np.abs(fit.params.to_numpy() - ref.params)) < 1e-8
    assert np.max(np.abs(fit.bse.to_numpy() - ref.bse)) < 1e-8


def test_two_by_two_logit_odds_ratio_by_hand():
    # exposed: 30 events of 100; unexposed: 10 of 100.
    # OR = (30/70) / (10/90) = 3.857142857...; log OR = 1.349926...
    # Woolf SE of log OR = sqrt(1/30 + 1/70 + 1/10 + 1/90) = 0.398410...
    cells = pd.DataFrame({"x": [True, False], "trials": [100, 100], "events": [30, 10]})
    fit = fit_binomial(cells, ["x"], link="logit", cluster=None)
    assert np.exp(fit.params["x[T.True]"]) == pytest.approx(30 / 70 / (10 / 90), rel=1e-10)
    assert fit.bse["x[T.True]"] == pytest.approx(
        np.sqrt(1 / 30 + 1 / 70 + 1 / 10 + 1 / 90), rel=1e-8
    )


def test_poisson_cluster_robust_error_by_hand():
    # Intercept-only Poisson, three clusters (events y_g, exposure E_g):
    # (10, 100), (30, 100), (20, 200): rate R = 60 / 400 = 0.15, b = log 0.15.
    # Cluster scores s_g = y_g - E_g R = -5, 15, -10; sum of squares 350.
    # Hessian H = -sum E_g R = -60.
    # CR1: V = G/(G-1) * (N-1)/(N-K) * 350 / 60^2, with K = 1 so (N-1)/(N-K) = 1:
    # V = 1.5 * 350 / 3600 = 0.1458333..., SE = 0.3818813...
    cells = pd.DataFrame(
        {
            "la_code": ["a", "b", "c"],
            "events": [10, 30, 20],
            "exposure": [100.0, 100.0, 200.0],
            "rows": [40, 50, 60],
        }
    )
    fit = fit_poisson(cells, [], cluster="la_code")
    assert fit.params["Intercept"] == pytest.approx(np.log(0.15), rel=1e-12)
    assert fit.bse["Intercept"] == pytest.approx(np.sqrt(1.5 * 350 / 3600), rel=1e-10)


def test_cluster_correction_uses_rows_not_cells():
    score = np.array([[1.0, 0.5], [-2.0, 0.1], [1.0, -0.6]])
    hess = -np.eye(2) * 4
    raw, _g = cluster_robust_cov(score, hess, ["a", "b", "c"], n_rows=1000, use_correction=False)
    corrected, _ = cluster_robust_cov(score, hess, ["a", "b", "c"], n_rows=1000)
    # G/(G-1) * (N-1)/(N-K) = 3/2 * 999/998
    assert np.allclose(corrected, raw * 1.5 * 999 / 998)
    # meat = S'S: 1+4+1 = 6; 0.5-0.2-0.6 = -0.3; 0.25+0.01+0.36 = 0.62
    # bread = H^-1 = -1/4 I -> raw = meat / 16
    assert np.allclose(raw, np.array([[6, -0.3], [-0.3, 0.62]]) / 16)


def test_negative_binomial_on_distinct_rows_equals_row_level(rows):
    fit = fit_negative_binomial(
        rows, TERMS, count="n_events", exposure="exposure", cluster="la_code"
    )
    assert fit.n_cells < len(rows) / 5
    x = fit.design_matrix(rows)
    # maximum likelihood NB2 on rows (statsmodels discrete model, alpha estimated jointly)
    ml = sm.NegativeBinomial(rows["n_events"], x, exposure=rows["exposure"]).fit(
        disp=0, method="newton", maxiter=200, tol=1e-12
    )
    ml_params = np.asarray(ml.params)
    assert np.max(np.abs(fit.params.to_numpy() - ml_params[:-1])) < 1e-6
    assert fit.alpha == pytest.approx(ml_params[-1], rel=1e-5)
    # cluster-robust errors: row-level GLM NB with alpha at the estimate
    ref = sm.GLM(
        rows["n_events"].astype(float),
        x,
        family=sm.families.NegativeBinomial(alpha=fit.alpha),
        exposure=rows["exposure"],
    ).fit(tol=1e-13, cov_type="cluster", cov_kwds={"groups": _groups(rows)})
    assert np.max(np.abs(fit.params.to_numpy() - ref.params)) < 1e-8
    assert np.max(np.abs(fit.bse.to_numpy() - ref.bse)) < 1e-8


def test_sparse_level_is_refused_with_counts():
    cells = pd.DataFrame(
        {
            "count": [0, 1, 2, 0, 1, 2],
            "la_code": list("aaabbb"),
            "trials": [50, 40, 3, 50, 40, 2],
            "events": [5, 6, 0, 4, 7, 0],
        }
    )
    with pytest.raises(SparseLevelError, match="count=2: 5 rows, 0 events"):
        fit_binomial(cells, ["count"], cluster="la_code")


def test_fixed_effect_groups_without_events_are_dropped_and_reported(rows):
    cells = binary_cells(rows, "y", KEYS)
    first = cells["la_code"].iloc[0]
    cells.loc[cells["la_code"] == first, "events"] = 0
    fit = fit_binomial(cells, TERMS, cluster="la_code", fixed_effects="la_code")
    assert fit.dropped["fixed_effect_groups_dropped"] == 1
    assert fit.n_clusters == rows["la_code"].nunique() - 1


def test_cluster_must_be_a_cell_key(rows):
    cells = binary_cells(rows, "y", ["count", "sex"])
    with pytest.raises(KeyError, match="collapse keys"):
        fit_binomial(cells, ["count"], cluster="la_code")


def test_single_cluster_is_refused_with_advice():
    cells = pd.DataFrame(
        {"x": [0, 1], "la_code": ["a", "a"], "trials": [100, 100], "events": [10, 20]}
    )
    with pytest.raises(ValueError, match="at least 2 clusters"):
        fit_binomial(cells, ["x"], cluster="la_code")


def test_wald_test_single_coefficient_is_z_squared(rows):
    cells = binary_cells(rows, "y", KEYS)
    fit = fit_binomial(cells, TERMS, cluster="la_code")
    t = wald_test(fit, ["sex[T.M]"])
    z = fit.params["sex[T.M]"] / fit.bse["sex[T.M]"]
    assert t["statistic"] == pytest.approx(z**2)
    assert t["df"] == 1


def test_sparse_design_path_gives_the_dense_answer(rows, monkeypatch):
    from child_mdh.aggregates.models import glm

    cells = binary_cells(rows, "y", KEYS)
    dense = fit_binomial(cells, TERMS, link="cloglog", fixed_effects="la_code")
    monkeypatch.setattr(glm, "SPARSE_ABOVE_COLUMNS", 0)
    sparse = fit_binomial(cells, TERMS, link="cloglog", fixed_effects="la_code")
    assert np.max(np.abs(dense.params.to_numpy() - sparse.params.to_numpy())) < 1e-10
    assert np.max(np.abs(dense.bse.to_numpy() - sparse.bse.to_numpy())) < 1e-10
    counts = count_cells(rows, "n_events", "exposure", KEYS)
    p_sparse = fit_poisson(counts, TERMS, fixed_effects="la_code")
    monkeypatch.setattr(glm, "SPARSE_ABOVE_COLUMNS", 1000)
    p_dense = fit_poisson(counts, TERMS, fixed_effects="la_code")
    assert np.max(np.abs(p_dense.bse.to_numpy() - p_sparse.bse.to_numpy())) < 1e-10
