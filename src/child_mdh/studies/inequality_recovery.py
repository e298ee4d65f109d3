"""Recovery of the deprivation profiles' odds ratios, the attributable fractions and the
slope index of inequality from a known logistic model, over seeds.

The design is discrete, so every true value is computed exactly over it (no truth
population, no estimator): children have a single year of age (0-17, equally likely),
a sex (equally likely) and a deprivation profile of the five indicators drawn from a
log-linear distribution that depends on age (young children more often deprived in
employment and free school meals, indicators positively associated)::

    P(d | age) proportional to exp(sum_j a_j d_j + c * C(|d|, 2) + g * [age < 5] (d_employment + d_fsm))

and the outcome from a logistic model additive in the indicators, age (single years)
and sex::

    logit P(y = 1 | d, age, sex) = b0 + sum_j beta_j d_j + b_age(age) + b_male [male].

Each child is placed in one of ``n_las`` local authorities at random (the clusters of the
models' errors, as in the pipeline). The true values, over the 18 x 2 x 32 cells of the
design (:func:`true_values`):

- the adjusted odds ratio of a profile against no deprivation: exp(sum of its betas)
  (the profile model with age and sex is correctly specified);
- the attributable fraction of every indicator at once, and of one indicator with the
  others as observed: 1 - E[p(x with the indicator(s) set to not deprived)] / E[p(x)]
  (the mutually adjusted model is correctly specified);
- the attributable fraction of MDH: 1 - E_age,sex[P(y | not MDH, age, sex)] / P(y), the
  events if MDH children had the risk of children of the same age and sex who are not
  MDH. The pipeline's model of MDH (logit of y on MDH, age and sex) is not the true
  model of y given MDH (a mixture of profiles whose mix varies with age), so a small
  bias here is the working model's, not the simulation's;
- the slope (and relative) index of inequality of the rates by number of deprived
  indicators (top-coded at ``sii_top``): the weighted least squares of the groups'
  true rates on the ridits of their true shares.

Each draw (:func:`draw_estimates`) estimates them with the pipeline's functions
(:mod:`child_mdh.aggregates.models.inequality`: :func:`fit_profile_model`,
:func:`profile_ratios`, :func:`attributable_fraction` on the models the release's
:func:`~child_mdh.aggregates.models.inequality_tables.attributable_fraction_table` fits,
:func:`slope_index`); :func:`summarise` gives bias, its Monte Carlo SE, SD of the
estimates against the mean SE, and coverage of the 95% intervals with its Monte Carlo SE.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from child_mdh.aggregates.index.alkire_foster import DEFAULT_K, DEFAULT_WEIGHTS, identify, scores
from child_mdh.aggregates.models.collapse import binary_cells
from child_mdh.aggregates.models.glm import fit_binomial
from child_mdh.aggregates.models.inequality import (
    NO_DEPRIVATION,
    PROFILE,
    _wls,
    add_profiles,
    attributable_fraction,
    fit_profile_model,
    profile_ratios,
    ridits,
    slope_index,
)
from child_mdh.contract.vocabulary import INDICATORS
from child_mdh.studies.tables import markdown_table

AGES = np.arange(18)
SEXES = ("F", "M")
#: log-linear profile distribution: main effects, pairwise association, young children
PROFILE_MAIN = {
    "employment": -2.0,
    "education": -1.7,
    "health": -1.6,
    "housing": -1.8,
    "fsm": -1.7,
}
PROFILE_PAIRS = 0.5
PROFILE_YOUNG = 0.3
#: the outcome's logistic model
INTERCEPT = -2.7
BETA = {"employment": 0.55, "education": 0.35, "health": 0.30, "housing": 0.25, "fsm": 0.45}
MALE = 0.10
#: the profiles whose odds ratios are reported
REPORTED_PROFILES = ("employment", "fsm", "employment+fsm", "education+health+fsm")
#: the indicators whose own attributable fractions are reported
REPORTED_INDICATORS = ("employment", "fsm")
SII_TOP = 4
CONF = 0.95
Z95 = 1.959963984540054


def age_effect(age: np.ndarray) -> np.ndarray:
    """The outcome's log-odds by single year of age: higher in infancy and adolescence."""
    age = np.asarray(age, dtype=float)
    return 0.5 * (age == 0) + 0.03 * (age - 8.0) * (age > 8)


def profile_matrix() -> np.ndarray:
    """The 32 profiles as rows of 0/1 flags of :data:`INDICATORS` (order of bits)."""
    return np.array(list(itertools.product([0, 1], repeat=len(INDICATORS))))[:, ::-1]


def profile_probabilities(young: bool) -> np.ndarray:
    """P(profile) over :func:`profile_matrix` for a child under 5 (``young``) or not."""
    d = profile_matrix()
    main = np.array([PROFILE_MAIN[i] for i in INDICATORS])
    k = d.sum(axis=1)
    log_w = d @ main + PROFILE_PAIRS * k * (k - 1) / 2
    if young:
        log_w = log_w + PROFILE_YOUNG * (
            d[:, INDICATORS.index("employment")] + d[:, INDICATORS.index("fsm")]
        )
    w = np.exp(log_w)
    return w / w.sum()


