"""Alkire-Foster measures against examples computed by hand (methods.md section 2)."""

import numpy as np
import pandas as pd
import pytest

from child_mdh.aggregates.index.alkire_foster import (
    ALTERNATIVE_WEIGHT_SETS,
    DEFAULT_K,
    DEFAULT_WEIGHTS,
    IndexInputError,
    alkire_foster,
    identify,
    la_rank_dominance,
    over_weight_sets,
    robustness_over_k,
    scores,
)

IND = ["employment", "education", "health", "housing", "fsm"]

# Six children, five indicators, equal weights 0.2, k = 0.4 (2 of 5):
#   child  emp edu hea hou fsm   score c_i           identified  c_i(k)
#   1      1   1   0   0   1     0.2*3 = 0.6         yes         0.6
#   2      0   0   0   1   0     0.2                 no          0
#   3      1   1   1   1   1     1.0                 yes         1.0
#   4      0   0   0   0   0     0                   no          0
#   5      0   1   0   1   0     0.4 (= k exactly)   yes         0.4
#   6      0   0   1   0   0     0.2                 no          0
# n = 6, q = 3: H = 3/6 = 0.5; A = (0.6 + 1.0 + 0.4)/3 = 2/3; M0 = 2.0/6 = 1/3 = H*A.
# uncensored h_j: emp {1,3} 2/6, edu {1,3,5} 3/6, hea {3,6} 2/6, hou {2,3,5} 3/6, fsm {1,3} 2/6
# censored h_j(k) (children 1, 3, 5): emp 2/6, edu 3/6, hea {3} 1/6, hou {3,5} 2/6, fsm 2/6
# check: M0 = sum_j 0.2 h_j(k) = 0.2 * (2+3+1+2+2)/6 = 1/3.
# contributions w_j h_j(k) / M0: emp 0.2*(2/6)*3 = 0.2, edu 0.2*(3/6)*3 = 0.3,
#   hea 0.2*(1/6)*3 = 0.1, hou 0.2, fsm 0.2 (sum 1).
G6 = pd.DataFrame(
    [
        [1, 1, 0, 0, 1],
        [0, 0, 0, 1, 0],
        [1, 1, 1, 1, 1],
        [0, 0, 0, 0, 0],
        [0, 1, 0, 1, 0],
        [0, 0, 1, 0, 0],
    ],
    columns=IND,
)


def test_hand_example_headline_measures():
    r = alkire_foster(G6, DEFAULT_WEIGHTS, 0.4)
    assert (r.n, r.q) == (6, 3)
    assert pytest.approx(0.5) == r.H
    assert pytest.approx(2 / 3) == r.A
    assert pytest.approx(1 / 3) == r.M0
    assert pytest.approx(r.H * r.A) == r.M0
    assert r.n_missing == 0


def test_hand_example_headcounts_and_contributions():
    r = alkire_foster(G6, DEFAULT_WEIGHTS, 0.4)
    assert r.uncensored_headcount.to_dict() == pytest.approx(
        {"employment": 2 / 6, "education": 3 / 6, "health": 2 / 6, "housing": 3 / 6, "fsm": 2 / 6}
    )
    assert r.censored_headcount.to_dict() == pytest.approx(
        {"employment": 2 / 6, "education": 3 / 6, "health": 1 / 6, "housing": 2 / 6, "fsm": 2 / 6}
    )
    assert r.contribution.to_dict() == pytest.approx(
        {"employment": 0.2, "education": 0.3, "health": 0.1, "housing": 0.2, "fsm": 0.2}
    )
    assert r.contribution.sum() == pytest.approx(1.0)
    assert (r.weights * r.censored_headcount).sum() == pytest.approx(r.M0)


def test_scores_and_identification():
    c = scores(G6, DEFAULT_WEIGHTS)
    assert c.tolist() == pytest.approx([0.6, 0.2, 1.0, 0.0, 0.4, 0.2])
    assert identify(c, 0.4).tolist() == [True, False, True, False, True, False]


