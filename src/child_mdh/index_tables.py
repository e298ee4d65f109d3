"""The Child-MDH index as release-ready aggregate tables (before disclosure control).

Pure functions: the children table (one row per child, person-level) in, aggregate
DataFrames out. Measures come from :func:`child_mdh.index.alkire_foster`, intervals
from :func:`child_mdh.inference.af_inference` (linearisation, clustered by household
at every level, since siblings share their household's domains). Local authorities are
not treated as sampled clusters: the data cover every LA, and the coverage study on the
synthetic data (docs/index-methods.md, section 7) showed LA-clustered intervals for
England 1.5 times too wide (coverage 0.99) where household clustering is close to
nominal (0.94-0.98). Disclosure control is applied when the
tables are written (:mod:`child_mdh.sdc`), using the counts every table carries in
``*_n`` columns and the margins declared by :func:`area_hierarchy`.

Areas are identified by ``area_code`` with ``parent_code`` (LA -> region -> England,
``E92000001``), so one table holds all three levels and its margins can be checked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from child_mdh.index import alkire_foster, over_weight_sets, robustness_over_k, la_rank_dominance
from child_mdh.inference import af_inference

ENGLAND_CODE = "E92000001"
ENGLAND_NAME = "England"
#: Name of the top row when the input holds one local authority (the LA route): it is
#: then that authority's children, not England's.
SINGLE_LA_TOTAL_NAME = "All children in the input (one local authority, not England)"
#: Age bands of the default school-age population (completed years on census day).
AGE_BANDS = ((4, 7, "4-7"), (8, 11, "8-11"), (12, 15, "12-15"), (0, 3, "0-3"), (16, 17, "16-17"))
MEASURES = ("H", "A", "M0")


def age_band(age: pd.Series) -> pd.Series:
    """Age band label of each age (bands in :data:`AGE_BANDS`)."""
    out = pd.Series(pd.NA, index=age.index, dtype="str")
    for lo, hi, label in AGE_BANDS:
        out = out.mask((age >= lo) & (age <= hi), label)
    return out


def _indicator_frame(children: pd.DataFrame, weights: Mapping[str, float], *extra: str) -> pd.DataFrame:
    return children[list(weights) + [c for c in extra if c not in weights]]


def _pivot_inference(inf: pd.DataFrame, key: str | None, measures: Sequence[str]) -> pd.DataFrame:
    """Long af_inference output -> one row per group with value, lower, upper per measure."""
    inf = inf[inf["measure"].isin(measures)]
    if key is None:
        inf = inf[inf["group"] == "All"].assign(_key="All")
        key = "_key"
    else:
        inf = inf[inf["group"] != "All"]
    wide = inf.pivot(index=key, columns="measure", values=["estimate", "lower", "upper"])
    out = pd.DataFrame(index=wide.index)
    for m in measures:
        out[m] = wide[("estimate", m)]
        out[f"{m}_lower"] = wide[("lower", m)]
        out[f"{m}_upper"] = wide[("upper", m)]
    return out


def _measures_for(children: pd.DataFrame, weights, k, by: str | None, cluster: str | None,
                  confidence: float) -> pd.DataFrame:
    """Counts and H, A, M0 with intervals for each group of ``by`` (or everyone)."""
    cols = [c for c in (by, cluster) if c]
    X = _indicator_frame(children, weights, *cols)
    res = alkire_foster(X.drop(columns=[c for c in cols if c != by]), weights, k, by=by)
    inf = af_inference(X, weights, k, by=by, cluster=cluster, confidence=confidence,
                       measures=MEASURES)
    wide = _pivot_inference(inf, by, MEASURES)
    if by is None:
        counts = pd.DataFrame({"children_n": [res.n_obs if hasattr(res, "n_obs") else res.n],
                               "index_n": [res.n], "mdh_n": [res.q]}, index=["All"])
        counts["children_n"] = len(X)
    else:
        g = res.groups.set_index(by)
        counts = pd.DataFrame({"children_n": g["n_obs"], "index_n": g["n"], "mdh_n": g["q"]})
    counts["indicator_missing_n"] = counts["children_n"] - counts["index_n"]
    out = counts.join(wide, how="left")
    for c in ("children_n", "index_n", "mdh_n", "indicator_missing_n"):
        out[c] = out[c].round().astype("int64")
    return out


def area_lookup(children: pd.DataFrame) -> pd.DataFrame:
    """LA -> region lookup (with names) from the children table."""
    return (children[["la_code", "la_name", "region_code", "region_name"]]
            .drop_duplicates("la_code").sort_values("la_code").reset_index(drop=True))


def area_index_table(children: pd.DataFrame, weights: Mapping[str, float], k: float,
                     confidence: float = 0.95) -> pd.DataFrame:
    """H, A, M0 with intervals and counts for England, every region and every LA."""
    areas = area_lookup(children)
    england = _measures_for(children, weights, k, None, "household_id", confidence)
    england.index = [ENGLAND_CODE]
    region = _measures_for(children, weights, k, "region_code", "household_id", confidence)
    la = _measures_for(children, weights, k, "la_code", "household_id", confidence)
    names = {ENGLAND_CODE: ENGLAND_NAME if len(areas) > 1 else SINGLE_LA_TOTAL_NAME,
             **dict(zip(areas["region_code"], areas["region_name"])),
             **dict(zip(areas["la_code"], areas["la_name"]))}
    parents = {**dict(zip(areas["la_code"], areas["region_code"])),
               **{r: ENGLAND_CODE for r in areas["region_code"]}}
    parts = []
    for level, frame in (("england", england), ("region", region), ("la", la)):
        f = frame.copy()
        f.insert(0, "area_code", f.index.astype(str))
        f.insert(0, "area_level", level)
        parts.append(f.reset_index(drop=True))
    out = pd.concat(parts, ignore_index=True)
    out.insert(2, "area_name", out["area_code"].map(names))
    out.insert(3, "parent_code", out["area_code"].map(parents))
    return out


def group_index_table(children: pd.DataFrame, weights: Mapping[str, float], k: float,
                      confidence: float = 0.95) -> pd.DataFrame:
    """H, A, M0 for England by sex and by age band, with the England row as their total."""
    kids = children.assign(age_band=age_band(children["age"]))
    england = _measures_for(kids, weights, k, None, "household_id", confidence)
    rows = [england.assign(group_type="all", group="All")]
    for by in ("sex", "age_band"):
        f = _measures_for(kids, weights, k, by, "household_id", confidence)
        rows.append(f.assign(group_type=by, group=f.index.astype(str)))
    out = pd.concat(rows, ignore_index=True)
    lead = ["group_type", "group"]
    return out[lead + [c for c in out.columns if c not in lead]]


def indicator_table(children: pd.DataFrame, weights: Mapping[str, float], k: float,
                    confidence: float = 0.95) -> pd.DataFrame:
    """Uncensored and censored headcounts (with intervals) and contributions per indicator,
    for England, every region and every LA (long: one row per area and indicator)."""
    areas = area_lookup(children)
    indicators = list(weights)
    measures = [f"{p}_{i}" for i in indicators for p in ("uncensored", "censored")]
    parts = []
    for level, by, cluster in (("england", None, "household_id"),
                               ("region", "region_code", "household_id"),
                               ("la", "la_code", "household_id")):
        cols = [c for c in (by, cluster) if c]
        X = _indicator_frame(children, weights, *cols)
        inf = af_inference(X, weights, k, by=by, cluster=cluster, confidence=confidence,
                           measures=measures)
        wide = _pivot_inference(inf, by, measures)
        res = alkire_foster(X.drop(columns=[c for c in cols if c != by]), weights, k, by=by)
        if by is None:
            n = pd.Series([res.n], index=["All"])
            contrib = pd.DataFrame([res.contribution.to_numpy()], columns=indicators, index=["All"])
            wide.index = [ENGLAND_CODE]
            n.index = contrib.index = [ENGLAND_CODE]
        else:
            g = res.groups.set_index(by)
            n = g["n"]
            contrib = g[[f"contribution_{i}" for i in indicators]]
            contrib.columns = indicators
        for ind in indicators:
            f = pd.DataFrame({
                "area_level": level,
                "area_code": wide.index.astype(str),
                "indicator": ind,
                "index_n": n.reindex(wide.index).round().astype("int64").to_numpy(),
                "uncensored_headcount": wide[f"uncensored_{ind}"].to_numpy(),
                "uncensored_headcount_lower": wide[f"uncensored_{ind}_lower"].to_numpy(),
                "uncensored_headcount_upper": wide[f"uncensored_{ind}_upper"].to_numpy(),
                "censored_headcount": wide[f"censored_{ind}"].to_numpy(),
                "censored_headcount_lower": wide[f"censored_{ind}_lower"].to_numpy(),
                "censored_headcount_upper": wide[f"censored_{ind}_upper"].to_numpy(),
                "contribution": contrib[ind].reindex(wide.index).to_numpy(),
            })
            f["deprived_n"] = np.rint(f["uncensored_headcount"] * f["index_n"]).astype("int64")
            f["censored_deprived_n"] = np.rint(f["censored_headcount"] * f["index_n"]).astype("int64")
            parts.append(f)
    out = pd.concat(parts, ignore_index=True)
    parents = {**dict(zip(areas["la_code"], areas["region_code"])),
               **{r: ENGLAND_CODE for r in areas["region_code"]}}
    out.insert(2, "parent_code", out["area_code"].map(parents))
    return out


def decomposition_table(children: pd.DataFrame, weights: Mapping[str, float], k: float) -> pd.DataFrame:
    """Subgroup decomposition of England's M0 by LA: population share, M0 and contribution
    (share x M0_la / M0_england); the LA contributions sum to 1 (Alkire & Foster 2011)."""
    X = _indicator_frame(children, weights, "la_code")
    res = alkire_foster(X, weights, k, by="la_code")
    g = res.groups
    la = pd.DataFrame({
        "area_level": "la", "area_code": g["la_code"].astype(str),
        "index_n": g["n"].round().astype("int64"), "mdh_n": g["q"].round().astype("int64"),
        "population_share": g["population_share"], "M0": g["M0"],
        "contribution_to_M0": g["contribution_to_M0"],
    })
    england = pd.DataFrame({
        "area_level": ["england"], "area_code": [ENGLAND_CODE],
        "index_n": [int(round(res.n))], "mdh_n": [int(round(res.q))],
        "population_share": [1.0], "M0": [res.M0], "contribution_to_M0": [1.0]})
    return pd.concat([england, la], ignore_index=True)


def robustness_table(children: pd.DataFrame, weights: Mapping[str, float],
                     k_values: Sequence[float]) -> pd.DataFrame:
    """England and regional H, A, M0 at every cut-off k (the k-robustness curves)."""
    X = _indicator_frame(children, weights, "region_code")
    by_region = robustness_over_k(X, weights, k_values, by="region_code")
    keep = ["k", "n_obs", "n", "q", "H", "A", "M0"]
    england = by_region[by_region["level"] == "all"][keep].assign(area_code=ENGLAND_CODE)
    regions = by_region[by_region["level"] != "all"]
    regions = regions[keep + ["region_code"]].rename(columns={"region_code": "area_code"})
    out = pd.concat([england, regions], ignore_index=True)
    out = out.rename(columns={"n_obs": "children_n", "n": "index_n", "q": "mdh_n"})
    for c in ("children_n", "index_n", "mdh_n"):
        out[c] = out[c].round().astype("int64")
    out["parent_code"] = np.where(out["area_code"] == ENGLAND_CODE, None, ENGLAND_CODE)
    return out[["area_code", "parent_code", "k", "children_n", "index_n", "mdh_n", "H", "A", "M0"]]


def weight_set_table(children: pd.DataFrame, weight_sets: Mapping[str, Mapping[str, float]],
                     k: float) -> pd.DataFrame:
    """England H, A, M0 under each configured weight set at cut-off k."""
    indicators = sorted({i for w in weight_sets.values() for i in w})
    t = over_weight_sets(children[indicators], weight_sets, k)
    t = t.rename(columns={"n": "index_n", "q": "mdh_n"})
    for c in ("index_n", "mdh_n"):
        t[c] = t[c].round().astype("int64")
    keep = [c for c in ("weight_set", "k", "index_n", "mdh_n", "H", "A", "M0") if c in t.columns]
    return t[keep]


def rank_robustness_table(children: pd.DataFrame, weights: Mapping[str, float],
                          k_values: Sequence[float], min_children: int) -> pd.DataFrame:
    """Rank correlations of LA M0 and H between every pair of cut-offs (the dominance view),
    over LAs with at least ``min_children`` children in the index."""
    X = _indicator_frame(children, weights, "la_code")
    sizes = X.dropna(subset=list(weights)).groupby("la_code").size()
    big = sizes[sizes >= min_children].index
    rr = la_rank_dominance(X[X["la_code"].isin(big)], weights, k_values, la="la_code")
    return rr.correlations.rename(columns={"n_areas": "areas_compared"})


def child_index(children: pd.DataFrame, weights: Mapping[str, float], k: float) -> pd.DataFrame:
    """Person-level scores and identification (for the secure folder only)."""
    from child_mdh.index import identify, scores

    s = scores(children[list(weights)], weights)
    return pd.DataFrame({"person_id": children["person_id"], "la_code": children["la_code"],
                         "score": s, "mdh": identify(s, k)})