def _labels(d: np.ndarray) -> list[str]:
    return [
        "+".join(i for i, f in zip(INDICATORS, row, strict=True) if f) or NO_DEPRIVATION
        for row in d
    ]


def _mdh(d: np.ndarray) -> np.ndarray:
    flags = pd.DataFrame(d.astype(bool), columns=list(INDICATORS))
    return identify(scores(flags, DEFAULT_WEIGHTS), DEFAULT_K).to_numpy(bool)


def design_cells() -> pd.DataFrame:
    """Every cell of the design (age x sex x profile) with its probability ``prob`` and
    the outcome's probability ``p``; ``p0`` with no indicator deprived, ``p0_<indicator>``
    with that indicator not deprived (others as in the cell)."""
    d = profile_matrix()
    beta = np.array([BETA[i] for i in INDICATORS])
    rows = []
    for age, sex in itertools.product(AGES, SEXES):
        prob = profile_probabilities(age < 5) / len(AGES) / len(SEXES)
        base = INTERCEPT + age_effect(np.array([age]))[0] + MALE * (sex == "M")
        part = pd.DataFrame(d.astype(bool), columns=list(INDICATORS))
        part["age"], part["sex"], part["prob"] = age, sex, prob
        part["p"] = 1 / (1 + np.exp(-(base + d @ beta)))
        part["p0"] = 1 / (1 + np.exp(-base))
        for j, i in enumerate(INDICATORS):
            dj = d.copy()
            dj[:, j] = 0
            part[f"p0_{i}"] = 1 / (1 + np.exp(-(base + dj @ beta)))
        part[PROFILE] = _labels(d)
        part["mdh"] = _mdh(d)
        part["k"] = d.sum(axis=1)
        rows.append(part)
    return pd.concat(rows, ignore_index=True)


def sii_groups(k: np.ndarray, top: int = SII_TOP) -> np.ndarray:
    """The gradient's group of a number of deprived indicators (top-coded at ``top``)."""
    return np.minimum(np.asarray(k), top)


def true_values(top: int = SII_TOP) -> dict[str, float]:
    """The true value of every reported estimand (module docstring), exactly over the
    design's cells."""
    c = design_cells()
    ey = float((c["prob"] * c["p"]).sum())
    out = {f"log OR {p}": float(sum(BETA[i] for i in p.split("+"))) for p in REPORTED_PROFILES}
    out["PAF all indicators"] = 1 - float((c["prob"] * c["p0"]).sum()) / ey
    for i in REPORTED_INDICATORS:
        out[f"PAF {i}"] = 1 - float((c["prob"] * c[f"p0_{i}"]).sum()) / ey
    # MDH: each age and sex given the risk of its children who are not MDH
    g = c.assign(w=c["prob"] * c["p"])
    strata = g.groupby(["age", "sex"])
    not_mdh = g.loc[~g["mdh"]].groupby(["age", "sex"])
    risk0 = not_mdh["w"].sum() / not_mdh["prob"].sum()
    out["PAF MDH"] = 1 - float((strata["prob"].sum() * risk0).sum()) / ey
    groups = g.assign(group=sii_groups(g["k"], top)).groupby("group")
    share, rate = groups["prob"].sum(), groups["w"].sum() / groups["prob"].sum()
    b0, b1 = (float(v[0]) for v in _wls(ridits(share.to_numpy()), share.to_numpy(), rate))
    out["SII"] = b1
    out["RII"] = (b0 + b1) / b0
    return out


def simulate_children(n: int, seed: int, n_las: int = 60) -> pd.DataFrame:
    """``n`` children of the design (module docstring): the indicators, ``age``, ``sex``,
    ``la_code``, ``mdh``, the profile and the outcome ``y``."""
    rng = np.random.default_rng(seed)
    d_all = profile_matrix()
    age = rng.integers(0, len(AGES), n)
    sex = np.where(rng.random(n) < 0.5, "F", "M")
    code = np.empty(n, dtype=np.int64)
    for young in (True, False):
        sel = (age < 5) == young
        cdf = np.cumsum(profile_probabilities(young))
        code[sel] = np.minimum(np.searchsorted(cdf, rng.random(sel.sum())), len(cdf) - 1)
    d = d_all[code]
    beta = np.array([BETA[i] for i in INDICATORS])
    eta = INTERCEPT + d @ beta + age_effect(age) + MALE * (sex == "M")
    frame = pd.DataFrame(d.astype(bool), columns=list(INDICATORS))
    frame["age"] = age
    frame["sex"] = sex
    frame["la_code"] = np.array([f"E{6000001 + i:08d}" for i in range(n_las)])[
        rng.integers(0, n_las, n)
    ]
    frame["mdh"] = _mdh(d)
    frame["y"] = rng.random(n) < 1 / (1 + np.exp(-eta))
    return add_profiles(frame, INDICATORS)