def test_subgroup_decomposition_by_hand():
    # group a = children 1-3: c(k) = 0.6, 0, 1.0 -> M0_a = 1.6/3, H_a = 2/3, A_a = 0.8
    # group b = children 4-6: c(k) = 0, 0.4, 0  -> M0_b = 0.4/3, H_b = 1/3, A_b = 0.4
    # shares 1/2 each: 0.5*1.6/3 + 0.5*0.4/3 = 1/3 = M0; contributions 0.8 and 0.2
    d = G6.assign(grp=list("aaabbb"))
    r = alkire_foster(d, DEFAULT_WEIGHTS, 0.4, by="grp")
    g = r.groups.set_index("grp")
    assert g.loc["a", "M0"] == pytest.approx(1.6 / 3)
    assert g.loc["a", "H"] == pytest.approx(2 / 3) and g.loc["a", "A"] == pytest.approx(0.8)
    assert g.loc["b", "M0"] == pytest.approx(0.4 / 3)
    assert g.loc["b", "H"] == pytest.approx(1 / 3) and g.loc["b", "A"] == pytest.approx(0.4)
    assert g["population_share"].tolist() == pytest.approx([0.5, 0.5])
    assert g["contribution_to_M0"].tolist() == pytest.approx([0.8, 0.2])
    assert (g["population_share"] * g["M0"]).sum() == pytest.approx(r.M0)
    assert g["absolute_contribution"].sum() == pytest.approx(r.M0)


def test_decomposition_sums_back_on_random_data_with_weights():
    rng = np.random.default_rng(1)
    d = pd.DataFrame(rng.random((500, 5)) < 0.3, columns=IND).astype(int)
    d["la"] = rng.choice(["x", "y", "z", "w"], 500)
    sw = rng.uniform(0.5, 3, 500)
    r = alkire_foster(d, DEFAULT_WEIGHTS, 0.4, by="la", sample_weight=sw)
    g = r.groups
    assert (g["population_share"] * g["M0"]).sum() == pytest.approx(r.M0)
    assert (g["population_share"] * g["H"]).sum() == pytest.approx(r.H)
    assert g["contribution_to_M0"].sum() == pytest.approx(1.0)
    assert g["population_share"].sum() == pytest.approx(1.0)


def test_union_and_intersection_cutoffs():
    # union, k = smallest weight 0.2: identified 1,2,3,5,6 -> H = 5/6;
    #   A = (0.6+0.2+1.0+0.4+0.2)/5 = 2.4/5 = 0.48; M0 = 2.4/6 = 0.4 (= mean score)
    u = alkire_foster(G6, DEFAULT_WEIGHTS, 0.2)
    assert pytest.approx((5 / 6, 0.48, 0.4)) == (u.H, u.A, u.M0)
    assert u.censored_headcount.equals(u.uncensored_headcount)
    # intersection, k = 1: only child 3 -> H = 1/6, A = 1, M0 = 1/6
    i = alkire_foster(G6, DEFAULT_WEIGHTS, 1.0)
    assert pytest.approx((1 / 6, 1.0, 1 / 6)) == (i.H, i.A, i.M0)


def test_unequal_weights_by_hand_and_normalisation():
    # weights 4:1:1:1:3 -> 0.4, 0.1, 0.1, 0.1, 0.3; k = 0.5
    # scores: 1: 0.4+0.1+0.3 = 0.8 (id), 2: 0.1, 3: 1.0 (id), 4: 0, 5: 0.1+0.1 = 0.2, 6: 0.1
    # q = 2, H = 1/3, A = (0.8+1.0)/2 = 0.9, M0 = 1.8/6 = 0.3
    # censored: emp {1,3} 2/6, edu {1,3} 2/6, hea {3} 1/6, hou {3} 1/6, fsm {1,3} 2/6
    # contributions: emp 0.4*(2/6)/0.3 = 4/9, edu 0.1*(2/6)/0.3 = 1/9, hea 0.5/9, hou 0.5/9,
    #   fsm 0.3*(2/6)/0.3 = 3/9
    w = {"employment": 4, "education": 1, "health": 1, "housing": 1, "fsm": 3}
    r = alkire_foster(G6, w, 0.5)
    assert pytest.approx((1 / 3, 0.9, 0.3)) == (r.H, r.A, r.M0)
    assert r.weights.tolist() == pytest.approx([0.4, 0.1, 0.1, 0.1, 0.3])
    assert r.contribution.tolist() == pytest.approx([4 / 9, 1 / 9, 0.5 / 9, 0.5 / 9, 3 / 9])


