"""The summary and figures show what the released tables hold, and nothing else."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from child_mdh.release.models.figures import (
    coefficient_data,
    coefficient_figure,
    gradient_data,
    gradient_figure,
)
from child_mdh.release.models.summary import SUPPRESSED, model_summary


def _binary(ratio=1.8, low=1.5, high=2.2):
    base = dict(
        specification="mdh",
        fixed_effects="none",
        outcome="any_cpp",
        link="cloglog",
        variable="mdh",
        ratio_name="hazard ratio",
        children_n=1000,
        events_n=50,
    )
    rows = [
        {
            **base,
            "model": "any_cpp_mdh_cloglog",
            "term": "mdh[T.True]",
            "ratio": ratio,
            "ratio_low": low,
            "ratio_high": high,
            "estimate": math.log(ratio) if ratio else np.nan,
        },
        {
            **base,
            "specification": "domains",
            "model": "any_cpp_domains_cloglog",
            "variable": "fsm",
            "term": "fsm[T.True]",
            "ratio": 2.5,
            "ratio_low": 2.0,
            "ratio_high": 3.1,
            "estimate": math.log(2.5),
        },
        {
            **base,
            "specification": "domains",
            "model": "any_cpp_domains_cloglog",
            "variable": "housing",
            "term": "housing[T.True]",
            "ratio": np.nan,
            "ratio_low": np.nan,
            "ratio_high": np.nan,
            "estimate": np.nan,
        },
    ]
    return pd.DataFrame(rows)


def test_summary_quotes_the_released_ratio_and_says_when_suppressed():
    text = model_summary(
        {"binary": _binary()}, outcomes=["any_cpp"], links=["cloglog"], adjust=["age", "sex"]
    )
    assert "hazard ratio of 1.80 (95% CI 1.50 to 2.20)" in text
    assert "adjusted for age and sex" in text
    assert "free school meals: hazard ratio 2.50 (95% CI 2.00 to 3.10)" in text
    suppressed = model_summary(
        {"binary": _binary(np.nan, np.nan, np.nan)},
        outcomes=["any_cpp"],
        links=["cloglog"],
        adjust=["age"],
    )
    assert (
        f"The hazard ratio of Child-MDH for a child protection plan is {SUPPRESSED}" in suppressed
    )
    assert "nan" not in suppressed.lower()


def test_summary_states_notes_and_models_not_estimated():
    skipped = pd.DataFrame(
        [
            {
                "model": "entered_care_count_logit",
                "outcome": "entered_care",
                "reason": "a covariate level has no events, or only events",
            }
        ]
    )
    text = model_summary(
        {"binary": _binary()},
        outcomes=["any_cpp"],
        links=["cloglog"],
        adjust=[],
        notes=["age: grouped into bands"],
        skipped=skipped,
    )
    assert "- age: grouped into bands" in text
    assert "entered_care_count_logit: not estimated" in text


def test_coefficient_figure_draws_published_estimates_only():
    rows = coefficient_data(_binary(), ["employment", "housing", "fsm"])
    assert rows["variable"].tolist() == ["fsm", "housing"]
    fig = coefficient_figure(_binary(), ["employment", "housing", "fsm"])
    ax = fig.axes[0]
    # only fsm has a published ratio: one point drawn, at 2.5
    xs = np.concatenate([c.lines[0].get_xdata() for c in ax.containers])
    assert xs.tolist() == [2.5]
    assert coefficient_figure(_binary().assign(ratio=np.nan), ["fsm"]) is None


def test_gradient_figure_uses_logit_rates_and_marks_suppressed_outcomes():
    rates = pd.DataFrame(
        {
            "model": ["a_count_logit"] * 2 + ["a_count_cloglog"] * 2 + ["b_count_logit"] * 2,
            "outcome": ["any_cin"] * 4 + ["any_cpp"] * 2,
            "variable": "deprivation_count",
            "family": "binomial",
            "link": ["logit", "logit", "cloglog", "cloglog", "logit", "logit"],
            "level": ["0", "1+"] * 3,
            "rate": [100.0, 200.0, 101.0, 199.0, np.nan, np.nan],
            "rate_low": [90.0, 180.0, 91.0, 180.0, np.nan, np.nan],
            "rate_high": [110.0, 220.0, 111.0, 220.0, np.nan, np.nan],
        }
    )
    assert set(gradient_data(rates)["link"]) == {"logit"}
    fig = gradient_figure(rates)
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert any("suppressed" in t for t in texts)
    assert gradient_figure(rates.assign(rate=np.nan)) is None
