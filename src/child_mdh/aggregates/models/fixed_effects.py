"""Local-authority fixed effects: the linear probability model with absorbed effects, and
the fixed-effect GLM with local-authority dummies.

Linear probability model
    ``linearmodels.iv.absorbing.AbsorbingLS`` absorbs the local-authority effects. It is
    fitted on covariate-pattern cells: the outcome is the cell mean (events / trials) and
    the weight the number of trials. Weighted least squares on cell means gives the
    row-level OLS coefficients, and since each cell lies in one cluster the cluster sums
    of weighted scores (n_c x_c (ybar_c - x_c b)) are the row-level ones; only the
    small-sample factor, which needs the number of rows, is applied here.

Degrees-of-freedom convention (stated because packages differ when the absorbed effects
are nested in the clusters, as local-authority effects are in local-authority clusters):
    V = G/(G-1) * (N-1)/(N-k) * V0
with N the number of children, G the number of local authorities and k the number of
regressors that are estimated (including the constant), *not* counting the absorbed
local-authority dummies. This is linearmodels' ``AbsorbingLS(...).fit(cov_type=
"clustered", debiased=True)`` convention for a single effect nested in the clusters
(the same as ``PanelOLS`` with entity effects and entity clusters, Stata ``xtreg, fe
vce(cluster)`` and ``reghdfe``). Stata ``areg, vce(cluster)`` counts the absorbed dummies
in k and so gives slightly larger errors; the difference is the factor
(N - k) / (N - k - (G - 1)), negligible with many children per authority.
``residual_df`` is G - 1.

Fixed-effect GLM
    :func:`fit_glm_fixed_effects` is :func:`child_mdh.aggregates.models.glm.fit_binomial` (or
    Poisson) with treatment-coded dummies for every local authority; authorities without
    within-authority variation in the outcome are dropped (reported). Its CR1 factor
    counts every dummy in K (statsmodels' convention for the dummy-variable fit).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from linearmodels.iv.absorbing import AbsorbingLS

from child_mdh.aggregates.models.design import Design, independent_columns
from child_mdh.aggregates.models.glm import (
    ModelFit,
    fit_binomial,
    fit_poisson,
    limit_blas_threads,
)


@limit_blas_threads
def fit_linear_probability_fe(
    cells: pd.DataFrame,
    terms,
    *,
    absorb: str = "la_code",
    cluster: str = "la_code",
    reference: dict | None = None,
    numeric=(),
    events: str = "events",
    trials: str = "trials",
    name: str | None = None,
    outcome: str = "",
    exposure_terms=(),
    adjust_terms=(),
) -> ModelFit:
    """Linear probability model of a binary outcome with ``absorb`` effects absorbed.

    Coefficients are differences in probability (multiply by 100 for percentage
    points). Fitted on cells with ``AbsorbingLS`` (weights = trials); clustered
    covariance with the degrees-of-freedom convention in the module docstring. Equal to
    the row-level ``AbsorbingLS(..., absorb=la).fit(cov_type="clustered",
    clusters=la, debiased=True)`` and to OLS with local-authority dummies (coefficients).
    """
    if absorb not in cells.columns or cluster not in cells.columns:
        raise KeyError(f"cells need the columns {absorb!r} and {cluster!r} (collapse keys)")
    cells = cells.loc[cells[trials] > 0].reset_index(drop=True)
    if "rows" not in cells.columns:
        cells = cells.assign(rows=cells[trials])
    design = Design.from_frame(cells, terms, reference=reference, numeric=numeric)
    x = design.matrix(cells)
    w = cells[trials].to_numpy(float)
    # columns collinear with the absorbed effects (constant within an authority) go first
    fe = Design.from_frame(cells, [absorb], intercept=True).matrix(cells, sparse=True)
    keep_all = independent_columns(
        sp.hstack([fe, sp.csr_matrix(x[:, 1:])], format="csr"), weights=w
    )
    keep = np.concatenate([[True], keep_all[fe.shape[1] :]])
    omitted = [c for c, k in zip(design.columns, keep) if not k]
    x_cols = [c for c, k in zip(design.columns, keep) if k]
    y = cells[events].to_numpy(float) / w
    absorb_frame = pd.DataFrame({absorb: pd.Categorical(cells[absorb].astype(str))})
    model = AbsorbingLS(
        pd.Series(y, name=outcome or "y"),
        pd.DataFrame(x[:, keep], columns=x_cols),
        absorb=absorb_frame,
        weights=pd.Series(w),
    )
    codes = pd.factorize(cells[cluster])[0]
    res = model.fit(
        cov_type="clustered",
        clusters=codes,
        debiased=False,
        method="lsmr",
        absorb_options={"atol": 1e-14, "btol": 1e-14, "maxiter": 10_000},
    )
    g = len(np.unique(codes))
    if g < 2:
        raise ValueError(
            "clustered errors need at least 2 clusters; the data have "
            f"{g}. Cluster by a finer unit (LSOA or school)."
        )
    n_rows = int(w.sum())
    k = len(x_cols)
    factor = g / (g - 1.0) * (n_rows - 1.0) / (n_rows - k)
    cov = np.asarray(res.cov) * factor
    return ModelFit(
        name=name or f"{outcome}~{'+'.join(terms)}|{absorb}",
        outcome=outcome,
        family="linear",
        link="identity",
        design=design,
        params=pd.Series(np.asarray(res.params), index=x_cols),
        cov=pd.DataFrame(cov, index=x_cols, columns=x_cols),
        cov_type="cluster",
        cluster=cluster,
        n_clusters=g,
        n_rows=n_rows,
        n_events=float(cells[events].sum()),
        n_cells=len(cells),
        residual_df=g - 1,
        cells=cells,
        omitted=omitted,
        fixed_effects=absorb,
        exposure_terms=tuple(exposure_terms),
        adjust_terms=tuple(adjust_terms),
        notes=[
            f"{absorb} effects absorbed (AbsorbingLS); degrees of freedom do not count "
            "the absorbed effects nested in the clusters"
        ],
    )


def fit_glm_fixed_effects(
    cells: pd.DataFrame,
    terms,
    *,
    fixed_effects: str = "la_code",
    family: str = "binomial",
    **kwargs,
) -> ModelFit:
    """Fixed-effect GLM: ``terms`` plus dummies of ``fixed_effects`` (binomial or Poisson).

    Logit with group dummies is the unconditional fixed-effects logit, whose incidental-
    parameter bias is negligible with thousands of children per local authority; the
    cloglog and Poisson versions are consistent (Poisson: Hausman, Hall & Griliches 1984,
    Econometrica 52(4)). Groups with no events are dropped and reported in ``dropped``.
    """
    terms = [t for t in terms if t != fixed_effects]
    if family == "binomial":
        return fit_binomial(cells, terms, fixed_effects=fixed_effects, **kwargs)
    if family == "poisson":
        return fit_poisson(cells, terms, fixed_effects=fixed_effects, **kwargs)
    raise ValueError(f"family must be 'binomial' or 'poisson', not {family!r}")
