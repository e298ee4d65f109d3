"""Linkage rates, the linkage model, inverse probability weights and bounds on H."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from child_mdh.aggregates import linkage as lk
from child_mdh.contract.vocabulary import DOMAINS, ENGLAND_CODE

WEIGHTS = dict.fromkeys([*DOMAINS, "fsm"], 0.2)


def _cohort(n=4_000, seed=1, slope=-1.0):
    """Census children whose chance of linking falls with their deprived domains."""
    rng = np.random.default_rng(seed)
    flags = rng.random((n, 4)) < [0.1, 0.15, 0.2, 0.1]
    n_domains = flags.sum(axis=1)
    linked = rng.random(n) < 1 / (1 + np.exp(-(2.5 + slope * n_domains)))
    fsm = rng.random(n) < 0.1 + 0.2 * n_domains
    frame = pd.DataFrame(
        {
            "person_id": [f"p{i}" for i in range(n)],
            "household_id": [f"h{i // 2}" for i in range(n)],
            "la_code": rng.choice(["E06000001", "E06000002", "E08000001"], n),
            "age": rng.integers(5, 16, n),
            "sex": rng.choice(["1", "2"], n),
            "linked": linked,
            **{d: pd.array(flags[:, j], dtype="boolean") for j, d in enumerate(DOMAINS)},
            "n_domains": pd.array(n_domains, dtype="Int64"),
            "fsm": pd.array(np.where(linked, fsm, None), dtype="boolean"),
            "any_referral": pd.array(rng.random(n) < 0.1 + 0.1 * (n_domains >= 2), "boolean"),
        }
    )
    frame["region_code"] = np.where(frame["la_code"] == "E08000001", "E12000002", "E12000001")
    return frame, fsm


def test_rates_add_up_within_every_characteristic():
    children, _ = _cohort()
    rates = lk.linkage_rates(children)
    total = rates[rates["group_type"] == "all"].iloc[0]
    assert total["children_n"] == len(children)
    assert total["linked_n"] == children["linked"].sum()
    for _, part in rates[rates["group_type"] != "all"].groupby("group_type"):
        assert part["children_n"].sum() == total["children_n"]
        assert part["linked_n"].sum() == total["linked_n"]
    employment = rates[(rates["group_type"] == "employment") & (rates["group"] == "deprived")]
    assert employment["children_n"].item() == children["employment"].sum()


def test_cell_logistic_matches_statsmodels_on_rows():
    rng = np.random.default_rng(3)
    x = rng.integers(0, 3, 600)
    g = rng.integers(0, 30, 600)
    y = rng.random(600) < 1 / (1 + np.exp(-(-1 + 0.7 * x)))
    X = np.column_stack([np.ones(600), x == 1, x == 2]).astype(float)
    fit = sm.GLM(y.astype(float), X, family=sm.families.Binomial()).fit(
        cov_type="cluster", cov_kwds={"groups": g}
    )
    cells = pd.DataFrame({"x": x, "g": g, "y": y.astype(int)})
    cells = cells.groupby(["x", "g"])["y"].agg(["sum", "size"]).reset_index()
    Xc = np.column_stack([np.ones(len(cells)), cells["x"] == 1, cells["x"] == 2]).astype(float)
    beta, cov = lk.fit_logistic_cells(Xc, cells["sum"], cells["size"], cluster=cells["g"])
    np.testing.assert_allclose(beta, fit.params, rtol=1e-8)
    np.testing.assert_allclose(np.sqrt(np.diag(cov)), fit.bse, rtol=1e-6)


def test_weights_are_inverse_probabilities_stabilised_and_trimmed():
    p = np.array([0.5, 0.25, 1.0, np.nan, 0.8])
    observed = np.array([True, True, True, False, False])
    raw, summary = lk.linkage_weights(p, observed, stabilised=False, trim_percentile=None)
    np.testing.assert_allclose(raw, [2, 4, 1, 0, 0])
    stab, _ = lk.linkage_weights(p, observed, stabilised=True, trim_percentile=None)
    np.testing.assert_allclose(stab, raw * 3 / 4)  # 3 observed of 4 modelled
    trimmed, summary = lk.linkage_weights(p, observed, stabilised=False, trim_percentile=50)
    np.testing.assert_allclose(trimmed, [2, 2, 1, 0, 0])  # the median of 2, 4, 1 is 2
    assert summary["share_trimmed"] == pytest.approx(1 / 3)


def test_bounds_by_hand():
    children = pd.DataFrame(
        {
            "region_code": ["E12000001"] * 4,
            "employment": pd.array([True, True, False, True], "boolean"),
            "education": pd.array([True, False, False, True], "boolean"),
            "health": pd.array([False, False, False, False], "boolean"),
            "housing": pd.array([False, False, False, False], "boolean"),
            "fsm": pd.array([False, None, None, None], "boolean"),
        }
    )
    # child 0: known, 2 of 5 -> MDH; child 1: 1 known + FSM unknown -> possibly;
    # child 2: 0 + FSM unknown -> not MDH either way; child 3: 2 known -> surely MDH
    out = lk.index_bounds(children, WEIGHTS, 0.4)
    england = out[out["area_code"] == ENGLAND_CODE].iloc[0]
    assert england[["children_n", "index_n", "unknown_n", "mdh_n"]].tolist() == [4, 1, 3, 1]
    assert england["unknown_sure_mdh_n"] == 1
    assert england["unknown_possible_mdh_n"] == 1


def test_weighting_removes_the_bias_of_deprivation_dependent_linkage():
    children, fsm = _cohort(n=40_000, seed=5)
    # the truth: H of every child, FSM known for all of them here
    full = children.assign(fsm=pd.array(fsm, dtype="boolean"))
    truth = lk.index_bounds(full, WEIGHTS, 0.4)
    truth_h = (truth["mdh_n"] / truth["children_n"]).iloc[0]
    p, coef = lk.linkage_model(children, list(WEIGHTS))
    w, _ = lk.linkage_weights(p, lk.observed_index(children, list(WEIGHTS)))
    est = lk.weighted_index_estimates(children, w, WEIGHTS, 0.4)
    h = est[(est["area_code"] == ENGLAND_CODE) & (est["measure"] == "H")].iloc[0]
    assert abs(h["estimate_ipw"] - truth_h) < 3 * h["std_error_ipw"]
    assert truth_h - h["estimate_unweighted"] > 5 * h["std_error_unweighted"]
    assert "pattern_1111" in set(coef["term"])


def test_model_estimates_have_both_columns():
    children, _ = _cohort()
    p, _ = lk.linkage_model(children, list(WEIGHTS), area="la_code")
    w, _ = lk.linkage_weights(p, lk.observed_index(children, list(WEIGHTS)))
    out = lk.weighted_model_estimates(children, w, WEIGHTS, 0.4, ["any_referral"])
    row = out.iloc[0]
    assert row["conf_low_ipw"] < row["odds_ratio_ipw"] < row["conf_high_ipw"]
    assert row["odds_ratio_unweighted"] > 1
    assert row["residual_df"] > 100
