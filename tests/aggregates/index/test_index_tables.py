"""Release-ready index tables: checked against hand-computed values and their own identities."""

import numpy as np
import pandas as pd
import pytest

from child_mdh.aggregates.index import tables as it
from child_mdh.contract.vocabulary import ENGLAND_CODE
from child_mdh.release import index as ri

W = {"employment": 0.2, "education": 0.2, "health": 0.2, "housing": 0.2, "fsm": 0.2}


def _children():
    # Two LAs in one region, one LA in another; 10 children in all.
    # Deprivation counts (of 5, equal weights): scores are count/5; MDH when count >= 2.
    rows = [
        # la, household, sex, age, emp, edu, hea, hou, fsm        count
        ("L1", "h1", "F", 5, 1, 1, 0, 0, 1),  # 3 -> MDH, c=0.6
        ("L1", "h1", "M", 7, 1, 1, 0, 0, 0),  # 2 -> MDH, c=0.4
        ("L1", "h2", "F", 9, 0, 0, 0, 1, 0),  # 1
        ("L1", "h3", "M", 12, 0, 0, 0, 0, 0),  # 0
        ("L2", "h4", "F", 14, 1, 0, 1, 1, 1),  # 4 -> MDH, c=0.8
        ("L2", "h5", "M", 6, 0, 0, 0, 0, 1),  # 1
        ("L2", "h6", "F", 10, 0, 0, 0, 0, 0),  # 0
        ("L3", "h7", "M", 11, 0, 1, 1, 0, 0),  # 2 -> MDH, c=0.4
        ("L3", "h8", "F", 13, 0, 0, 0, 0, 0),  # 0
        ("L3", "h9", "M", 15, 1, 1, 1, 1, 1),  # 5 -> MDH, c=1.0
    ]
    df = pd.DataFrame(rows, columns=["la_code", "household_id", "sex", "age", *W])
    for c in W:
        df[c] = df[c].astype("boolean")
    df["person_id"] = [f"p{i}" for i in range(len(df))]
    df["la_name"] = df["la_code"].map({"L1": "One", "L2": "Two", "L3": "Three"})
    df["region_code"] = df["la_code"].map({"L1": "R1", "L2": "R1", "L3": "R2"})
    df["region_name"] = df["region_code"].map({"R1": "Region one", "R2": "Region two"})
    return df


def test_area_table_matches_hand_computation():
    t = it.area_index_table(_children(), W, 0.4).set_index("area_code")
    # England: q = 5 of n = 10 -> H = 0.5; censored scores 0.6+0.4+0.8+0.4+1.0 = 3.2
    # A = 3.2 / 5 = 0.64; M0 = 3.2 / 10 = 0.32.
    eng = t.loc[ENGLAND_CODE]
    assert (eng["index_n"], eng["mdh_n"]) == (10, 5)
    assert eng["H"] == pytest.approx(0.5) and eng["A"] == pytest.approx(0.64)
    assert eng["M0"] == pytest.approx(0.32)
    # L1: q = 2 of 4 -> H = 0.5, A = (0.6+0.4)/2 = 0.5, M0 = 1.0/4 = 0.25
    assert t.loc["L1", ["H", "A", "M0"]].tolist() == pytest.approx([0.5, 0.5, 0.25])
    # R1 = L1 + L2: q = 3 of 7, censored sum 1.8 -> M0 = 1.8/7
    assert t.loc["R1", "M0"] == pytest.approx(1.8 / 7)
    assert t.loc["L1", "parent_code"] == "R1" and t.loc["R1", "parent_code"] == ENGLAND_CODE
    # counts add up the hierarchy
    assert t.loc[["L1", "L2"], "index_n"].sum() == t.loc["R1", "index_n"]
    assert t.loc[["R1", "R2"], "mdh_n"].sum() == eng["mdh_n"]
    # intervals bracket the estimate
    ok = t.dropna(subset=["M0_lower"])
    assert ((ok["M0_lower"] <= ok["M0"]) & (ok["M0"] <= ok["M0_upper"])).all()


def _computed(table, formulas):
    from child_mdh.aggregates.formulas import apply_formulas

    return apply_formulas(table, formulas)


