"""Local-area statistics in the conventions of England's public-health profiles.

Proportions with Wilson score intervals, counts and rates with Byar's or exact Poisson
intervals, rate ratios, the 'similar / higher / lower than England' comparison, and
funnel-plot control limits, as published in the Fingertips technical guidance and
implemented in the R package PHEindicatormethods (``phe_proportion``, ``phe_rate``,
``calculate_funnel_limits``, ``assign_funnel_significance``).

Every function is vectorised: numbers, NumPy arrays or pandas Series in (broadcast
against each other), the same shape out. When an input is a Series the result is a Series
on its index. Missing values (NaN / NA) give missing results; impossible values (negative
counts, zero denominators, numerators above their denominators) raise ``ValueError``
naming the argument, the offending positions and how to fix them.

Formulas and sources are set out in ``docs/statistics.md``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special
from scipy import stats as sps

#: Confidence levels the profiles report: 95% and 99.8% (about two and three standard errors).
PROFILE_CONFIDENCE_LEVELS = (0.95, 0.998)

#: Significance labels of the funnel-plot method, as PHEindicatormethods writes them.
FUNNEL_LABELS = ("High (0.001)", "High (0.025)", "Low (0.001)", "Low (0.025)", "Not significant")

NOT_COMPARED = "not compared"


# --------------------------------------------------------------------------------------
# input handling
# --------------------------------------------------------------------------------------
def _template(*args):
    """The first pandas Series among ``args`` (its index shapes the result), else None."""
    for a in args:
        if isinstance(a, pd.Series):
            return a
    return None


def _as_float(value, name: str) -> np.ndarray:
    """``value`` as a float64 array, with pandas NA and None as NaN."""
    if isinstance(value, (pd.Series, pd.Index)):
        return pd.to_numeric(value, errors="raise").to_numpy(dtype="float64", na_value=np.nan)
    try:
        return np.asarray(value, dtype="float64")
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name}: expected numbers, got {value!r:.80}") from err


def _wrap(result: np.ndarray, template, scalar: bool):
    """Return ``result`` as a Series on ``template``'s index, a float, or an array."""
    if template is not None:
        return pd.Series(result, index=template.index)
    if scalar:
        if not isinstance(result, np.ndarray):
            return result
        return result.item() if result.dtype != object else result.reshape(-1)[0]
    return result


def _is_scalar(*args) -> bool:
    return all(np.ndim(a) == 0 for a in args)


def _fail_where(bad: np.ndarray, message: str, values: dict[str, np.ndarray]) -> None:
    """Raise ValueError listing up to five offending positions and their values."""
    if not np.any(bad):
        return
    positions = np.flatnonzero(np.ravel(bad))
    shown = []
    for pos in positions[:5]:
        parts = ", ".join(
            f"{k}={np.ravel(np.broadcast_to(v, bad.shape))[pos]:g}" for k, v in values.items()
        )
        shown.append(f"position {pos} ({parts})")
    raise ValueError(f"{message}: {len(positions)} value(s), e.g. {'; '.join(shown)}")


def z_value(confidence: float) -> float:
    """Two-sided standard normal quantile z = Phi^-1(1 - (1 - confidence)/2).

    ``confidence`` is a fraction in (0, 1): 0.95 gives 1.959964, 0.998 gives 3.090232.
    """
    confidence = float(confidence)
    if not 0 < confidence < 1:
        raise ValueError(
            f"confidence must be a fraction between 0 and 1 (e.g. 0.95 or 0.998), got {confidence}"
        )
    return float(sps.norm.ppf(1 - (1 - confidence) / 2))


def _counts_and_denominators(x, n, *, proportion: bool, x_name="x", n_name="n"):
    xa, na = np.broadcast_arrays(_as_float(x, x_name), _as_float(n, n_name))
    with np.errstate(invalid="ignore"):
        _fail_where(
            xa < 0,
            f"{x_name}: counts must be zero or more; fix the negative counts",
            {x_name: xa, n_name: na},
        )
        _fail_where(
            na <= 0,
            f"{n_name}: denominators must be greater than zero; drop or "
            "correct the areas with no population",
            {x_name: xa, n_name: na},
        )
        if proportion:
            _fail_where(
                xa > na,
                f"{x_name}: a proportion's numerator cannot exceed its "
                f"denominator ({n_name}); check that both count the same population",
                {x_name: xa, n_name: na},
            )
    return xa.astype("float64"), na.astype("float64")