def test_sample_weights_equal_row_replication():
    rng = np.random.default_rng(7)
    d = pd.DataFrame(rng.random((60, 5)) < 0.35, columns=IND)
    d["grp"] = rng.choice(["a", "b", "c"], 60)
    reps = rng.integers(1, 4, 60)
    wr = alkire_foster(d, DEFAULT_WEIGHTS, 0.4, by="grp", sample_weight=reps.astype(float))
    rr = alkire_foster(
        d.loc[d.index.repeat(reps)].reset_index(drop=True), DEFAULT_WEIGHTS, 0.4, by="grp"
    )
    assert (wr.n, wr.q, wr.H, wr.A, wr.M0) == pytest.approx((rr.n, rr.q, rr.H, rr.A, rr.M0))
    pd.testing.assert_series_equal(wr.censored_headcount, rr.censored_headcount)
    pd.testing.assert_series_equal(wr.contribution, rr.contribution)
    cols = ["n", "q", "H", "A", "M0", "population_share", "contribution_to_M0"]
    pd.testing.assert_frame_equal(wr.groups[cols], rr.groups[cols])
    assert wr.n_obs == 60 and rr.n_obs == reps.sum()


def test_sample_weight_by_column_name():
    d = G6.assign(w=[1, 1, 1, 1, 1, 3.0])
    # child 6 (score 0.2, not identified) counts three times: n = 8, q = 3, H = 3/8
    r = alkire_foster(d, DEFAULT_WEIGHTS, 0.4, sample_weight="w")
    assert (r.n, r.q, r.H) == pytest.approx((8, 3, 3 / 8))


def test_score_equal_to_k_up_to_floating_point_is_identified():
    # weights 0.1/0.2/0.3/0.4; k = 0.1 + 0.2 = 0.30000000000000004 in floating point.
    # Row 1 (a, b) scores 0.30000000000000004; row 2 (c) scores exactly 0.3, which is
    # below k by 5.6e-17: a naive '>=' would miss it; the tolerance identifies both.
    w = {"a": 0.1, "b": 0.2, "c": 0.3, "d": 0.4}
    d = pd.DataFrame({"a": [1, 0], "b": [1, 0], "c": [0, 1], "d": [0, 0]})
    k = 0.1 + 0.2
    c = scores(d, w)
    assert c[1] < k  # the floating-point trap is real
    r = alkire_foster(d, w, k)
    assert r.q == 2 and r.H == 1.0


def test_two_of_five_with_equal_weights_is_identified():
    # 0.2 + 0.2 against k = 2/5
    d = pd.DataFrame([[1, 1, 0, 0, 0], [1, 0, 0, 0, 0]], columns=IND)
    assert alkire_foster(d, DEFAULT_WEIGHTS, 2 / 5).q == 1


def test_score_clearly_below_k_is_not_identified():
    # 0.399999 is 1e-6 below k = 0.4: far outside the 1e-9 tolerance
    d = pd.DataFrame({"a": [1], "b": [0]})
    assert alkire_foster(d, {"a": 0.399999, "b": 0.600001}, 0.4).q == 0


def test_rows_with_missing_indicator_are_excluded_and_counted():
    d = G6.astype("Float64").assign(grp=list("aaabbb"))
    d.loc[3, "fsm"] = pd.NA  # child 4 (not deprived anywhere else) becomes unknown
    r = alkire_foster(d, DEFAULT_WEIGHTS, 0.4, by="grp")
    # n = 5 known children, q = 3: H = 3/5, M0 = 2.0/5
    assert (r.n_obs, r.n_missing) == (5, 1)
    assert pytest.approx((0.6, 0.4)) == (r.H, r.M0)
    g = r.groups.set_index("grp")
    assert g.loc["b", "n_missing"] == 1 and g.loc["a", "n_missing"] == 0
    assert g.loc["b", "n_obs"] == 2