def test_formulas_of_the_counts_equal_the_microdata_estimates():
    # unprotected counts: every statistic recomputed from them equals the Alkire-Foster
    # estimate from the children (to the published 4 decimals)
    t = it.area_index_table(_children(), W, 0.4)
    f = ri.index_formulas(W, 0.95)
    again = _computed(t, f)
    for col in ["H", "A", "M0", "contribution_employment", "uncensored_housing", "censored_fsm"]:
        assert np.allclose(again[col], t[col].round(4), atol=1e-12, equal_nan=True), col
    # the design-factor interval reproduces the clustered one (deft to 2 decimals)
    ok = t["H_deft"].notna() & (t["H"] > 0) & (t["H"] < 1)
    assert np.allclose(again.loc[ok, "H_lower"], t.loc[ok, "H_lower"], atol=0.01)
    assert np.allclose(again.loc[ok, "H_upper"], t.loc[ok, "H_upper"], atol=0.01)


def test_decomposition_sums_back_to_england():
    area = _computed(it.area_index_table(_children(), W, 0.4), ri.index_formulas(W, 0.95))
    d = _computed(it.decomposition_view(area), ri.DECOMPOSITION_FORMULAS)
    la = d[d["area_level"] == "la"]
    assert la["contribution_to_M0"].sum() == pytest.approx(1.0, abs=1e-3)
    assert la["population_share"].sum() == pytest.approx(1.0)
    # L3: share 3/10, M0 = (0.4 + 1.0)/3 -> contribution 0.3 * (1.4/3) / 0.32 = 0.4375
    assert la.set_index("area_code").loc["L3", "contribution_to_M0"] == pytest.approx(
        0.4375, abs=1e-3
    )


def test_indicator_view_england_contributions():
    area = _computed(it.area_index_table(_children(), W, 0.4), ri.index_formulas(W, 0.95))
    t = it.indicator_view(area, list(W))
    eng = t[t["area_level"] == "england"].set_index("indicator")
    # censored employment deprivations among the identified: children 0, 1, 4, 9 -> 4/10
    assert eng.loc["employment", "censored_headcount"] == pytest.approx(0.4)
    assert eng.loc["employment", "censored_deprived_n"] == 4
    # uncensored housing: children 2, 4, 9 -> 3/10
    assert eng.loc["housing", "uncensored_headcount"] == pytest.approx(0.3)
    # contribution = w * h_j(k) / M0 = 0.2 * 0.4 / 0.32 = 0.25
    assert eng.loc["employment", "contribution"] == pytest.approx(0.25)
    assert eng["contribution"].sum() == pytest.approx(1.0)
    # the view's own formulas give its headcounts back from its counts
    again = _computed(t, ri.indicator_view_formulas(0.95))
    assert np.allclose(again["censored_headcount"], t["censored_headcount"], equal_nan=True)


def test_robustness_union_and_intersection():
    r = _computed(it.robustness_table(_children(), W, [0.2, 1.0]), ri.robustness_formulas(W))
    eng = r[r["area_code"] == ENGLAND_CODE].set_index("k")
    # union (k = 0.2): anyone deprived in one indicator: 7 of 10
    assert eng.loc[0.2, "mdh_n"] == 7 and eng.loc[0.2, "H"] == pytest.approx(0.7)
    # intersection (k = 1): deprived in all five: child 9 only
    assert eng.loc[1.0, "mdh_n"] == 1 and eng.loc[1.0, "A"] == pytest.approx(1.0)


def test_group_table_sexes_add_to_england():
    g = it.group_index_table(_children(), W, 0.4)
    sex = g[g["group_type"] == "sex"].set_index("group")
    assert sex["index_n"].sum() == 10
    # girls: children 0, 2, 4, 6, 8: MDH 0 and 4 -> H = 2/5
    assert sex.loc["F", "H"] == pytest.approx(0.4)
    bands = g[g["group_type"] == "age_band"].set_index("group")
    assert bands.loc["4-7", "index_n"] == 3  # ages 5, 7, 6


def test_weight_sets_census_only():
    t = it.weight_set_table(
        _children(),
        {
            "five": W,
            "census_four": {"employment": 0.25, "education": 0.25, "health": 0.25, "housing": 0.25},
        },
        0.4,
    )
    t = _computed(t, ri.weight_set_formulas(list(W))).set_index("weight_set")
    # census only, k = 0.4 means 2 of 4 domains (0.5 >= 0.4): children 0, 1, 4, 7, 9 -> 5
    assert t.loc["census_four", "mdh_n"] == 5
    assert t.loc["five", "H"] == pytest.approx(0.5)
    # census four: censored sum 0.25 * (2+2+... ) / 10: M0 = A * H from the counts
    assert t.loc["census_four", "M0"] == pytest.approx(
        t.loc["census_four", "A"] * t.loc["census_four", "H"], abs=1e-4
    )


