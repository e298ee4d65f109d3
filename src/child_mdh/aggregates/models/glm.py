"""Generalised linear models on covariate-pattern cells, with cluster-robust errors.

Binomial models (logit: odds ratios; complementary log-log: hazard ratios under grouped
proportional hazards) are fitted to cells with the two-column response
(events, trials - events); Poisson models to cells with summed counts and a log offset of
summed exposure. For categorical covariates both likelihoods equal the row-level
likelihoods up to a constant, so the estimates, the score of every cell (the sum of its
rows' scores) and the Hessian are the row-level ones.

Cluster-robust covariance (CR1, as statsmodels ``cov_type="cluster"`` and Stata
``vce(cluster)``) is computed here from the cell-level score and Hessian::

    V = c * H^-1 (sum_g s_g s_g') H^-1,    s_g = sum of the scores of the cells in cluster g
    c = G / (G - 1) * (N - 1) / (N - K)

with H the observed Hessian of the log-likelihood, G the number of clusters, N the number
of *rows* (children, or person-periods) and K the number of estimated coefficients. The
cell scores and the Hessian use statsmodels' GLM formulas (``score_factor`` and the
observed ``hessian_factor``) with the families and links of ``statsmodels.api.families``;
the estimates come from Fisher scoring on the K x K normal equations, with the design held
as a sparse matrix when it is wide (local-authority dummies). Since
the cluster is part of the cell key, every cell lies in one cluster and s_g is the sum of
the row scores of cluster g. statsmodels' own cluster option on the cells would use the
number of cells for N, so it is not used. This reproduces the row-level statsmodels fit
(``GLM(...).fit(cov_type="cluster", cov_kwds={"groups": la})``) to rounding error; the
tests check it to 1e-8.

Inference uses the normal distribution (as statsmodels GLM and Stata ``glm``/``logit``).
``residual_df`` is G - 1 for cluster-robust fits (the number of independent units the
variance is estimated from, as Stata reports and as the disclosure rule on residual
degrees of freedom needs) and N - K otherwise.

The negative binomial (NB2) likelihood does not collapse to cell sums: a sum of negative
binomial counts is not negative binomial with the same dispersion. It is fitted exactly on
*distinct rows* instead: rows identical in covariates, cluster, count and exposure are one
row with a frequency weight, and the dispersion alpha is estimated by maximising the
profile likelihood (see :func:`fit_negative_binomial`).
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp
import statsmodels.api as sm
from scipy import optimize, stats
from scipy.linalg import cho_factor, cho_solve
from threadpoolctl import threadpool_limits

from child_mdh.aggregates.models.collapse import distinct_rows
from child_mdh.aggregates.models.design import (
    Design,
    independent_columns,
    level_codes,
    term_variables,
    terms_variables,
)
from child_mdh.errors import ChildMdhError

LINKS = {
    "logit": sm.families.links.Logit,
    "cloglog": sm.families.links.CLogLog,
    "log": sm.families.links.Log,
}
#: BLAS threads used while fitting. Cell design matrices are small enough that one
#: thread is fastest, and it avoids the severe slow-down of thread contention on shared
#: machines; None leaves the library default (for very wide designs on a free machine).
BLAS_THREADS: int | None = 1


def limit_blas_threads(func):
    """Run ``func`` with at most ``BLAS_THREADS`` BLAS threads (see above)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if BLAS_THREADS is None:
            return func(*args, **kwargs)
        with threadpool_limits(limits=BLAS_THREADS, user_api="blas"):
            return func(*args, **kwargs)

    return wrapper


#: designs wider than this are held as sparse matrices (local-authority dummies)
SPARSE_ABOVE_COLUMNS = 40

#: the ratio exp(coefficient) is read as, by link
RATIO_NAMES = {"logit": "odds ratio", "cloglog": "hazard ratio", "log": "rate ratio"}


class SparseLevelError(ChildMdhError, ValueError):
    """A covariate level has no events (or only events): its coefficient is not estimable."""


