"""Discrete-time hazard of the first referral: person-period data, collapsed.

Each child contributes one row for every follow-up period (year, by default) in which
they were at risk: from the first period to the period of their first referral, or to
the last period they were observed in. The outcome of a row is whether the first referral
happened in that period. A binomial model of these rows is the discrete-time hazard
model: with the logit link the discrete-time logistic model (Cox 1972), with the
complementary log-log link the grouped-time proportional-hazards model, whose
coefficients are the log hazard ratios of the underlying continuous-time model
(Prentice & Gloeckler 1978, Biometrics 34(1); Allison 1982, Sociol Methodol 13).

The person-period rows are never materialised for the model: children are first counted
by (covariates, last period, event), and each count is spread over the periods it was at
risk in, giving cells (covariates, period) with trials and events directly. This equals
collapsing the expanded rows (tested), so fits are the row-level fits.

Periods are ``period_years`` long, counted from the reference date with years of 365.25
days; period p covers [p-1, p) periods. When the follow-up ends part-way through a period
(for example a shortened follow-up at the extract date), the last period is shorter for
everyone with that follow-up and its period effect absorbs this. ``period`` is a column
of the cells (categorical in models) and ``period_trend`` = period - 1 (a number) for
the proportional-hazards test; with ``age`` given, ``attained_age`` = age + period - 1 (the
age in completed years at the start of the period) for a baseline on the age scale.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from child_mdh.aggregates.models.collapse import collapse
from child_mdh.aggregates.models.glm import ModelFit, fit_binomial, wald_test

DAYS_PER_YEAR = 365.25


def _last_period_and_event(frame, time, event, exposure, period_years):
    """Per child: the last period at risk (0 = never at risk) and whether it ends in an event."""
    ev = frame[event].astype("boolean").fillna(False).to_numpy(dtype=bool)
    t_days = pd.to_numeric(frame[time], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    expo = pd.to_numeric(frame[exposure], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    n_censored = np.ceil(np.round(expo / period_years, 9))
    n_event = np.floor(t_days / (DAYS_PER_YEAR * period_years)) + 1
    last = np.where(ev, np.minimum(n_event, np.maximum(n_censored, 1)), n_censored)
    valid = ~np.isnan(last) & (~ev | ~np.isnan(t_days))
    return last, ev, valid


def person_period_cells(
    frame: pd.DataFrame,
    keys,
    *,
    time: str = "time_to_first_referral",
    event: str = "referral_event",
    exposure: str = "exposure_years",
    period_years: float = 1.0,
    age: str | None = None,
    end_age: int | None = None,
    table: str = "children",
) -> pd.DataFrame:
    """Collapsed person-period cells (keys, period) with ``trials`` (children at risk),
    ``events`` (first referrals) and ``rows`` (= trials).

    ``frame`` has one row per child with the time to first referral in days (``time``),
    the event flag and the follow-up in years (``exposure``), as built by
    :func:`child_mdh.derive.outcomes.build_outcomes`. Children with missing follow-up (unlinked)
    are left out and counted in ``attrs["collapse"]``. With ``age`` and ``end_age``,
    periods starting at an attained age of ``end_age`` or more are left out (no longer at
    risk: children's social care ends at 18).
    """
    if end_age is not None and age is None:
        raise ValueError("end_age needs the age column (age=...)")
    keys = list(dict.fromkeys(list(keys) + ([age] if age else [])))
    last, ev, valid = _last_period_and_event(frame, time, event, exposure, period_years)
    work = frame.loc[valid, keys].copy()
    work["_last"] = last[valid].astype(np.int64)
    work["_event"] = ev[valid]
    work = work.loc[work["_last"] > 0]
    counted = collapse(work, keys + ["_last", "_event"], table=table)
    reps = counted["_last"].to_numpy()
    idx = np.repeat(np.arange(len(counted)), reps)
    start = np.repeat(np.cumsum(reps) - reps, reps)
    period = np.arange(len(idx)) - start + 1
    expanded = counted.iloc[idx].reset_index(drop=True)
    expanded["period"] = period
    w = expanded["rows"].to_numpy()
    expanded["_trials"] = w
    expanded["_events"] = np.where(
        expanded["_event"].to_numpy(bool) & (period == expanded["_last"].to_numpy()), w, 0
    )
    if end_age is not None:
        expanded = expanded.loc[expanded[age].to_numpy() + period - 1 < end_age]
    cells = collapse(
        expanded,
        keys + ["period"],
        {"trials": "_trials", "events": "_events"},
        rows_name="_cellrows",
        table=table,
    )
    cells = cells.drop(columns="_cellrows")
    cells["trials"] = cells["trials"].astype(np.int64)
    cells["events"] = cells["events"].astype(np.int64)
    cells["rows"] = cells["trials"]
    cells["period_trend"] = (cells["period"] - 1).astype(float)
    if age:
        cells["attained_age"] = cells[age].astype(np.int64) + cells["period"] - 1
    cells.attrs["collapse"] = {
        "table": table,
        "children_in": len(frame),
        "children_used": len(work),
        "children_dropped_missing_follow_up": int((~valid).sum()),
        "person_periods": int(cells["trials"].sum()),
        "cells": len(cells),
    }
    return cells


def person_period_rows(
    frame: pd.DataFrame,
    columns,
    *,
    time: str = "time_to_first_referral",
    event: str = "referral_event",
    exposure: str = "exposure_years",
    period_years: float = 1.0,
    age: str | None = None,
    end_age: int | None = None,
) -> pd.DataFrame:
    """The expanded person-period rows (one per child per period at risk), with
    ``period`` and ``event`` (0/1). For checking and small data: the models use
    :func:`person_period_cells`, which gives the same fits without the expansion."""
    last, ev, valid = _last_period_and_event(frame, time, event, exposure, period_years)
    base = frame.loc[valid, list(columns)].reset_index(drop=True)
    last = last[valid].astype(np.int64)
    ev = ev[valid]
    reps = np.maximum(last, 0)
    idx = np.repeat(np.arange(len(base)), reps)
    start = np.repeat(np.cumsum(reps) - reps, reps)
    period = np.arange(len(idx)) - start + 1
    out = base.iloc[idx].reset_index(drop=True)
    out["period"] = period
    out["event"] = (ev[idx] & (period == last[idx])).astype(np.int64)
    if end_age is not None:
        out = out.loc[out[age].to_numpy() + period - 1 < end_age].reset_index(drop=True)
    return out


def fit_discrete_time_hazard(
    cells: pd.DataFrame,
    terms,
    *,
    link: str = "cloglog",
    baseline=("period",),
    cluster: str | None = "la_code",
    name: str | None = None,
    outcome: str = "first_referral",
    exposure_terms=(),
    adjust_terms=(),
    **kwargs,
) -> ModelFit:
    """Discrete-time hazard model on person-period cells.

    ``baseline`` are the terms of the baseline hazard: ``("period",)`` (time since the
    reference date, categorical), or ``("attained_age",)`` for the age scale, or both.
    cloglog gives log hazard ratios (grouped proportional hazards), logit log odds
    ratios of the discrete-time hazard. Errors are clustered (by local authority) so
    that a child's several rows are never treated as independent beyond their cluster.
    """
    all_terms = list(dict.fromkeys(list(baseline) + list(terms)))
    return fit_binomial(
        cells,
        all_terms,
        link=link,
        cluster=cluster,
        name=name or f"hazard:{outcome}~{'+'.join(terms)}",
        outcome=outcome,
        unit="person-periods",
        exposure_terms=exposure_terms,
        adjust_terms=adjust_terms,
        **kwargs,
    )


def proportional_hazards_test(
    cells: pd.DataFrame,
    terms,
    exposure_terms,
    *,
    link: str = "cloglog",
    baseline=("period",),
    form: str = "trend",
    cluster: str | None = "la_code",
    **kwargs,
) -> dict:
    """Test proportional hazards: do the exposure effects change over follow-up?

    Adds interactions of each exposure term with time since the reference date
    (``form="trend"``: a linear trend in the log hazard ratio over periods, one degree of
    freedom per coefficient; ``form="categorical"``: a separate effect in every period)
    and tests them jointly with a cluster-robust Wald test. A small p-value means the
    hazard ratios are not constant over follow-up, so a single hazard ratio is a
    follow-up-weighted summary (methods.md section 6). Returns the statistic, df,
    p-value, the interaction coefficients and a plain-English verdict.
    """
    time_var = "period_trend" if form == "trend" else "period"
    if form not in ("trend", "categorical"):
        raise ValueError("form must be 'trend' or 'categorical'")
    inter = [f"{t}:{time_var}" for t in exposure_terms]
    fit = fit_discrete_time_hazard(
        cells, list(terms) + inter, link=link, baseline=baseline, cluster=cluster, **kwargs
    )
    cols = [c for c in fit.params.index if any(fit.design.term_of(c) == t for t in inter)]
    test = wald_test(fit, cols)
    verdict = (
        "no evidence against proportional hazards"
        if test["p_value"] >= 0.05
        else "evidence that the hazard ratios change over follow-up: report them as "
        "follow-up-weighted averages, or by period"
    )
    return {
        "test": "Wald test of exposure x time interactions",
        "form": form,
        "link": link,
        "statistic": test["statistic"],
        "df": test["df"],
        "p_value": test["p_value"],
        "interactions": fit.params[cols].to_dict(),
        "interaction_std_errors": fit.bse[cols].to_dict(),
        "verdict": verdict,
        "n_clusters": fit.n_clusters,
    }
