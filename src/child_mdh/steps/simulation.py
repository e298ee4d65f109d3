"""Steps of the simulation workflow (``workflow/simulation/Snakefile``): a batch of
seeds per job, then the summary."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pandas as pd
from threadpoolctl import threadpool_limits

from child_mdh.steps._runner import step_logging
from child_mdh.studies import inequality_recovery as ineq
from child_mdh.studies import linkage_bias as lb
from child_mdh.studies.model_recovery import (
    PREVALENCES,
    recovery_markdown,
    replicate,
    summarise_replications,
    wald_by_replication,
    wald_calibration,
    wald_markdown,
)
from child_mdh.studies.synthetic_coverage import (
    draw_estimates,
    la_report_text,
    report_text,
    summarise,
    truth_from_draws,
)


def index_coverage_draws(smk) -> None:
    """Rules ``index_coverage_truth`` and ``index_coverage_draws``: the estimates of
    ``params.seeds`` draws from ``params.first_seed`` on (the first ``boot_draws`` seeds
    of the study also get the bootstrap)."""
    p = smk.params
    with step_logging(smk, "index_coverage_draws") as log:
        seeds = range(int(p.first_seed), int(p.first_seed) + int(p.seeds))
        frames = [
            draw_estimates(
                int(p.n_children),
                s,
                bootstrap=s <= int(p.boot_draws),
                n_boot=int(p.n_boot),
                by=p.by,
                la_effects_seed=p.la_effects_seed,
            )
            for s in seeds
        ]
        pd.concat(frames, ignore_index=True).to_csv(smk.output[0], index=False)
        log.info("draws %d-%d of %d children", seeds[0], seeds[-1], int(p.n_children))


def index_coverage_summary(smk) -> None:
    """Rule ``index_coverage_summary``: the truth from the truth draws, then coverage
    (with its Monte Carlo error), bias and SE calibration per design, area and measure."""
    with step_logging(smk, "index_coverage_summary") as log:
        truth_runs = pd.concat([pd.read_csv(f) for f in smk.input.truth], ignore_index=True)
        draws = pd.concat([pd.read_csv(f) for f in smk.input.draws], ignore_index=True)
        truth = truth_from_draws(truth_runs)
        summary = summarise(draws, truth)
        truth.to_csv(smk.output.truth, index=False)
        summary.to_csv(smk.output.summary, index=False)
        settings = dict(smk.params.settings)
        text = (
            la_report_text(summary) if settings["by"] == "la_code" else report_text(summary, truth)
        )
        Path(smk.output.report).write_text(
            f"```json\n{json.dumps(settings, indent=1)}\n```\n\n{text}\n"
        )
        log.info("%d draws summarised", draws["seed"].nunique())


def model_recovery_replications(smk) -> None:
    """Rule ``model_recovery_replications``: ``params.seeds`` synthetic Englands from
    ``params.first_seed`` on, each through the pipeline and the generator's model
    (:func:`child_mdh.studies.model_recovery.replicate`), one BLAS thread per job."""
    p = smk.params
    with step_logging(smk, "model_recovery_replications") as log, threadpool_limits(1):
        seeds = range(int(p.first_seed), int(p.first_seed) + int(p.seeds))
        with tempfile.TemporaryDirectory(prefix="model_recovery_") as work:
            reps = [replicate(s, int(p.children), Path(work)) for s in seeds]
        pd.concat(reps, ignore_index=True).to_csv(smk.output[0], index=False)
        log.info("replications %d-%d of %d children", seeds[0], seeds[-1], int(p.children))


def model_recovery_summary(smk) -> None:
    """Rule ``model_recovery_summary``: bias, empirical against mean SE and coverage with
    its Monte Carlo error, per prevalence, outcome and term; the joint Wald test of each
    model's true values per seed (``wald_replications``) and its calibration (``wald``:
    rejection rates at 5% and 1%, Kolmogorov-Smirnov test of the p-values)."""
    with step_logging(smk, "model_recovery_summary") as log:
        reps = pd.concat([pd.read_csv(f) for f in smk.input], ignore_index=True)
        summary = summarise_replications(reps)
        summary.to_csv(smk.output.summary, index=False)
        walds = wald_by_replication(reps)
        walds.to_csv(smk.output.wald_replications, index=False)
        calibration = wald_calibration(walds)
        calibration.to_csv(smk.output.wald, index=False)
        settings = json.dumps(dict(smk.params.settings), indent=1)
        tables = "\n\n".join(
            f"## prevalence: {label}\n\n{recovery_markdown(summary, label)}\n\n"
            f"Joint Wald test of the true values:\n\n{wald_markdown(calibration, label)}"
            for label in PREVALENCES
        )
        Path(smk.output.report).write_text(f"```json\n{settings}\n```\n\n{tables}\n")
        log.info("%d replications summarised", reps["seed"].nunique())


def _seeds(p) -> range:
    return range(int(p.first_seed), int(p.first_seed) + int(p.seeds))


def _report(path, settings, table: str, seeds: int) -> None:
    Path(path).write_text(
        f"```json\n{json.dumps(dict(settings), indent=1)}\n```\n\n{seeds} seeds\n\n{table}\n"
    )


def linkage_bias_draws(smk) -> None:
    """Rule ``linkage_bias_draws``: the unweighted and linkage-weighted index of
    ``params.seeds`` synthetic Englands from ``params.first_seed`` on
    (:func:`child_mdh.studies.linkage_bias.one_draw`), one BLAS thread per job."""
    p = smk.params
    with step_logging(smk, "linkage_bias_draws") as log, threadpool_limits(1):
        seeds = _seeds(p)
        frames = [lb.one_draw(int(p.n_children), s) for s in seeds]
        pd.concat(frames, ignore_index=True).to_csv(smk.output[0], index=False)
        log.info("draws %d-%d of %d children", seeds[0], seeds[-1], int(p.n_children))


def linkage_bias_summary(smk) -> None:
    """Rule ``linkage_bias_summary``: bias, SD against mean SE and coverage with their
    Monte Carlo SEs per estimator and measure, against the superpopulation value and
    against each draw's realised value
    (:func:`child_mdh.studies.linkage_bias.summarise_study`)."""
    with step_logging(smk, "linkage_bias_summary") as log:
        draws = pd.concat([pd.read_csv(f) for f in smk.input], ignore_index=True)
        summary = lb.summarise_study(draws)
        summary.to_csv(smk.output.summary, index=False)
        n = draws["seed"].nunique()
        _report(smk.output.report, smk.params.settings, lb.study_markdown(summary), n)
        log.info("%d draws summarised", n)


def inequality_recovery_draws(smk) -> None:
    """Rule ``inequality_recovery_draws``: the profiles' odds ratios, attributable
    fractions and SII/RII of ``params.seeds`` simulated cohorts from
    ``params.first_seed`` on (:func:`child_mdh.studies.inequality_recovery.draw_estimates`)
    beside their exact true values, one BLAS thread per job."""
    p = smk.params
    with step_logging(smk, "inequality_recovery_draws") as log, threadpool_limits(1):
        seeds = _seeds(p)
        truth = ineq.true_values()
        frames = [
            ineq.draw_estimates(int(p.n_children), s, n_las=int(p.n_las), truth=truth)
            for s in seeds
        ]
        pd.concat(frames, ignore_index=True).to_csv(smk.output[0], index=False)
        log.info("draws %d-%d of %d children", seeds[0], seeds[-1], int(p.n_children))


def inequality_recovery_summary(smk) -> None:
    """Rule ``inequality_recovery_summary``: bias with its Monte Carlo SE, SD of the
    estimates against the mean SE, and coverage with its Monte Carlo SE, per estimand
    (:func:`child_mdh.studies.inequality_recovery.summarise`)."""
    with step_logging(smk, "inequality_recovery_summary") as log:
        draws = pd.concat([pd.read_csv(f) for f in smk.input], ignore_index=True)
        summary = ineq.summarise(draws)
        summary.to_csv(smk.output.summary, index=False)
        n = draws["seed"].nunique()
        _report(smk.output.report, smk.params.settings, ineq.summary_markdown(summary), n)
        log.info("%d draws summarised", n)