@dataclass
class ModelFit:
    """A fitted model: coefficients, covariance and everything needed to report it.

    ``cells`` holds the covariate-pattern cells the model was fitted on (kept in memory
    for standardised predictions; never written out: cells can be small).
    """

    name: str
    outcome: str
    family: str
    link: str
    design: Design
    params: pd.Series
    cov: pd.DataFrame
    cov_type: str
    cluster: str | None
    n_clusters: int | None
    n_rows: int
    n_events: float
    n_cells: int
    residual_df: int
    cells: pd.DataFrame
    exposure: float | None = None
    unit: str = "children"
    omitted: list[str] = field(default_factory=list)
    dropped: dict = field(default_factory=dict)
    llf: float = float("nan")
    alpha: float | None = None
    converged: bool = True
    notes: list[str] = field(default_factory=list)
    fixed_effects: str | None = None
    exposure_terms: tuple[str, ...] = ()
    adjust_terms: tuple[str, ...] = ()

    @property
    def bse(self) -> pd.Series:
        """Standard errors (square roots of the covariance diagonal)."""
        return pd.Series(np.sqrt(np.diag(self.cov.to_numpy())), index=self.params.index)

    @property
    def ratio_name(self) -> str | None:
        """What exp(coefficient) means for this link (None for the identity link)."""
        return RATIO_NAMES.get(self.link)

    def design_matrix(self, frame: pd.DataFrame, sparse: bool = False):
        """The design matrix of ``frame`` restricted to the estimated (non-omitted) columns
        (a scipy CSR matrix with ``sparse=True``)."""
        x = self.design.matrix(frame, sparse=sparse)
        keep = [self.design.columns.index(c) for c in self.params.index]
        x = x[:, keep]
        return x.tocsr() if sparse else x


# --------------------------------------------------------------------------- IRLS
def _xtwx(x, w: np.ndarray) -> np.ndarray:
    """X' diag(w) X for a dense or sparse X."""
    if sp.issparse(x):
        return np.asarray((x.T @ (sp.diags(w) @ x)).todense())
    return (x.T * w) @ x


def _xtv(x, v: np.ndarray) -> np.ndarray:
    return np.asarray(x.T @ v).ravel()


@dataclass
class _Problem:
    """A GLM on cells: design, response on the mean scale, prior weights, offset.

    Binomial cells have ``y`` = events / trials and ``prior_w`` = trials; Poisson cells
    ``y`` = summed count, ``prior_w`` = 1 and ``offset`` = log(exposure); distinct rows
    for the negative binomial ``y`` = count and ``prior_w`` = frequency.
    """

    x: object
    y: np.ndarray
    prior_w: np.ndarray
    family: object
    offset: np.ndarray

    def mu(self, params):
        return self.family.link.inverse(np.asarray(self.x @ params).ravel() + self.offset)

    def loglike(self, params) -> float:
        return float(
            self.family.loglike(
                self.y,
                self.mu(params),
                var_weights=np.ones_like(self.y),
                freq_weights=self.prior_w,
                scale=1.0,
            )
        )

    def _pieces(self, params):
        mu = self.mu(params)
        d = self.family.link.deriv(mu)  # d eta / d mu
        v = self.family.variance(mu)
        return mu, d, v

    def score_factor(self, params) -> np.ndarray:
        """Per-cell score = score_factor * x (statsmodels GLM.score_factor, scale 1)."""
        mu, d, v = self._pieces(params)
        return self.prior_w * (self.y - mu) / (d * v)

    def hessian(self, params, observed: bool = True) -> np.ndarray:
        """Hessian of the log-likelihood, -X' diag(h) X, with statsmodels'
        ``GLM.hessian_factor`` (observed information by default; equal to the expected
        information for canonical links)."""
        mu, d, v = self._pieces(params)
        eim = self.prior_w / (d**2 * v)
        if observed:
            tmp = (self.y - mu) / (d * v)
            tmp = tmp * (v * self.family.link.deriv2(mu) + self.family.variance.deriv(mu) * d)
            eim = eim * (1 + tmp)
        return -_xtwx(self.x, eim)

    def score_obs(self, params):
        f = self.score_factor(params)
        if sp.issparse(self.x):
            return sp.diags(f) @ self.x
        return self.x * f[:, None]


