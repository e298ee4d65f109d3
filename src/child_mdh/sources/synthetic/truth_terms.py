"""The generator's true effects named as the analysis names its design columns.

``truth.json`` holds, for each outcome of the synthetic England (``referral``, ``cin``,
``cpp``, ``cla``), the true log hazard ratio of every term of the generator's model
(``employment``, ``employment:health``, ``sex_male``, ``mdh:la_mdh_prevalence_centred``,
...). A fitted model names its coefficients by design column (``employment[T.True]``,
``employment[T.True]:health[T.True]``, ``sex[T.M]``, ...): :func:`design_column` maps one
to the other. The recovery study (:mod:`child_mdh.studies.model_recovery`) and the
models summary of a synthetic release (:mod:`child_mdh.release.models.summary`) both use
this mapping.
"""

from __future__ import annotations

#: the generator's outcome names (truth.json) -> the outcome columns of build_outcomes
TRUTH_OUTCOMES = {
    "referral": "any_referral",
    "cin": "any_cin",
    "cpp": "any_cpp",
    "cla": "entered_care",
}


def design_column(
    term: str, *, numeric=("la_mdh_prevalence_centred",), renames: dict | None = None
) -> str:
    """The design column of a generator term: ``employment`` -> ``employment[T.True]``,
    ``employment:health`` -> ``employment[T.True]:health[T.True]``, ``sex_male`` ->
    ``sex[T.M]``, numeric terms unchanged (``mdh:la_mdh_prevalence_centred`` ->
    ``mdh[T.True]:la_mdh_prevalence_centred``). ``renames`` maps a generator variable to
    the column name used in the model."""
    renames = dict(renames or {})
    parts = []
    for v in term.split(":"):
        v = renames.get(v, v)
        if v == "sex_male":
            parts.append("sex[T.M]")
        elif v in numeric:
            parts.append(v)
        else:
            parts.append(f"{v}[T.True]")
    return ":".join(parts)


def design_truth(truth_terms: dict, *, drop_zero: bool = True, **kwargs) -> dict:
    """A generator truth ``{term: log hazard ratio}`` keyed by design columns (see
    :func:`design_column`), leaving out zero terms unless ``drop_zero`` is False."""
    return {
        design_column(t, **kwargs): float(v)
        for t, v in truth_terms.items()
        if not (drop_zero and v == 0)
    }


def outcome_truth(truth: dict) -> dict[str, dict[str, float]]:
    """Per outcome column (``any_referral``, ...), the true log hazard ratio of every
    term of the generator's model keyed by design column, zero terms included
    (``truth``: truth.json as a dict). Outcomes truth.json does not hold are left out."""
    outcomes = truth.get("outcomes") or {}
    return {
        column: design_truth(outcomes[key]["log_hazard_ratio"], drop_zero=False)
        for key, column in TRUTH_OUTCOMES.items()
        if "log_hazard_ratio" in (outcomes.get(key) or {})
    }