def test_boolean_and_nullable_boolean_inputs():
    d = G6.astype(bool)
    assert pytest.approx(1 / 3) == alkire_foster(d, DEFAULT_WEIGHTS, 0.4).M0
    assert pytest.approx(1 / 3) == alkire_foster(G6.astype("boolean"), DEFAULT_WEIGHTS, 0.4).M0


def test_no_one_identified_gives_zero_m0_and_undefined_intensity():
    r = alkire_foster(G6.iloc[[1, 3, 5]], DEFAULT_WEIGHTS, 0.4)
    assert r.H == 0 and r.M0 == 0 and np.isnan(r.A)
    assert r.contribution.isna().all()


@pytest.mark.parametrize(
    "weights,match",
    [
        ({**DEFAULT_WEIGHTS, "health": -0.1}, "negative"),
        ({k: v for k, v in DEFAULT_WEIGHTS.items() if k != "fsm"}, "fsm.*no weight"),
        ({**DEFAULT_WEIGHTS, "tenure": 0.2}, "tenure.*no column"),
        (dict.fromkeys(DEFAULT_WEIGHTS, 0), "sum to zero"),
    ],
)
def test_weight_errors(weights, match):
    with pytest.raises(IndexInputError, match=match):
        alkire_foster(G6, weights, 0.4)


@pytest.mark.parametrize("k", [0, -0.1, 1.5])
def test_k_outside_unit_interval_is_an_error(k):
    with pytest.raises(IndexInputError, match="cut-off"):
        alkire_foster(G6, DEFAULT_WEIGHTS, k)


def test_values_other_than_0_1_are_an_error():
    bad = G6.copy()
    bad.loc[2, "health"] = 2
    with pytest.raises(IndexInputError, match="health.*row 2"):
        alkire_foster(bad, DEFAULT_WEIGHTS, 0.4)


def test_robustness_over_k_matches_single_runs():
    d = G6.assign(grp=list("aaabbb"))
    table = robustness_over_k(d, DEFAULT_WEIGHTS, [0.2, 0.4, 0.6, 0.8, 1.0], by="grp")
    top = table[table["level"] == "all"].set_index("k")
    assert top.loc[0.2, "H"] == pytest.approx(5 / 6) and top.loc[1.0, "M0"] == pytest.approx(1 / 6)
    for k in [0.2, 0.4, 0.6, 0.8, 1.0]:
        r = alkire_foster(d, DEFAULT_WEIGHTS, k, by="grp")
        assert top.loc[k, "M0"] == pytest.approx(r.M0)
        grp = table[(table["level"] == "group") & (table["k"] == k)].set_index("grp")
        assert grp["H"].tolist() == pytest.approx(r.groups["H"].tolist())
    # H cannot rise with k
    assert top["H"].is_monotonic_decreasing


def test_over_weight_sets_uses_each_sets_own_indicators():
    d = G6.astype("Float64")
    d.loc[3, "fsm"] = pd.NA
    t = over_weight_sets(
        d, ALTERNATIVE_WEIGHT_SETS, {"equal_five": 0.4, "census_four": 0.5, "fsm_half": 0.4}
    ).set_index("weight_set")
    # census_four ignores fsm, so child 4 is kept: n = 6; scores 0.5, 0.25, 1, 0, 0.5, 0.25
    # at k = 0.5 -> q = 3 (children 1, 3, 5), H = 0.5, M0 = 2/6
    assert t.loc["census_four", "n_obs"] == 6 and t.loc["census_four", "n_missing"] == 0
    assert (t.loc["census_four", "H"], t.loc["census_four", "M0"]) == pytest.approx((0.5, 2 / 6))
    assert t.loc["equal_five", "n_missing"] == 1
    # fsm_half: 1: 0.125*2+0.5 = 0.75, 2: 0.125, 3: 1, 5: 0.25, 6: 0.125 -> q = 2 of 5
    assert t.loc["fsm_half", "H"] == pytest.approx(2 / 5)
    assert t.loc["fsm_half", "A"] == pytest.approx((0.75 + 1.0) / 2)


