"""Release-ready model tables: exposures, pooling of sparse levels, tables, checked by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from simulated import simulated_outcomes

from child_mdh.aggregates.models import tables as mt
from child_mdh.aggregates.models.prepare import (
    ModelInputError,
    attach_index,
    band_adjacent,
    deprivation_count,
    merge_sparse,
    prepare_model_data,
    top_code,
)
from child_mdh.studies.model_recovery import simulate_cohort

DOMAINS = ["employment", "education", "health", "housing"]


# ----------------------------------------------------------------- exposures
def test_deprivation_count_by_hand_and_missing_is_not_zero():
    df = pd.DataFrame(
        {
            "a": pd.array([True, False, True, None], dtype="boolean"),
            "b": pd.array([True, False, False, False], dtype="boolean"),
            "c": pd.array([False, False, True, False], dtype="boolean"),
        }
    )
    got = deprivation_count(df, ["a", "b", "c"])
    # rows: 1+1+0 = 2; 0; 1+0+1 = 2; a missing -> missing (not 0 or 1)
    assert got.iloc[:3].tolist() == [2, 0, 2]
    assert got.isna().tolist() == [False, False, False, True]


def _levels_frame(spec):
    """Rows from {level: (children, events)} for one outcome 'y'."""
    parts = []
    for level, (n, e) in spec.items():
        parts.append(pd.DataFrame({"x": level, "y": [True] * e + [False] * (n - e)}))
    df = pd.concat(parts, ignore_index=True)
    df["y"] = df["y"].astype("boolean")
    return df


def test_top_code_pools_the_sparse_top_levels():
    # level: (children, events): 0 (100, 20), 1 (50, 15), 2 (30, 12), 3 (12, 6), 4 (5, 3)
    # min 10: level 3 has 6 events (< 10) -> cap at 3 fails below? 3+ = (17, 9): 9 events
    # fails; cap at 2: 2+ = (47, 21) events 21, non-events 26, and levels 0, 1 pass.
    df = _levels_frame({0: (100, 20), 1: (50, 15), 2: (30, 12), 3: (12, 6), 4: (5, 3)})
    got, notes = top_code(df, "x", ["y"], 10)
    assert list(got.cat.categories) == ["0", "1", "2+"]
    assert got.value_counts().to_dict() == {"0": 100, "1": 50, "2+": 47}
    assert notes and "2+" in notes[0]


def test_top_code_keeps_levels_that_pass_and_gives_up_when_nothing_does():
    df = _levels_frame({0: (100, 20), 1: (50, 15)})
    got, notes = top_code(df, "x", ["y"], 10)
    assert list(got.cat.categories) == ["0", "1"] and notes == []
    # level 1 has 5 events: even '1+' fails -> None
    df = _levels_frame({0: (100, 20), 1: (50, 5)})
    got, notes = top_code(df, "x", ["y"], 10)
    assert got is None and "not fitted" in notes[0]


def test_band_adjacent_builds_bands_from_the_youngest():
    # ages 5..9 with (children, events): 5 (40, 4), 6 (40, 8), 7 (40, 12), 8 (40, 20),
    # 9 (40, 5). Bands, min 10: 5+6 -> 12 events: band '5-6'; 7 -> 12: '7';
    # 8 -> 20: '8'; 9 -> 5 alone fails and joins the last band: '8-9'.
    df = _levels_frame({5: (40, 4), 6: (40, 8), 7: (40, 12), 8: (40, 20), 9: (40, 5)})
    got, notes = band_adjacent(df, "x", ["y"], 10)
    assert list(got.cat.categories) == ["5-6", "7", "8-9"]
    assert got.value_counts().to_dict() == {"5-6": 80, "7": 40, "8-9": 80}
    assert "bands" in notes[0]
    # every level passing: returned unchanged
    same, notes = band_adjacent(_levels_frame({5: (40, 12), 6: (40, 15)}), "x", ["y"], 10)
    assert same.tolist() == [5] * 40 + [6] * 40 and notes == []


def test_merge_sparse_drops_a_failing_flag_and_pools_nominal_levels():
    flag = _levels_frame({False: (200, 30), True: (20, 4)})
    got, notes = merge_sparse(flag, "x", ["y"], 10)
    assert got is None and "left out" in notes[0]
    # levels a (100, 20), b (100, 30), c (20, 5), d (20, 6): c and d fail; pooled 'other'
    # has (40, 11) and passes
    nominal = _levels_frame({"a": (100, 20), "b": (100, 30), "c": (20, 5), "d": (20, 6)})
    got, notes = merge_sparse(nominal, "x", ["y"], 10)
    assert got.value_counts().to_dict() == {"a": 100, "b": 100, "other": 40}


def test_attach_index_refuses_children_it_cannot_match():
    kids = pd.DataFrame({"person_id": ["p1", "p2"], "la_code": ["A", "B"]})
    idx = pd.DataFrame(
        {
            "person_id": ["p1", "p2"],
            "la_code": ["A", "B"],
            "mdh": pd.array([True, None], dtype="boolean"),
        }
    )
    out = attach_index(kids, idx)
    assert out["mdh"].tolist()[0] is True and pd.isna(out["mdh"].iloc[1])
    with pytest.raises(ModelInputError, match="missing from it"):
        attach_index(kids, idx.iloc[:1])
    with pytest.raises(ModelInputError, match="another local authority"):
        attach_index(kids, idx.assign(la_code=["A", "C"]))
    with pytest.raises(ModelInputError, match="repeated"):
        attach_index(kids, pd.concat([idx, idx.iloc[:1]]))
    with pytest.raises(ModelInputError, match="child_index: column"):
        attach_index(kids, idx.drop(columns="mdh"))


# ----------------------------------------------------------------- the analysis frame
def _small_children():
    """8 children in two LAs; MDH prevalence: A 2/4, B 1/4; overall 3/8."""
    df = pd.DataFrame(
        {
            "person_id": [f"p{i}" for i in range(8)],
            "la_code": ["A"] * 4 + ["B"] * 4,
            "employment": [1, 1, 0, 0, 1, 0, 0, 0],
            "education": [1, 0, 0, 0, 1, 0, 0, 0],
            "health": [0, 1, 0, 0, 0, 0, 0, 0],
            "housing": [0, 0, 0, 0, 0, 0, 0, 0],
            "fsm": [0, 0, 1, 0, 1, 0, 0, 0],
            "mdh": [1, 1, 0, 0, 1, 0, 0, 0],
            "age": [5, 6, 7, 8, 5, 6, 7, 8],
            "sex": ["F", "M"] * 4,
            "any_referral": [1, 0, 1, 0, 1, 0, 0, 1],
        }
    )
    for c in [*DOMAINS, "fsm", "mdh", "any_referral"]:
        df[c] = df[c].astype(bool).astype("boolean")
    return df


def test_prepare_adds_exposures_by_hand():
    # min_count=0: no pooling (with 1, the level 3 would pool: both its children had a
    # referral, so it has no non-events)
    children = _small_children()
    data = prepare_model_data(children, outcomes=["any_referral"], min_count=0)
    f = data.frame
    assert "deprivation_count" not in children.columns  # the input is left as it was
    # counts of the five indicators: emp+edu = 2; emp+hea = 2; fsm = 1; 0;
    # emp+edu+fsm = 3; 0; 0; 0
    assert f["deprivation_count"].astype(str).tolist() == ["2", "2", "1", "0", "3", "0", "0", "0"]
    assert f["any_domain"].tolist() == [True, True, False, False, True, False, False, False]
    # prevalence centred: A 0.5 - 0.375 = 0.125; B 0.25 - 0.375 = -0.125
    assert f["la_mdh_prevalence_centred"].tolist() == pytest.approx([0.125] * 4 + [-0.125] * 4)


def test_prepare_names_missing_columns():
    with pytest.raises(ModelInputError, match="fsm"):
        prepare_model_data(_small_children().drop(columns="fsm"), outcomes=["any_referral"])


# ----------------------------------------------------------------- blocks and rounding
def test_a_block_with_one_small_cell_is_emptied_whole():
    df = pd.DataFrame(
        {
            "model": ["m1", "m1", "m2", "m2"],
            "variable": ["x"] * 4,
            "children_n": [100, 40, 100, 40],
            "events_n": [20, 9, 20, 15],
            "nonevents": [80, 31, 80, 25],
            "rate": [0.2, 0.225, 0.2, 0.375],
        }
    )
    out, blanked = mt._blank_incomplete(df, ["children_n", "events_n"], 10, ["nonevents"])
    # m1 has 9 events in one cell: both of its cells lose their counts (otherwise the
    # model total minus the other cell would give the 9 back); m2 untouched
    assert blanked == ["m1"]
    assert out.loc[out["model"] == "m1", ["children_n", "events_n"]].isna().all().all()
    assert out.loc[out["model"] == "m2", "events_n"].tolist() == [20, 15]
    assert "nonevents" not in out.columns


def test_round_statistics_keeps_small_p_values():
    df = pd.DataFrame({"estimate": [0.123456789], "p_value": [1.23456e-30], "events_n": [12]})
    out = mt.round_statistics(df)
    assert out["estimate"].iloc[0] == 0.123457
    assert out["p_value"].iloc[0] == pytest.approx(1.235e-30)
    assert out["events_n"].iloc[0] == 12


def test_settings_from_configuration_blocks():
    s = mt.model_settings(
        {"links": ["cloglog"], "comparator": False},
        {"weights": {"employment": 0.5, "fsm": 0.5, "health": 0.0}},
        {"prior_contact": "exclude_in_care"},
        threshold=7,
        min_residual_df=12,
    )
    assert s.links == ("cloglog",) and s.comparator is False
    assert s.indicators == ("employment", "fsm")
    assert (s.prior_contact, s.min_count, s.min_residual_df) == ("exclude_in_care", 7, 12)
    with pytest.raises(ValueError, match="unknown key"):
        mt.model_settings({"link": ["logit"]})


# ----------------------------------------------------------------- whole tables
@pytest.fixture(scope="module")
def cohort():
    sim = simulate_cohort(12_000, n_las=24, seed=5)
    out = simulated_outcomes(sim)
    out["age"] = out["age"].clip(5, 15)  # school ages, as the default cohort
    return out


@pytest.fixture(scope="module")
def saturated_tables(cohort):
    """Only the deprivation count (no covariates, no prior contact): the logit model is
    saturated, so standardised rates are the observed rates."""
    s = mt.ModelSettings(
        outcomes=("any_referral",),
        links=("logit",),
        covariates=(),
        prior_contact="exclude_in_care",
        fixed_effects=True,
        hazard=False,
        counts=False,
        inverse_intervention=False,
        comparator=False,
    )
    return mt.build_model_tables(cohort, s)


def test_saturated_rates_equal_observed_rates(saturated_tables, cohort):
    t = saturated_tables.tables["predicted_rates"]
    r = t[(t["model"] == "any_referral_count_logit") & (t["variable"] == "deprivation_count")]
    frame = saturated_tables.data["any_referral"].frame
    frame = frame[frame["any_referral"].notna()]  # unlinked children have no outcome
    observed = frame.groupby("deprivation_count", observed=True)["any_referral"].agg(
        ["mean", "size", "sum"]
    )
    assert r["level"].tolist() == [str(x) for x in observed.index]
    np.testing.assert_allclose(r["rate"], np.round(observed["mean"] * 10_000, 2), atol=0.006)
    assert r["children_n"].tolist() == observed["size"].tolist()
    assert r["events_n"].tolist() == observed["sum"].astype(int).tolist()
    ame = saturated_tables.tables["marginal_effects"]
    a = ame[ame["model"] == "any_referral_count_logit"]
    # AME of each level = its observed rate minus the observed rate at 0 (per 10,000)
    np.testing.assert_allclose(
        a["ame"],
        np.round((observed["mean"].iloc[1:] - observed["mean"].iloc[0]) * 10_000, 2),
        atol=0.006,
    )


def test_binary_table_conventions(saturated_tables, cohort):
    b = saturated_tables.tables["binary"]
    assert set(b["fixed_effects"]) == {"none", "LA dummies", "LA absorbed"}
    assert not b["term"].str.startswith("la_code").any()  # LA dummies never listed
    lpm = b[b["fixed_effects"] == "LA absorbed"]
    assert lpm["ratio"].isna().all() and (lpm["link"] == "identity").all()
    assert lpm["df_convention"].str.contains("excludes the absorbed").all()
    glm_fe = b[b["fixed_effects"] == "LA dummies"]
    assert glm_fe["df_convention"].str.contains("counts the LA dummies").all()
    # residual df = LAs - 1 for every clustered model
    assert (b.loc[b["fixed_effects"] == "none", "residual_df"] == 23).all()
    # the mdh coefficient's counts are the children with MDH and their events
    row = b[(b["model"] == "any_referral_mdh_logit") & (b["term"] == "mdh[T.True]")].iloc[0]
    m = cohort[cohort["any_referral"].notna()]
    assert row["term_observations_n"] == int(m["mdh"].sum())
    assert row["term_events_n"] == int((m["mdh"] & m["any_referral"].astype(bool)).sum())
    assert row["ratio"] == pytest.approx(np.exp(row["estimate"]), rel=1e-5)


def test_linear_probability_mdh_coefficient_is_the_within_la_difference(saturated_tables, cohort):
    # LPM of y on mdh with LA effects absorbed = OLS of y on mdh and LA dummies
    b = saturated_tables.tables["binary"]
    got = b[(b["model"] == "any_referral_mdh_lpm_fe") & (b["term"] == "mdh[T.True]")]
    m = cohort[cohort["any_referral"].notna()]
    x = np.column_stack(
        [m["mdh"].astype(float), pd.get_dummies(m["la_code"], dtype=float).to_numpy()]
    )
    beta = np.linalg.lstsq(x, m["any_referral"].astype(float).to_numpy(), rcond=None)[0]
    assert got["estimate"].iloc[0] == pytest.approx(beta[0], abs=2e-6)


@pytest.fixture(scope="module")
def full_tables(cohort):
    s = mt.ModelSettings(
        outcomes=("any_referral", "any_cpp"),
        links=("logit", "cloglog"),
        comparator_splits=3,
        gbm_max_iter=20,
    )
    return mt.build_model_tables(cohort, s)


def test_every_table_is_aggregate(full_tables, cohort):
    assert set(full_tables.tables) == set(mt.TABLES)
    for name, t in full_tables.tables.items():
        assert not {"person_id", "pupil_id", "household_id"} & set(t.columns), name
        assert len(t) < len(cohort) / 10, name
        assert any(c.endswith("_n") for c in t.columns), name
    comp = full_tables.tables["comparator"]
    assert set(comp["section"]) == {"metrics", "calibration", "interactions"}
    cal = comp[comp["section"] == "calibration"]
    assert (cal["children_n"] >= 10).all() and (cal["events_n"] >= 10).all()


def test_hazard_and_count_tables(full_tables):
    h = full_tables.tables["hazard"]
    assert {"first_referral_mdh_cloglog", "first_referral_count_logit"} <= set(h["model"])
    assert h["ph_p_value"].between(0, 1).all() and h["ph_verdict"].notna().all()
    assert (h["unit"] == "person-periods").all()
    c = full_tables.tables["counts"]
    assert {"poisson", "negative_binomial"} == set(c["family"])
    assert c.loc[c["family"] == "negative_binomial", "alpha"].gt(0).all()
    assert c.loc[c["family"] == "poisson", "alpha"].isna().all()
    assert (c["ratio_name"] == "rate ratio").all()


def test_inverse_intervention_rows(full_tables):
    b = full_tables.tables["binary"]
    ii = b[b["specification"] == "inverse_intervention"]
    term = "mdh[T.True]:la_mdh_prevalence_centred"
    assert set(ii.loc[ii["term"] == term, "model"]) == {
        f"{o}_inverse_intervention_{link}{fe}"
        for o in ("any_referral", "any_cpp")
        for link in ("logit", "cloglog")
        for fe in ("", "_fe")
    }
    # the prevalence main effect is absorbed by the LA dummies
    fe = ii[ii["fixed_effects"] == "LA dummies"]
    assert not (fe["term"] == "la_mdh_prevalence_centred").any()
    # the counts behind the numeric interaction are the MDH children (not empty)
    inter = ii[ii["term"] == term]
    assert inter["term_observations_n"].notna().all()


def test_models_below_the_residual_df_minimum_are_left_out(cohort):
    s = mt.ModelSettings(
        outcomes=("any_referral",),
        links=("logit",),
        covariates=(),
        hazard=False,
        counts=False,
        inverse_intervention=False,
        comparator=False,
        fixed_effects=False,
        min_residual_df=30,
    )
    res = mt.build_model_tables(cohort, s)  # 24 LAs: residual df 23 < 30
    assert res.tables["binary"].empty
    assert any("residual degrees of freedom 23 below 30" in n for n in res.notes)


def test_fixed_effect_counts_do_not_reveal_authorities_without_events(cohort):
    # one LA is given no entry to care: the LA-dummy model leaves it out (its dummy would
    # diverge), but the released counts must not show how many children it had
    df = cohort.copy()
    la = sorted(df["la_code"].unique())[0]
    df.loc[df["la_code"] == la, "entered_care"] = False
    s = mt.ModelSettings(
        outcomes=("entered_care",),
        links=("logit",),
        covariates=(),
        prior_contact="exclude_in_care",
        hazard=False,
        counts=False,
        inverse_intervention=False,
        comparator=False,
    )
    res = mt.build_model_tables(df, s)
    fe = next(r for r in res.fits["binary"] if r.fit.name == "entered_care_mdh_logit_fe")
    assert fe.fit.dropped["fixed_effect_groups_dropped"] == 1
    b = res.tables["binary"].set_index(["model", "term"])
    no, with_fe = (
        b.loc[("entered_care_mdh_logit", "mdh[T.True]")],
        b.loc[("entered_care_mdh_logit_fe", "mdh[T.True]")],
    )
    for c in ("children_n", "observations_n", "events_n", "term_observations_n", "term_events_n"):
        assert no[c] == with_fe[c], c
    # the fit itself used the other 23 authorities
    assert fe.fit.n_clusters == 23 and with_fe["residual_df"] == 22
    assert fe.fit.n_rows < no["children_n"]


def test_a_model_not_estimated_is_released_without_its_counts():
    from child_mdh.aggregates.models.glm import SparseLevelError

    skipped = []
    err = SparseLevelError("these covariate levels have no events:\n  age=5: 37 rows, 0 events")
    mt._skip(skipped, "entered_care_count_logit", "entered_care", err)
    assert skipped[0]["reason"] == "a covariate level has no events, or only events"
    assert "37 rows" in skipped[0]["detail"]  # for the secure log only


def test_one_local_authority_clusters_by_household(cohort):
    # the local-authority route: one authority; errors cannot be clustered by it
    df = cohort.iloc[:4000].copy()
    df["la_code"] = "E10000016"
    df["household_id"] = [f"h{i // 2}" for i in range(len(df))]  # pairs of siblings
    s = mt.ModelSettings(
        outcomes=("any_referral",),
        links=("logit",),
        hazard=False,
        counts=False,
        comparator_splits=3,
        gbm_max_iter=10,
    )
    res = mt.build_model_tables(df, s)
    assert res.settings.cluster == "household_id"
    assert not res.settings.fixed_effects and not res.settings.inverse_intervention
    b = res.tables["binary"]
    assert set(b["fixed_effects"]) == {"none"}
    # residual df = households - 1 (2,000 households, fewer after dropping unlinked)
    assert b["residual_df"].between(1500, 1999).all()
    assert "comparator" in res.tables
    assert any("one local authority" in n for n in res.notes)
    with pytest.raises(ModelInputError, match="models.cluster"):
        mt.build_model_tables(df.drop(columns="household_id"), s)
