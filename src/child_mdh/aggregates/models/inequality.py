"""Deprivation profiles, population attributable fractions and inequality gradients.

Pure functions of the models' analysis frames (:mod:`child_mdh.aggregates.models.prepare`);
the release is :mod:`child_mdh.release.models.inequality`. Methods and sources are in
``docs/models.md`` (sections *Deprivation profiles*, *Population attributable fractions*
and *Inequality gradients*).

- **Deprivation profiles**: every combination of the index's indicators (32 for the
  four census domains and free school meals), with the number of children, the rate of
  each outcome and the adjusted odds ratio of the profile against the profile with no
  deprivation, from a logit model of the outcome on the profile and the models'
  covariates on covariate-pattern cells, errors clustered by local authority
  (:func:`fit_profile_model`). Profiles with fewer than the threshold's children, events
  or non-events share one pooled level in the model (their ratios are not estimated).
- **Population attributable fractions** (Greenland & Drescher 1993, Biometrics 49(3)):
  ``PAF = 1 - sum_c w_c p_c(exposure at reference) / sum_c w_c p_c(observed)`` over
  the fitted model's cells ``c`` of ``w_c`` children, with a delta-method interval on
  the log(1 - PAF) scale from the model's cluster-robust covariance
  (:func:`attributable_fraction`). Contacts *associated with* the exposure under the
  model, not contacts the exposure caused.
- **Inequality gradients**: rates by number of deprived indicators, and the slope and
  relative indices of inequality by the Fingertips (PHE) method: ridit scores at the
  cumulative population midpoints of the ordered groups, least squares of the rate on
  the ridit weighted by the groups' populations, SII the slope, RII the fitted value at
  ridit 1 over the fitted value at ridit 0, intervals by simulating each group's rate
  from a normal distribution with the standard error implied by its 95% Wilson
  interval (:func:`slope_index`; Low & Low 2004, J Public Health 26(4); PHE,
  *PHEindicatormethods* ``phe_sii``).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from child_mdh.aggregates.models.collapse import binary_cells
from child_mdh.aggregates.models.glm import ModelFit, fit_binomial
from child_mdh.aggregates.models.tidy import _inverse, _set_level, tidy

PROFILE = "deprivation_profile"
NO_DEPRIVATION = "none"
POOLED = "pooled (small profiles)"
N_DEPRIVED = "deprived_indicators"
SEPARATOR = "+"


# ------------------------------------------------------------------------- profiles
def profile_levels(indicators: Sequence[str]) -> list[str]:
    """Every profile of ``indicators`` (2**d labels): ``none``, then each single
    indicator, each pair, ... in the indicators' order; a profile is the deprived
    indicators joined by ``+`` (``employment+fsm``)."""
    out = [NO_DEPRIVATION]
    for k in range(1, len(indicators) + 1):
        out += [SEPARATOR.join(c) for c in itertools.combinations(indicators, k)]
    return out


def profile_size(label: str) -> int:
    """The number of deprived indicators of a profile label."""
    return 0 if label == NO_DEPRIVATION else len(label.split(SEPARATOR))


def add_profiles(frame: pd.DataFrame, indicators: Sequence[str]) -> pd.DataFrame:
    """``frame`` with each child's profile (:data:`PROFILE`, missing when an indicator
    is missing) and number of deprived indicators (:data:`N_DEPRIVED`, Int64)."""
    flags = np.column_stack(
        [frame[i].astype("boolean").to_numpy(bool, na_value=False) for i in indicators]
    )
    missing = np.column_stack([frame[i].isna().to_numpy() for i in indicators]).any(axis=1)
    code = flags.astype(np.int64) @ (1 << np.arange(len(indicators), dtype=np.int64))
    labels = np.array(
        [
            SEPARATOR.join(i for j, i in enumerate(indicators) if c >> j & 1) or NO_DEPRIVATION
            for c in range(1 << len(indicators))
        ],
        dtype=object,
    )
    out = frame.copy()
    out[PROFILE] = pd.array(np.where(missing, None, labels[code]), dtype="string")
    out[N_DEPRIVED] = pd.array(np.where(missing, None, flags.sum(axis=1)), dtype="Int64")
    return out


def profile_counts(
    frame: pd.DataFrame, outcomes: Sequence[str], indicators: Sequence[str]
) -> pd.DataFrame:
    """Children (``children_n``) and children with each outcome (``<outcome>_n``) by
    profile, every profile of ``indicators`` listed (zeros included); children with a
    missing indicator or outcome are left out. ``frame`` has :data:`PROFILE`."""
    keep = frame[PROFILE].notna()
    for o in outcomes:
        keep &= frame[o].notna()
    f = frame.loc[keep]
    g = f.groupby(PROFILE, observed=True)
    out = pd.DataFrame({"children_n": g.size()})
    for o in outcomes:
        out[f"{o}_n"] = g[o].sum()
    levels = profile_levels(indicators)
    out = out.reindex(levels).fillna(0).astype("int64")
    out.index.name = PROFILE
    return out.reset_index()


def pooled_profiles(
    frame: pd.DataFrame, outcome: str, min_count: int
) -> tuple[pd.Series, list[str]]:
    """The profile of each child for the model of ``outcome``: its own when the profile
    holds at least ``min_count`` children, events and non-events, else :data:`POOLED`;
    and the profiles modelled on their own."""
    y = frame[outcome].astype("boolean")
    ok = frame[PROFILE].notna() & y.notna()
    g = pd.DataFrame({"p": frame.loc[ok, PROFILE], "y": y[ok].astype(int)}).groupby("p")["y"]
    n, e = g.size(), g.sum()
    own = sorted(n.index[(n >= min_count) & (e >= min_count) & (n - e >= min_count)])
    pooled = frame[PROFILE].where(frame[PROFILE].isin(own) | frame[PROFILE].isna(), POOLED)
    return pooled, own


def fit_profile_model(
    frame: pd.DataFrame,
    outcome: str,
    adjust: Sequence[str] = (),
    *,
    min_count: int = 10,
    link: str = "logit",
    cluster: str | None = "la_code",
    name: str | None = None,
) -> ModelFit:
    """The model of ``outcome`` on the profile (reference: no deprivation) and ``adjust``,
    fitted on covariate-pattern cells with errors clustered by ``cluster``.

    Profiles below ``min_count`` children, events or non-events share the level
    :data:`POOLED` (dropped when it has no events or no non-events, so the model is
    estimable). Raises ``ValueError`` when the no-deprivation profile itself is too small.
    """
    pooled, own = pooled_profiles(frame, outcome, min_count)
    if NO_DEPRIVATION not in own:
        raise ValueError(
            f"the profile with no deprivation holds fewer than {min_count} children, "
            f"events or non-events of {outcome}: no reference for the profile ratios"
        )
    f = frame.assign(**{PROFILE: pooled})
    small = f[PROFILE] == POOLED
    if small.any():
        ev = f.loc[small, outcome].astype(float)
        if ev.sum() == 0 or ev.sum() == ev.notna().sum():
            f = f.loc[~small]
    keys = list(dict.fromkeys([PROFILE, *adjust, *([cluster] if cluster else [])]))
    cells = binary_cells(f, outcome, keys)
    cells[PROFILE] = cells[PROFILE].astype(str)
    return fit_binomial(
        cells,
        [PROFILE, *adjust],
        link=link,
        cluster=cluster,
        reference={PROFILE: NO_DEPRIVATION},
        name=name or f"{outcome}_profile_{link}",
        outcome=outcome,
        exposure_terms=(PROFILE,),
        adjust_terms=tuple(adjust),
    )


def profile_ratios(fit: ModelFit, conf_level: float = 0.95) -> pd.DataFrame:
    """The ratio of each modelled profile to no deprivation (odds ratios for the logit
    link, hazard ratios for cloglog) with its interval: columns ``profile``,
    ``estimate``, ``std_error``, ``ratio``, ``ratio_low``, ``ratio_high``; the reference
    profile has ratio 1 (no interval), the pooled level is left out."""
    t = tidy(fit, conf_level)
    t = t.loc[t["variable"] == PROFILE]
    prefix = f"{PROFILE}[T."
    out = pd.DataFrame(
        {
            PROFILE: [s[len(prefix) : -1] for s in t["term"]],
            "estimate": t["estimate"].to_numpy(),
            "std_error": t["std_error"].to_numpy(),
            "ratio": t["ratio"].to_numpy(),
            "ratio_low": t["ratio_low"].to_numpy(),
            "ratio_high": t["ratio_high"].to_numpy(),
        }
    )
    ref = pd.DataFrame(
        {PROFILE: [NO_DEPRIVATION], "estimate": [0.0], "std_error": [np.nan], "ratio": [1.0]}
    )
    out = pd.concat([ref, out], ignore_index=True)
    return out.loc[out[PROFILE] != POOLED].reset_index(drop=True)


# ----------------------------------------------------------- attributable fractions
def _z(conf_level: float) -> float:
    return float(stats.norm.ppf(1 - (1 - conf_level) / 2))


def _expected(fit: ModelFit, cells: pd.DataFrame) -> tuple[float, np.ndarray]:
    """sum_c w_c mu_c over ``cells`` and its gradient in the coefficients."""
    x = fit.design_matrix(cells)
    eta = np.asarray(x @ fit.params.to_numpy()).ravel()
    inv, dinv = _inverse(fit)
    w = cells["rows"].to_numpy(float)
    return float(np.sum(w * inv(eta))), np.asarray(x.T @ (w * dinv(eta))).ravel()


@dataclass(frozen=True)
class AttributableFraction:
    """A model-based PAF with its interval and the expected events behind it."""

    paf: float
    low: float
    high: float
    std_error_log: float
    expected_observed: float
    expected_reference: float


def attributable_fraction(
    fit: ModelFit, reference: Mapping[str, object], conf_level: float = 0.95
) -> AttributableFraction:
    """Population attributable fraction of the exposures in ``reference`` (variable ->
    its reference level) under ``fit`` (Greenland & Drescher 1993): one minus the events
    the model expects with every child at the reference levels, other covariates as
    observed, over the events it expects as observed; summed over the fit's cells,
    weighted by their children. Interval: delta method on log(1 - PAF) with the fit's
    covariance (cluster-robust where clustered)."""
    cells = fit.cells
    s1, g1 = _expected(fit, cells)
    cf = cells
    for var, level in reference.items():
        cf = _set_level(cf, var, level)
    s0, g0 = _expected(fit, cf)
    grad = g0 / s0 - g1 / s1  # of log(s0 / s1)
    v = fit.cov.to_numpy()
    se = float(np.sqrt(max(grad @ v @ grad, 0.0)))
    r, z = s0 / s1, _z(conf_level)
    return AttributableFraction(
        paf=1 - r,
        low=1 - r * np.exp(z * se),
        high=1 - r * np.exp(-z * se),
        std_error_log=se,
        expected_observed=s1,
        expected_reference=s0,
    )


def miettinen_paf(exposed_cases: float, cases: float, risk_ratio: float) -> float:
    """Miettinen's (1974) PAF, ``p_c (RR - 1) / RR``, with ``p_c`` the share of cases
    exposed: the unadjusted fraction for one binary exposure (a check of
    :func:`attributable_fraction`)."""
    return exposed_cases / cases * (risk_ratio - 1) / risk_ratio


# ---------------------------------------------------------------- inequality indices
def ridits(population: Sequence[float]) -> np.ndarray:
    """Ridit scores of ordered groups: the midpoint of each group's range in the
    cumulative population share (0 to 1)."""
    n = np.asarray(population, dtype=float)
    cum = np.cumsum(n) / n.sum()
    return cum - n / n.sum() / 2


def _wls(a: np.ndarray, n: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Intercepts and slopes of the least squares of each row of ``y`` on ``a`` weighted
    by ``n`` (``y`` is groups or draws x groups)."""
    x = np.column_stack([np.ones_like(a), a])
    xtw = x.T * n
    coef = np.linalg.solve(xtw @ x, xtw @ np.atleast_2d(y).T)
    return coef[0], coef[1]


