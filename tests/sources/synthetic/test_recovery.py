"""The tables carry the true proportional-hazards model: a cloglog fit recovers it.

'Any referral (or CIN episode) in the follow-up window' is a grouped proportional-hazards
outcome by design (docs/synthetic-data.md): a binomial GLM with a complementary log-log
link, age-at-reference categories and LA fixed effects estimates the true log-hazard-ratios
written to truth.json. Each estimate must lie within 4 standard errors of the truth (about
1 in 16,000 by chance per coefficient at a correct model).
"""

from __future__ import annotations

import contextlib

import pandas as pd
import pyarrow.parquet as pq
import pytest
import statsmodels.api as sm

try:  # one BLAS thread: on a shared machine many threads only contend (8x slower)
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover
    threadpool_limits = None

TERMS = [
    "employment",
    "education",
    "health",
    "housing",
    "any_domain",
    "fsm",
    "employment:health",
    "sex_male",
    "mdh:la_mdh_prevalence_centred",
]


def _design(folder, truth):
    read = lambda name: pq.read_table(folder / f"{name}.parquet").to_pandas()  # noqa: E731
    persons, link = read("persons"), read("census_npd_link")
    flags, kids = read("truth_households"), read("truth_children")
    refs = read("cin_referrals")
    df = (
        link.merge(persons[["person_id", "household_id", "age", "sex"]], on="person_id")
        .merge(flags, on="household_id")
        .merge(
            kids[["person_id", "fsm_reference", "mdh", "la_mdh_prevalence_centred"]], on="person_id"
        )
    )
    lo, hi = pd.Timestamp(truth["reference_date"]), pd.Timestamp(truth["extract_date"])
    window = refs[(refs["referral_date"] >= lo) & (refs["referral_date"] <= hi)]
    df["any_referral"] = df["pupil_id"].isin(window["pupil_id"]).astype(float)
    df["any_cin"] = (
        df["pupil_id"].isin(window.loc[~window["referral_nfa"], "pupil_id"]).astype(float)
    )
    x = pd.DataFrame(
        {d: df[d].astype(float) for d in ["employment", "education", "health", "housing"]}
    )
    x["any_domain"] = (df["n_domains"] >= 1).astype(float)
    x["fsm"] = df["fsm_reference"].astype(float)
    x["employment:health"] = x["employment"] * x["health"]
    x["sex_male"] = (df["sex"] == "M").astype(float)
    x["mdh:la_mdh_prevalence_centred"] = df["mdh"] * df["la_mdh_prevalence_centred"]
    ages = pd.get_dummies(df["age"], prefix="age", drop_first=True, dtype=float)
    las = pd.get_dummies(df["la_code"], prefix="la", dtype=float)  # no intercept: all LAs
    X = pd.concat([x, ages, las], axis=1)
    return df, X


@pytest.mark.slow
@pytest.mark.parametrize("outcome,key", [("any_referral", "referral"), ("any_cin", "cin")])
def test_cloglog_recovers_the_true_log_hazard_ratios(synth_dir, truth, outcome, key):
    df, X = _design(synth_dir, truth)
    # LAs where every child or no child has the outcome carry no information on the other
    # terms (their fixed effect is infinite): leave them out, as a fixed-effects fit does
    y = df[outcome]
    events = y.groupby(df["la_code"]).transform("sum")
    size = y.groupby(df["la_code"]).transform("size")
    keep = ((events > 0) & (events < size)).to_numpy()
    X = X.loc[keep, X.columns[(X.loc[keep] != 0).any()]]
    limit = threadpool_limits(1) if threadpool_limits else contextlib.nullcontext()
    with limit:
        fit = sm.GLM(
            y[keep].to_numpy(), X, family=sm.families.Binomial(link=sm.families.links.CLogLog())
        ).fit()
    true = truth["outcomes"][key]["log_hazard_ratio"]
    z = {t: (fit.params[t] - true[t]) / fit.bse[t] for t in TERMS}
    assert all(abs(v) < 4 for v in z.values()), z
    # the test has power: the FSM effect is estimated to within a few tenths
    assert fit.bse["fsm"] < 0.1
