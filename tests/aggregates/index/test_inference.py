"""Standard errors for the AF measures: hand-computed linearisation, bootstrap agreement,
and coverage of the intervals under repeated sampling from a known population."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from child_mdh.aggregates.index.alkire_foster import (
    DEFAULT_WEIGHTS,
    IndexInputError,
    alkire_foster,
)
from child_mdh.aggregates.index.inference import af_inference
from child_mdh.studies.index_coverage import coverage_study, simulate_clustered_deprivations

IND = list(DEFAULT_WEIGHTS)

# Four children, weights 0.2, k = 0.4:
#   row  deprivations   c_i   I_i  c_i(k)
#   1    3 of 5         0.6   1    0.6
#   2    4 of 5         0.8   1    0.8
#   3    1 of 5         0.2   0    0
#   4    5 of 5         1.0   1    1.0
FOUR = pd.DataFrame(
    [[1, 1, 1, 0, 0], [1, 1, 1, 1, 0], [0, 0, 0, 0, 1], [1, 1, 1, 1, 1]], columns=IND
)


def by_measure(df):
    return df.set_index("measure")


def test_delta_method_se_of_intensity_by_hand():
    # A = 2.4/3 = 0.8. Influence z_i = (c_i(k) - A I_i)/q with q = 3:
    #   z = (0.6-0.8)/3, (0.8-0.8)/3, 0, (1.0-0.8)/3 = -1/15, 0, 0, 1/15
    # V = n/(n-1) * sum z^2 = 4/3 * 2/225 = 8/675 = 0.0118519; SE = 0.1088662
    # Same by the delta method for M0/H with sample moments:
    #   S_cc = sum (c-M0)^2 = 0.56, S_II = 0.75, S_cI = 0.6 (M0 = 0.6, H = 0.75)
    #   V = (S_cc - 2A S_cI + A^2 S_II) / (n(n-1) H^2) = 0.08 / (12 * 0.5625) = 0.0118519
    r = by_measure(af_inference(FOUR, DEFAULT_WEIGHTS, 0.4))
    assert r.loc["A", "estimate"] == pytest.approx(0.8)
    assert r.loc["A", "se"] == pytest.approx(np.sqrt(8 / 675))
    c = np.array([0.6, 0.8, 0, 1.0])
    i = np.array([1, 1, 0, 1.0])
    M0, H, A, n = c.mean(), i.mean(), 0.8, 4
    s_cc = ((c - M0) ** 2).sum()
    s_ii = ((i - H) ** 2).sum()
    s_ci = ((c - M0) * (i - H)).sum()
    v_delta = (s_cc - 2 * A * s_ci + A**2 * s_ii) / (n * (n - 1) * H**2)
    assert r.loc["A", "se"] == pytest.approx(np.sqrt(v_delta))
    # interval: 0.8 -/+ t_{3, 0.975} * SE, upper clipped to 1
    t3 = stats.t.ppf(0.975, 3)
    assert r.loc["A", "lower"] == pytest.approx(0.8 - t3 * np.sqrt(8 / 675))
    assert r.loc["A", "upper"] == 1.0
    assert r.loc["A", "df"] == 3


def test_se_of_headcount_ratio_and_m0_by_hand():
    # H = 0.75: with independent rows the linearised variance is
    # n/(n-1) * sum((I-H)/n)^2 = H(1-H)/(n-1) = 0.1875/3 = 0.0625 -> SE 0.25
    # M0 = 0.6: 4/3 * sum(c - 0.6)^2 / 16 = 4/3 * 0.56/16 = 0.046667 -> SE 0.216025
    r = by_measure(af_inference(FOUR, DEFAULT_WEIGHTS, 0.4))
    assert r.loc["H", "se"] == pytest.approx(0.25)
    assert r.loc["M0", "se"] == pytest.approx(np.sqrt(4 / 3 * 0.56 / 16))
    # headcount of fsm (rows 3, 4): h = 0.5, SE = sqrt(0.25/3)
    assert r.loc["uncensored_fsm", "se"] == pytest.approx(np.sqrt(0.25 / 3))


def test_cluster_robust_se_with_small_sample_factor_by_hand():
    # clusters a, b, c of two children; identified (all five deprivations) or not (none):
    #   a: 1, 0   b: 1, 1   c: 0, 0      H = 3/6 = 0.5
    # z_i = (I_i - 0.5)/6; cluster sums: a 0, b 1/6, c -1/6
    # V = G/(G-1) sum z_g^2 = 3/2 * 2/36 = 1/12; SE = 0.288675
    # (equal cluster sizes: the variance of the mean of cluster means 0.5, 1, 0 is
    #  s^2/G = 0.25/3 = 1/12 as well)
    rows = [[1] * 5, [0] * 5, [1] * 5, [1] * 5, [0] * 5, [0] * 5]
    d = pd.DataFrame(rows, columns=IND).assign(la=["a", "a", "b", "b", "c", "c"])
    r = by_measure(af_inference(d, DEFAULT_WEIGHTS, 0.4, cluster="la"))
    assert r.loc["H", "se"] == pytest.approx(np.sqrt(1 / 12))
    assert r.loc["H", "n_clusters"] == 3 and r.loc["H", "df"] == 2


def test_estimates_equal_alkire_foster_with_groups_and_weights():
    pop = simulate_clustered_deprivations(n_clusters=30, mean_cluster_size=40, seed=3)
    pop["grp"] = np.where(pop["cluster"] % 3 == 0, "x", "y")
    sw = np.random.default_rng(1).uniform(0.5, 2, len(pop))
    res = af_inference(pop, DEFAULT_WEIGHTS, 0.4, cluster="cluster", by="grp", sample_weight=sw)
    af = alkire_foster(
        pop.drop(columns="cluster"), DEFAULT_WEIGHTS, 0.4, by="grp", sample_weight=sw
    )
    r = res.set_index(["measure", "group"])
    for m in ["H", "A", "M0"]:
        assert r.loc[(m, "All"), "estimate"] == pytest.approx(getattr(af, m))
        g = af.groups.set_index("grp")
        for lab in ["x", "y"]:
            assert r.loc[(m, lab), "estimate"] == pytest.approx(g.loc[lab, m])
    assert r.loc[("censored_health", "All"), "estimate"] == pytest.approx(
        af.censored_headcount["health"]
    )


def test_subgroup_se_is_the_domain_estimator():
    # Independent rows: the domain variance uses n/(n-1) over the whole sample, a subset
    # analysis uses n_l/(n_l-1); otherwise identical sums of squares:
    #   se_domain^2 * (n-1)/n == se_subset^2 * (n_l-1)/n_l
    rng = np.random.default_rng(4)
    d = pd.DataFrame(rng.random((200, 5)) < 0.35, columns=IND).astype(int)
    d["grp"] = rng.choice(["p", "q"], 200)
    dom = af_inference(d, DEFAULT_WEIGHTS, 0.4, by="grp").set_index(["measure", "group"])
    sub = d[d["grp"] == "p"].drop(columns="grp")
    n, n_l = len(d), len(sub)
    s = by_measure(af_inference(sub, DEFAULT_WEIGHTS, 0.4))
    for m in ["H", "A", "M0"]:
        lhs = dom.loc[(m, "p"), "se"] ** 2 * (n - 1) / n
        rhs = s.loc[m, "se"] ** 2 * (n_l - 1) / n_l
        assert lhs == pytest.approx(rhs)


def test_group_in_a_single_cluster_has_no_se():
    pop = simulate_clustered_deprivations(n_clusters=10, mean_cluster_size=30, seed=2)
    res = af_inference(pop, DEFAULT_WEIGHTS, 0.4, cluster="cluster", by="cluster", measures=["H"])
    grp = res[res["group"] != "All"]
    assert grp["se"].isna().all() and (grp["n_clusters"] == 1).all()
    assert res.loc[res["group"] == "All", "se"].notna().all()


def test_linearisation_agrees_with_cluster_bootstrap():
    # Same clustered data: SEs agree up to Monte Carlo error (B = 2000: ~2%) and the
    # G/(G-1) factor (60 clusters: ~1%); allow 12%.
    pop = simulate_clustered_deprivations(n_clusters=60, mean_cluster_size=60, seed=11)
    pop["half"] = np.where(pop["cluster"] < 30, "first", "second")
    lin = af_inference(
        pop,
        DEFAULT_WEIGHTS,
        0.4,
        cluster="cluster",
        by="half",
        measures=["H", "A", "M0", "censored_fsm"],
    )
    boot = af_inference(
        pop,
        DEFAULT_WEIGHTS,
        0.4,
        cluster="cluster",
        by="half",
        measures=["H", "A", "M0", "censored_fsm"],
        method="bootstrap",
        n_boot=2000,
        seed=5,
    )
    ratio = lin["se"].to_numpy() / boot["se"].to_numpy()
    assert np.all(np.abs(ratio - 1) < 0.12), ratio
    assert (boot["lower"] < boot["estimate"]).all() and (boot["estimate"] < boot["upper"]).all()


def test_bootstrap_is_seedable():
    pop = simulate_clustered_deprivations(n_clusters=20, mean_cluster_size=30, seed=1)
    a = af_inference(
        pop, DEFAULT_WEIGHTS, 0.4, cluster="cluster", method="bootstrap", n_boot=200, seed=9
    )
    b = af_inference(
        pop, DEFAULT_WEIGHTS, 0.4, cluster="cluster", method="bootstrap", n_boot=200, seed=9
    )
    c = af_inference(
        pop, DEFAULT_WEIGHTS, 0.4, cluster="cluster", method="bootstrap", n_boot=200, seed=10
    )
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["se"], c["se"])


def test_missing_rows_are_excluded_and_counted():
    d = FOUR.astype("Float64")
    d.loc[2, "fsm"] = pd.NA
    r = af_inference(d, DEFAULT_WEIGHTS, 0.4)
    assert (r["n"] == 3).all() and r.attrs["n_missing"] == 1


def test_input_errors():
    d = FOUR.assign(la=["a", None, "b", "b"])
    with pytest.raises(IndexInputError, match="cluster"):
        af_inference(d, DEFAULT_WEIGHTS, 0.4, cluster="la")
    with pytest.raises(IndexInputError, match="method"):
        af_inference(FOUR, DEFAULT_WEIGHTS, 0.4, method="jackknife")
    with pytest.raises(IndexInputError, match="measure"):
        af_inference(FOUR, DEFAULT_WEIGHTS, 0.4, measures=["M1"])


def test_coverage_of_95_percent_intervals():
    # 100 replications, 40 clusters of 50 children: coverage should be 0.95; the
    # binomial SD of a coverage estimate over 100 reps is sqrt(.95*.05/100) = 0.022,
    # so accept 0.95 +/- 3 SD = [0.885, 1].
    cov = coverage_study(100, 2000, n_clusters=40, seed=2024).set_index("measure")
    for m in ["H", "A", "M0"]:
        assert 0.885 <= cov.loc[m, "coverage"] <= 1.0, cov
        assert 0.75 < cov.loc[m, "se_ratio"] < 1.25
    assert abs(cov.loc["M0", "bias"]) < 0.01


def test_missing_group_value_gets_its_own_row():
    d = FOUR.assign(grp=["a", "a", None, "b"])
    r = af_inference(d, DEFAULT_WEIGHTS, 0.4, by="grp", measures=["M0"])
    assert r["group"].tolist() == ["All", "a", "b", "NA"]
    # group a: c(k) = 0.6, 0.8 -> M0 0.7; b: 1.0; NA: child 3, 0
    assert r["estimate"].tolist() == pytest.approx([0.6, 0.7, 1.0, 0.0])


def _expit(x):
    return 1 / (1 + np.exp(-x))


def test_logit_interval_by_hand():
    # FOUR, independent rows. H = 0.75, SE 0.25 (above), 4 rows with x = 1: t with 3 df.
    # logit(0.75) = log 3; SE on the logit scale 0.25 / (0.75 * 0.25) = 4/3
    r = by_measure(af_inference(FOUR, DEFAULT_WEIGHTS, 0.4, interval="logit"))
    t3 = stats.t.ppf(0.975, 3)
    assert r.loc["H", "lower"] == pytest.approx(_expit(np.log(3) - t3 * 4 / 3))
    assert r.loc["H", "upper"] == pytest.approx(_expit(np.log(3) + t3 * 4 / 3))
    assert r.loc["H", "lower"] == pytest.approx(0.04130, abs=1e-5)
    assert r.loc["H", "upper"] == pytest.approx(0.99524, abs=1e-5)
    assert r.loc["H", "df"] == 3
    # A = 0.8 in (k, 1] = (0.4, 1]: p = (0.8 - 0.4) / 0.6 = 2/3, SE sqrt(8/675) / 0.6 on
    # the p scale, sqrt(8/675) / 0.6 / (2/9) on the logit scale; x = I_i: 3 MDH children,
    # so t with 2 df
    t2 = stats.t.ppf(0.975, 2)
    half = t2 * np.sqrt(8 / 675) / 0.6 / (2 / 9)
    assert r.loc["A", "lower"] == pytest.approx(0.4 + 0.6 * _expit(np.log(2) - half))
    assert r.loc["A", "upper"] == pytest.approx(0.4 + 0.6 * _expit(np.log(2) + half))
    assert r.loc["A", "lower"] == pytest.approx(0.43375, abs=1e-5)
    assert r.loc["A", "df"] == 2
    # the estimates and SEs are the Wald interval's
    w = by_measure(af_inference(FOUR, DEFAULT_WEIGHTS, 0.4))
    assert np.allclose(r["se"], w["se"], equal_nan=True)
    # the logit interval is asymmetric and inside (0, 1), the Wald one reaches 1
    assert r.loc["H", "upper"] < 1.0 and w.loc["H", "upper"] == 1.0


def test_logit_interval_at_the_edges_is_clopper_pearson():
    # group b: 5 children, none MDH -> H = 0; group c: 3 children, each deprived in 2 of 5
    # (c_i = k = 0.4) -> H = 1 and A = k
    none = pd.DataFrame([[0, 0, 0, 0, 1]] * 5, columns=IND).assign(g="b")
    at_k = pd.DataFrame([[1, 1, 0, 0, 0]] * 3, columns=IND).assign(g="c")
    df = pd.concat([FOUR.assign(g="a"), none, at_k], ignore_index=True)
    r = af_inference(df, DEFAULT_WEIGHTS, 0.4, by="g", interval="logit")
    r = r.set_index(["group", "measure"])
    # 0 of 5: [0, 1 - 0.025^(1/5)]; 3 of 3: [0.025^(1/3), 1]
    assert r.loc[("b", "H"), "lower"] == 0.0
    assert r.loc[("b", "H"), "upper"] == pytest.approx(1 - 0.025 ** (1 / 5))
    assert r.loc[("c", "H"), "lower"] == pytest.approx(0.025 ** (1 / 3))
    assert r.loc[("c", "H"), "upper"] == 1.0
    # A = k: [k, k + (1 - k)(1 - 0.025^(1/3))]
    assert r.loc[("c", "A"), "lower"] == pytest.approx(0.4)
    assert r.loc[("c", "A"), "upper"] == pytest.approx(0.4 + 0.6 * (1 - 0.025 ** (1 / 3)))
    # no MDH child: A has no estimate and no interval
    assert np.isnan(r.loc[("b", "A"), "lower"])
    with pytest.raises(IndexInputError, match="interval"):
        af_inference(FOUR, DEFAULT_WEIGHTS, 0.4, interval="exact")
