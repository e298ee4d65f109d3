"""Discrete-time hazard: person-period rows, collapsed cells, PH test."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from child_mdh.aggregates.models.collapse import collapse
from child_mdh.aggregates.models.hazard import (
    fit_discrete_time_hazard,
    person_period_cells,
    person_period_rows,
    proportional_hazards_test,
)


def _children_times(n=15_000, seed=5, non_ph=False):
    """Exponential first-referral times with hazard 0.05 * HR, censored at 5 years."""
    rng = np.random.default_rng(seed)
    x = rng.choice([0, 1, 2], n)
    la = rng.choice([f"L{i}" for i in range(20)], n)
    sex = rng.choice(["F", "M"], n)
    rate = 0.05 * np.exp(0.5 * (x == 1) + 0.9 * (x == 2))
    t = rng.exponential(1 / rate)
    if non_ph:  # the effect of x only in the first year: hazard ratio 1 afterwards
        t_late = 1 + rng.exponential(1 / 0.05, n)
        t = np.where(t < 1, t, np.maximum(t_late, 1))
    days = np.floor(t * 365.25)
    event = days < 1826
    return pd.DataFrame(
        {
            "x": x,
            "la_code": la,
            "sex": sex,
            "time_to_first_referral": np.where(event, days, 1826).astype(int),
            "referral_event": event,
            "exposure_years": 5.0,
        }
    )


def test_person_period_rows_by_hand():
    f = pd.DataFrame(
        {
            "id": ["a", "b", "c", "d"],
            "time_to_first_referral": [400, 1826, 0, 100],
            "referral_event": [True, False, True, False],
            "exposure_years": [5.0, 5.0, 5.0, 0.5],
        }
    )
    pp = person_period_rows(f, ["id"])
    # a: event on day 400 -> floor(400/365.25)+1 = period 2: rows 1, 2 with event in 2
    # b: censored after 5 years -> 5 rows, no event
    # c: event on day 0 -> one row, event
    # d: censored at 0.5 years -> one (partial) period
    assert pp.groupby("id")["period"].max().to_dict() == {"a": 2, "b": 5, "c": 1, "d": 1}
    assert pp.groupby("id")["event"].sum().to_dict() == {"a": 1, "b": 0, "c": 1, "d": 0}
    assert pp.loc[pp["id"] == "a", "event"].tolist() == [0, 1]
    assert len(pp) == 2 + 5 + 1 + 1


def test_end_age_drops_periods_from_that_age():
    f = pd.DataFrame(
        {
            "age": [15, 3],
            "time_to_first_referral": [1826, 1826],
            "referral_event": [False, False],
            "exposure_years": [5.0, 5.0],
        }
    )
    pp = person_period_rows(f, ["age"], age="age", end_age=18)
    # aged 15: periods starting at ages 15, 16, 17 -> 3 rows; aged 3 -> 5 rows
    assert pp.groupby("age").size().to_dict() == {3: 5, 15: 3}
    cells = person_period_cells(f, [], age="age", end_age=18)
    assert cells["trials"].sum() == 8


def test_collapsed_person_periods_equal_collapsing_the_rows():
    ch = _children_times(3000)
    keys = ["x", "sex", "la_code"]
    cells = person_period_cells(ch, keys)
    rows = person_period_rows(ch, keys)
    ref = collapse(rows, keys + ["period"], {"events": "event"}, rows_name="trials")
    merged = cells.merge(ref, on=keys + ["period"], suffixes=("", "_rows"))
    assert len(merged) == len(cells) == len(ref)
    assert (merged["trials"] == merged["trials_rows"]).all()
    assert (merged["events"] == merged["events_rows"]).all()
    assert cells.attrs["collapse"]["person_periods"] == len(rows)


@pytest.mark.parametrize("link", ["cloglog", "logit"])
def test_hazard_on_cells_equals_row_level_fit(link):
    ch = _children_times()
    keys = ["x", "sex", "la_code"]
    cells = person_period_cells(ch, keys)
    fit = fit_discrete_time_hazard(cells, ["x", "sex"], link=link, cluster="la_code")
    rows = person_period_rows(ch, keys)
    lk = sm.families.links.CLogLog() if link == "cloglog" else sm.families.links.Logit()
    ref = sm.GLM(
        rows["event"].astype(float), fit.design_matrix(rows), family=sm.families.Binomial(link=lk)
    ).fit(tol=1e-13, cov_type="cluster", cov_kwds={"groups": pd.factorize(rows["la_code"])[0]})
    assert np.max(np.abs(fit.params.to_numpy() - ref.params)) < 1e-8
    assert np.max(np.abs(fit.bse.to_numpy() - ref.bse)) < 1e-8
    assert fit.unit == "person-periods" and fit.n_rows == len(rows)


def test_cloglog_hazard_recovers_log_hazard_ratios():
    ch = _children_times(40_000, seed=9)
    cells = person_period_cells(ch, ["x", "la_code"])
    fit = fit_discrete_time_hazard(cells, ["x"], cluster="la_code")
    for col, truth in (("x[T.1]", 0.5), ("x[T.2]", 0.9)):
        assert abs(fit.params[col] - truth) < 3 * fit.bse[col], col


def test_proportional_hazards_test_flags_a_time_varying_effect():
    ph = person_period_cells(_children_times(30_000, seed=2), ["x", "la_code"])
    res_ph = proportional_hazards_test(ph, ["x"], ["x"])
    nonph = person_period_cells(_children_times(30_000, seed=2, non_ph=True), ["x", "la_code"])
    res_non = proportional_hazards_test(nonph, ["x"], ["x"])
    assert res_ph["df"] == 2 and res_ph["p_value"] > 0.01
    assert res_non["p_value"] < 1e-6
    assert "change over follow-up" in res_non["verdict"]
    # the effect fades: negative trend in the log hazard ratio of x=2
    assert res_non["interactions"]["x[T.2]:period_trend"] < 0
    cat = proportional_hazards_test(nonph, ["x"], ["x"], form="categorical")
    assert cat["df"] == 2 * 4 and cat["p_value"] < 1e-6
