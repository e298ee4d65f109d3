"""The model specifications the analysis runs, and running them on collapsed cells.

For every binary outcome, three exposures (each adjusted for age in single years as
categories, sex and the configured covariates, errors clustered by local authority):

- ``mdh``: multidimensionally disadvantaged household (the Child-MDH index) or not;
- ``count``: number of deprived dimensions, as categories (0..4 domains, or 0..5 with
  free school meals);
- ``domains``: each census domain and free school meals, mutually adjusted;

each with the logit link (odds ratios, what users expect) and the complementary log-log
link (hazard ratios of the grouped proportional-hazards model, on which the parameter
recovery is tested). Prior-contact covariates are added under the ``"adjust"`` policy.

The inverse-intervention specification adds the local authority's MDH prevalence
(centred on the national prevalence) and its interaction with the child's MDH status: a
negative interaction means a household's disadvantage matters more where disadvantage is
rarer (Bywaters et al. 2017, the inverse intervention law).

:func:`fit_specifications` collapses the children once per set of cell keys and fits
each specification, recording models that cannot be estimated (a level without events)
instead of stopping the run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from child_mdh.aggregates.models.collapse import binary_cells, count_cells
from child_mdh.aggregates.models.design import terms_variables
from child_mdh.aggregates.models.glm import (
    ModelFit,
    SparseLevelError,
    fit_binomial,
    fit_poisson,
)
from child_mdh.contract.vocabulary import DOMAINS

DEFAULT_DOMAINS = DOMAINS
BINARY_OUTCOMES = ("any_referral", "any_cin", "any_cpp", "entered_care")


@dataclass(frozen=True)
class ModelSpec:
    """One model: outcome, exposure and adjustment terms, family, link, clustering."""

    name: str
    outcome: str
    exposure_terms: tuple[str, ...]
    adjust_terms: tuple[str, ...] = ()
    family: str = "binomial"
    link: str = "logit"
    cluster: str | None = "la_code"
    fixed_effects: str | None = None
    exposure: str | None = None  # follow-up column for Poisson models
    reference: tuple[tuple[str, object], ...] = ()
    numeric: tuple[str, ...] = ()
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def terms(self) -> list[str]:
        return list(dict.fromkeys(self.exposure_terms + self.adjust_terms))

    @property
    def keys(self) -> list[str]:
        """Cell keys: every variable of the terms, the fixed effects and the cluster."""
        extra = [c for c in (self.fixed_effects, self.cluster) if c]
        return list(dict.fromkeys(terms_variables(self.terms) + extra))


def standard_specifications(
    outcomes=BINARY_OUTCOMES,
    *,
    mdh: str = "mdh",
    count: str = "n_domains",
    domains=DEFAULT_DOMAINS,
    fsm: str | None = "fsm",
    adjust=("age", "sex"),
    covariates=(),
    prior_contact_terms=(),
    links=("logit", "cloglog"),
    cluster: str | None = "la_code",
    fixed_effects: str | None = None,
) -> list[ModelSpec]:
    """The main specifications for each binary outcome (see the module docstring)."""
    adjust_terms = tuple(adjust) + tuple(covariates) + tuple(prior_contact_terms)
    exposures = {
        "mdh": (mdh,),
        "count": (count,),
        "domains": tuple(domains) + ((fsm,) if fsm else ()),
    }
    specs = []
    for outcome in outcomes:
        for label, terms in exposures.items():
            for link in links:
                fe = f"_fe_{fixed_effects}" if fixed_effects else ""
                specs.append(
                    ModelSpec(
                        name=f"{outcome}_{label}_{link}{fe}",
                        outcome=outcome,
                        exposure_terms=terms,
                        adjust_terms=adjust_terms,
                        link=link,
                        cluster=cluster,
                        fixed_effects=fixed_effects,
                    )
                )
    return specs


def count_specifications(
    outcome: str = "n_referrals",
    *,
    exposure: str = "exposure_years",
    mdh: str = "mdh",
    count: str = "n_domains",
    adjust=("age", "sex"),
    covariates=(),
    cluster: str | None = "la_code",
) -> list[ModelSpec]:
    """Poisson specifications of referral counts with a log follow-up offset."""
    adj = tuple(adjust) + tuple(covariates)
    return [
        ModelSpec(
            name=f"{outcome}_{label}_poisson",
            outcome=outcome,
            exposure_terms=(t,),
            adjust_terms=adj,
            family="poisson",
            link="log",
            cluster=cluster,
            exposure=exposure,
        )
        for label, t in (("mdh", mdh), ("count", count))
    ]


def add_area_prevalence(
    frame: pd.DataFrame, indicator: str = "mdh", area: str = "la_code", name: str | None = None
) -> pd.DataFrame:
    """Add the share of children in the area with ``indicator``, centred on the share
    in all areas (children with the indicator missing are left out of both shares).

    The new column, ``{area_prefix}_{indicator}_prevalence_centred`` by default, is a float,
    constant within an area, so it collapses exactly when the area is a cell key.
    """
    name = name or f"{area.split('_')[0]}_{indicator}_prevalence_centred"
    x = frame[indicator].astype("Float64")
    overall = float(x.mean())
    by_area = x.groupby(frame[area], observed=True).mean()
    out = frame.copy(deep=False)  # one new column; the rest is shared (copy-on-write)
    out[name] = (frame[area].map(by_area).astype(float) - overall).to_numpy(
        dtype=float, na_value=np.nan
    )
    return out


def inverse_intervention_specification(
    outcome: str,
    *,
    mdh: str = "mdh",
    prevalence: str = "la_mdh_prevalence_centred",
    adjust=("age", "sex"),
    link: str = "logit",
    cluster: str = "la_code",
    fixed_effects: str | None = None,
) -> ModelSpec:
    """Cross-level interaction of MDH with the area's centred MDH prevalence.

    With ``fixed_effects`` (local-authority dummies) the prevalence main effect is
    absorbed (collinear, omitted) and the interaction is identified within authorities.
    """
    fe = f"_fe_{fixed_effects}" if fixed_effects else ""
    return ModelSpec(
        name=f"{outcome}_inverse_intervention_{link}{fe}",
        outcome=outcome,
        exposure_terms=(mdh, prevalence, f"{mdh}:{prevalence}"),
        adjust_terms=tuple(adjust),
        link=link,
        cluster=cluster,
        fixed_effects=fixed_effects,
        numeric=(prevalence,),
    )


def fit_specification(
    frame_or_cells: pd.DataFrame, spec: ModelSpec, *, collapsed: bool = False
) -> ModelFit:
    """Fit one specification: collapse ``frame_or_cells`` (one row per child) on the
    spec's keys, unless ``collapsed``, then fit the binomial or Poisson model."""
    if collapsed:
        cells = frame_or_cells
    elif spec.family == "binomial":
        cells = binary_cells(frame_or_cells, spec.outcome, spec.keys)
    else:
        cells = count_cells(frame_or_cells, spec.outcome, spec.exposure, spec.keys)
    common = dict(
        cluster=spec.cluster,
        fixed_effects=spec.fixed_effects,
        reference=dict(spec.reference),
        numeric=spec.numeric,
        name=spec.name,
        outcome=spec.outcome,
        exposure_terms=spec.exposure_terms,
        adjust_terms=spec.adjust_terms,
    )
    terms = [t for t in spec.terms if t != spec.fixed_effects]
    if spec.family == "binomial":
        return fit_binomial(cells, terms, link=spec.link, **common)
    if spec.family == "poisson":
        return fit_poisson(cells, terms, **common)
    raise ValueError(f"unsupported family {spec.family!r} (use fit_negative_binomial)")


def fit_specifications(frame: pd.DataFrame, specs) -> tuple[list[ModelFit], pd.DataFrame]:
    """Fit every specification on ``frame`` (one row per child), collapsing once per
    (outcome, keys). Returns the fits and a table of models not estimated, with reasons.
    """
    cache: dict = {}
    fits, skipped = [], []
    for spec in specs:
        key = (spec.family, spec.outcome, spec.exposure, tuple(spec.keys))
        if key not in cache:
            if spec.family == "binomial":
                cache[key] = binary_cells(frame, spec.outcome, spec.keys)
            else:
                cache[key] = count_cells(frame, spec.outcome, spec.exposure, spec.keys)
        try:
            fits.append(fit_specification(cache[key], spec, collapsed=True))
        except (SparseLevelError, np.linalg.LinAlgError) as err:
            skipped.append(
                {"model": spec.name, "outcome": spec.outcome, "reason": str(err).splitlines()[0]}
            )
    return fits, pd.DataFrame(skipped, columns=["model", "outcome", "reason"])
