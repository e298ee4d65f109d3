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
from child_mdh.release.models.summary import SUPPRESSED, model_summary, truth_rows
from child_mdh.sources.synthetic.truth_terms import outcome_truth


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


def _truth_binary() -> pd.DataFrame:
    """Released rows of a hand-built example: cloglog and logit, with and without LA
    dummies, one suppressed estimate."""

    def row(model, term, estimate, low, high, *, link="cloglog", fe="LA dummies", spec="domains"):
        return dict(
            specification=spec,
            model=model,
            outcome="any_cpp",
            link=link,
            fixed_effects=fe,
            term=term,
            estimate=estimate,
            conf_low=low,
            conf_high=high,
            variable=term.split("[")[0],
            ratio=math.exp(estimate),
            ratio_low=math.exp(low),
            ratio_high=math.exp(high),
            ratio_name="hazard ratio" if link == "cloglog" else "odds ratio",
            p_value=0.04,
            children_n=1000,
            events_n=50,
        )

    return pd.DataFrame(
        [
            row("any_cpp_domains_cloglog_fe", "fsm[T.True]", 0.81, 0.62, 1.0),
            row("any_cpp_domains_cloglog_fe", "health[T.True]", 0.63, 0.32, 0.95),
            row("any_cpp_domains_cloglog_fe", "housing[T.True]", np.nan, np.nan, np.nan),
            row("any_cpp_domains_cloglog_fe", "sex[T.M]", 0.11, -0.18, 0.40),
            row("any_cpp_mdh_cloglog_fe", "sex[T.M]", 0.50, 0.45, 0.55, spec="mdh"),
            row("any_cpp_mdh_cloglog_fe", "mdh[T.True]", 1.2, 1.0, 1.4, spec="mdh"),
            # the same terms without LA dummies and on the logit scale are not compared
            row("any_cpp_domains_cloglog", "fsm[T.True]", 5.0, 4.9, 5.1, fe="none"),
            row("any_cpp_domains_logit_fe", "fsm[T.True]", 6.0, 5.9, 6.1, link="logit"),
            row(
                "any_cpp_inverse_intervention_cloglog_fe",
                "mdh[T.True]:la_mdh_prevalence_centred",
                -4.24,
                -8.11,
                -0.37,
                spec="inverse_intervention",
            ),
        ]
    )


#: truth.json's outcomes in design-column names (outcome_truth of the hand-built truth)
_TRUTH = {
    "outcomes": {
        "cpp": {
            "log_hazard_ratio": {
                "health": 0.1,
                "housing": 0.0,
                "any_domain": 0.45,
                "fsm": 1.1,
                "sex_male": 0.05,
                "mdh:la_mdh_prevalence_centred": -1.0,
            }
        }
    }
}


def test_truth_rows_compare_cloglog_estimates_with_la_dummies_with_the_truth():
    truth = outcome_truth(_TRUTH)
    assert set(truth) == {"any_cpp"}
    assert truth["any_cpp"]["sex[T.M]"] == 0.05
    rows = truth_rows(_truth_binary(), "any_cpp", truth["any_cpp"]).set_index("term")
    # the order of the truth; each term once, from the domains specification first
    assert list(rows.index) == [
        "health[T.True]",
        "housing[T.True]",
        "fsm[T.True]",
        "sex[T.M]",
        "mdh[T.True]:la_mdh_prevalence_centred",
    ]
    assert rows.loc["fsm[T.True]", "model"] == "any_cpp_domains_cloglog_fe"
    assert rows.loc["fsm[T.True]", "estimate"] == 0.81
    assert rows.loc["fsm[T.True]", "truth"] == 1.1
    assert rows.loc["fsm[T.True]", "covered"] is False  # 1.1 is above 0.62 to 1.0
    assert rows.loc["health[T.True]", "covered"] is False
    assert rows.loc["sex[T.M]", "covered"] is True
    assert rows.loc["sex[T.M]", "estimate"] == 0.11  # not the mdh model's 0.50
    assert rows.loc["mdh[T.True]:la_mdh_prevalence_centred", "covered"] is True
    assert rows.loc["housing[T.True]", "covered"] is None  # suppressed: no verdict
    # mdh[T.True] has no true value in the generator's model: not compared
    assert "mdh[T.True]" not in rows.index


def test_summary_of_synthetic_data_has_the_truth_table():
    text = model_summary(
        {"binary": _truth_binary()},
        outcomes=["any_cpp"],
        links=["logit", "cloglog"],
        adjust=["age", "sex", "prior_referral"],
        synthetic=True,
        truth=outcome_truth(_TRUTH),
    )
    section = text[text.index("## Compared with the synthetic truth") : text.index("## Method")]
    assert "### Child protection plan" in section
    assert "| `fsm[T.True]` | any_cpp_domains_cloglog_fe | 0.81 | 0.62 to 1.00 | 1.10 | no |" in (
        section
    )
    assert "| `sex[T.M]` | any_cpp_domains_cloglog_fe | 0.11 | -0.18 to 0.40 | 0.05 | yes |" in (
        section
    )
    assert f"| `housing[T.True]` | any_cpp_domains_cloglog_fe | {SUPPRESSED} | {SUPPRESSED} |" in (
        section
    )
    assert "3 of 4 intervals" not in section
    assert "2 of 4 intervals cover the true value" in section
    # the generator's term no released model holds, and the extra adjustment
    assert "`any_domain[T.True]` (0.45)" in section
    assert "also adjust for an earlier referral" in section
    assert "5.00" not in section and "6.00" not in section  # no LA dummies / logit rows
    assert "nan" not in section.lower()
    # without the truth (real data) there is no such section
    plain = model_summary(
        {"binary": _truth_binary()}, outcomes=["any_cpp"], links=["cloglog"], adjust=["age"]
    )
    assert "synthetic truth" not in plain
