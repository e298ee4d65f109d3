"""Parameter recovery: simulate a cohort from a known model, compare estimates with the truth.

:func:`simulate_cohort` draws children and their social care records in the data
contract's shape from a proportional-hazards design (the design the synthetic generator
follows): primary referrals arrive as a Poisson process with intensity
lambda0(age(t)) * exp(eta_i),

    eta_i = sum_j beta_j domain_ij + beta_fsm fsm_i + beta_eh employment_i*health_i
            + beta_male male_i + u_LA,     u_LA ~ N(0, la_sd^2),

(the term names are the generator's: ``employment``, ``employment:health``, ``sex_male``;
:func:`~child_mdh.sources.synthetic.truth_terms.design_truth` maps them to design columns)

with lambda0 piecewise constant by year of age (zero from age 18) and age exact at the
reference date (so that the grouped proportional-hazards model with age-at-reference
categories is exact). Each referral is a child-in-need referral (not NFA), leads to a
child protection plan, or to entry to care, with log-linear probabilities
exp(gamma_0 + gamma'z) (independent thinnings), so the first of each outcome follows a
proportional-hazards model with log hazard ratios beta + gamma. A complementary log-log
model of 'any X in the window' with age categories and local-authority fixed effects
therefore recovers these log hazard ratios; a Poisson model of referral counts recovers
beta as log rate ratios.

:func:`compare_with_truth` and :func:`coverage_summary` give bias and confidence-interval
coverage; :func:`truth_wald`, :func:`wald_by_replication` and :func:`wald_calibration`
the calibration of the joint Wald test of all the true values of a model.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from child_mdh.aggregates.index.tables import child_index
from child_mdh.aggregates.models.collapse import binary_cells
from child_mdh.aggregates.models.design import terms_variables
from child_mdh.aggregates.models.glm import fit_binomial
from child_mdh.aggregates.models.prepare import attach_index, prepare_model_data
from child_mdh.contract.tables import CENSUS_DAY
from child_mdh.contract.vocabulary import DOMAINS
from child_mdh.sources.synthetic.truth_terms import (
    TRUTH_OUTCOMES,
    design_column,
    design_truth,
)
from child_mdh.studies.synthetic_children import synthetic_children

DEFAULT_BETA = {
    "employment": 0.55,
    "education": 0.35,
    "health": 0.30,
    "housing": 0.25,
    "fsm": 0.45,
    "employment:health": 0.20,
    "sex_male": 0.05,
}
#: log-linear thinning probabilities: intercept (log probability) and effects
DEFAULT_THINNING = {
    "any_cin": {"intercept": np.log(0.6), "employment": 0.10, "fsm": 0.10},
    "any_cpp": {"intercept": np.log(0.12), "employment": 0.20, "fsm": 0.15, "housing": 0.10},
    "entered_care": {"intercept": np.log(0.05), "employment": 0.30, "health": 0.20},
}
#: referrals per child-year by single year of age at the reference level of eta
DEFAULT_BASELINE = np.array(
    [
        0.060,
        0.035,
        0.032,
        0.030,
        0.030,
        0.028,
        0.026,
        0.025,
        0.025,
        0.025,
        0.026,
        0.028,
        0.032,
        0.036,
        0.040,
        0.040,
        0.032,
        0.024,
    ]
)


def _term(name: str) -> str:
    return design_column(name)


@dataclass
class SimulatedCohort:
    """Children, their social care records and the true log hazard ratios."""

    children: pd.DataFrame
    cin_referrals: pd.DataFrame
    child_protection_plans: pd.DataFrame
    looked_after_episodes: pd.DataFrame
    reference_date: pd.Timestamp
    follow_up_years: int
    #: outcome -> {design column name: true log hazard (or rate) ratio}
    truth: dict = field(default_factory=dict)


def simulate_cohort(
    n_children: int,
    *,
    n_las: int = 40,
    seed: int = 2021,
    beta: dict | None = None,
    thinning: dict | None = None,
    baseline=None,
    la_sd: float = 0.3,
    follow_up_years: int = 5,
    reference_date=None,
    unlinked_share: float = 0.03,
    duplicate_share: float = 0.1,
) -> SimulatedCohort:
    """Simulate ``n_children`` children aged 0-17 and their referrals, plans and
    entries to care in the follow-up window (design in the module docstring).

    ``duplicate_share`` of referral rows are repeated (as the CIN census repeats a
    referral across return years) to exercise de-duplication; ``unlinked_share`` of
    children have no pupil_id.
    """
    rng = np.random.default_rng(seed)
    beta = {**DEFAULT_BETA, **(beta or {})}
    thinning = thinning or DEFAULT_THINNING
    lam0 = np.asarray(DEFAULT_BASELINE if baseline is None else baseline, dtype=float)
    ref = pd.Timestamp(reference_date or CENSUS_DAY[2021])
    n = int(n_children)

    las = np.array([f"E{6000000 + i:08d}" for i in range(n_las)])
    la_idx = rng.integers(0, n_las, n)
    la_shift = rng.normal(0, 0.5, n_las)
    u = rng.normal(0, la_sd, n_las)
    latent = rng.normal(0, 1, n) + la_shift[la_idx]
    cut = np.array([1.3, 0.9, 0.8, 1.2])
    dom = latent[:, None] * 0.8 + rng.normal(0, 1, (n, 4)) > cut[None, :] + 0.3
    fsm = rng.random(n) < 1 / (1 + np.exp(-(-2.0 + 1.2 * dom[:, 0] + 0.6 * dom.sum(1))))
    age = rng.integers(0, 18, n)
    male = rng.random(n) < 0.51

    def z(name):
        if name in DOMAINS:
            return dom[:, DOMAINS.index(name)].astype(float)
        if name == "fsm":
            return fsm.astype(float)
        if name == "employment:health":
            return (dom[:, 0] & dom[:, 2]).astype(float)
        if name == "sex_male":
            return male.astype(float)
        raise KeyError(name)

    eta = u[la_idx] + sum(b * z(k) for k, b in beta.items())
    years = np.arange(follow_up_years)
    attained = age[:, None] + years[None, :]
    lam = np.where(attained < len(lam0), lam0[np.minimum(attained, len(lam0) - 1)], 0.0)
    counts = rng.poisson(np.exp(eta)[:, None] * lam)
    child_of = np.repeat(np.repeat(np.arange(n), follow_up_years), counts.ravel())
    year_of = np.repeat(np.tile(years, n), counts.ravel())
    window_days = (ref + pd.DateOffset(years=follow_up_years) - ref).days
    day = np.minimum(
        np.floor((year_of + rng.random(len(year_of))) * 365.25), window_days - 1
    ).astype(np.int64)
    dates = ref.to_datetime64() + day.astype("timedelta64[D]")

    marks = {}
    for outcome, th in thinning.items():
        logp = th["intercept"] + sum(v * z(k)[child_of] for k, v in th.items() if k != "intercept")
        p = np.exp(logp)
        if (p > 1).any():
            raise ValueError(f"thinning probabilities for {outcome} exceed 1")
        marks[outcome] = rng.random(len(child_of)) < p

    pupil = np.array([f"P{i:09d}" for i in range(n)], dtype=object)
    linked = rng.random(n) >= unlinked_share
    children = pd.DataFrame(
        {
            "person_id": [f"C{i:09d}" for i in range(n)],
            "pupil_id": pd.array(np.where(linked, pupil, None), dtype="str"),
            "la_code": las[la_idx],
            "age": age.astype(np.int64),
            "sex": np.where(male, "M", "F"),
            **{d: dom[:, j] for j, d in enumerate(DOMAINS)},
            "fsm": fsm,
        }
    )
    children["n_domains"] = dom.sum(1).astype(np.int64)
    children["mdh"] = (children["n_domains"] + children["fsm"]) >= 2

    ref_rows = pd.DataFrame(
        {
            "pupil_id": pupil[child_of].astype(str),
            "la_code": las[la_idx[child_of]],
            "referral_date": dates,
            "primary_need_code": np.where(marks["any_cin"], "N1", "N9"),
            "cin_closure_date": pd.NaT,
            "referral_nfa": ~marks["any_cin"],
        }
    )
    dup = ref_rows.loc[rng.random(len(ref_rows)) < duplicate_share]
    cin = pd.concat([ref_rows, dup], ignore_index=True)
    cpp_mask = marks["any_cpp"]
    cpp = pd.DataFrame(
        {
            "pupil_id": pupil[child_of[cpp_mask]].astype(str),
            "la_code": las[la_idx[child_of[cpp_mask]]],
            "cpp_start_date": dates[cpp_mask],
            "cpp_end_date": pd.NaT,
        }
    ).drop_duplicates(["pupil_id", "cpp_start_date"])
    la_mask = marks["entered_care"]
    lac = pd.DataFrame(
        {
            "pupil_id": pupil[child_of[la_mask]].astype(str),
            "la_code": las[la_idx[child_of[la_mask]]],
            "episode_start": dates[la_mask],
            "episode_end": pd.NaT,
            "legal_status": "V2",
            "reason_new_episode": "S",
        }
    ).drop_duplicates(["pupil_id", "episode_start"])

    referral_truth = {_term(k): float(v) for k, v in beta.items()}
    truth = {"any_referral": referral_truth, "n_referrals": referral_truth}
    for outcome, th in thinning.items():
        t = dict(referral_truth)
        for k, v in th.items():
            if k != "intercept":
                t[_term(k)] = t.get(_term(k), 0.0) + float(v)
        truth[outcome] = t
    return SimulatedCohort(
        children=children,
        cin_referrals=cin,
        child_protection_plans=cpp,
        looked_after_episodes=lac,
        reference_date=ref,
        follow_up_years=follow_up_years,
        truth=truth,
    )


def compare_with_truth(estimates, truth: dict, conf_level: float = 0.95) -> pd.DataFrame:
    """Compare estimates with true values.

    ``estimates`` is a :class:`~child_mdh.aggregates.models.glm.ModelFit` or a tidy table (columns
    ``term``, ``estimate``, ``std_error``); ``truth`` maps term -> true value. Returns per
    term: truth, estimate, standard error, bias, z = bias / SE, the normal confidence
    interval and whether it covers the truth. Terms in ``truth`` that were not
    estimated raise a KeyError.

    A ``ModelFit`` also gives a ``covariance`` column: per term, its row of the estimated
    covariance matrix over the truth's terms as JSON ``{term: covariance}``, so that the
    joint Wald test of all the true values (:func:`truth_wald`) can be computed later
    from the stacked tables (:func:`wald_by_replication`).
    """
    if hasattr(estimates, "params"):
        est = estimates.params
        se = estimates.bse
    else:
        t = estimates.set_index("term")
        est, se = t["estimate"], t["std_error"]
    missing = [k for k in truth if k not in est.index]
    if missing:
        raise KeyError(f"terms {missing} are not in the estimates ({list(est.index)[:20]})")
    zc = float(stats.norm.ppf(1 - (1 - conf_level) / 2))
    terms = list(truth)
    e = est[terms].to_numpy(float)
    s = se[terms].to_numpy(float)
    tv = np.array([truth[k] for k in terms], dtype=float)
    lo, hi = e - zc * s, e + zc * s
    out = pd.DataFrame(
        {
            "term": terms,
            "truth": tv,
            "estimate": e,
            "std_error": s,
            "bias": e - tv,
            "z": (e - tv) / s,
            "conf_low": lo,
            "conf_high": hi,
            "covered": (lo <= tv) & (tv <= hi),
        }
    )
    if hasattr(estimates, "params"):  # a ModelFit (a DataFrame has a .cov method)
        v = estimates.cov.loc[terms, terms]
        out["covariance"] = [json.dumps({k: float(x) for k, x in v.loc[t].items()}) for t in terms]
    return out


def truth_wald(estimate, truth, cov, clusters: int | None = None) -> dict:
    """The Wald test of all the true values jointly: W = (b - beta)' V^-1 (b - beta), with
    ``b`` the estimates, ``beta`` the truth and ``V`` the estimated covariance of ``b``;
    under a correct model and covariance W is asymptotically chi-square with as many
    degrees of freedom as terms (Wald 1943; e.g. Wooldridge 2010, Econometric Analysis
    of Cross Section and Panel Data, section 4.2.3). Returns statistic, df and p-value.

    With ``clusters`` (G, the clusters of a cluster-robust V) also ``p_value_t2``: the
    Hotelling T-squared reference, (G - p) W / (p (G - 1)) ~ F(p, G - p), which allows
    for V being estimated from G cluster scores (Hotelling 1931; the small-sample
    reference for cluster-robust Wald tests, Cameron & Miller 2015, J. Human Resources
    50, 317-372, s. VI; Pustejovsky & Tipton 2018, JBES 36, 672-683). Under it the
    chi-square test rejects more often than its level: with G = 153 and p = 10, 8.1% at 5%.
    """
    d = np.asarray(estimate, dtype=float) - np.asarray(truth, dtype=float)
    v = np.atleast_2d(np.asarray(cov, dtype=float))
    stat = float(d @ np.linalg.solve(v, d))
    df = int(d.size)
    out = {"statistic": stat, "df": df, "p_value": float(stats.chi2.sf(stat, df))}
    if clusters is not None:
        g = float(clusters)
        f = (g - df) * stat / (df * (g - 1))
        out["p_value_t2"] = float(stats.f.sf(f, df, g - df))
    return out


def coverage_summary(comparisons) -> pd.DataFrame:
    """Summarise :func:`compare_with_truth` tables from repeated simulations: per term,
    replications, mean bias, root mean squared error, empirical SD of the estimates,
    mean standard error and coverage of the confidence intervals."""
    df = pd.concat(list(comparisons), ignore_index=True)
    g = df.groupby("term", sort=False)
    return pd.DataFrame(
        {
            "replications": g.size(),
            "truth": g["truth"].first(),
            "mean_bias": g["bias"].mean(),
            "rmse": g["bias"].apply(lambda b: float(np.sqrt(np.mean(b**2)))),
            "sd_estimate": g["estimate"].std(ddof=1),
            "mean_std_error": g["std_error"].mean(),
            "coverage": g["covered"].mean(),
        }
    ).reset_index()


# ----------------------------------------------------------------- the synthetic generator
#: the terms of the generator's referral model in the analysis's column names (the
#: prevalence main effect is absorbed by local-authority fixed effects; ``mdh`` has true
#: effect 0 and is included to check that the analysis finds none)
GENERATOR_TERMS = (
    "employment",
    "education",
    "health",
    "housing",
    "any_domain",
    "fsm",
    "employment:health",
    "sex",
    "age",
    "mdh",
    "mdh:la_mdh_prevalence_centred",
)
POPULATION_PREVALENCE = "la_mdh_prevalence_population"


def generator_truth(
    truth: dict, outcome: str, *, prevalence: str = "la_mdh_prevalence_centred"
) -> dict:
    """The true log hazard ratios of ``outcome`` (a truth.json outcome: referral, cin,
    cpp, cla) keyed by design columns, for a model with local-authority fixed effects:
    the area-level prevalence main effect is left out (absorbed), ``mdh[T.True]`` is
    added with its true value 0, and the prevalence column is named ``prevalence``."""
    terms = dict(truth["outcomes"][outcome]["log_hazard_ratio"])
    terms.pop("la_mdh_prevalence_centred", None)
    out = design_truth(
        terms,
        drop_zero=False,
        numeric=(prevalence,),
        renames={"la_mdh_prevalence_centred": prevalence},
    )
    out["mdh[T.True]"] = 0.0
    return out


def population_prevalence(truth: dict) -> dict:
    """Each local authority's centred MDH prevalence as the generator used it: the share
    among *all* its children aged 0-17 (with FSM at the reference census, recorded or
    latent) minus the national share (truth.json ``las``)."""
    return {code: float(v["la_mdh_prevalence_centred"]) for code, v in truth["las"].items()}


def fit_generator_model(
    frame: pd.DataFrame,
    outcome: str,
    *,
    prevalence: str = "la_mdh_prevalence_centred",
    link: str = "cloglog",
    fixed_effects: str | None = "la_code",
    cluster: str = "la_code",
):
    """The generator's model of ``outcome`` (a children-table outcome column): the terms
    of :data:`GENERATOR_TERMS` with ``prevalence`` as the area prevalence, cloglog link
    and local-authority fixed effects by default, fitted on collapsed cells (the grouped
    proportional-hazards model, Prentice & Gloeckler 1978)."""

    terms = [t.replace("la_mdh_prevalence_centred", prevalence) for t in GENERATOR_TERMS]
    keys = list(dict.fromkeys(terms_variables(terms) + [c for c in (fixed_effects, cluster) if c]))
    cells = binary_cells(frame, outcome, keys)
    return fit_binomial(
        cells,
        terms,
        link=link,
        cluster=cluster,
        fixed_effects=fixed_effects,
        numeric=(prevalence,),
        outcome=outcome,
        name=f"{outcome}_generator_{link}",
    )


def recover_generator_truth(
    frame: pd.DataFrame,
    truth: dict,
    *,
    prevalence: str = "la_mdh_prevalence_centred",
    outcomes: dict | None = None,
    conf_level: float = 0.95,
    **kwargs,
) -> pd.DataFrame:
    """:func:`compare_with_truth` of :func:`fit_generator_model` for every outcome of
    ``outcomes`` (truth.json name -> outcome column; default :data:`TRUTH_OUTCOMES`),
    stacked with an ``outcome`` column. ``frame`` is the analysis frame (children with
    ``mdh``, ``any_domain`` and the prevalence column)."""
    rows = []
    for key, column in (outcomes or TRUTH_OUTCOMES).items():
        fit = fit_generator_model(frame, column, prevalence=prevalence, **kwargs)
        cmp = compare_with_truth(
            fit, generator_truth(truth, key, prevalence=prevalence), conf_level
        )
        cmp.insert(0, "outcome", column)
        rows.append(cmp)
    return pd.concat(rows, ignore_index=True)


DEFAULT_INDEX = {
    "weights": {"employment": 0.2, "education": 0.2, "health": 0.2, "housing": 0.2, "fsm": 0.2},
    "k": 0.4,
}


def synthetic_model_frame(
    n_children: int, seed: int, folder, *, index: dict | None = None, min_count: int = 10
) -> tuple[pd.DataFrame, dict]:
    """Run the pipeline on a synthetic England and return the model frame and its truth.

    ``child_mdh.sources.synthetic.generate`` writes ``n_children`` children (aged 0-17) into
    ``folder/synth``; the tables are validated, the children table is derived with the
    default settings (ages 5-15, linked children), the Child-MDH index is identified
    (``index``: weights and k, default the generator's: 2 of 5 equal weights) and the
    model columns are added (:func:`child_mdh.aggregates.models.prepare.prepare_model_data`, with
    the analysis's own LA prevalence, and the generator's population prevalence in
    :data:`POPULATION_PREVALENCE`). Returns (frame, truth.json as a dict).
    """

    index = index or DEFAULT_INDEX
    children, truth = synthetic_children(n_children, seed, folder)
    ci = child_index(children, index["weights"], float(index["k"]))
    data = prepare_model_data(attach_index(children, ci), min_count=min_count)
    frame = data.frame
    frame[POPULATION_PREVALENCE] = frame["la_code"].map(population_prevalence(truth)).astype(float)
    return frame, truth


# ---------------------------------------------------------------------------------
# the recovery study over many seeds (benchmarks/recovery_models.py, the simulation workflow)

PREVALENCES = {"analysis": "la_mdh_prevalence_centred", "population": POPULATION_PREVALENCE}


def replicate(seed: int, children: int, workdir: Path) -> pd.DataFrame:
    # one replication of the recovery study
    """One synthetic England: the comparisons with the truth for both prevalences."""
    folder = workdir / f"seed_{seed}"
    shutil.rmtree(folder, ignore_errors=True)
    frame, truth = synthetic_model_frame(children, seed, folder)
    out = []
    for label, column in PREVALENCES.items():
        r = recover_generator_truth(frame, truth, prevalence=column)
        r["term"] = r["term"].str.replace(POPULATION_PREVALENCE, "la_mdh_prevalence_centred")
        r["covariance"] = r["covariance"].str.replace(
            POPULATION_PREVALENCE, "la_mdh_prevalence_centred"
        )
        r.insert(0, "prevalence", label)
        r.insert(0, "seed", seed)
        r["analysis_children"] = len(frame)
        out.append(r)
    shutil.rmtree(folder, ignore_errors=True)
    return pd.concat(out, ignore_index=True)


def summarise_replications(reps: pd.DataFrame) -> pd.DataFrame:
    """Per prevalence, outcome and term: replications, truth, mean bias, Monte Carlo SE
    of the bias, empirical SD, mean SE, their ratio, coverage with its Monte Carlo error
    (sqrt(c(1 - c)/R)) and mean z."""
    g = reps.groupby(["prevalence", "outcome", "term"], sort=False)
    out = pd.DataFrame(
        {
            "replications": g.size(),
            "truth": g["truth"].first(),
            "mean_bias": g["bias"].mean(),
            "bias_mcse": g["bias"].std(ddof=1) / np.sqrt(g.size()),
            "sd_estimate": g["estimate"].std(ddof=1),
            "mean_std_error": g["std_error"].mean(),
            "coverage": g["covered"].mean(),
            "mean_z": g["z"].mean(),
        }
    )
    out["sd_over_se"] = out["sd_estimate"] / out["mean_std_error"]
    # the Monte Carlo error of the coverage: binomial over the replications
    out["coverage_mcse"] = np.sqrt(out["coverage"] * (1 - out["coverage"]) / out["replications"])
    return out.reset_index()


WALD_KEYS = ("prevalence", "outcome")


def wald_by_replication(
    reps: pd.DataFrame, keys=WALD_KEYS, clusters: int | None = None
) -> pd.DataFrame:
    """The joint Wald test of the truth (:func:`truth_wald`) per seed and model (``keys``:
    the prevalence and outcome), from stacked :func:`compare_with_truth` tables with their
    ``covariance`` column. Returns seed, the keys, statistic, df and p-value (and
    ``p_value_t2`` with ``clusters``)."""
    if "covariance" not in reps.columns:
        raise KeyError("the replications have no covariance column (rerun the replications)")
    rows = []
    for key, g in reps.groupby(["seed", *keys], sort=False):
        terms = list(g["term"])
        cov = [[json.loads(c)[t] for t in terms] for c in g["covariance"]]
        w = truth_wald(g["estimate"], g["truth"], cov, clusters)
        rows.append({**dict(zip(["seed", *keys], key, strict=True)), **w})
    return pd.DataFrame(rows)


def wald_calibration(walds: pd.DataFrame, keys=WALD_KEYS, levels=(0.05, 0.01)) -> pd.DataFrame:
    """The calibration of :func:`wald_by_replication` per model: replications, df, mean
    statistic (its expectation under calibration is df) and its ratio to df, the share of
    seeds with p below each level (``reject_05``, ``reject_01``) with its Monte Carlo SE
    sqrt(r(1 - r)/R), and the Kolmogorov-Smirnov test of the p-values against the uniform
    distribution (statistic ``ks``, p-value ``ks_p``); with a ``p_value_t2`` column also
    the rejection shares under the Hotelling reference (``reject_05_t2``, ``reject_01_t2``)."""
    rows = []
    for key, g in walds.groupby(list(keys), sort=False):
        key = key if isinstance(key, tuple) else (key,)
        n = len(g)
        row = {
            **dict(zip(keys, key, strict=True)),
            "replications": n,
            "df": int(g["df"].iloc[0]),
            "mean_statistic": float(g["statistic"].mean()),
        }
        row["statistic_over_df"] = row["mean_statistic"] / row["df"]
        for a in levels:
            r = float((g["p_value"] < a).mean())
            tag = f"{a:.2f}"[2:]
            row[f"reject_{tag}"] = r
            row[f"reject_{tag}_mcse"] = float(np.sqrt(r * (1 - r) / n))
            if "p_value_t2" in g.columns:
                row[f"reject_{tag}_t2"] = float((g["p_value_t2"] < a).mean())
        ks = stats.kstest(g["p_value"], "uniform")
        row["ks"], row["ks_p"] = float(ks.statistic), float(ks.pvalue)
        rows.append(row)
    return pd.DataFrame(rows)


def wald_markdown(calibration: pd.DataFrame, prevalence: str = "analysis") -> str:
    """The Wald calibration of one prevalence as a Markdown table (docs/models.md)."""
    c = calibration[calibration["prevalence"] == prevalence]
    lines = [
        "| outcome | terms (df) | seeds | mean W / df | p < 0.05 (MC SE) | p < 0.01 (MC SE) | "
        "KS vs uniform: D (p) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in c.itertuples():
        lines.append(
            f"| {r.outcome} | {r.df} | {r.replications} | {r.statistic_over_df:.3f} | "
            f"{r.reject_05:.3f} ({r.reject_05_mcse:.3f}) | {r.reject_01:.3f} "
            f"({r.reject_01_mcse:.3f}) | {r.ks:.3f} ({r.ks_p:.2f}) |"
        )
    return "\n".join(lines)


def recovery_markdown(summary: pd.DataFrame, prevalence: str = "analysis") -> str:
    """The summary of one prevalence as a Markdown table (docs/models.md)."""
    s = summary[summary["prevalence"] == prevalence]
    lines = [
        "| outcome | term | truth | mean bias (MC SE) | SD of estimates | mean SE | "
        "coverage of 95% CI (MC SE) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in s.itertuples():
        lines.append(
            f"| {r.outcome} | `{r.term}` | {r.truth:.2f} | {r.mean_bias:+.3f} "
            f"({r.bias_mcse:.3f}) | {r.sd_estimate:.3f} | {r.mean_std_error:.3f} | "
            f"{r.coverage:.3f} ({r.coverage_mcse:.3f}) |"
        )
    return "\n".join(lines)