@dataclass
class _IRLSResult:
    params: np.ndarray
    normalized_cov: np.ndarray
    converged: bool
    iterations: int


def _irls(
    problem: _Problem, *, mu_start: np.ndarray, tol: float = 1e-10, maxiter: int = 200
) -> _IRLSResult:
    """Fisher scoring (iteratively reweighted least squares) by the normal equations.

    Each step solves (X'WX) b = X'Wz by Cholesky, W = prior_w (dmu/deta)^2 / V(mu), z the
    working response; a step that lowers the log-likelihood is halved. Converges when no
    coefficient moves by more than ``tol`` * (1 + |b|). This is the algorithm of
    statsmodels' GLM IRLS (McCullagh & Nelder 1989, section 2.5), with the least-squares
    step solved through the K x K cross-product of a (sparse, when wide) design instead
    of an SVD of the cells: that is what makes designs with local-authority dummies on
    10^5 cells fast. The solution is the maximum-likelihood estimate; the tests check it
    against statsmodels on rows.
    """
    x, y, prior_w, offset = problem.x, problem.y, problem.prior_w, problem.offset
    link = problem.family.link
    variance = problem.family.variance
    eta = link(mu_start) - offset
    params = None
    ll_old = -np.inf
    converged = False
    it = 0
    for it in range(1, maxiter + 1):  # noqa: B007  (the iterations taken are read after the loop)
        full = eta + offset
        mu = link.inverse(full)
        dmu = link.inverse_deriv(full)
        w = prior_w * dmu**2 / variance(mu)
        z = eta + (y - mu) / dmu
        xtwx = _xtwx(x, w)
        rhs = _xtv(x, w * z)
        try:
            new = cho_solve(cho_factor(xtwx), rhs)
        except np.linalg.LinAlgError:
            new = np.linalg.lstsq(xtwx, rhs, rcond=None)[0]
        if params is not None:
            ll_new = problem.loglike(new)
            halvings = 0
            while not ll_new >= ll_old - 1e-12 * abs(ll_old) and halvings < 30:
                new = (new + params) / 2
                ll_new = problem.loglike(new)
                halvings += 1
            step = np.max(np.abs(new - params) / (1 + np.abs(params)))
            params, ll_old = new, ll_new
            eta = np.asarray(x @ params).ravel()
            if step < tol:
                converged = True
                break
        else:
            params = new
            eta = np.asarray(x @ params).ravel()
            ll_old = problem.loglike(params)
    info = -problem.hessian(params, observed=False)
    return _IRLSResult(
        params=params, normalized_cov=np.linalg.inv(info), converged=converged, iterations=it
    )


# --------------------------------------------------------------------------- helpers
def cluster_robust_cov(
    score: np.ndarray, hessian: np.ndarray, clusters, n_rows: int, use_correction: bool = True
) -> tuple[np.ndarray, int]:
    """CR1 cluster-robust covariance from per-cell scores and the total Hessian.

    ``score`` is cells x K (each cell's score, the sum of its rows' scores), ``hessian``
    the K x K Hessian of the log-likelihood, ``clusters`` the cluster of each cell.
    Returns (covariance, number of clusters). With ``use_correction`` the result is
    multiplied by G/(G-1) * (N-1)/(N-K), N = ``n_rows`` (statsmodels' and Stata's CR1).
    """
    codes, uniques = pd.factorize(np.asarray(clusters), use_na_sentinel=True)
    if (codes < 0).any():
        raise ValueError("the cluster variable has missing values in the model cells")
    g = len(uniques)
    if g < 2:
        raise ValueError(
            "cluster-robust standard errors need at least 2 clusters; the data have "
            f"{g}. Cluster by a finer unit (for one local authority: LSOA or school) "
            "or fit without clustering (cluster=None)."
        )
    ncell, k = score.shape
    agg = sp.csr_matrix((np.ones(ncell), (codes, np.arange(ncell))), shape=(g, ncell))
    sg = agg @ score
    sg = np.asarray(sg.todense()) if sp.issparse(sg) else np.asarray(sg)
    meat = sg.T @ sg
    hinv = np.linalg.inv(hessian)
    cov = hinv @ meat @ hinv.T
    if use_correction:
        cov *= g / (g - 1.0) * (n_rows - 1.0) / (n_rows - k)
    return (cov + cov.T) / 2.0, g