def _logit_fit(frame: pd.DataFrame, exposure: tuple[str, ...], adjust=("age", "sex")):
    """The logit model the release's attributable fractions come from (exposure and
    adjustment terms, errors clustered by local authority), on its cells."""
    terms = [*exposure, *adjust]
    cells = binary_cells(frame, "y", [*terms, "la_code"])
    return fit_binomial(
        cells,
        terms,
        link="logit",
        cluster="la_code",
        outcome="y",
        exposure_terms=exposure,
        adjust_terms=tuple(adjust),
    )


def _row(name, estimate, se, lower, upper, truth) -> dict:
    return {
        "estimand": name,
        "estimate": float(estimate),
        "se": float(se),
        "lower": float(lower),
        "upper": float(upper),
        "truth": float(truth),
        "covered": bool(lower <= truth <= upper),
    }


def draw_estimates(
    n: int,
    seed: int,
    n_las: int = 60,
    min_count: int = 10,
    sii_repetitions: int = 20_000,
    truth: dict | None = None,
) -> pd.DataFrame:
    """One draw of ``n`` children: every reported estimand's estimate, SE, 95% interval,
    true value and whether the interval covers it. SEs: of the log odds ratio; of the PAF
    by the delta method, (1 - PAF) x the SE of log(1 - PAF); of the SII and RII, the
    width of the simulation interval over 2 x 1.96."""
    truth = truth or true_values()
    f = simulate_children(n, seed, n_las)
    rows = []
    fit = fit_profile_model(f, "y", ("age", "sex"), min_count=min_count, cluster="la_code")
    r = profile_ratios(fit, CONF).set_index(PROFILE)
    for p in REPORTED_PROFILES:
        name = f"log OR {p}"
        if p not in r.index:  # pooled with the small profiles in this draw
            continue
        est, se = r.loc[p, "estimate"], r.loc[p, "std_error"]
        lo, hi = np.log(r.loc[p, "ratio_low"]), np.log(r.loc[p, "ratio_high"])
        rows.append(_row(name, est, se, lo, hi, truth[name]))
    fits = {"mdh": _logit_fit(f, ("mdh",)), "domains": _logit_fit(f, tuple(INDICATORS))}
    scenarios = [("PAF MDH", "mdh", {"mdh": False})]
    scenarios += [(f"PAF {i}", "domains", {i: False}) for i in REPORTED_INDICATORS]
    scenarios += [("PAF all indicators", "domains", dict.fromkeys(INDICATORS, False))]
    for name, model, ref in scenarios:
        af = attributable_fraction(fits[model], ref, CONF)
        rows.append(
            _row(name, af.paf, (1 - af.paf) * af.std_error_log, af.low, af.high, truth[name])
        )
    g = f.assign(group=sii_groups(f["deprived_indicators"].astype(int))).groupby("group")["y"]
    ineq = slope_index(
        g.sum().to_numpy(), g.size().to_numpy(), repetitions=sii_repetitions, seed=seed
    )
    for name, est, lo, hi in (
        ("SII", ineq.sii, ineq.sii_low, ineq.sii_high),
        ("RII", ineq.rii, ineq.rii_low, ineq.rii_high),
    ):
        rows.append(_row(name, est, (hi - lo) / (2 * Z95), lo, hi, truth[name]))
    return pd.DataFrame(rows).assign(seed=int(seed), n_children=int(n))


def summarise(draws: pd.DataFrame) -> pd.DataFrame:
    """Per estimand: draws, true value, mean estimate, bias and its Monte Carlo SE, SD of
    the estimates, mean SE (and their ratio), coverage of the 95% intervals and its
    Monte Carlo SE."""
    rows = []
    for name, g in draws.groupby("estimand", sort=False):
        n = len(g)
        err = g["estimate"] - g["truth"]
        cover = g["covered"].astype(float).mean()
        sd = g["estimate"].std(ddof=1) if n > 1 else np.nan
        rows.append(
            {
                "estimand": name,
                "draws": n,
                "truth": g["truth"].mean(),
                "mean_estimate": g["estimate"].mean(),
                "bias": err.mean(),
                "bias_mc_se": sd / np.sqrt(n) if n > 1 else np.nan,
                "sd_estimate": sd,
                "mean_se": g["se"].mean(),
                "se_ratio": g["se"].mean() / sd if n > 1 else np.nan,
                "coverage": cover,
                "coverage_mc_se": np.sqrt(cover * (1 - cover) / n),
            }
        )
    return pd.DataFrame(rows)


def summary_markdown(summary: pd.DataFrame) -> str:
    """The summary as a Markdown table (four decimals)."""
    cols = [
        "estimand",
        "draws",
        "truth",
        "mean_estimate",
        "bias",
        "bias_mc_se",
        "sd_estimate",
        "mean_se",
        "coverage",
        "coverage_mc_se",
    ]
    return markdown_table(summary, cols)


__all__ = [
    "BETA",
    "REPORTED_INDICATORS",
    "REPORTED_PROFILES",
    "design_cells",
    "draw_estimates",
    "simulate_children",
    "summarise",
    "summary_markdown",
    "true_values",
]
