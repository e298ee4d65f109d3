"""Model specifications, running them, and the inverse-intervention model."""

from __future__ import annotations

import numpy as np
import pandas as pd

from child_mdh.aggregates.models.collapse import binary_cells
from child_mdh.aggregates.models.glm import fit_binomial
from child_mdh.aggregates.models.specs import (
    add_area_prevalence,
    count_specifications,
    fit_specification,
    fit_specifications,
    inverse_intervention_specification,
    standard_specifications,
)


def test_standard_specifications_cover_outcomes_exposures_links():
    specs = standard_specifications(
        covariates=("ethnic_group",), prior_contact_terms=("prior_referral",)
    )
    assert len(specs) == 4 * 3 * 2
    names = {s.name for s in specs}
    assert "any_cpp_count_cloglog" in names and "entered_care_domains_logit" in names
    dom = next(s for s in specs if s.name == "any_referral_domains_logit")
    assert dom.exposure_terms == ("employment", "education", "health", "housing", "fsm")
    assert dom.adjust_terms == ("age", "sex", "ethnic_group", "prior_referral")
    assert dom.keys[-1] == "la_code"
    assert [s.family for s in count_specifications()] == ["poisson", "poisson"]


def test_add_area_prevalence_by_hand():
    f = pd.DataFrame(
        {
            "la_code": ["a", "a", "a", "b"],
            "mdh": pd.array([True, False, None, True], dtype="boolean"),
        }
    )
    out = add_area_prevalence(f)
    # overall prevalence among known: 2/3; a: 1/2 -> -1/6; b: 1 -> +1/3
    assert np.allclose(out["la_mdh_prevalence_centred"], [-1 / 6, -1 / 6, -1 / 6, 1 / 3])


def test_fit_specifications_collapses_once_and_records_unestimable_models(rows):
    data = rows.rename(columns={"y": "any_referral", "count": "n_domains"})
    # a rare outcome: 6 events, in deprivation counts 0 and 2 only, both sexes
    data["rare"] = False
    for count, sex, k in ((0, "F", 2), (0, "M", 1), (2, "M", 2), (2, "F", 1)):
        idx = data.index[(data["n_domains"] == count) & (data["sex"] == sex)][:k]
        data.loc[idx, "rare"] = True
    specs = [
        s
        for s in standard_specifications(
            outcomes=("any_referral", "rare"), adjust=("sex",), links=("logit",)
        )
        if "domains" not in s.name
    ]
    fits, skipped = fit_specifications(data, specs)
    assert [f.name for f in fits] == [
        "any_referral_mdh_logit",
        "any_referral_count_logit",
        "rare_mdh_logit",
    ]
    # counts 1 and 3 have no events: the count model is not estimable
    assert skipped["model"].tolist() == ["rare_count_logit"]
    assert "no events" in skipped["reason"].iloc[0]
    assert fits[2].n_events == 6


def test_fit_specification_equals_direct_fit(rows):
    data = rows.rename(columns={"y": "any_referral", "count": "n_domains"})
    spec = standard_specifications(outcomes=("any_referral",), adjust=("sex",), links=("cloglog",))[
        1
    ]
    fit = fit_specification(data, spec)
    direct = fit_binomial(
        binary_cells(data, "any_referral", ["n_domains", "sex", "la_code"]),
        ["n_domains", "sex"],
        link="cloglog",
    )
    assert np.allclose(fit.params, direct.params, atol=1e-12)


def test_inverse_intervention_interaction_is_estimated(rows):
    data = add_area_prevalence(rows.rename(columns={"y": "any_cpp"}), "mdh")
    spec = inverse_intervention_specification("any_cpp", adjust=("sex",))
    fit = fit_specification(data, spec)
    assert "mdh[T.True]:la_mdh_prevalence_centred" in fit.params.index
    assert "la_mdh_prevalence_centred" in fit.params.index
    fe = fit_specification(
        data,
        inverse_intervention_specification("any_cpp", adjust=("sex",), fixed_effects="la_code"),
    )
    assert fe.omitted == ["la_mdh_prevalence_centred"]
    assert "mdh[T.True]:la_mdh_prevalence_centred" in fe.params.index
    assert np.isfinite(fe.bse["mdh[T.True]:la_mdh_prevalence_centred"])