# --------------------------------------------------------------------------------------
# proportions
# --------------------------------------------------------------------------------------
def wilson_interval(x, n, confidence: float = 0.95, multiplier: float = 1):
    """Wilson score interval for the proportion x/n: returns ``(lower, upper)``.

    Method (Wilson 1927, J Am Stat Assoc 22:209-212; PHE/OHID 'Confidence intervals'
    technical guide, as in PHEindicatormethods ``phe_proportion``), with
    z = Phi^-1(1 - (1 - confidence)/2)::

        lower, upper = (2x + z^2 -/+ z sqrt(z^2 + 4x(1 - x/n))) / (2(n + z^2))

    multiplied by ``multiplier`` (1 for a proportion of 1, 100 for a percentage).
    The interval never leaves [0, 1] and is defined at x = 0 and x = n.
    """
    template, scalar = _template(x, n), _is_scalar(x, n)
    z = z_value(confidence)
    xa, na = _counts_and_denominators(x, n, proportion=True)
    with np.errstate(invalid="ignore"):
        centre = 2 * xa + z * z
        half = z * np.sqrt(z * z + 4 * xa * (1 - xa / na))
        denom = 2 * (na + z * z)
        lower = np.clip((centre - half) / denom, 0, 1) * multiplier
        upper = np.clip((centre + half) / denom, 0, 1) * multiplier
    return _wrap(lower, template, scalar), _wrap(upper, template, scalar)


def proportion_summary(
    x, n, multiplier: float = 100, confidence_levels=PROFILE_CONFIDENCE_LEVELS
) -> pd.DataFrame:
    """Proportions x/n with Wilson intervals at each confidence level, as a DataFrame.

    Columns: ``value`` (x/n times ``multiplier``) and ``lower_95``, ``upper_95``,
    ``lower_99_8``, ``upper_99_8`` (one pair per level), as PHEindicatormethods
    ``phe_proportion`` reports them.
    """
    template = _template(x, n)
    xa, na = _counts_and_denominators(x, n, proportion=True)
    out = pd.DataFrame(
        {"value": xa / na * multiplier}, index=template.index if template is not None else None
    )
    for level in confidence_levels:
        lo, hi = wilson_interval(xa, na, level, multiplier)
        out[f"lower_{_level_label(level)}"] = lo
        out[f"upper_{_level_label(level)}"] = hi
    return out


def _level_label(level: float) -> str:
    """95 for 0.95, 99_8 for 0.998: the suffix used in column names."""
    text = f"{level * 100:.10g}"
    return text.replace(".", "_")


