"""The models of social care contact as release-ready tables (before disclosure control).

Pure functions: the children table (one row per child, person-level) in, aggregate
DataFrames out. The models are those of :mod:`child_mdh.aggregates.models` (``docs/models.md``),
fitted on covariate-pattern cells; the exposures and the pooling of sparse levels are
:func:`child_mdh.aggregates.models.prepare.prepare_model_data`, one analysis frame per outcome
pooled on its own events (the hazard of the first referral and the referral counts use
the frame of ``any_referral``). Disclosure control is applied when
the tables are written (``steps/models.py`` through :mod:`child_mdh.release.sdc`), using the
counts every table carries in ``*_n`` columns.

Tables (one row per coefficient, per predicted level or per statistic):

- ``binary``: every binary outcome on MDH status, on the deprivation count and on each
  indicator (mutually adjusted), with logit and cloglog links, errors clustered by local
  authority; the same with local-authority dummies (fixed-effect GLM); the linear
  probability model with local-authority effects absorbed; and the inverse-intervention
  cross-level interaction (with and without local-authority dummies);
- ``hazard``: the discrete-time hazard of the first referral (cloglog and logit) with
  the proportional-hazards test of each model in its columns;
- ``counts``: Poisson and negative binomial (NB2) models of referrals with a log
  follow-up offset;
- ``predicted_rates`` and ``marginal_effects``: standardised rates per 10,000 children
  (child-years for counts) by deprivation count and by MDH status, and their differences
  from the reference level;
- ``comparator``: gradient boosting against the logistic model (discrimination,
  calibration, interaction checks): aggregates only, never a child's prediction.

Every count column ends in ``_n``. A block of predicted rates (or marginal effects) one
of whose cells rests on fewer than the threshold's children, events or non-events is
emptied whole, so that no cell can be recovered from the model totals. Models whose
residual degrees of freedom fall below the minimum are left out and noted.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from child_mdh.aggregates.models.collapse import binary_cells, count_cells
from child_mdh.aggregates.models.comparator import compare_with_gbm
from child_mdh.aggregates.models.design import Design, terms_variables
from child_mdh.aggregates.models.fixed_effects import fit_linear_probability_fe
from child_mdh.aggregates.models.glm import (
    ModelFit,
    SparseLevelError,
    fit_negative_binomial,
    fit_poisson,
)
from child_mdh.aggregates.models.hazard import (
    fit_discrete_time_hazard,
    person_period_cells,
    proportional_hazards_test,
)
from child_mdh.aggregates.models.prepare import (
    COUNT,
    PREVALENCE,
    ModelData,
    ModelInputError,
    attach_index,
    indicators_of,
    prepare_model_data,
)
from child_mdh.aggregates.models.specs import (
    BINARY_OUTCOMES,
    ModelSpec,
    fit_specification,
    inverse_intervention_specification,
)
from child_mdh.aggregates.models.tidy import average_marginal_effects, predicted_rates, tidy
from child_mdh.contract.vocabulary import INDICATORS

PRIOR_CONTACT = ("prior_referral", "prior_cpp", "prior_in_care")
AREA = "la_code"
TABLES = ("binary", "hazard", "counts", "predicted_rates", "marginal_effects", "comparator")

#: degrees-of-freedom conventions of the cluster-robust (CR1) covariance, by kind of model
DF_CONVENTIONS = {
    "none": "CR1 G/(G-1)(N-1)/(N-K), K = estimated coefficients; residual df = G-1",
    "LA dummies": "CR1 G/(G-1)(N-1)/(N-K), K counts the LA dummies; residual df = G-1",
    "LA absorbed": "CR1 G/(G-1)(N-1)/(N-K), K excludes the absorbed LA effects nested in "
    "the clusters; residual df = G-1",
    "nonrobust": "model-based; residual df = N-K",
}

STAT_COLUMNS = (
    "estimate",
    "std_error",
    "statistic",
    "p_value",
    "conf_low",
    "conf_high",
    "ratio",
    "ratio_low",
    "ratio_high",
)
TERM_COUNTS = ("children_n", "observations_n", "events_n", "term_observations_n", "term_events_n")


@dataclass(frozen=True)
class ModelSettings:
    """What the models stage fits (the workflow's ``models:`` configuration, the index's
    indicators and the disclosure threshold, as plain values)."""

    outcomes: tuple[str, ...] = BINARY_OUTCOMES
    links: tuple[str, ...] = ("logit", "cloglog")
    covariates: tuple[str, ...] = ("age", "sex")
    cluster: str = AREA
    fixed_effects: bool = True
    hazard: bool = True
    counts: bool = True
    inverse_intervention: bool = True
    comparator: bool = True
    comparator_splits: int = 5
    confidence: float = 0.95
    indicators: tuple[str, ...] = INDICATORS
    prior_contact: str = "adjust"
    min_count: int = 10
    min_residual_df: int = 10
    per: float = 10_000
    seed: int = 2021
    #: boosting iterations; None chooses by size (50 under 50,000 children, 100 under
    #: 500,000, 200 above)
    gbm_max_iter: int | None = None


def model_settings(
    models: Mapping | None = None,
    index: Mapping | None = None,
    outcomes: Mapping | None = None,
    *,
    threshold: int = 10,
    min_residual_df: int = 10,
) -> ModelSettings:
    """Settings from the workflow's ``models``, ``index`` and ``outcomes`` blocks (keys
    left out take the schema defaults) and the disclosure threshold."""
    m = dict(models or {})
    known = set(ModelSettings.__dataclass_fields__) - {
        "indicators",
        "prior_contact",
        "min_count",
        "min_residual_df",
    }
    unknown = sorted(set(m) - known)
    if unknown:
        raise ValueError(
            f"models settings: unknown key(s) {', '.join(unknown)}; allowed "
            f"keys are {', '.join(sorted(known))}"
        )
    for key in ("outcomes", "links", "covariates"):
        if key in m:
            m[key] = tuple(m[key])
    weights = dict((index or {}).get("weights") or {})
    if weights:
        m["indicators"] = indicators_of(weights)
    policy = (outcomes or {}).get("prior_contact", "adjust")
    return ModelSettings(
        **m, prior_contact=policy, min_count=int(threshold), min_residual_df=int(min_residual_df)
    )


@dataclass
class Fitted:
    """A fitted model with what the tables say about it.

    ``population_cells``: for a fixed-effect GLM, the cells before local authorities
    without events were dropped; the released counts are taken from them (see
    :func:`tidy_table`).
    """

    specification: str
    fixed_effects: str
    fit: ModelFit
    ph_test: dict | None = None
    population_cells: pd.DataFrame | None = None


@dataclass
class ModelTables:
    """The release-ready tables, the fits behind them (kept in memory, never written),
    the minimum residual degrees of freedom of each regression table, plain-English
    notes, the models not estimated and the time each part took."""

    tables: dict[str, pd.DataFrame]
    fits: dict[str, list[Fitted]]
    residual_df: dict[str, int | None]
    notes: list[str] = field(default_factory=list)
    skipped: pd.DataFrame = field(default_factory=pd.DataFrame)
    timings: dict[str, float] = field(default_factory=dict)
    #: the analysis frame of each outcome (sparse levels pooled on its own events)
    data: dict[str, ModelData] = field(default_factory=dict)
    #: the settings used (after the adjustments for data from one local authority)
    settings: ModelSettings | None = None

    def adjusted_for(self, outcome: str) -> tuple[str, ...]:
        """The covariates and prior-contact flags the models of ``outcome`` use."""
        d = self.data.get(outcome)
        return () if d is None else tuple(d.adjust) + tuple(d.prior)


# ----------------------------------------------------------------------------- fitting
def _exposures(data: ModelData) -> dict[str, tuple[str, ...]]:
    out = {"mdh": ("mdh",)}
    if data.count_levels:
        out["count"] = (COUNT,)
    out["domains"] = tuple(data.indicators)
    return out


def _adjust(data: ModelData) -> tuple[str, ...]:
    return tuple(data.adjust) + tuple(data.prior)


def _skip(skipped: list, name: str, outcome: str, err: Exception) -> None:
    """Record a model not estimated: ``reason`` without counts (for the release),
    ``detail`` the full message with the levels and counts (for the secure log only)."""
    reason = (
        "a covariate level has no events, or only events"
        if isinstance(err, SparseLevelError)
        else str(err).splitlines()[0]
    )
    skipped.append(
        {"model": name, "outcome": outcome, "reason": reason, "detail": " ".join(str(err).split())}
    )


def _binary_specs(
    data: ModelData, s: ModelSettings, outcome: str
) -> list[tuple[str, str, ModelSpec]]:
    """(specification, kind of LA effects, spec) of every binary model of ``outcome``."""
    adjust = _adjust(data)
    specs = []
    fe_kinds = [("none", None)] + ([("LA dummies", AREA)] if s.fixed_effects else [])
    for label, terms in _exposures(data).items():
        for kind, fe in fe_kinds:
            for link in s.links:
                suffix = "_fe" if fe else ""
                specs.append(
                    (
                        label,
                        kind,
                        ModelSpec(
                            name=f"{outcome}_{label}_{link}{suffix}",
                            outcome=outcome,
                            exposure_terms=terms,
                            adjust_terms=adjust,
                            link=link,
                            cluster=s.cluster,
                            fixed_effects=fe,
                        ),
                    )
                )
        if s.fixed_effects:
            specs.append(
                (
                    label,
                    "LA absorbed",
                    ModelSpec(
                        name=f"{outcome}_{label}_lpm_fe",
                        outcome=outcome,
                        exposure_terms=terms,
                        adjust_terms=adjust,
                        family="linear",
                        link="identity",
                        cluster=s.cluster,
                        fixed_effects=AREA,
                    ),
                )
            )
    if s.inverse_intervention:
        for kind, fe in fe_kinds:
            for link in s.links:
                spec = inverse_intervention_specification(
                    outcome, adjust=adjust, link=link, cluster=s.cluster, fixed_effects=fe
                )
                name = f"{outcome}_inverse_intervention_{link}{'_fe' if fe else ''}"
                specs.append(("inverse_intervention", kind, replace(spec, name=name)))
    return specs


def fit_binary_models(
    data: Mapping[str, ModelData],
    s: ModelSettings,
    progress: Callable[[str], None] | None = None,
) -> tuple[list[Fitted], list[dict]]:
    """Fit every binary-outcome model (see the module docstring) of each outcome on its
    own analysis frame (``data[outcome]``, pooled on that outcome's events); collapse
    once per outcome and set of cell keys. Returns the fits and the models not
    estimated. ``progress(message)`` is told when the models of each outcome start."""
    cache: dict = {}
    fitted, skipped = [], []
    specs = [(o, x) for o in s.outcomes for x in _binary_specs(data[o], s, o)]
    started: list[str] = []
    for outcome, (label, kind, spec) in specs:
        if progress is not None and outcome not in started:
            started.append(outcome)
            progress(f"binary models: outcome {len(started)}/{len(s.outcomes)} {outcome}")
        key = (spec.outcome, tuple(spec.keys))
        try:
            if key not in cache:
                cache[key] = binary_cells(data[outcome].frame, spec.outcome, spec.keys)
            cells = cache[key]
            if spec.family == "linear":
                fit = fit_linear_probability_fe(
                    cells,
                    list(spec.terms),
                    absorb=AREA,
                    cluster=spec.cluster,
                    numeric=spec.numeric,
                    name=spec.name,
                    outcome=spec.outcome,
                    exposure_terms=spec.exposure_terms,
                    adjust_terms=spec.adjust_terms,
                )
            else:
                fit = fit_specification(cells, spec, collapsed=True)
        except (SparseLevelError, np.linalg.LinAlgError, ValueError) as err:
            _skip(skipped, spec.name, spec.outcome, err)
            continue
        fitted.append(
            Fitted(label, kind, fit, population_cells=cells if kind == "LA dummies" else None)
        )
    return fitted, skipped


def fit_hazard_models(data: ModelData, s: ModelSettings) -> tuple[list[Fitted], list[dict]]:
    """Discrete-time hazard of the first referral (period baseline, yearly periods) for
    each exposure and link, each with its proportional-hazards test (linear trend of the
    exposure effects over follow-up, cluster-robust Wald test)."""
    adjust = _adjust(data)
    fitted, skipped = [], []
    cache: dict = {}
    for label, exposure in _exposures(data).items():
        terms = list(exposure) + list(adjust)
        keys = terms_variables(terms) + [s.cluster]
        for link in s.links:
            name = f"first_referral_{label}_{link}"
            try:
                kk = tuple(keys)
                if kk not in cache:
                    cache[kk] = person_period_cells(data.frame, keys)
                cells = cache[kk]
                fit = fit_discrete_time_hazard(
                    cells,
                    terms,
                    link=link,
                    baseline=("period",),
                    cluster=s.cluster,
                    name=name,
                    outcome="first_referral",
                    exposure_terms=exposure,
                    adjust_terms=adjust,
                )
                ph = proportional_hazards_test(
                    cells,
                    terms,
                    exposure,
                    link=link,
                    baseline=("period",),
                    form="trend",
                    cluster=s.cluster,
                )
            except (SparseLevelError, np.linalg.LinAlgError, ValueError) as err:
                _skip(skipped, name, "first_referral", err)
                continue
            fitted.append(Fitted(label, "none", fit, ph))
    return fitted, skipped


def fit_count_models(
    data: ModelData,
    s: ModelSettings,
    *,
    count: str = "n_referrals",
    exposure: str = "exposure_years",
) -> tuple[list[Fitted], list[dict]]:
    """Poisson (cells with a log follow-up offset) and negative binomial NB2 (distinct
    rows, alpha profiled) models of referral counts for each exposure."""
    adjust = _adjust(data)
    fitted, skipped = [], []
    for label, terms_ in _exposures(data).items():
        terms = list(terms_) + list(adjust)
        keys = terms_variables(terms) + [s.cluster]
        common = dict(cluster=s.cluster, exposure_terms=terms_, adjust_terms=adjust)
        name = f"{count}_{label}_poisson"
        try:
            cells = count_cells(data.frame, count, exposure, keys)
            fitted.append(
                Fitted(label, "none", fit_poisson(cells, terms, name=name, outcome=count, **common))
            )
        except (SparseLevelError, np.linalg.LinAlgError, ValueError) as err:
            _skip(skipped, name, count, err)
        name = f"{count}_{label}_negbin"
        try:
            fitted.append(
                Fitted(
                    label,
                    "none",
                    fit_negative_binomial(
                        data.frame, terms, count=count, exposure=exposure, name=name, **common
                    ),
                )
            )
        except (SparseLevelError, np.linalg.LinAlgError, ValueError) as err:
            _skip(skipped, name, count, err)
    return fitted, skipped


# ----------------------------------------------------------------------------- tables
def _significant(values: pd.Series, digits: int = 4) -> pd.Series:
    """Round to ``digits`` significant figures (p-values keep their size)."""
    return values.map(lambda v: float(f"{v:.{digits}g}") if pd.notna(v) else np.nan)


def round_statistics(df: pd.DataFrame, decimals: int = 6) -> pd.DataFrame:
    """Release precision: estimates, errors and bounds to ``decimals`` places, p-values
    to 4 significant figures (enough for any use; nothing to back-calculate counts)."""
    out = df.copy()
    for c in out.columns:
        if c == "p_value":
            out[c] = _significant(out[c])
        elif c.endswith("_n") or not pd.api.types.is_float_dtype(out[c].dtype):
            continue
        else:
            out[c] = out[c].round(decimals)
    return out


def _df_convention(rec: Fitted) -> str:
    if rec.fit.cov_type != "cluster":
        return DF_CONVENTIONS["nonrobust"]
    return DF_CONVENTIONS[rec.fixed_effects]


def _population_counts(rec: Fitted, t: pd.DataFrame) -> pd.DataFrame:
    """The counts of a fixed-effect GLM's table over all the children modelled.

    Local authorities without events (or with only events) carry no information on the
    coefficients and are left out of the fit; were the counts those of the fit, their
    difference from the model without local-authority effects would give the number of
    children in the authorities with no event, and through published local-authority
    sizes, which authorities had none (a disclosive zero). Counts of all the children
    modelled are at least the fitted ones, so the threshold rule stays conservative for
    children, and events are the same (the authorities left out have none).
    """
    cells = rec.population_cells
    fit = rec.fit
    terms = [x for x in fit.design.terms if x != fit.fixed_effects]
    reference = {v: lv[0] for v, lv in fit.design.levels.items() if v != fit.fixed_effects}
    design = Design.from_frame(cells, terms, reference=reference, numeric=fit.design.numeric)
    x = design.matrix(cells, sparse=True).tocsr(copy=True)
    x.data = (x.data != 0).astype(float)
    obs = dict(zip(design.columns, np.asarray(x.T @ cells["rows"].to_numpy(float)).ravel()))
    ev = dict(zip(design.columns, np.asarray(x.T @ cells["events"].to_numpy(float)).ravel()))
    t = t.copy()
    t["children_n"] = t["observations_n"] = int(cells["rows"].sum())
    t["events_n"] = float(cells["events"].sum())
    t["term_observations_n"] = t["term"].map(obs).fillna(t["term_observations_n"])
    t["term_events_n"] = t["term"].map(ev).fillna(t["term_events_n"])
    return t


def tidy_table(fitted: list[Fitted], conf_level: float) -> pd.DataFrame:
    """Stacked tidy coefficients of ``fitted`` with the specification, the kind of
    local-authority effects and the degrees-of-freedom convention of each model. Counts
    of fixed-effect GLMs are those of all the children modelled
    (:func:`_population_counts`)."""
    frames = []
    for rec in fitted:
        t = tidy(rec.fit, conf_level)
        if rec.population_cells is not None and rec.fit.dropped:
            t = _population_counts(rec, t)
        t.insert(0, "specification", rec.specification)
        t.insert(5, "fixed_effects", rec.fixed_effects)
        t["df_convention"] = _df_convention(rec)
        for c in TERM_COUNTS:
            t[c] = np.rint(t[c].astype(float)).astype("Int64")
        frames.append(t)
    if not frames:
        return pd.DataFrame()
    return round_statistics(pd.concat(frames, ignore_index=True))


def hazard_table(fitted: list[Fitted], conf_level: float) -> pd.DataFrame:
    """:func:`tidy_table` of the hazard models with each model's proportional-hazards
    test (statistic, df, p-value, verdict) in ``ph_*`` columns."""
    t = tidy_table(fitted, conf_level)
    if t.empty:
        return t
    ph = pd.DataFrame(
        [
            {
                "model": r.fit.name,
                "ph_test": r.ph_test["test"] + " (linear trend over periods)",
                "ph_statistic": r.ph_test["statistic"],
                "ph_df": r.ph_test["df"],
                "ph_p_value": r.ph_test["p_value"],
                "ph_verdict": r.ph_test["verdict"],
            }
            for r in fitted
        ]
    )
    out = t.merge(ph, on="model", how="left", validate="many_to_one")
    out["ph_statistic"] = out["ph_statistic"].round(4)
    out["ph_p_value"] = _significant(out["ph_p_value"])
    return out


def count_table(fitted: list[Fitted], conf_level: float) -> pd.DataFrame:
    """:func:`tidy_table` of the count models with the NB2 dispersion ``alpha``."""
    t = tidy_table(fitted, conf_level)
    if t.empty:
        return t
    alpha = {r.fit.name: r.fit.alpha for r in fitted}
    t["alpha"] = t["model"].map(alpha).astype(float).round(6)
    return t


def _blank_incomplete(
    df: pd.DataFrame, counts: list[str], min_count: int, hidden: list[str] | None = None
) -> tuple[pd.DataFrame, list[str]]:
    """Empty every count of a model's block (model, variable) when any cell of the
    block, or a ``hidden`` column (non-events, not released), is below ``min_count``:
    the cells of a block add up to the model's totals, so one suppressed cell alone
    could be recovered by subtraction. Returns the table and the models emptied."""
    check = counts + list(hidden or [])
    low = (df[check].astype(float) < min_count).any(axis=1)
    bad = df.loc[low, ["model", "variable"]].drop_duplicates()
    if bad.empty:
        return df.drop(columns=list(hidden or [])), []
    key = pd.MultiIndex.from_frame(df[["model", "variable"]])
    hit = key.isin(pd.MultiIndex.from_frame(bad))
    out = df.copy()
    for c in counts:
        out[c] = out[c].astype("Float64").mask(hit)
    return out.drop(columns=list(hidden or [])), sorted(set(bad["model"]))


def _rate_models(fitted: list[Fitted]):
    wanted = {"count": COUNT, "mdh": "mdh"}
    for rec in fitted:
        if (
            rec.fixed_effects == "none"
            and rec.specification in wanted
            and rec.fit.family in ("binomial", "poisson")
        ):
            yield rec, wanted[rec.specification]


def predicted_rate_table(fitted: list[Fitted], s: ModelSettings) -> tuple[pd.DataFrame, list[str]]:
    """Standardised predicted rates per ``s.per`` children (child-years for counts) by
    deprivation count and by MDH status, from the models without local-authority
    effects, with the children and events at each level (``children_n``, ``events_n``).
    Blocks with a cell below the threshold are emptied whole."""
    frames = []
    for rec, variable in _rate_models(fitted):
        pr = predicted_rates(rec.fit, variable, per=s.per, conf_level=s.confidence)
        pr.insert(0, "specification", rec.specification)
        pr.insert(3, "family", rec.fit.family)
        pr.insert(4, "link", rec.fit.link)
        pr["nonevents"] = pr["children_n"] - pr["events_n"]
        if rec.fit.family == "poisson":  # counts can exceed children: no non-event check
            pr["nonevents"] = np.inf
        frames.append(pr)
    if not frames:
        return pd.DataFrame(), []
    out = pd.concat(frames, ignore_index=True)
    for c in ("children_n", "events_n"):
        out[c] = np.rint(out[c].astype(float)).astype("Int64")
    out, blanked = _blank_incomplete(
        out, ["children_n", "events_n"], s.min_count, hidden=["nonevents"]
    )
    for c in ("rate", "rate_low", "rate_high", "std_error"):
        out[c] = out[c].round(2)
    return out, blanked


def marginal_effect_table(fitted: list[Fitted], s: ModelSettings) -> tuple[pd.DataFrame, list[str]]:
    """Average marginal effects (differences of standardised rates from the reference
    level, per ``s.per``) for the models of :func:`predicted_rate_table`, with the
    children and events at the level and at the reference (``*_n``)."""
    frames = []
    for rec, variable in _rate_models(fitted):
        ame = average_marginal_effects(rec.fit, variable, per=s.per, conf_level=s.confidence)
        cells = rec.fit.cells
        rows = cells.groupby(variable, observed=True)["rows"].sum()
        events = cells.groupby(variable, observed=True)["events"].sum()
        labels = {
            str(k) if not isinstance(k, (bool, np.bool_)) else str(bool(k)): k for k in rows.index
        }
        lvl = ame["level"].map(labels)
        ref = ame["reference"].map(labels)
        ame["children_n"] = lvl.map(rows).astype(float)
        ame["events_n"] = lvl.map(events).astype(float)
        ame["reference_children_n"] = ref.map(rows).astype(float)
        ame["reference_events_n"] = ref.map(events).astype(float)
        poisson = rec.fit.family == "poisson"
        ame["nonevents"] = np.inf if poisson else ame["children_n"] - ame["events_n"]
        ame["reference_nonevents"] = (
            np.inf if poisson else ame["reference_children_n"] - ame["reference_events_n"]
        )
        ame.insert(0, "specification", rec.specification)
        ame.insert(3, "family", rec.fit.family)
        ame.insert(4, "link", rec.fit.link)
        frames.append(ame)
    if not frames:
        return pd.DataFrame(), []
    out = pd.concat(frames, ignore_index=True)
    counts = ["children_n", "events_n", "reference_children_n", "reference_events_n"]
    for c in counts:
        out[c] = np.rint(out[c].astype(float)).astype("Int64")
    out, blanked = _blank_incomplete(
        out, counts, s.min_count, hidden=["nonevents", "reference_nonevents"]
    )
    out["p_value"] = _significant(out["p_value"])
    for c in ("ame", "std_error", "conf_low", "conf_high"):
        out[c] = out[c].round(2)
    return out, blanked


def _gbm_iterations(n: int, fixed: int | None) -> int:
    if fixed:
        return int(fixed)
    return 50 if n < 50_000 else 100 if n < 500_000 else 200


def comparator_table(
    data: ModelData, s: ModelSettings, outcome: str
) -> tuple[pd.DataFrame, list[str]]:
    """Gradient boosting against the logistic model for ``outcome`` (features: the
    index's indicators and the covariates; folds by the cluster unit, local authority by
    default), as one long table
    of aggregates: ``section`` metrics (pooled and per fold), calibration (by bins of
    predicted risk) and interactions, with the children and events behind each row.
    Per-fold rows are left out when a fold holds fewer than the threshold's children,
    events or non-events (they add up to the pooled row)."""
    features = list(data.indicators) + list(data.adjust)
    n = int(data.frame[outcome].notna().sum())
    res = compare_with_gbm(
        data.frame,
        outcome,
        features,
        group=s.cluster,
        n_splits=s.comparator_splits,
        seed=s.seed,
        gbm_params={"max_iter": _gbm_iterations(n, s.gbm_max_iter)},
        interaction_features=list(data.indicators),
        min_bin_count=s.min_count,
    )
    notes = [f"comparator ({outcome}): {x}" for x in res["notes"]]
    m = res["metrics"].copy()
    m["fold"] = m["fold"].astype(str)
    low = np.minimum(m["events_n"], m["children_n"] - m["events_n"])
    folds = m["fold"] != "pooled"
    if ((m.loc[folds, "children_n"] < s.min_count) | (low[folds] < s.min_count)).any():
        m = m.loc[~folds]
        notes.append(
            f"comparator ({outcome}): per-fold results left out (a fold holds "
            f"fewer than {s.min_count} children, events or non-events)"
        )
    stats_ = ["auc", "log_loss", "brier", "calibration_intercept", "calibration_slope"]
    metrics = m.melt(
        id_vars=["model", "fold", "children_n", "events_n"],
        value_vars=stats_,
        var_name="statistic",
        value_name="value",
    )
    metrics.insert(0, "section", "metrics")
    metrics["bin"] = pd.NA
    cal = res["calibration"]
    calib = cal.melt(
        id_vars=["model", "bin", "children_n", "events_n"],
        value_vars=["mean_predicted", "observed"],
        var_name="statistic",
        value_name="value",
    )
    calib.insert(0, "section", "calibration")
    calib["fold"] = "pooled"
    total = m.loc[m["fold"] == "pooled"].iloc[0]
    inter_rows = []
    for _, r in res["interactions"].iterrows():
        model = "gradient_boosting" if r["check"].startswith("boosting") else "logistic"
        for stat in ("additive", "with_interactions", "difference", "statistic", "df", "p_value"):
            if pd.notna(r[stat]):
                inter_rows.append(
                    {
                        "section": "interactions",
                        "model": model,
                        "fold": "pooled",
                        "bin": pd.NA,
                        "statistic": f"{stat}: {r['check']} ({r['measure']})"
                        if stat in ("additive", "with_interactions", "difference")
                        else f"wald_{stat}: {r['check']}",
                        "value": float(r[stat]),
                        "children_n": total["children_n"],
                        "events_n": total["events_n"],
                    }
                )
    out = pd.concat([metrics, calib, pd.DataFrame(inter_rows)], ignore_index=True)
    out.insert(1, "outcome", outcome)
    out = out[
        [
            "section",
            "outcome",
            "model",
            "fold",
            "bin",
            "statistic",
            "value",
            "children_n",
            "events_n",
        ]
    ]
    for c in ("children_n", "events_n"):
        out[c] = np.rint(out[c].astype(float)).astype("Int64")
    out["bin"] = out["bin"].astype("Int64")
    out["value"] = out["value"].astype(float).round(6)
    return out, notes


# ----------------------------------------------------------------------------- all
def _keep_releasable(fitted: list[Fitted], min_df: int, notes: list[str]) -> list[Fitted]:
    keep = [r for r in fitted if r.fit.residual_df >= min_df]
    for r in fitted:
        if r.fit.residual_df < min_df:
            notes.append(
                f"{r.fit.name}: not released (residual degrees of freedom "
                f"{r.fit.residual_df} below {min_df})"
            )
    return keep


def one_area_settings(children: pd.DataFrame, s: ModelSettings, notes: list[str]) -> ModelSettings:
    """Settings for data from a single local authority (the local-authority route): no
    local-authority fixed effects or inverse-intervention models (there is no variation
    between authorities), and, when errors would be clustered by local authority (one
    cluster: no cluster-robust variance), clustered by household instead, as the index
    does within an authority (siblings share their household's domains). Notes say so."""
    if AREA not in children.columns or children[AREA].nunique(dropna=True) >= 2:
        return s
    notes.append(
        "one local authority: no local-authority fixed effects and no "
        "inverse-intervention models (nothing varies between authorities)"
    )
    s = replace(s, fixed_effects=False, inverse_intervention=False)
    if s.cluster == AREA:
        if "household_id" not in children.columns:
            raise ModelInputError(
                "table children: the data hold one local authority, so standard errors "
                "cannot be clustered by it, and there is no household_id to cluster by "
                "instead. Set models.cluster to a finer unit (lsoa_code or school)."
            )
        notes.append(
            "standard errors clustered by household instead of local authority "
            "(one authority); the comparator's folds are groups of households"
        )
        s = replace(s, cluster="household_id")
    return s


def analysis_data(
    children: pd.DataFrame,
    settings: ModelSettings,
    child_index: pd.DataFrame | None = None,
    outcomes=None,
) -> tuple[dict[str, ModelData], ModelSettings, list[str]]:
    """The analysis frame of each outcome (sparse levels pooled on its own events), the
    settings as used (:func:`one_area_settings`) and the notes on pooling.

    ``outcomes`` defaults to the settings' outcomes, with ``any_referral`` added when the
    hazard or count models are asked for (their frame). ``child_index`` as in
    :func:`build_model_tables`.
    """
    s = settings
    if child_index is not None:
        children = attach_index(children, child_index)
    prior = (
        tuple(c for c in PRIOR_CONTACT if c in children.columns)
        if s.prior_contact == "adjust"
        else ()
    )
    notes: list[str] = []
    s = one_area_settings(children, s, notes)
    data: dict[str, ModelData] = {}
    # the outcome each analysis frame is pooled on: binary outcomes their own; the hazard
    # of the first referral and the referral counts any_referral
    if outcomes is None:
        outcomes = list(s.outcomes) + (["any_referral"] if (s.hazard or s.counts) else [])
    for outcome in dict.fromkeys(outcomes):
        d = prepare_model_data(
            children,
            indicators=s.indicators,
            outcomes=(outcome,),
            covariates=s.covariates,
            prior=prior,
            min_count=s.min_count,
            area=AREA,
        )
        data[outcome] = d
        words = outcome.replace("_", " ")
        notes += [f"models of {words}: {n}" for n in d.notes]
    return data, s, notes


def build_model_tables(
    children: pd.DataFrame,
    settings: ModelSettings,
    child_index: pd.DataFrame | None = None,
    progress: Callable[[str], None] | None = None,
) -> ModelTables:
    """Fit every model the settings ask for and return the release-ready tables.

    ``children`` is the children table; ``child_index`` the index step's person-level
    identification (its ``mdh`` is added by person_id), or None when ``children``
    already has ``mdh``. Nothing is written. ``progress(message)``, when given, is told
    where the fitting is: each outcome's binary models, then the other models (a
    handful of messages in all).
    """
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    data, s, notes = analysis_data(children, settings, child_index)
    timings["prepare"] = time.perf_counter() - t0
    tables: dict[str, pd.DataFrame] = {}
    fits: dict[str, list[Fitted]] = {}
    skipped: list[dict] = []

    def run(name, func, *args):
        t = time.perf_counter()
        fitted, sk = func(*args)
        skipped.extend(sk)
        fits[name] = _keep_releasable(fitted, s.min_residual_df, notes)
        timings[name] = time.perf_counter() - t

    run("binary", fit_binary_models, data, s, progress)
    tables["binary"] = tidy_table(fits["binary"], s.confidence)
    if progress is not None:
        others = [("hazard", s.hazard), ("counts", s.counts), ("predicted rates", True)]
        others.append(("comparator", s.comparator))
        progress("other models: " + ", ".join(w for w, on in others if on))
    if s.hazard:
        run("hazard", fit_hazard_models, data["any_referral"], s)
        tables["hazard"] = hazard_table(fits["hazard"], s.confidence)
    if s.counts:
        run("counts", fit_count_models, data["any_referral"], s)
        tables["counts"] = count_table(fits["counts"], s.confidence)
    t = time.perf_counter()
    rate_fits = fits["binary"] + fits.get("counts", [])
    tables["predicted_rates"], blank_r = predicted_rate_table(rate_fits, s)
    tables["marginal_effects"], blank_m = marginal_effect_table(rate_fits, s)
    for m in sorted(set(blank_r) | set(blank_m)):
        notes.append(
            f"{m}: predicted rates and marginal effects suppressed (a level holds "
            f"fewer than {s.min_count} children, events or non-events)"
        )
    timings["predictions"] = time.perf_counter() - t
    if s.comparator:
        t = time.perf_counter()
        outcome = "any_referral" if "any_referral" in s.outcomes else s.outcomes[0]
        try:
            tables["comparator"], more = comparator_table(data[outcome], s, outcome)
            notes += more
        except (SparseLevelError, np.linalg.LinAlgError, ValueError) as err:
            notes.append(f"comparator not run: {str(err).splitlines()[0]}")
        timings["comparator"] = time.perf_counter() - t
    residual_df = {k: (min(r.fit.residual_df for r in v) if v else None) for k, v in fits.items()}
    used = [r.fit.residual_df for r, _ in _rate_models(rate_fits)]
    residual_df["predicted_rates"] = residual_df["marginal_effects"] = min(used) if used else None
    return ModelTables(
        settings=s,
        tables=tables,
        fits=fits,
        residual_df=residual_df,
        notes=notes,
        skipped=pd.DataFrame(skipped, columns=["model", "outcome", "reason", "detail"]),
        timings=timings,
        data=data,
    )


__all__ = [
    "DF_CONVENTIONS",
    "PREVALENCE",
    "TABLES",
    "Fitted",
    "ModelSettings",
    "ModelTables",
    "analysis_data",
    "build_model_tables",
    "comparator_table",
    "count_table",
    "fit_binary_models",
    "fit_count_models",
    "fit_hazard_models",
    "hazard_table",
    "marginal_effect_table",
    "model_settings",
    "predicted_rate_table",
    "round_statistics",
    "tidy_table",
]
