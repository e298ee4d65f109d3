"""The release of the models of social care contact, through disclosure control.

Reads the children table and the person-level Child-MDH identification from
``results/secure/``, fits the models (:func:`child_mdh.aggregates.models.tables.build_model_tables`)
and writes to ``results/release/models/`` only through :mod:`child_mdh.release.sdc`:

=========================  ==========================================================
``binary_models.csv``      every binary outcome on MDH, deprivation count, indicators;
                           logit and cloglog; LA dummies; LA absorbed (linear
                           probability); the inverse-intervention interaction
``hazard_models.csv``      discrete-time hazard of the first referral, with the
                           proportional-hazards test
``count_models.csv``       Poisson and negative binomial models of referral counts
``predicted_rates.csv``    standardised rates per 10,000 by deprivation count and MDH
``marginal_effects.csv``   differences of those rates from the reference level
``comparator.csv``         gradient boosting against logistic: aggregates only
``coefficients.png``       ratios of each indicator, by outcome
``gradient.png``           adjusted rates by number of deprived indicators
``summary.md``             the results in plain English
=========================  ==========================================================

Regression tables declare their residual degrees of freedom (the smallest of the models
they hold); every statistic is declared as derived from the counts behind it, so it is
suppressed with them. Figures and the summary are drawn from the tables as written, so
they show only what passed the checks, and are recorded as backed by those tables.
No individual child's prediction or score is computed for release or written. The
workflow writes these files to the rule's staged folder, which Snakemake empties before
the rule runs; the release folder is built anew from the staged folders
(:func:`child_mdh.release.sdc.publish.assemble_release`), so nothing stale stays behind.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

from child_mdh.aggregates.models import tables as mt
from child_mdh.release.models.figures import coefficient_figure, gradient_figure
from child_mdh.release.models.repeats import (
    england_counts,
    model_repeats,
    published_repeats,
)
from child_mdh.release.models.summary import model_summary
from child_mdh.release.sdc import (
    TableSpec,
    write_release_figure,
    write_release_table,
    write_release_text,
)
from child_mdh.sources.synthetic.truth_terms import outcome_truth

FILES = {
    "binary": (
        "binary_models.csv",
        "regression",
        "tidy coefficients of every binary-outcome model",
    ),
    "hazard": (
        "hazard_models.csv",
        "regression",
        "discrete-time hazard of the first referral (yearly periods), with the "
        "proportional-hazards test (exposure x linear time, cluster-robust Wald)",
    ),
    "counts": (
        "count_models.csv",
        "regression",
        "Poisson (cells, log follow-up offset) and negative binomial NB2 (distinct "
        "rows, alpha profiled) models of referrals",
    ),
    "predicted_rates": (
        "predicted_rates.csv",
        "table",
        "standardised (marginally adjusted) predicted rates per 10,000 "
        "children (child-years for counts), delta-method intervals on the "
        "logit (log) scale",
    ),
    "marginal_effects": (
        "marginal_effects.csv",
        "table",
        "average marginal effects: differences of standardised rates from "
        "the reference level per 10,000, delta-method errors",
    ),
    "comparator": (
        "comparator.csv",
        "table",
        "gradient boosting (scikit-learn HistGradientBoostingClassifier) against "
        "the additive logistic model, folds by the cluster unit (local "
        "authority by default): discrimination, "
        "calibration and interaction checks; aggregates only, no individual "
        "prediction",
    ),
}


def table_specs(residual_df: Mapping[str, int | None]) -> dict:
    """The disclosure declaration of every model table (``residual_df`` per table)."""
    behind_coef = (
        "children_n",
        "observations_n",
        "events_n",
        "term_observations_n",
        "term_events_n",
    )
    coef = dict.fromkeys(mt.STAT_COLUMNS, behind_coef)
    model_level = ("children_n", "observations_n", "events_n")
    rate_cols = ("rate", "rate_low", "rate_high", "std_error")
    ame_cols = ("ame", "std_error", "conf_low", "conf_high", "p_value")
    return {
        "binary": TableSpec(
            key_columns=("model", "term"), derived=coef, residual_df=residual_df.get("binary")
        ),
        "hazard": TableSpec(
            key_columns=("model", "term"),
            derived={**coef, **dict.fromkeys(("ph_statistic", "ph_df", "ph_p_value"), model_level)},
            residual_df=residual_df.get("hazard"),
        ),
        "counts": TableSpec(
            key_columns=("model", "term"),
            derived={**coef, "alpha": model_level},
            residual_df=residual_df.get("counts"),
        ),
        "predicted_rates": TableSpec(
            key_columns=("model", "variable", "level"),
            derived=dict.fromkeys(rate_cols, ("children_n", "events_n")),
            not_counts=("conf_level",),
            residual_df=residual_df.get("predicted_rates"),
        ),
        "marginal_effects": TableSpec(
            key_columns=("model", "variable", "level"),
            derived=dict.fromkeys(
                ame_cols, ("children_n", "events_n", "reference_children_n", "reference_events_n")
            ),
            not_counts=("conf_level",),
            residual_df=residual_df.get("marginal_effects"),
        ),
        "comparator": TableSpec(
            key_columns=("section", "model", "fold", "bin", "statistic"),
            derived={"value": ("children_n", "events_n")},
            not_counts=("bin",),
        ),
    }


def _method(key: str, settings: mt.ModelSettings, adjust) -> str:
    what = FILES[key][2]
    common = (
        f"{int(settings.confidence * 100)}% normal intervals; errors clustered by "
        f"{settings.cluster} (CR1, the row-level statsmodels/Stata convention, "
        "computed exactly on covariate-pattern cells); adjusted for "
        f"{', '.join(adjust) or 'nothing'} (sparse levels pooled, or a covariate left "
        "out, per outcome: see summary.md)"
    )
    if key == "binary":
        return (
            f"{what}: logit (odds ratios) and cloglog (hazard ratios of the grouped "
            f"proportional-hazards model). {common}. Degrees-of-freedom conventions "
            "(column df_convention): no LA effects, K = estimated coefficients; LA "
            "dummies (fixed-effect GLM), K counts the dummies as statsmodels does for "
            "the dummy-variable fit; LA absorbed (linear probability model, linearmodels "
            "AbsorbingLS), K excludes the absorbed effects nested in the LA clusters, as "
            "linearmodels debiased=True, Stata xtreg fe and reghdfe. Residual df = "
            "number of clusters - 1 throughout. Coefficients resting on fewer children "
            "or events than the threshold are suppressed."
        )
    return f"{what}. {common}."


def _released(path: Path) -> pd.DataFrame:
    """A table as written (what figures and the summary may show)."""
    return pd.read_csv(path, keep_default_na=True)


def release_settings(settings, manifest) -> mt.ModelSettings:
    """``settings`` as :class:`~child_mdh.aggregates.models.tables.ModelSettings`: kept
    when it is one, else built from a mapping with the workflow's ``models``, ``index`` and
    (optionally) ``outcomes`` blocks, with the manifest's disclosure threshold and minimum
    residual df."""
    if isinstance(settings, mt.ModelSettings):
        return settings
    return mt.model_settings(
        settings.get("models"),
        settings.get("index"),
        settings.get("outcomes"),
        threshold=manifest.config.threshold,
        min_residual_df=manifest.config.min_residual_df,
    )


def model_outputs(
    children: pd.DataFrame,
    settings,
    release_dir: Path,
    manifest,
    child_index: pd.DataFrame | None = None,
    log=None,
    truth: Mapping | None = None,
    progress=None,
    profile_counts: Mapping[str, float] | None = None,
) -> dict:
    """Fit the models and write every model table, figure and the summary to
    ``release_dir/models`` through disclosure control; return the manifest uids.

    ``settings`` is a :class:`~child_mdh.aggregates.models.tables.ModelSettings` or a mapping with
    the workflow's ``models``, ``index`` and (optionally) ``outcomes`` blocks; the
    disclosure threshold and minimum residual df are the manifest's. ``truth``: the
    synthetic generator's ``truth.json`` (synthetic data only), which the summary compares
    the released estimates with. ``progress(message)``, when given, is told where the
    step is (:func:`~child_mdh.aggregates.models.tables.build_model_tables`, then the
    writing of the tables). ``profile_counts``: England's counts as the local profiles
    publish them (:func:`~child_mdh.release.models.repeats.published_england_counts`);
    the model tables' repeats of them publish those values, as views
    (:func:`~child_mdh.release.models.repeats.published_repeats`).
    """
    settings = release_settings(settings, manifest)
    result = mt.build_model_tables(children, settings, child_index=child_index, progress=progress)
    settings = result.settings  # as used (one local authority changes the clustering)
    if log is not None:
        log.info(
            "models fitted in %s", ", ".join(f"{k} {v:.1f}s" for k, v in result.timings.items())
        )
        for note in result.notes:
            log.info("note: %s", note)
        if not result.skipped.empty:
            log.warning("models not estimated:\n%s", result.skipped.to_string(index=False))
    out = Path(release_dir) / "models"
    adjust = {o: result.adjusted_for(o) for o in result.data}
    adjust_all = list(dict.fromkeys(a for terms in adjust.values() for a in terms))
    specs = table_specs(result.residual_df)
    exact = england_counts(children, settings.indicators, child_index)
    if progress is not None:
        progress("tables through disclosure control, figures and the summary")
    written: dict[str, str] = {}
    released: dict[str, pd.DataFrame] = {}
    for key, (name, output_type, _) in FILES.items():
        df = result.tables.get(key)
        if df is None or df.empty:
            continue
        spec = specs[key]
        # counts of the local profiles' England row repeated here (verified exact)
        if profile_counts is not None:
            df, sums = published_repeats(df, spec.key_columns, exact, profile_counts)
        else:
            sums = model_repeats(df, spec.key_columns, exact)
        spec = replace(spec, sums=sums)
        entry = write_release_table(
            df,
            out / name,
            spec,
            manifest,
            output_type=output_type,
            method=_method(key, settings, adjust_all),
        )
        written[key] = entry["uid"]
        released[key] = _released(out / name)

    fig = (
        coefficient_figure(released.get("binary", pd.DataFrame()), settings.indicators)
        if "binary" in released
        else None
    )
    if fig is not None:
        written["coefficients"] = write_release_figure(
            fig,
            out / "coefficients.png",
            None,
            manifest,
            backed_by=[written["binary"]],
            method="ratios of each indicator, mutually adjusted, by outcome (from "
            "binary_models.csv)",
        )["uid"]
        plt.close(fig)
    fig = gradient_figure(released["predicted_rates"]) if "predicted_rates" in released else None
    if fig is not None:
        written["gradient"] = write_release_figure(
            fig,
            out / "gradient.png",
            None,
            manifest,
            backed_by=[written["predicted_rates"]],
            method="standardised rates per 10,000 by number of deprived indicators (from "
            "predicted_rates.csv)",
        )["uid"]
        plt.close(fig)
    text = model_summary(
        released,
        outcomes=settings.outcomes,
        links=settings.links,
        adjust=adjust,
        notes=result.notes,
        skipped=result.skipped[["model", "outcome", "reason"]],
        confidence=settings.confidence,
        cluster=settings.cluster,
        synthetic=manifest.about.synthetic,
        truth=outcome_truth(truth) if truth else None,
    )
    tables = [written[k] for k in FILES if k in written]
    written["summary"] = write_release_text(
        text,
        out / "summary.md",
        manifest,
        output_type="text",
        backed_by=tables,
        method="plain-English summary; every number is read from the released model tables"
        + ("; true values are the synthetic generator's parameters (truth.json)" if truth else ""),
    )["uid"]
    return written