def wald_test(fit: ModelFit, columns) -> dict:
    """Joint Wald test that the coefficients in ``columns`` are zero.

    Uses the fit's covariance (cluster-robust where the fit is). Returns the chi-square
    statistic, its degrees of freedom and p-value.
    """
    columns = [c for c in columns if c in fit.params.index]
    if not columns:
        raise ValueError("none of the requested coefficients were estimated")
    b = fit.params[columns].to_numpy()
    v = fit.cov.loc[columns, columns].to_numpy()
    stat = float(b @ np.linalg.solve(v, b))
    df = len(columns)
    return {
        "statistic": stat,
        "df": df,
        "p_value": float(stats.chi2.sf(stat, df)),
        "terms": columns,
    }


def _categorical_checks(
    design: Design,
    x,
    columns,
    cells: pd.DataFrame,
    events: np.ndarray,
    trials: np.ndarray | None,
    skip: set[str],
) -> None:
    """Refuse a categorical level (or interaction cell) with no events, or only events."""
    problems = []
    for v, lv in design.levels.items():
        if v in skip:
            continue
        codes = level_codes(cells[v], lv)
        ev = np.bincount(codes, weights=events, minlength=len(lv))
        n = np.bincount(codes, weights=cells["rows"].to_numpy(float), minlength=len(lv))
        tr = None if trials is None else np.bincount(codes, weights=trials, minlength=len(lv))
        for i, level in enumerate(lv):
            if n[i] == 0:
                continue
            if ev[i] == 0 or (tr is not None and ev[i] == tr[i]):
                problems.append((v, level, int(n[i]), ev[i]))
    for j, col in enumerate(columns):
        term = design.term_of(col)
        vars_ = term_variables(term) if term != "Intercept" else []
        if len(vars_) < 2 or any(v in design.numeric or v in skip for v in vars_):
            continue
        colj = x[:, [j]]
        colj = np.asarray(colj.todense()).ravel() if sp.issparse(colj) else colj.ravel()
        on = colj > 0
        ev = events[on].sum()
        if on.any() and (ev == 0 or (trials is not None and ev == trials[on].sum())):
            problems.append((col, "", int(cells["rows"].to_numpy()[on].sum()), ev))
    if problems:
        lines = [
            f"  {v}{'=' + str(level) if level != '' else ''}: {n} rows, {ev:g} events"
            for v, level, n, ev in problems[:10]
        ]
        raise SparseLevelError(
            "these covariate levels have no events (or only events), so their "
            "coefficients cannot be estimated:\n"
            + "\n".join(lines)
            + "\nPool sparse levels (for example 3 and 4 deprived domains), or leave the "
            "term out of the model."
        )


def _drop_uninformative_groups(
    cells: pd.DataFrame, fe: str, events: str, trials: str | None
) -> tuple[pd.DataFrame, dict]:
    """Drop fixed-effect groups with no events (or only events): they carry no
    within-group information and their dummy would diverge (Stata's logit does the same)."""
    g = cells.groupby(fe, observed=True, sort=False)
    ev = g[events].transform("sum")
    bad = ev == 0
    if trials is not None:
        bad |= ev == g[trials].transform("sum")
    if not bad.any():
        return cells, {}
    info = {
        "fixed_effect_groups_dropped": int(cells.loc[bad, fe].nunique()),
        "rows_dropped": int(cells.loc[bad, "rows"].sum()),
        "reason": "no events, or only events, in the group",
    }
    return cells.loc[~bad].reset_index(drop=True), info


