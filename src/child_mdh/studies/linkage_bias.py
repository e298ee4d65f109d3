"""Bias and coverage of the linkage-weighted index on synthetic Englands.

Each draw generates a synthetic England whose non-linkage depends on deprivation
(``mismatch_rate`` and ``mismatch_per_domain``: :func:`child_mdh.sources.synthetic.generate`),
runs it through the pipeline's path (validation, then the census cohort with unlinked
children kept: :func:`child_mdh.derive.children.derive_children` with
``unlinked="fsm_missing"``) and estimates England's H, A and M0 unweighted and weighted
by the inverse probability of the index being observed
(:mod:`child_mdh.aggregates.linkage`). The truth of a draw is the index of every census
child aged 5-15 in it, FSM included (recorded or latent, for children who are not
linked too), which the generator records in ``truth.json`` (``linkage.index.all_children``).

:func:`summarise` gives, per estimator and measure, the mean error (bias) with its
Monte Carlo SE, the SD of the estimates around the truth, the mean SE and the coverage of
the 95% intervals with its Monte Carlo SE. The truth is the realised value of the
draw's census children (a finite population), while the linearisation SE describes the
process that generated them (a superpopulation), so coverage above 95% is expected for
the weighted estimator when it is unbiased. :func:`summarise_study` adds the
superpopulation value (the mean of the draws' realised values) as a second truth, the
one the SEs describe, and the weighted estimates with the SE that accounts for the
estimation of the linkage model (:func:`stacked_index_se`).

The simulation workflow runs it as jobs (``make simulate SIMULATION_TARGETS=linkage_bias``,
``workflow/simulation/Snakefile``); ``python -m child_mdh.studies.linkage_bias --draws 50
--children 20000`` runs it here and prints both summaries.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from child_mdh.aggregates import linkage as lk
from child_mdh.aggregates.index.alkire_foster import DEFAULT_K, DEFAULT_WEIGHTS
from child_mdh.aggregates.linkage_stacked import stacked_index_inference
from child_mdh.contract.vocabulary import ENGLAND_CODE
from child_mdh.studies.synthetic_children import synthetic_children
from child_mdh.studies.tables import markdown_table

#: validation's "future" limit: after the synthetic extract date (census day + 5 years)
VALIDATION_DATE = "2026-11-01"
#: the non-linkage of the study: 15% of state pupils not linked, log-odds +0.5 a domain
STUDY_OPTIONS = {"mismatch_rate": 0.15, "mismatch_per_domain": 0.5}
ESTIMATORS = ("unweighted", "ipw")
#: the weighted estimates again, with the SE that accounts for the estimated linkage model
STACKED = "ipw_stacked"


def census_cohort_for_draw(
    n_children: int, seed: int, options: dict | None = None, work_dir: Path | None = None
) -> tuple[pd.DataFrame, dict]:
    """Every census child in scope (linked or not) of one synthetic England, and the
    truth's ``linkage`` section. Files go to a temporary folder removed afterwards."""
    root = Path(tempfile.mkdtemp(prefix=f"linkage_{seed}_", dir=work_dir))
    try:
        children, truth = synthetic_children(
            n_children,
            seed,
            root,
            generate_options=options or STUDY_OPTIONS,
            validation_date=VALIDATION_DATE,
            unlinked="fsm_missing",
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return children, truth["linkage"]


def estimate_draw(
    children: pd.DataFrame,
    truth: dict,
    model_area: str = "region_code",
    trim_percentile: float | None = None,
) -> pd.DataFrame:
    """England's H, A, M0, unweighted and weighted, beside the draw's truth: one row per
    estimator and measure (the weighted ones twice when the weights are not trimmed:
    ``ipw`` with the pipeline's SE, weights fixed, and :data:`STACKED` with the SE of
    :func:`stacked_index_se`, the linkage model estimated, and a normal interval):
    ``estimate``, ``se``, ``lower``, ``upper``, ``truth``, ``covered``, with the
    worst-case bounds on H in the H rows."""
    weights = dict(DEFAULT_WEIGHTS)
    p_hat, _ = lk.linkage_model(children, list(weights), area=model_area)
    observed = lk.observed_index(children, list(weights))
    w, summary = lk.linkage_weights(p_hat, observed, trim_percentile=trim_percentile)
    est = lk.weighted_index_estimates(children, w, weights, DEFAULT_K)
    est = est[est["area_code"] == ENGLAND_CODE]
    bounds = lk.index_bounds(children, weights, DEFAULT_K).iloc[0]
    h_low = (bounds["mdh_n"] + bounds["unknown_sure_mdh_n"]) / bounds["children_n"]
    h_high = h_low + bounds["unknown_possible_mdh_n"] / bounds["children_n"]
    rows = []
    for _, r in est.iterrows():
        true = truth["index"]["all_children"][r["measure"]]
        for label in ESTIMATORS:
            lower, upper = r[f"conf_low_{label}"], r[f"conf_high_{label}"]
            rows.append(
                {
                    "estimator": label,
                    "measure": r["measure"],
                    "estimate": r[f"estimate_{label}"],
                    "se": r[f"std_error_{label}"],
                    "lower": lower,
                    "upper": upper,
                    "truth": true,
                    "covered": bool(lower <= true <= upper),
                    "bound_lower": h_low if r["measure"] == "H" else np.nan,
                    "bound_upper": h_high if r["measure"] == "H" else np.nan,
                    "effective_sample_size": summary["effective_sample_size"],
                }
            )
    if trim_percentile is None:  # the stacked equations are those of untrimmed weights
        stacked = stacked_index_se(children, weights, DEFAULT_K, model_area)
        z = float(stats.norm.ppf(0.975))
        for r in stacked.itertuples(index=False):
            true = truth["index"]["all_children"][r.measure]
            lower, upper = r.estimate - z * r.se_stacked, r.estimate + z * r.se_stacked
            rows.append(
                {
                    "estimator": STACKED,
                    "measure": r.measure,
                    "estimate": r.estimate,
                    "se": r.se_stacked,
                    "lower": lower,
                    "upper": upper,
                    "truth": true,
                    "covered": bool(lower <= true <= upper),
                    "bound_lower": h_low if r.measure == "H" else np.nan,
                    "bound_upper": h_high if r.measure == "H" else np.nan,
                    "effective_sample_size": summary["effective_sample_size"],
                }
            )
    return pd.DataFrame(rows)


def stacked_index_se(
    children: pd.DataFrame,
    index_weights: dict | None = None,
    k: float = DEFAULT_K,
    area: str = "region_code",
) -> pd.DataFrame:
    """England's weighted H, A and M0 with two SEs: weights fixed, and weights estimated.

    :func:`child_mdh.aggregates.linkage_stacked.stacked_index_inference` (the stacked
    estimating equations of the ratios and the linkage model, clustered by household) on
    the linkage model of :func:`child_mdh.aggregates.linkage.fit_linkage_model` with
    ``area`` effects. Returns ``measure``, ``estimate``, ``se_fixed``, ``se_stacked``.
    """
    weights = dict(index_weights or DEFAULT_WEIGHTS)
    fit = lk.fit_linkage_model(children, list(weights), area=area)
    est = stacked_index_inference(children, fit, weights, k, by=None)
    return est[["measure", "estimate", "se_fixed", "se_stacked"]]


def one_draw(n_children: int, seed: int, options: dict | None = None) -> pd.DataFrame:
    """:func:`census_cohort_for_draw` then :func:`estimate_draw`, with the seed."""
    children, truth = census_cohort_for_draw(n_children, seed, options)
    return estimate_draw(children, truth).assign(seed=int(seed))


def run_study(
    draws: int = 50,
    n_children: int = 20_000,
    first_seed: int = 1,
    options: dict | None = None,
    workers: int = 1,
) -> pd.DataFrame:
    """Every draw's estimates (seeds first_seed .. first_seed + draws - 1)."""
    seeds = range(first_seed, first_seed + draws)
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            parts = list(pool.map(one_draw, [n_children] * draws, seeds, [options] * draws))
    else:
        parts = [one_draw(n_children, s, options) for s in seeds]
    return pd.concat(parts, ignore_index=True)


def summarise(results: pd.DataFrame) -> pd.DataFrame:
    """Per estimator and measure: draws, mean truth, bias (mean error) and its Monte Carlo
    SE, SD of the errors, mean SE, coverage and its Monte Carlo SE, and for H the share
    of draws whose truth lies within the worst-case bounds."""
    rows = []
    for (estimator, measure), g in results.groupby(["estimator", "measure"], sort=False):
        err = g["estimate"] - g["truth"]
        cover = g["covered"].mean()
        n = len(g)
        within = (g["bound_lower"] <= g["truth"]) & (g["truth"] <= g["bound_upper"])
        rows.append(
            {
                "estimator": estimator,
                "measure": measure,
                "draws": n,
                "truth": g["truth"].mean(),
                "bias": err.mean(),
                "bias_mc_se": err.std(ddof=1) / np.sqrt(n) if n > 1 else np.nan,
                "sd_error": err.std(ddof=1) if n > 1 else np.nan,
                "mean_se": g["se"].mean(),
                "coverage": cover,
                "coverage_mc_se": np.sqrt(cover * (1 - cover) / n),
                "truth_within_bounds": within.mean() if measure == "H" else np.nan,
            }
        )
    return pd.DataFrame(rows)


def summarise_study(results: pd.DataFrame) -> pd.DataFrame:
    """Per estimator and measure, against two truths.

    The superpopulation value is the mean over the draws of each draw's realised value
    (every census child of the draw, linked or not; ``truth_mc_se`` its Monte Carlo SE):
    against it, ``bias`` (mean estimate minus it) with ``bias_mc_se`` (SD of the
    estimates over sqrt(draws)), ``sd_estimate`` beside ``mean_se``, and ``coverage``
    with ``coverage_mc_se``. Against each draw's realised value (the draw's finite
    population): ``bias_realised`` with its MC SE, ``sd_error_realised`` and
    ``coverage_realised`` with its MC SE."""
    rows = []
    truth = results.drop_duplicates(["seed", "measure"]).groupby("measure")["truth"]
    super_value, super_se = truth.mean(), truth.std(ddof=1) / np.sqrt(truth.size())
    for (estimator, measure), g in results.groupby(["estimator", "measure"], sort=False):
        n = len(g)
        t = super_value[measure]
        sd = g["estimate"].std(ddof=1) if n > 1 else np.nan
        err = g["estimate"] - g["truth"]
        cover = ((g["lower"] <= t) & (t <= g["upper"])).mean()
        cover_r = g["covered"].astype(float).mean()
        rows.append(
            {
                "estimator": estimator,
                "measure": measure,
                "draws": n,
                "truth": t,
                "truth_mc_se": super_se[measure],
                "mean_estimate": g["estimate"].mean(),
                "bias": g["estimate"].mean() - t,
                "bias_mc_se": sd / np.sqrt(n),
                "sd_estimate": sd,
                "mean_se": g["se"].mean(),
                "coverage": cover,
                "coverage_mc_se": np.sqrt(cover * (1 - cover) / n),
                "bias_realised": err.mean(),
                "bias_realised_mc_se": err.std(ddof=1) / np.sqrt(n) if n > 1 else np.nan,
                "sd_error_realised": err.std(ddof=1) if n > 1 else np.nan,
                "coverage_realised": cover_r,
                "coverage_realised_mc_se": np.sqrt(cover_r * (1 - cover_r) / n),
            }
        )
    return pd.DataFrame(rows)


def study_markdown(summary: pd.DataFrame) -> str:
    """:func:`summarise_study` as a Markdown table (four decimals)."""
    cols = [
        "estimator",
        "measure",
        "draws",
        "truth",
        "bias",
        "bias_mc_se",
        "sd_estimate",
        "mean_se",
        "coverage",
        "coverage_mc_se",
        "bias_realised",
        "sd_error_realised",
        "coverage_realised",
    ]
    return markdown_table(summary, cols)


def main(argv=None) -> None:  # pragma: no cover - a command for the documented study
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=50)
    parser.add_argument("--children", type=int, default=20_000)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None, help="CSV of every draw's estimates")
    args = parser.parse_args(argv)
    results = run_study(args.draws, args.children, args.first_seed, workers=args.workers)
    if args.out:
        results.to_csv(args.out, index=False)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(summarise(results).round(4).to_string(index=False))
        print(summarise_study(results).round(4).to_string(index=False))


if __name__ == "__main__":  # pragma: no cover
    main()