def _rank_world():
    # LA X: four children each deprived in one indicator (score 0.2)
    # LA Y: one child deprived in all five (1.0), three in none
    # LA Z: two children with two deprivations (0.4), two in none
    rows = (
        [("X", [1, 0, 0, 0, 0])] * 4
        + [("Y", [1] * 5)]
        + [("Y", [0] * 5)] * 3
        + [("Z", [1, 1, 0, 0, 0])] * 2
        + [("Z", [0] * 5)] * 2
    )
    d = pd.DataFrame([r for _, r in rows], columns=IND)
    d["la_code"] = [la for la, _ in rows]
    return d


def test_la_rank_dominance_by_hand():
    # H by k:  k=0.2: X 1, Y 0.25, Z 0.5 | k=0.4: X 0, Y 0.25, Z 0.5 | k=1: X 0, Y 0.25, Z 0
    # ranks (1 = highest) at 0.2: X1 Z2 Y3; at 0.4: Z1 Y2 X3.
    # Spearman(0.2, 0.4): rank differences X 2, Y -1, Z -1 -> 1 - 6*6/(3*8) = -0.5
    # Kendall: (X,Y) discordant, (X,Z) discordant, (Y,Z) concordant -> (1-2)/3 = -1/3
    rr = la_rank_dominance(_rank_world(), DEFAULT_WEIGHTS, [0.2, 0.4, 1.0], measures=("H",))
    v = rr.values.set_index(["la_code", "k"])
    assert v.loc[("X", 0.2), "value"] == 1 and v.loc[("X", 0.2), "rank"] == 1
    assert v.loc[("Z", 0.4), "rank"] == 1 and v.loc[("X", 0.4), "rank"] == 3
    assert v.loc[("X", 1.0), "rank"] == 2 and v.loc[("Z", 1.0), "rank"] == 2  # tie at 0
    c = rr.correlations.set_index(["k_a", "k_b"])
    assert c.loc[(0.2, 0.4), "spearman"] == pytest.approx(-0.5)
    assert c.loc[(0.2, 0.4), "kendall"] == pytest.approx(-1 / 3)
    # no pair keeps its order at all three cut-offs
    assert rr.robust_pairs.loc[0, "robust_share"] == 0
    # over k in {0.2, 0.4} only Y < Z holds at both: 1 of 3 pairs
    rr2 = la_rank_dominance(_rank_world(), DEFAULT_WEIGHTS, [0.2, 0.4], measures=("H",))
    assert rr2.robust_pairs.loc[0, "robust_pairs_n"] == 1
    assert rr2.robust_pairs.loc[0, "robust_share"] == pytest.approx(1 / 3)
    assert "H_rank_k0.2" in rr.ranks.columns


def test_defaults():
    assert DEFAULT_K == 0.4
    assert sum(DEFAULT_WEIGHTS.values()) == pytest.approx(1)
    assert set(DEFAULT_WEIGHTS) == set(IND)


def test_missing_group_value_is_its_own_group_so_the_decomposition_still_adds_up():
    d = G6.assign(grp=["a", "a", None, "b", "b", "b"])
    r = alkire_foster(d, DEFAULT_WEIGHTS, 0.4, by="grp")
    g = r.groups
    assert len(g) == 3 and g["grp"].isna().sum() == 1
    # the NA group is child 3 alone (score 1.0): M0 = 1, share 1/6
    na = g[g["grp"].isna()].iloc[0]
    assert (na["M0"], na["population_share"]) == pytest.approx((1.0, 1 / 6))
    assert (g["population_share"] * g["M0"]).sum() == pytest.approx(r.M0)