def _prepare(cells, terms, reference, numeric, fixed_effects, cluster, weights_col):
    for col in [cluster] if cluster else []:
        if col not in cells.columns:
            raise KeyError(
                f"cluster column {col!r} is not in the cells: put it in the collapse keys "
                "so that every cell lies within one cluster"
            )
    design = Design.from_frame(
        cells, terms, reference=reference, numeric=numeric, fixed_effects=fixed_effects
    )
    x = design.matrix(cells, sparse=len(design.columns) > SPARSE_ABOVE_COLUMNS)
    keep = independent_columns(x, weights=cells[weights_col].to_numpy(float))
    omitted = [c for c, k in zip(design.columns, keep) if not k]
    x = x[:, np.flatnonzero(keep)]
    if sp.issparse(x):
        x = x.tocsr()
    return design, x, keep, omitted


def _finish(
    problem: _Problem,
    res: _IRLSResult,
    x_cols,
    design,
    cells,
    *,
    name,
    outcome,
    family,
    link,
    cluster,
    n_rows,
    n_events,
    omitted,
    dropped,
    exposure=None,
    unit="children",
    alpha=None,
    fixed_effects=None,
    exposure_terms=(),
    adjust_terms=(),
    notes=None,
) -> ModelFit:
    params = np.asarray(res.params)
    k = len(params)
    if family == "binomial":
        # row-level (Bernoulli) log-likelihood: the cell likelihood without log C(n, e)
        ev = cells["events"].to_numpy(float)
        tr = cells["trials"].to_numpy(float)
        mu = np.clip(problem.mu(params), 1e-300, 1 - 1e-16)
        llf = float(np.sum(ev * np.log(mu)) + np.sum((tr - ev) * np.log1p(-mu)))
    else:
        llf = problem.loglike(params)
    if cluster is not None:
        cov, g = cluster_robust_cov(
            problem.score_obs(params), problem.hessian(params), cells[cluster].to_numpy(), n_rows
        )
        cov_type, resid_df = "cluster", g - 1
    else:
        cov, g = np.asarray(res.normalized_cov), None
        cov_type, resid_df = "nonrobust", int(n_rows - k)
    converged = bool(getattr(res, "converged", True))
    notes = list(notes or [])
    if not converged:
        notes.append("the fit did not converge: treat the estimates with caution")
        warnings.warn(f"model {name}: the fit did not converge", RuntimeWarning, stacklevel=3)
    return ModelFit(
        name=name,
        outcome=outcome,
        family=family,
        link=link,
        design=design,
        params=pd.Series(params, index=x_cols),
        cov=pd.DataFrame(cov, index=x_cols, columns=x_cols),
        cov_type=cov_type,
        cluster=cluster,
        n_clusters=g,
        n_rows=int(n_rows),
        n_events=float(n_events),
        n_cells=len(cells),
        residual_df=int(resid_df),
        cells=cells,
        exposure=exposure,
        unit=unit,
        omitted=omitted,
        dropped=dropped,
        llf=llf,
        alpha=alpha,
        converged=converged,
        notes=notes,
        fixed_effects=fixed_effects,
        exposure_terms=tuple(exposure_terms),
        adjust_terms=tuple(adjust_terms),
    )


