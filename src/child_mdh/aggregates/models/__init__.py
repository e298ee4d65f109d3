"""Models of the links between household disadvantage and children's social care.

- :mod:`.collapse`: covariate-pattern cells (rows -> cells, exact for these models);
- :mod:`.design`: treatment-coded design matrices from a list of terms;
- :mod:`.glm`: logit / cloglog binomial, Poisson and negative binomial models with
  cluster-robust (CR1) errors equal to the row-level fits;
- :mod:`.fixed_effects`: local-authority effects (linear probability with absorbed
  effects via linearmodels; GLM with dummies);
- :mod:`.hazard`: discrete-time hazard of the first referral, proportional-hazards test;
- :mod:`.specs`: the analysis's model specifications and running them;
- :mod:`.tidy`: tidy coefficient tables, standardised rates, marginal effects, sentences;
- :mod:`.comparator`: gradient boosting vs logistic, aggregates only;
- :mod:`.recovery`: simulation from a known model, bias and coverage; recovery of the
  synthetic generator's truth;
- :mod:`.prepare`: the analysis frame (MDH, deprivation count, LA prevalence) with
  sparse levels pooled;
- :mod:`.figures` and :mod:`.summary`: figures and a plain-English page drawn from the
  released tables (the release stage is ``child_mdh.aggregates.models.tables`` and
  ``child_mdh.steps.models``).

Nothing here writes files: every function returns DataFrames (disclosure control and
release happen in :mod:`child_mdh.release.sdc`).
"""

from child_mdh.aggregates.models.collapse import (
    binary_cells,
    collapse,
    count_cells,
    distinct_rows,
)
from child_mdh.aggregates.models.fixed_effects import (
    fit_glm_fixed_effects,
    fit_linear_probability_fe,
)
from child_mdh.aggregates.models.glm import (
    ModelFit,
    SparseLevelError,
    fit_binomial,
    fit_negative_binomial,
    fit_poisson,
    wald_test,
)
from child_mdh.aggregates.models.hazard import (
    fit_discrete_time_hazard,
    person_period_cells,
    person_period_rows,
    proportional_hazards_test,
)
from child_mdh.aggregates.models.specs import (
    ModelSpec,
    add_area_prevalence,
    count_specifications,
    fit_specification,
    fit_specifications,
    inverse_intervention_specification,
    standard_specifications,
)
from child_mdh.aggregates.models.tidy import (
    average_marginal_effects,
    predicted_rates,
    summary_sentence,
    tidy,
    tidy_models,
)

__all__ = [
    "ModelFit",
    "ModelSpec",
    "SparseLevelError",
    "add_area_prevalence",
    "average_marginal_effects",
    "binary_cells",
    "collapse",
    "count_cells",
    "count_specifications",
    "distinct_rows",
    "fit_binomial",
    "fit_discrete_time_hazard",
    "fit_glm_fixed_effects",
    "fit_linear_probability_fe",
    "fit_negative_binomial",
    "fit_poisson",
    "fit_specification",
    "fit_specifications",
    "inverse_intervention_specification",
    "person_period_cells",
    "person_period_rows",
    "predicted_rates",
    "proportional_hazards_test",
    "standard_specifications",
    "summary_sentence",
    "tidy",
    "tidy_models",
    "wald_test",
]
