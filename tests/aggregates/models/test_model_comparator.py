"""Gradient-boosting comparator: aggregates only, calibration, interaction check."""

from __future__ import annotations

import inspect

import numpy as np
import pandas as pd
import pytest

from child_mdh.aggregates.models import comparator
from child_mdh.aggregates.models.comparator import compare_with_gbm


def _data(n=30_000, seed=3, interaction=1.2):
    rng = np.random.default_rng(seed)
    d = pd.DataFrame(
        {
            "emp": rng.random(n) < 0.3,
            "health": rng.random(n) < 0.3,
            "housing": rng.random(n) < 0.2,
            "age": rng.integers(0, 5, n),
            "la_code": rng.choice([f"L{i:02d}" for i in range(30)], n),
        }
    )
    eta = (
        -2.2
        + 0.4 * d["emp"]
        + 0.3 * d["health"]
        + 0.3 * d["housing"]
        + interaction * (d["emp"] & d["health"])
        - 0.1 * d["age"]
    )
    d["y"] = rng.random(n) < 1 / (1 + np.exp(-eta))
    return d


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    import os

    where = tmp_path_factory.mktemp("cwd")
    old = os.getcwd()
    os.chdir(where)
    try:
        res = compare_with_gbm(
            _data(),
            "y",
            ["emp", "health", "housing", "age"],
            n_splits=5,
            gbm_params={"max_iter": 60},
            interaction_features=["emp", "health", "housing"],
        )
    finally:
        os.chdir(old)
    return res, where


def test_returns_only_aggregates_and_writes_nothing(result):
    res, where = result
    assert list(where.iterdir()) == []  # nothing written
    assert set(res) == {"metrics", "calibration", "interactions", "notes"}
    n = 30_000
    for name in ("metrics", "calibration", "interactions"):
        df = res[name]
        assert isinstance(df, pd.DataFrame)
        assert len(df) < 100  # a handful of summary rows, never one per child
        assert not any("id" in c or c == "pred" for c in df.columns)
    cal = res["calibration"]
    for _model, g in cal.groupby("model"):
        assert g["children_n"].sum() == n  # every child is in exactly one bin
    # the API takes no output location
    params = inspect.signature(compare_with_gbm).parameters
    assert not any(p in params for p in ("path", "out", "out_dir", "output"))
    assert not any(hasattr(comparator, f) for f in ("predict", "score_children"))


def test_metrics_are_sensible_and_logistic_is_calibrated_when_true(result):
    res, _ = result
    m = res["metrics"]
    pooled = m.loc[m["fold"] == "pooled"].set_index("model")
    assert set(pooled.index) == {"gradient_boosting", "gradient_boosting_additive", "logistic"}
    assert ((pooled["auc"] > 0.55) & (pooled["auc"] < 0.9)).all()
    assert (m.loc[m["fold"] != "pooled", "fold"].astype(int).between(1, 5)).all()
    # the additive logistic model misses the interaction, so its slope is < 1 a little,
    # but both models are close to calibrated in the large
    assert abs(pooled.loc["gradient_boosting", "calibration_intercept"]) < 0.1
    assert abs(pooled.loc["gradient_boosting", "calibration_slope"] - 1) < 0.2


def test_interaction_is_detected(result):
    res, _ = result
    inter = res["interactions"].set_index("check")
    boost = inter.iloc[0]
    assert boost["difference"] > 0  # unconstrained boosting has lower out-of-fold loss
    logit = inter.iloc[1]
    assert logit["df"] == 3 and logit["p_value"] < 1e-6


def test_no_interaction_is_not_over_detected():
    res = compare_with_gbm(
        _data(interaction=0.0, seed=8),
        "y",
        ["emp", "health", "housing", "age"],
        n_splits=3,
        gbm_params={"max_iter": 40},
        interaction_features=["emp", "health", "housing"],
    )
    logit = res["interactions"].iloc[1]
    assert logit["p_value"] > 0.01
    pooled = res["metrics"].loc[res["metrics"]["fold"] == "pooled"].set_index("model")
    assert abs(pooled.loc["logistic", "calibration_slope"] - 1) < 0.15


def test_too_few_groups_is_refused():
    d = _data(2000)
    d["la_code"] = np.where(d.index % 2 == 0, "a", "b")
    with pytest.raises(ValueError, match="at least 5 groups"):
        compare_with_gbm(d, "y", ["emp"], n_splits=5)