# --------------------------------------------------------------------------- binomial
@limit_blas_threads
def fit_binomial(
    cells: pd.DataFrame,
    terms,
    *,
    link: str = "logit",
    cluster: str | None = "la_code",
    fixed_effects: str | None = None,
    reference: dict | None = None,
    numeric=(),
    events: str = "events",
    trials: str = "trials",
    name: str | None = None,
    outcome: str = "",
    unit: str = "children",
    exposure_terms=(),
    adjust_terms=(),
) -> ModelFit:
    """Binomial GLM of ``events`` out of ``trials`` on ``terms``, fitted on cells.

    ``link`` is ``"logit"`` (coefficients are log odds ratios) or ``"cloglog"``
    (log hazard ratios of the grouped proportional-hazards model: Prentice & Gloeckler
    1978, Biometrics 34(1)). ``fixed_effects`` adds treatment-coded dummies of that
    column (for example ``la_code``), dropping groups without within-group variation in
    the outcome. Cluster-robust CR1 errors by ``cluster`` (see the module docstring),
    equal to the row-level statsmodels fit. Raises :class:`SparseLevelError` when a
    covariate level has no events.
    """
    if link not in ("logit", "cloglog"):
        raise ValueError(f"binomial link must be 'logit' or 'cloglog', not {link!r}")
    cells = cells.loc[cells[trials] > 0].reset_index(drop=True)
    if "rows" not in cells.columns:
        cells = cells.assign(rows=cells[trials])
    dropped = {}
    if fixed_effects is not None:
        cells, dropped = _drop_uninformative_groups(cells, fixed_effects, events, trials)
    design, x, keep, omitted = _prepare(
        cells, terms, reference, numeric, fixed_effects, cluster, trials
    )
    ev = cells[events].to_numpy(float)
    tr = cells[trials].to_numpy(float)
    x_cols = [c for c, k in zip(design.columns, keep) if k]
    _categorical_checks(
        design, x, x_cols, cells, ev, tr, skip={fixed_effects} if fixed_effects else set()
    )
    problem = _Problem(x, ev / tr, tr, sm.families.Binomial(link=LINKS[link]()), np.zeros(len(ev)))
    res = _irls(problem, mu_start=(ev + 0.5) / (tr + 1.0))
    return _finish(
        problem,
        res,
        x_cols,
        design,
        cells,
        name=name or f"{outcome}~{'+'.join(terms)}",
        outcome=outcome,
        family="binomial",
        link=link,
        cluster=cluster,
        n_rows=int(tr.sum()),
        n_events=float(ev.sum()),
        omitted=omitted,
        dropped=dropped,
        unit=unit,
        fixed_effects=fixed_effects,
        exposure_terms=exposure_terms,
        adjust_terms=adjust_terms,
    )


# --------------------------------------------------------------------------- Poisson
@limit_blas_threads
def fit_poisson(
    cells: pd.DataFrame,
    terms,
    *,
    cluster: str | None = "la_code",
    fixed_effects: str | None = None,
    reference: dict | None = None,
    numeric=(),
    events: str = "events",
    exposure: str = "exposure",
    rows: str = "rows",
    name: str | None = None,
    outcome: str = "",
    unit: str = "children",
    exposure_terms=(),
    adjust_terms=(),
) -> ModelFit:
    """Poisson log-linear model of summed counts with a log(exposure) offset, on cells.

    Coefficients are log rate ratios. With cluster-robust errors the Poisson fit is the
    quasi-likelihood estimator, valid under over-dispersion (Wooldridge 1999, J Econom
    90(1)); equal to the row-level statsmodels fit with ``exposure=``.
    """
    cells = cells.copy()
    if rows not in cells.columns:
        raise KeyError(f"cells need a {rows!r} column (rows per cell)")
    if (cells[exposure] <= 0).any():
        zero = cells[exposure] <= 0
        if (cells.loc[zero, events] > 0).any():
            raise ValueError(
                "some cells have events but no exposure: check the exposure column "
                f"{exposure!r} (events cannot happen in zero follow-up)"
            )
        cells = cells.loc[~zero].reset_index(drop=True)
    if rows != "rows":
        cells["rows"] = cells[rows]
    dropped = {}
    if fixed_effects is not None:
        cells, dropped = _drop_uninformative_groups(cells, fixed_effects, events, None)
    design, x, keep, omitted = _prepare(
        cells, terms, reference, numeric, fixed_effects, cluster, exposure
    )
    ev = cells[events].to_numpy(float)
    x_cols = [c for c, k in zip(design.columns, keep) if k]
    _categorical_checks(
        design, x, x_cols, cells, ev, None, skip={fixed_effects} if fixed_effects else set()
    )
    expo = cells[exposure].to_numpy(float)
    problem = _Problem(x, ev, np.ones_like(ev), sm.families.Poisson(), np.log(expo))
    res = _irls(problem, mu_start=ev + 0.1)
    return _finish(
        problem,
        res,
        x_cols,
        design,
        cells,
        name=name or f"{outcome}~{'+'.join(terms)}",
        outcome=outcome,
        family="poisson",
        link="log",
        cluster=cluster,
        n_rows=int(cells["rows"].sum()),
        n_events=float(ev.sum()),
        omitted=omitted,
        dropped=dropped,
        exposure=float(cells[exposure].sum()),
        unit=unit,
        fixed_effects=fixed_effects,
        exposure_terms=exposure_terms,
        adjust_terms=adjust_terms,
    )