@dataclass(frozen=True)
class InequalityIndex:
    """SII and RII (rates as proportions) with their simulation intervals."""

    sii: float
    sii_low: float
    sii_high: float
    rii: float
    rii_low: float
    rii_high: float


def slope_index(
    events: Sequence[float],
    children: Sequence[float],
    *,
    conf_level: float = 0.95,
    repetitions: int = 100_000,
    seed: int = 2021,
) -> InequalityIndex:
    """Slope and relative index of inequality of the rates ``events / children`` of
    groups ordered from least to most deprived (Fingertips method, module docstring).

    SII: the slope of the rate on the ridit, weighted by the groups' children (the
    difference in rate between the hypothetical most and least deprived child); RII: the
    fitted rate at ridit 1 over that at ridit 0. Intervals: each group's rate drawn
    ``repetitions`` times from a normal distribution with its value as mean and the
    standard error (upper - lower) / (2 x 1.96) of its 95% Wilson interval, the
    regression refitted on each draw, percentiles of the draws (PHE ``phe_sii``).
    The RII is missing when the fitted rate at ridit 0 is not positive (a steep gradient
    over a large least deprived group extrapolates below zero), and its interval when
    more than the interval's tail of the draws do so (a draw with a fitted rate at
    ridit 0 of zero or less counts as an infinite RII).
    """
    x = np.asarray(events, dtype=float)
    n = np.asarray(children, dtype=float)
    if len(n) < 2 or (n <= 0).any():
        raise ValueError("slope_index needs at least two groups, each with children")
    p = x / n
    a = ridits(n)
    b0, b1 = (float(v[0]) for v in _wls(a, n, p))
    z95 = _z(0.95)
    centre, half = 2 * x + z95**2, z95 * np.sqrt(z95**2 + 4 * x * (1 - x / n))
    lo, hi = (centre - half) / (2 * (n + z95**2)), (centre + half) / (2 * (n + z95**2))
    se = (hi - lo) / (2 * z95)
    rng = np.random.default_rng(seed)
    draws = p + rng.standard_normal((repetitions, len(n))) * se
    i0, s1 = _wls(a, n, draws)
    q = [(1 - conf_level) / 2 * 100, (1 + conf_level) / 2 * 100]
    sl, sh = np.percentile(s1, q)
    # the RII is undefined when the fitted rate at ridit 0 is not positive; its interval
    # when more draws than the interval's tail give such a rate
    rii = (b0 + b1) / b0 if b0 > 0 else np.nan
    rl = rh = np.nan
    if np.mean(i0 <= 0) <= (1 - conf_level) / 2:
        with np.errstate(divide="ignore", invalid="ignore"):
            rii_draws = np.where(i0 > 0, (i0 + s1) / i0, np.inf)
        rl, rh = np.percentile(rii_draws, q)
    return InequalityIndex(b1, float(sl), float(sh), rii, float(rl), float(rh))


__all__ = [
    "NO_DEPRIVATION",
    "N_DEPRIVED",
    "POOLED",
    "PROFILE",
    "AttributableFraction",
    "InequalityIndex",
    "add_profiles",
    "attributable_fraction",
    "fit_profile_model",
    "miettinen_paf",
    "pooled_profiles",
    "profile_counts",
    "profile_levels",
    "profile_ratios",
    "profile_size",
    "ridits",
    "slope_index",
]
