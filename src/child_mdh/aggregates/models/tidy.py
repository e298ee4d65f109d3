"""Tidy tables of fitted models: coefficients, standardised predicted rates, average
marginal effects and a plain-English sentence per model.

These functions return DataFrames and strings; they never write files (disclosure
control and release happen elsewhere). Count columns end in ``_n`` as the release
convention asks (``docs/data-contract.md``): ``children_n`` children in the model,
``observations_n`` rows of the model (children, or person-periods for hazards),
``events_n`` events, and for each coefficient the rows and events where its design
column is not zero (``term_observations_n``, ``term_events_n``: for a categorical level
the rows with that level, for a slope on a number the rows where it is not zero) so that
the disclosure check can see a coefficient resting on few events.

Standardised (marginally adjusted) predicted rates: for each level of a variable, every
child is given that level, keeping their other covariates, and the model's predictions
are averaged over the observed covariate distribution (Muller & MacLehose 2014, Int J
Epidemiol 43(3)); on cells this is the average weighted by the number of children.
Confidence intervals by the delta method, computed on the logit scale for probabilities
and the log scale for rates so that they stay in range, or by simulation from the
estimated sampling distribution of the coefficients (King, Tomz & Wittenberg 2000, Am J
Polit Sci 44(2)). Average marginal effects of a categorical variable are differences of
standardised predictions from the reference level, with delta-method errors.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from child_mdh.aggregates.models.design import _level_label
from child_mdh.aggregates.models.glm import LINKS, SPARSE_ABOVE_COLUMNS, ModelFit

LINK_WORDS = {"logit": "odds", "cloglog": "hazard", "log": "rate"}


def _z(conf_level: float) -> float:
    return float(stats.norm.ppf(1 - (1 - conf_level) / 2))


def _children_n(fit: ModelFit) -> int:
    if fit.unit == "person-periods" and "period" in fit.cells.columns:
        c = fit.cells
        return int(c.loc[c["period"] == c["period"].min(), "rows"].sum())
    return int(fit.n_rows)


def _wide(fit: ModelFit) -> bool:
    return len(fit.params) > SPARSE_ABOVE_COLUMNS


def _term_counts(fit: ModelFit) -> tuple[np.ndarray, np.ndarray]:
    """Rows and events in the cells where each coefficient's design column is not zero:
    for a categorical level (or an interaction of levels) the rows with that level; for
    a term with a numeric variable (an area prevalence, say) the rows where the variable
    is not zero, which are the rows informing that slope; for the intercept all rows."""
    x = fit.design_matrix(fit.cells, sparse=True).tocsr(copy=True)
    x.data = (x.data != 0).astype(float)
    obs = np.asarray(x.T @ fit.cells["rows"].to_numpy(float)).ravel()
    ev = np.asarray(x.T @ fit.cells["events"].to_numpy(float)).ravel()
    return obs, ev


def tidy(
    fit: ModelFit,
    conf_level: float = 0.95,
    *,
    include_intercept: bool = False,
    include_fixed_effects: bool = False,
) -> pd.DataFrame:
    """One row per coefficient: estimate, standard error, z, p, confidence interval,
    the ratio (odds / hazard / rate ratio: exp of the estimate) and its interval, the
    counts behind the model and behind the coefficient, residual degrees of freedom.

    p-values and intervals use the normal distribution with the fit's covariance
    (cluster-robust CR1 where clustered). ``residual_df`` is the number of clusters
    minus 1 for cluster-robust fits, rows minus coefficients otherwise.
    """
    z = _z(conf_level)
    est = fit.params.to_numpy()
    se = fit.bse.to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = est / se
    p = 2 * stats.norm.sf(np.abs(stat))
    lo, hi = est - z * se, est + z * se
    has_ratio = fit.ratio_name is not None
    obs, ev = _term_counts(fit)
    terms = [fit.design.term_of(c) for c in fit.params.index]
    out = pd.DataFrame(
        {
            "model": fit.name,
            "outcome": fit.outcome,
            "family": fit.family,
            "link": fit.link,
            "term": fit.params.index,
            "variable": terms,
            "estimate": est,
            "std_error": se,
            "statistic": stat,
            "p_value": p,
            "conf_low": lo,
            "conf_high": hi,
            "ratio": np.exp(est) if has_ratio else np.nan,
            "ratio_low": np.exp(lo) if has_ratio else np.nan,
            "ratio_high": np.exp(hi) if has_ratio else np.nan,
            "ratio_name": fit.ratio_name,
            "conf_level": conf_level,
            "children_n": _children_n(fit),
            "observations_n": int(fit.n_rows),
            "events_n": fit.n_events,
            "term_observations_n": obs,
            "term_events_n": ev,
            "residual_df": fit.residual_df,
            "n_clusters": fit.n_clusters,
            "cov_type": fit.cov_type,
            "unit": fit.unit,
        }
    )
    keep = np.ones(len(out), dtype=bool)
    if not include_intercept:
        keep &= out["term"].to_numpy() != "Intercept"
    if not include_fixed_effects and fit.fixed_effects is not None:
        keep &= np.array([t != fit.fixed_effects for t in terms])
    return out.loc[keep].reset_index(drop=True)


def tidy_models(fits, conf_level: float = 0.95) -> pd.DataFrame:
    """:func:`tidy` of several fits, stacked."""
    frames = [tidy(f, conf_level) for f in fits]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


# ----------------------------------------------------------------- predictions
def _inverse(fit: ModelFit):
    if fit.link == "identity":
        return (lambda e: e), (lambda e: np.ones_like(e))
    link = LINKS[fit.link]()
    return link.inverse, link.inverse_deriv


def _levels(fit: ModelFit, variable: str) -> list:
    if variable in fit.design.levels:
        return list(fit.design.levels[variable])
    raise ValueError(
        f"{variable!r} is not a categorical variable of model {fit.name}; its categorical "
        f"variables are {list(fit.design.levels)}"
    )


def _set_level(cells: pd.DataFrame, variable: str, level) -> pd.DataFrame:
    cells = cells.copy()
    col = cells[variable]
    if isinstance(col.dtype, pd.CategoricalDtype):
        cells[variable] = pd.Categorical([level] * len(cells), categories=col.cat.categories)
    else:
        cells[variable] = pd.Series([level] * len(cells), index=cells.index).astype(col.dtype)
    return cells


def _standardised(fit: ModelFit, variable: str, level) -> tuple[float, np.ndarray]:
    """Mean prediction with every row set to ``level``, and its gradient in the params."""
    if fit.link == "identity" and fit.fixed_effects is not None:
        raise NotImplementedError(
            "standardised predictions need the absorbed effects; use the fixed-effect GLM "
            "(or the coefficients, which are the marginal effects of the linear model)"
        )
    cells = _set_level(fit.cells, variable, level)
    x = fit.design_matrix(cells, sparse=_wide(fit))
    eta = np.asarray(x @ fit.params.to_numpy()).ravel()
    inv, dinv = _inverse(fit)
    w = cells["rows"].to_numpy(float)
    mu = inv(eta)
    value = float(np.sum(w * mu) / w.sum())
    grad = np.asarray(x.T @ (w * dinv(eta))).ravel() / w.sum()
    return value, grad


def _rate_unit(fit: ModelFit, per: float) -> str:
    if fit.family in ("poisson", "negative_binomial"):
        return f"per {per:,.0f} child-years"
    if fit.unit == "person-periods":
        return f"per {per:,.0f} children at risk per period"
    return f"per {per:,.0f} children"


def predicted_rates(
    fit: ModelFit,
    variable: str,
    *,
    per: float = 10_000,
    conf_level: float = 0.95,
    method: str = "delta",
    n_sims: int = 2000,
    seed: int = 2021,
) -> pd.DataFrame:
    """Standardised predicted rates per ``per`` children (or child-years) for each level
    of ``variable``, with confidence intervals (``method="delta"`` or ``"simulation"``)
    and the children and events in the data at that level (``children_n``, ``events_n``).
    """
    if method not in ("delta", "simulation"):
        raise ValueError("method must be 'delta' or 'simulation'")
    z = _z(conf_level)
    levels = _levels(fit, variable)
    cells = fit.cells
    rows = cells.groupby(variable, observed=True)["rows"].sum()
    events = cells.groupby(variable, observed=True)["events"].sum()
    bounded = fit.family == "binomial" or fit.link == "identity"
    records = []
    draws = None
    if method == "simulation":
        rng = np.random.default_rng(seed)
        draws = rng.multivariate_normal(
            fit.params.to_numpy(), fit.cov.to_numpy(), n_sims, method="eigh"
        )
    for level in levels:
        value, grad = _standardised(fit, variable, level)
        se = float(np.sqrt(grad @ fit.cov.to_numpy() @ grad))
        if method == "delta":
            if fit.family == "binomial" and 0 < value < 1:
                t = np.log(value / (1 - value))
                st = se / (value * (1 - value))
                lo, hi = (1 / (1 + np.exp(-(t - z * st))), 1 / (1 + np.exp(-(t + z * st))))
            elif not bounded and value > 0:
                lo, hi = value * np.exp(-z * se / value), value * np.exp(z * se / value)
            else:
                lo, hi = value - z * se, value + z * se
        else:
            sims = _simulate_standardised(fit, variable, level, draws)
            lo, hi = np.quantile(sims, [(1 - conf_level) / 2, 1 - (1 - conf_level) / 2])
        records.append(
            {
                "model": fit.name,
                "outcome": fit.outcome,
                "variable": variable,
                "level": _level_label(level),
                "rate": value * per,
                "rate_low": lo * per,
                "rate_high": hi * per,
                "std_error": se * per,
                "unit": _rate_unit(fit, per),
                "method": method,
                "conf_level": conf_level,
                "children_n": int(rows.get(level, 0)),
                "events_n": float(events.get(level, 0)),
            }
        )
    return pd.DataFrame.from_records(records)


def _simulate_standardised(fit, variable, level, draws, batch: int = 100):
    cells = _set_level(fit.cells, variable, level)
    x = fit.design_matrix(cells, sparse=_wide(fit))
    inv, _ = _inverse(fit)
    w = cells["rows"].to_numpy(float)
    out = []
    for start in range(0, len(draws), batch):
        eta = np.asarray(x @ draws[start : start + batch].T)
        out.append(inv(eta).T @ w / w.sum())
    return np.concatenate(out)


def average_marginal_effects(
    fit: ModelFit, variable: str, *, per: float = 10_000, conf_level: float = 0.95
) -> pd.DataFrame:
    """Average marginal effect of each non-reference level of a categorical ``variable``:
    the difference of standardised predictions (level minus reference) per ``per``
    children (or child-years), with a delta-method standard error and normal interval."""
    z = _z(conf_level)
    levels = _levels(fit, variable)
    ref_value, ref_grad = _standardised(fit, variable, levels[0])
    v = fit.cov.to_numpy()
    records = []
    for level in levels[1:]:
        value, grad = _standardised(fit, variable, level)
        diff = value - ref_value
        g = grad - ref_grad
        se = float(np.sqrt(g @ v @ g))
        records.append(
            {
                "model": fit.name,
                "outcome": fit.outcome,
                "variable": variable,
                "level": _level_label(level),
                "reference": _level_label(levels[0]),
                "ame": diff * per,
                "std_error": se * per,
                "conf_low": (diff - z * se) * per,
                "conf_high": (diff + z * se) * per,
                "p_value": float(2 * stats.norm.sf(abs(diff / se))) if se > 0 else np.nan,
                "unit": _rate_unit(fit, per),
                "conf_level": conf_level,
            }
        )
    return pd.DataFrame.from_records(records)


# ----------------------------------------------------------------- sentences
_OUTCOME_WORDS = {
    "any_referral": "a referral to children's social care",
    "any_cin": "being a child in need (a referral not closed with no further action)",
    "any_cpp": "a child protection plan",
    "entered_care": "entering care",
    "n_referrals": "referrals",
    "first_referral": "a first referral",
}


def _fmt(x: float) -> str:
    return f"{x:.2f}" if abs(x) < 100 else f"{x:,.0f}"


def plain_term(fit: ModelFit, column: str) -> str:
    """A design column in words: ``n_domains[T.2]`` -> ``n_domains 2 (vs 0)``."""
    pieces = []
    for part in column.split(":"):
        if "[T." in part:
            var, level = part.split("[T.", 1)
            level = level.rstrip("]")
            ref = fit.design.levels.get(var, [None])[0]
            if level == "True" and ref is not None and _level_label(ref) == "False":
                pieces.append(var.replace("_", " "))
            else:
                pieces.append(f"{var.replace('_', ' ')} {level} (vs {_level_label(ref)})")
        else:
            pieces.append(f"{part.replace('_', ' ')} (per unit)")
    return " x ".join(pieces)


def summary_sentence(fit: ModelFit, conf_level: float = 0.95) -> str:
    """A plain-English sentence stating the model's main result (the exposure terms):
    the ratio (or percentage-point difference) and interval of each exposure
    coefficient, what it is adjusted for, the children and events behind it."""
    t = tidy(fit, conf_level)
    exposure = (
        list(fit.exposure_terms)
        or [v for v in dict.fromkeys(t["variable"]) if v != fit.fixed_effects][:1]
    )
    rows = t.loc[t["variable"].isin(exposure)]
    what = _OUTCOME_WORDS.get(fit.outcome, fit.outcome.replace("_", " "))
    pct = round(conf_level * 100)
    parts = []
    for _, r in rows.iterrows():
        label = plain_term(fit, r["term"])
        if fit.ratio_name:
            parts.append(
                f"{label}: {fit.ratio_name} {_fmt(r['ratio'])} "
                f"({pct}% CI {_fmt(r['ratio_low'])} to {_fmt(r['ratio_high'])})"
            )
        else:
            parts.append(
                f"{label}: {100 * r['estimate']:+.2f} percentage points "
                f"({pct}% CI {100 * r['conf_low']:+.2f} to "
                f"{100 * r['conf_high']:+.2f})"
            )
    adjust = [a for a in fit.adjust_terms if a not in exposure]
    adj = f", adjusted for {', '.join(a.replace('_', ' ') for a in adjust)}" if adjust else ""
    fe = (
        f" and {fit.fixed_effects} fixed effects"
        if fit.fixed_effects and adj
        else (f", with {fit.fixed_effects} fixed effects" if fit.fixed_effects else "")
    )
    cl = (
        f"; standard errors clustered by {fit.cluster} ({fit.n_clusters} clusters)"
        if fit.cov_type == "cluster"
        else ""
    )
    scale = {"logit": "odds", "cloglog": "hazard", "log": "rate"}.get(fit.link, "probability")
    body = "; ".join(parts) if parts else "no exposure coefficient estimated"
    return (
        f"{fit.name}: {scale} of {what}{adj}{fe}: {body}; "
        f"{_children_n(fit):,} children, {fit.n_events:,.0f} events{cl}."
    )