# --------------------------------------------------------------------------- NB2
@limit_blas_threads
def fit_negative_binomial(
    frame: pd.DataFrame,
    terms,
    *,
    count: str,
    exposure: str,
    cluster: str | None = "la_code",
    fixed_effects: str | None = None,
    reference: dict | None = None,
    numeric=(),
    name: str | None = None,
    alpha_bounds: tuple[float, float] = (1e-4, 100.0),
    exposure_terms=(),
    adjust_terms=(),
) -> ModelFit:
    """Negative binomial (NB2: variance mu + alpha mu^2) model of counts, log exposure offset.

    Fitted exactly on distinct rows with frequency weights (rows identical in every
    covariate, the cluster, the count and the exposure have identical likelihood
    contributions), so millions of children with small counts and a common follow-up
    fit quickly; continuous exposures give less compression but the same answer.
    alpha is estimated by maximising the profile log-likelihood over log(alpha)
    (bounded Brent search); the coefficients and their CR1 cluster-robust covariance are
    those of the GLM with alpha fixed at its estimate (beta and alpha are orthogonal in
    the NB2 information matrix; Lawless 1987, Can J Stat 15(3)). The estimates equal
    statsmodels' ``NegativeBinomial`` (NB2) maximum likelihood on rows.
    """
    variables = terms_variables(terms)
    keys = list(
        dict.fromkeys(
            variables
            + ([fixed_effects] if fixed_effects else [])
            + ([cluster] if cluster else [])
            + [count, exposure]
        )
    )
    d = distinct_rows(frame, keys)
    d = d.loc[d[exposure] > 0].reset_index(drop=True)
    dropped = {}
    if fixed_effects is not None:
        d, dropped = _drop_uninformative_groups(d, fixed_effects, count, None)
    design, x, keep, omitted = _prepare(
        d, terms, reference, numeric, fixed_effects, cluster, "rows"
    )
    y = d[count].to_numpy(float)
    w = d["rows"].to_numpy(float)
    x_cols = [c for c, k in zip(design.columns, keep) if k]
    _categorical_checks(
        design, x, x_cols, d, y * w, None, skip={fixed_effects} if fixed_effects else set()
    )
    expo = d[exposure].to_numpy(float)
    offset = np.log(expo)
    start = _irls(_Problem(x, y, w, sm.families.Poisson(), offset), mu_start=y + 0.1)
    mu_start = np.exp(np.asarray(x @ start.params).ravel() + offset)

    def fit_at(alpha):
        problem = _Problem(x, y, w, sm.families.NegativeBinomial(alpha=alpha), offset)
        r = _irls(problem, mu_start=mu_start)
        return problem, r, problem.loglike(r.params)

    def nll(log_alpha):
        return -fit_at(np.exp(log_alpha))[2]

    lo, hi = np.log(alpha_bounds[0]), np.log(alpha_bounds[1])
    opt = optimize.minimize_scalar(nll, bounds=(lo, hi), method="bounded", options={"xatol": 1e-9})
    alpha = float(np.exp(opt.x))
    notes = []
    if opt.x - lo < 1e-3:
        notes.append(
            "alpha is at its lower bound: no over-dispersion detected; "
            "the Poisson model is adequate"
        )
    problem, res, _ = fit_at(alpha)
    d = d.rename(columns={count: "events_per_row"})
    d["events"] = d["events_per_row"] * d["rows"]
    d["exposure"] = d[exposure] * d["rows"]
    return _finish(
        problem,
        res,
        x_cols,
        design,
        d,
        name=name or f"{count}~{'+'.join(terms)}",
        outcome=count,
        family="negative_binomial",
        link="log",
        cluster=cluster,
        n_rows=int(w.sum()),
        n_events=float((y * w).sum()),
        omitted=omitted,
        dropped=dropped,
        exposure=float((expo * w).sum()),
        alpha=alpha,
        fixed_effects=fixed_effects,
        exposure_terms=exposure_terms,
        adjust_terms=adjust_terms,
        notes=notes,
    )