def test_child_index_identifies_at_k():
    c = it.child_index(_children(), W, 0.4)
    assert c["mdh"].astype(bool).tolist() == [
        True,
        True,
        False,
        False,
        True,
        False,
        False,
        True,
        False,
        True,
    ]
    assert c["score"].iloc[9] == pytest.approx(1.0)


def test_age_band_labels():
    assert it.age_band(pd.Series([3, 4, 7, 8, 15, 16])).tolist() == [
        "0-3",
        "4-7",
        "4-7",
        "8-11",
        "12-15",
        "16-17",
    ]


def test_single_la_input_does_not_call_its_total_england():
    one = _children()
    one = one[one["la_code"] == "L1"]
    t = it.area_index_table(one, W, 0.4).set_index("area_code")
    assert t.loc[ENGLAND_CODE, "area_name"] == it.SINGLE_LA_TOTAL_NAME
    assert (
        it.area_index_table(_children(), W, 0.4)
        .set_index("area_code")
        .loc[ENGLAND_CODE, "area_name"]
        == "England"
    )


def test_household_ids_coded_as_integers_give_the_same_tables_to_the_bit():
    # index_outputs codes household ids once (with_cluster_codes) for speed at scale
    rng = np.random.default_rng(5)
    df = pd.concat([_children()] * 30, ignore_index=True)
    df["household_id"] = [f"h{h}" for h in rng.integers(0, 120, len(df))]
    for c in W:
        df[c] = pd.array(rng.random(len(df)) < 0.35, dtype="boolean")
    coded = it.with_cluster_codes(df)
    assert coded["household_id"].dtype == "int64"
    for table in (it.area_index_table, it.group_index_table):
        pd.testing.assert_frame_equal(table(df, W, 0.4), table(coded, W, 0.4), check_exact=True)


def test_logit_interval_formula_by_hand():
    from scipy import stats

    from child_mdh.aggregates.formulas import Formula

    # H = 0.75 of 4 independent children: SE 0.25, t with 3 df (tests/aggregates/index/
    # test_inference.py); deft = t3 SE / (z sqrt(p (1 - p) / n)) gives z deft srs = t3 SE
    t3, z = stats.t.ppf(0.975, 3), stats.norm.ppf(0.975)
    deft = t3 * 0.25 / (z * np.sqrt(0.75 * 0.25 / 4))
    df = pd.DataFrame({"H": [0.75, 0.0, 1.0], "index_n": [4, 5, 3], "H_deft": [deft, np.nan, 0]})
    f = {
        "H_lower": Formula("logit_lower(H, index_n, H_deft, 0.95, 0.0)"),
        "H_upper": Formula("logit_upper(H, index_n, H_deft, 0.95, 0.0)"),
    }
    out = _computed(df, f)

    def expit(x):
        return 1 / (1 + np.exp(-x))

    assert out.loc[0, "H_lower"] == pytest.approx(expit(np.log(3) - t3 * 4 / 3))
    assert out.loc[0, "H_upper"] == pytest.approx(expit(np.log(3) + t3 * 4 / 3))
    # 0 of 5 and 3 of 3: Clopper-Pearson
    assert (out.loc[1, "H_lower"], out.loc[1, "H_upper"]) == (0.0, pytest.approx(1 - 0.025**0.2))
    assert out.loc[2, "H_lower"] == pytest.approx(0.025 ** (1 / 3)) and out.loc[2, "H_upper"] == 1


def test_logit_interval_formulas_reproduce_the_microdata_interval():
    t = it.area_index_table(_children(), W, 0.4, interval="logit")
    f = ri.index_formulas(W, 0.95, interval="logit", k=0.4)
    assert f["A_lower"].expr == "logit_lower(A, mdh_n, A_deft, 0.95, 0.4)"
    assert f["H_upper"].expr == "logit_upper(H, index_n, H_deft, 0.95, 0.0)"
    again = _computed(t, f)
    ok = t["H_deft"].notna() & (t["H"] > 0) & (t["H"] < 1)
    assert ok.sum() >= 3
    assert np.allclose(again.loc[ok, "H_lower"], t.loc[ok, "H_lower"], atol=0.01)
    assert np.allclose(again.loc[ok, "H_upper"], t.loc[ok, "H_upper"], atol=0.01)
    # A's interval stays in [k, 1]
    a = again.dropna(subset=["A_lower"])
    assert (a["A_lower"] >= 0.4 - 1e-12).all() and (a["A_upper"] <= 1).all()
    # the symmetric interval is the default, as before
    assert ri.index_formulas(W, 0.95)["H_lower"].expr.startswith("design_lower(")