# --------------------------------------------------------------------------------------
# counts and rates
# --------------------------------------------------------------------------------------
def byar_interval(x, n=1, confidence: float = 0.95, multiplier: float = 1, method: str = "auto"):
    """Confidence interval for a count x (or the rate x/n times ``multiplier``).

    Returns ``(lower, upper)``. With z = Phi^-1(1 - (1 - c)/2) for confidence c:

    - Byar's approximation (Breslow & Day 1987, Statistical Methods in Cancer Research
      vol. II, IARC, p. 69)::

          lower = x (1 - 1/(9x) - z/(3 sqrt(x)))^3
          upper = (x + 1) (1 - 1/(9(x + 1)) + z/(3 sqrt(x + 1)))^3

    - the exact Poisson interval from the chi-square distribution (Garwood 1936)::

          lower = chi2((1 - c)/2; 2x) / 2      (0 when x = 0)
          upper = chi2(c + (1 - c)/2; 2x + 2) / 2

    ``method='auto'`` (the default) uses the exact interval when x < 10 and Byar's from
    10 upwards, as the PHE technical guide and ``phe_rate`` do; ``'byar'`` or ``'exact'``
    force one method (a negative Byar lower limit, which occurs only for very small x
    at high confidence, is set to 0). Both limits are divided by ``n`` and multiplied by
    ``multiplier``.
    """
    if method not in ("auto", "byar", "exact"):
        raise ValueError(f"method must be 'auto', 'byar' or 'exact', got {method!r}")
    template, scalar = _template(x, n), _is_scalar(x, n)
    z = z_value(confidence)
    alpha = 1 - float(confidence)
    xa, na = _counts_and_denominators(x, n, proportion=False)
    shape = xa.shape
    xa, na = xa.reshape(-1), na.reshape(-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        if method in ("auto", "byar"):
            byar_lo = xa * (1 - 1 / (9 * xa) - z / (3 * np.sqrt(xa))) ** 3
            byar_lo = np.where(xa == 0, 0.0, np.maximum(byar_lo, 0.0))
            x1 = xa + 1
            byar_hi = x1 * (1 - 1 / (9 * x1) + z / (3 * np.sqrt(x1))) ** 3
        if method == "byar":
            lower, upper = byar_lo, byar_hi
        else:
            # the chi-square quantiles are costly: compute them only where they are used
            use = np.ones(xa.shape, dtype=bool) if method == "exact" else xa < 10
            xs = xa[use]
            lower = np.empty(xa.shape) if method == "exact" else byar_lo.copy()
            upper = np.empty(xa.shape) if method == "exact" else byar_hi.copy()
            lower[use] = np.where(xs > 0, sps.chi2.ppf(alpha / 2, 2 * xs) / 2, 0.0)
            upper[use] = sps.chi2.ppf(1 - alpha / 2, 2 * xs + 2) / 2
        missing = np.isnan(xa) | np.isnan(na)
        lower = np.where(missing, np.nan, lower / na * multiplier).reshape(shape)
        upper = np.where(missing, np.nan, upper / na * multiplier).reshape(shape)
    return _wrap(lower, template, scalar), _wrap(upper, template, scalar)


def rate_per(x, n, per: float = 10_000):
    """Crude rate: x events in a population (or person-time) of n, per ``per``.

    rate = x / n * per (for example children in need per 10,000 children).
    """
    template, scalar = _template(x, n), _is_scalar(x, n)
    xa, na = _counts_and_denominators(x, n, proportion=False)
    return _wrap(xa / na * per, template, scalar)


def rate_interval(x, n, per: float = 10_000, confidence: float = 0.95, method: str = "auto"):
    """Confidence interval ``(lower, upper)`` of the crude rate x/n per ``per``.

    Exact Poisson limits for x < 10 and Byar's from 10 upwards (see
    :func:`byar_interval`; PHE technical guide, PHEindicatormethods ``phe_rate``).
    """
    return byar_interval(x, n, confidence=confidence, multiplier=per, method=method)


def rate_summary(
    x, n, per: float = 10_000, confidence_levels=PROFILE_CONFIDENCE_LEVELS
) -> pd.DataFrame:
    """Rates x/n per ``per`` with their intervals at each confidence level, as a DataFrame.

    Columns: ``value``, then ``lower_95``, ``upper_95``, ``lower_99_8``, ``upper_99_8``
    (exact below 10 events, Byar's from 10; as PHEindicatormethods ``phe_rate``).
    """
    template = _template(x, n)
    xa, na = _counts_and_denominators(x, n, proportion=False)
    out = pd.DataFrame(
        {"value": xa / na * per}, index=template.index if template is not None else None
    )
    for level in confidence_levels:
        lo, hi = rate_interval(xa, na, per, level)
        out[f"lower_{_level_label(level)}"] = lo
        out[f"upper_{_level_label(level)}"] = hi
    return out


def rate_ratio(x1, n1, x2, n2, confidence: float = 0.95, method: str = "auto"):
    """Ratio of two rates, (x1/n1) / (x2/n2), with a confidence interval.

    Returns ``(ratio, lower, upper)``. Methods (both assume Poisson counts over
    populations or person-time n1, n2):

    - ``'lognormal'``: log(RR) +/- z sqrt(1/x1 + 1/x2) (Rothman, Greenland & Lash 2008,
      Modern Epidemiology 3rd ed., ch. 14); undefined (NaN) when x1 or x2 is 0;
    - ``'exact'``: conditional on x1 + x2 = N, x1 is binomial with
      pi = n1 RR / (n1 RR + n2); the Clopper-Pearson limits of pi (beta quantiles)
      transformed by RR = pi / (1 - pi) * n2 / n1 (Breslow & Day 1987, Statistical
      Methods in Cancer Research vol. II, IARC, ch. 2: inference for the ratio of two
      Poisson rates conditional on their total). The lower limit is 0 when x1 = 0 and
      the upper limit infinite when x2 = 0;
    - ``'auto'`` (default): exact when either count is below 10, log-normal otherwise.
    """
    if method not in ("auto", "lognormal", "exact"):
        raise ValueError(f"method must be 'auto', 'lognormal' or 'exact', got {method!r}")
    template, scalar = _template(x1, n1, x2, n2), _is_scalar(x1, n1, x2, n2)
    z = z_value(confidence)
    alpha = 1 - float(confidence)
    a1, b1 = _counts_and_denominators(x1, n1, proportion=False, x_name="x1", n_name="n1")
    a2, b2 = _counts_and_denominators(x2, n2, proportion=False, x_name="x2", n_name="n2")
    a1, b1, a2, b2 = np.broadcast_arrays(a1, b1, a2, b2)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = (a1 / b1) / (a2 / b2)
        se = np.sqrt(1 / a1 + 1 / a2)
        ln_lo = np.where((a1 > 0) & (a2 > 0), ratio * np.exp(-z * se), np.nan)
        ln_hi = np.where((a1 > 0) & (a2 > 0), ratio * np.exp(z * se), np.nan)
        total = a1 + a2
        pi_lo = np.where(a1 > 0, sps.beta.ppf(alpha / 2, a1, total - a1 + 1), 0.0)
        pi_hi = np.where(a2 > 0, sps.beta.ppf(1 - alpha / 2, a1 + 1, total - a1), 1.0)
        scale = b2 / b1
        ex_lo = pi_lo / (1 - pi_lo) * scale
        ex_hi = np.where(pi_hi >= 1, np.inf, pi_hi / (1 - pi_hi) * scale)
        none = (total == 0) | np.isnan(total)
        ex_lo, ex_hi = np.where(none, np.nan, ex_lo), np.where(none, np.nan, ex_hi)
        ratio = np.where(none, np.nan, ratio)
    if method == "lognormal":
        lower, upper = ln_lo, ln_hi
    elif method == "exact":
        lower, upper = ex_lo, ex_hi
    else:
        small = (a1 < 10) | (a2 < 10)
        lower, upper = np.where(small, ex_lo, ln_lo), np.where(small, ex_hi, ln_hi)
    return (
        _wrap(ratio, template, scalar),
        _wrap(lower, template, scalar),
        _wrap(upper, template, scalar),
    )


# --------------------------------------------------------------------------------------
# comparison with England
# --------------------------------------------------------------------------------------
def compare_with_england(lower, upper, england_value, polarity: str | None = None):
    """Fingertips comparison of an area with England by its confidence interval.

    'similar' when England's value lies inside the area's interval [lower, upper]
    (limits included), 'higher' when the interval lies wholly above it, 'lower' when
    wholly below; 'not compared' when a limit is missing (for example a suppressed
    value). With ``polarity='high_is_good'`` (or ``'low_is_good'``) 'higher'/'lower'
    become 'better'/'worse' accordingly. Callers use the 95% and the 99.8% intervals
    for the two levels of significance (PHE technical guidance, 'Comparisons with a
    benchmark').
    """
    if polarity not in (None, "high_is_good", "low_is_good"):
        raise ValueError(
            f"polarity must be None, 'high_is_good' or 'low_is_good', got {polarity!r}"
        )
    template, scalar = (
        _template(lower, upper, england_value),
        _is_scalar(lower, upper, england_value),
    )
    lo, hi, eng = np.broadcast_arrays(
        _as_float(lower, "lower"),
        _as_float(upper, "upper"),
        _as_float(england_value, "england_value"),
    )
    with np.errstate(invalid="ignore"):
        _fail_where(
            lo > hi,
            "lower is above upper: pass the interval limits in order",
            {"lower": lo, "upper": hi},
        )
    higher_word, lower_word = "higher", "lower"
    if polarity == "high_is_good":
        higher_word, lower_word = "better", "worse"
    elif polarity == "low_is_good":
        higher_word, lower_word = "worse", "better"
    missing = np.isnan(lo) | np.isnan(hi) | np.isnan(eng)
    with np.errstate(invalid="ignore"):
        labels = _labels(
            [missing, lo > eng, hi < eng], [NOT_COMPARED, higher_word, lower_word], "similar"
        )
    return _wrap(labels, template, scalar)


def _labels(conditions: list[np.ndarray], choices: list[str], default: str) -> np.ndarray:
    """Like ``np.select`` for text labels, via integer codes (fast on millions of rows)."""
    codes = np.select(conditions, list(range(len(choices))), default=len(choices))
    return np.array([*choices, default], dtype=object)[codes]


# --------------------------------------------------------------------------------------
# funnel plots
# --------------------------------------------------------------------------------------
def funnel_limits_proportion(
    baseline_p, denominators, confidence: float = 0.95, multiplier: float = 1
):
    """Funnel-plot control limits ``(lower, upper)`` for a proportion at each denominator.

    The limit at denominator n is the observed proportion whose Wilson score interval
    just touches the baseline p0 (the pooled England value), so an area lies outside
    the funnel exactly when its own Wilson interval excludes p0. Solving the Wilson
    boundary gives the closed form (Spiegelhalter 2005, Stat Med 24:1185-1202;
    identical to PHEindicatormethods' ``sigma_adjustment``)::

        p0 -/+ z sqrt(p0 (1 - p0) / n)

    clipped to [0, 1] and multiplied by ``multiplier``. ``baseline_p`` is a proportion
    of 1 (not a percentage).
    """
    template, scalar = _template(denominators), _is_scalar(denominators)
    p0 = float(baseline_p)
    if not 0 <= p0 <= 1:
        raise ValueError(
            f"baseline_p must be a proportion between 0 and 1, got {p0}; "
            "pass a percentage divided by 100"
        )
    z = z_value(confidence)
    na = _as_float(denominators, "denominators")
    with np.errstate(invalid="ignore"):
        _fail_where(na <= 0, "denominators must be greater than zero", {"n": na})
        half = z * np.sqrt(p0 * (1 - p0) / na)
    lower = np.clip(p0 - half, 0, 1) * multiplier
    upper = np.clip(p0 + half, 0, 1) * multiplier
    return _wrap(lower, template, scalar), _wrap(upper, template, scalar)


def _poisson_count_limits(expected: np.ndarray, confidence: float):
    """Observed counts (continuous) at which the exact Poisson interval touches ``expected``.

    Lower: the count O whose exact upper limit chi2(1 - a/2; 2O + 2)/2 equals E, that is
    Q(O + 1, E) = a/2 with Q the regularised upper incomplete gamma function (0 when even
    O = 0 has an upper limit above E). Upper: the count O whose exact lower limit
    chi2(a/2; 2O)/2 equals E, that is P(O, E) = a/2. Solved by vectorised bisection
    (both functions are monotone in O).
    """
    alpha = 1 - float(confidence)
    target = alpha / 2
    e = np.asarray(expected, dtype="float64")
    spread = 12 * np.sqrt(e) + 60
    lo0, hi0 = np.maximum(e - spread, 0.0), e + spread

    def solve(fn, increasing: bool):
        lo, hi = lo0.copy(), hi0.copy()
        for _ in range(80):
            mid = (lo + hi) / 2
            above = fn(mid) > target
            go_down = above if increasing else ~above
            hi = np.where(go_down, mid, hi)
            lo = np.where(go_down, lo, mid)
        return (lo + hi) / 2

    with np.errstate(invalid="ignore", divide="ignore"):
        # Q(O + 1, E) increases with O
        lower = solve(lambda o: special.gammaincc(o + 1, e), increasing=True)
        lower = np.where(special.gammaincc(1.0, e) >= target, 0.0, lower)
        # P(O, E) decreases with O
        upper = solve(lambda o: special.gammainc(np.maximum(o, 1e-300), e), increasing=False)
        missing = np.isnan(e)
    return np.where(missing, np.nan, lower), np.where(missing, np.nan, upper)


def funnel_limits_rate(baseline_rate, denominators, confidence: float = 0.95, per: float = 10_000):
    """Funnel-plot control limits ``(lower, upper)`` for a crude rate at each denominator.

    ``baseline_rate`` is the pooled England rate per ``per``; at denominator n the
    expected count is E = baseline_rate / per * n. The limits are the rates O/n per
    ``per`` of the (continuous) observed counts O whose exact Poisson interval just
    touches E, so an area lies outside the funnel exactly when its exact interval
    excludes the baseline (Spiegelhalter 2005, Stat Med 24:1185-1202; the Poisson
    method of PHEindicatormethods ``calculate_funnel_limits``, which evaluates the same
    limits at whole numbers of events).
    """
    template, scalar = _template(denominators), _is_scalar(denominators)
    rate = float(baseline_rate)
    if not rate > 0:
        raise ValueError(f"baseline_rate must be greater than zero, got {rate}")
    na = _as_float(denominators, "denominators")
    with np.errstate(invalid="ignore"):
        _fail_where(na <= 0, "denominators must be greater than zero", {"n": na})
    lo_count, hi_count = _poisson_count_limits(rate / per * na, confidence)
    return (
        _wrap(lo_count / na * per, template, scalar),
        _wrap(hi_count / na * per, template, scalar),
    )


def funnel_limits_ratio(expected, confidence: float = 0.95):
    """Funnel-plot limits ``(lower, upper)`` for an observed/expected ratio around 1.

    For an expected count E the limits are O/E for the (continuous) observed counts O
    whose exact Poisson interval just touches E (Spiegelhalter 2005; the 'ratio'
    funnels of PHEindicatormethods ``calculate_funnel_limits``).
    """
    template, scalar = _template(expected), _is_scalar(expected)
    e = _as_float(expected, "expected")
    with np.errstate(invalid="ignore"):
        _fail_where(e <= 0, "expected counts must be greater than zero", {"expected": e})
    lo_count, hi_count = _poisson_count_limits(e, confidence)
    return _wrap(lo_count / e, template, scalar), _wrap(hi_count / e, template, scalar)


def funnel_significance(
    x, n, baseline=None, statistic: str = "proportion", per: float = 10_000, method: str = "exact"
):
    """Funnel-plot outlier label of each area: PHEindicatormethods' five labels.

    'Low (0.001)' / 'High (0.001)' when the area lies outside the 99.8% limits,
    'Low (0.025)' / 'High (0.025)' when outside the 95% limits only, else
    'Not significant' (missing inputs give 'not compared').

    - ``statistic='proportion'``: x/n against :func:`funnel_limits_proportion` at n
      (as ``assign_funnel_significance``); ``baseline`` is a proportion of 1 and
      defaults to the pooled value sum(x)/sum(n).
    - ``statistic='rate'``: the area's own interval for x events (``method='exact'``:
      exact Poisson, consistent with :func:`funnel_limits_rate`; ``'auto'``: exact below
      10 events and Byar's above, as PHEindicatormethods labels rates) against the
      baseline rate per ``per`` (default pooled sum(x)/sum(n) * per).
    """
    if statistic not in ("proportion", "rate"):
        raise ValueError(f"statistic must be 'proportion' or 'rate', got {statistic!r}")
    template, scalar = _template(x, n), _is_scalar(x, n)
    xa, na = _counts_and_denominators(x, n, proportion=statistic == "proportion")
    ok = ~(np.isnan(xa) | np.isnan(na))
    if statistic == "proportion":
        base = float(xa[ok].sum() / na[ok].sum()) if baseline is None else float(baseline)
        value = xa / na
        lo95, hi95 = funnel_limits_proportion(base, na, 0.95)
        lo998, hi998 = funnel_limits_proportion(base, na, 0.998)
        conds = [value < lo998, value < lo95, value > hi998, value > hi95]
    else:
        base = float(xa[ok].sum() / na[ok].sum() * per) if baseline is None else float(baseline)
        lo95, hi95 = byar_interval(xa, na, 0.95, per, method)
        lo998, hi998 = byar_interval(xa, na, 0.998, per, method)
        conds = [hi998 < base, hi95 < base, lo998 > base, lo95 > base]
    with np.errstate(invalid="ignore"):
        labels = _labels(
            [~ok] + conds,
            [NOT_COMPARED, "Low (0.001)", "Low (0.025)", "High (0.001)", "High (0.025)"],
            "Not significant",
        )
    return _wrap(labels, template, scalar)


def funnel_axis(denominators, points: int = 100) -> np.ndarray:
    """The denominators at which to draw funnel limits, spaced as PHEindicatormethods does.

    From max(1, axis minimum) to the axis maximum in ``points`` steps growing
    geometrically (each at least one more than the last). The axis maximum rounds
    1.05 x the largest denominator up to two significant figures; the axis minimum is 0
    when the largest denominator is more than twice the smallest, else 0.95 x the
    smallest rounded down to one significant figure (``calculate_funnel_limits``).
    Rounding is to the nearest whole number, halves to even, as in R.
    """
    d = _as_float(denominators, "denominators")
    d = d[~np.isnan(d)]
    if d.size == 0 or np.any(d <= 0):
        raise ValueError("funnel_axis needs at least one denominator, all greater than zero")
    if points < 2:
        raise ValueError("points must be at least 2")
    dmin, dmax = float(d.min()), float(d.max())

    def floor_signif(v, down=0.95):
        digits = len(str(int(np.floor(v * down)))) - 1
        return np.floor(v * down / 10**digits) * 10**digits

    def ceiling_signif(v, up=1.05):
        digits = len(str(int(np.ceil(v * up)))) - 2
        return np.ceil(v * up / 10**digits) * 10**digits

    axis_min = 0.0 if dmax > 2 * dmin else floor_signif(dmin)
    axis_max = ceiling_signif(dmax)
    out = np.empty(points)
    out[0] = max(1.0, axis_min)
    for j in range(1, points):  # 100 axis points, not data rows
        prev = out[j - 1]
        step = np.round((axis_max / prev) ** (1 / (points - j)) * prev)
        out[j] = max(step, prev + 1)
    return out


def funnel_limits_table(
    baseline,
    denominators,
    statistic: str = "proportion",
    multiplier: float = 100,
    per: float = 10_000,
) -> pd.DataFrame:
    """Funnel limits at 95% and 99.8% for each denominator, ready to draw.

    Columns: ``denominator``, ``lower_95``, ``upper_95``, ``lower_99_8``, ``upper_99_8``,
    ``baseline``. For proportions ``baseline`` is a proportion of 1 and values are
    multiplied by ``multiplier`` (100: percentages); for rates ``baseline`` is the rate
    per ``per``. Pass :func:`funnel_axis` denominators for a smooth curve.
    """
    d = _as_float(denominators, "denominators")
    out = pd.DataFrame({"denominator": d})
    for level in PROFILE_CONFIDENCE_LEVELS:
        if statistic == "proportion":
            lo, hi = funnel_limits_proportion(baseline, d, level, multiplier)
        elif statistic == "rate":
            lo, hi = funnel_limits_rate(baseline, d, level, per)
        else:
            raise ValueError(f"statistic must be 'proportion' or 'rate', got {statistic!r}")
        out[f"lower_{_level_label(level)}"] = lo
        out[f"upper_{_level_label(level)}"] = hi
    out["baseline"] = float(baseline) * (multiplier if statistic == "proportion" else 1)
    return out
