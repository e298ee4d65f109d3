"""The Child-MDH index as release-ready aggregate tables (before disclosure control).

Pure functions: the children table (one row per child, person-level) in, aggregate
DataFrames out. Measures come from :func:`child_mdh.aggregates.index.alkire_foster.alkire_foster`, intervals
from :func:`child_mdh.aggregates.index.inference.af_inference` (linearisation, clustered by household
at every level, since siblings share their household's domains). Local authorities are
not treated as sampled clusters: the data cover every LA, and the coverage study on the
synthetic data (docs/index-methods.md, section 7) showed LA-clustered intervals for
England 1.5 times too wide (coverage 0.99) where household clustering is close to
nominal (0.94-0.98). Disclosure control is applied when the
tables are written (:mod:`child_mdh.release.sdc`), using the counts every table carries in
``*_n`` columns and the margins declared by :func:`area_hierarchy`.

Areas are identified by ``area_code`` with ``parent_code`` (LA -> region -> England,
``E92000001``), so one table holds all three levels and its margins can be checked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats as sps

from child_mdh.aggregates.index.alkire_foster import (
    alkire_foster,
    identify,
    la_rank_dominance,
    over_weight_sets,
    robustness_over_k,
    scores,
)
from child_mdh.aggregates.index.inference import af_inference
from child_mdh.contract.vocabulary import ENGLAND_CODE, ENGLAND_NAME

#: Name of the top row when the input holds one local authority (the LA route): it is
#: then that authority's children, not England's.
SINGLE_LA_TOTAL_NAME = "All children in the input (one local authority, not England)"
#: Age bands of the default school-age population (completed years on census day).
AGE_BANDS = ((4, 7, "4-7"), (8, 11, "8-11"), (12, 15, "12-15"), (0, 3, "0-3"), (16, 17, "16-17"))
MEASURES = ("H", "A", "M0")
#: Decimals of the published measures, headcounts, shares and interval limits.
STAT_DIGITS = 4


def age_band(age: pd.Series) -> pd.Series:
    """Age band label of each age (bands in :data:`AGE_BANDS`)."""
    out = pd.Series(pd.NA, index=age.index, dtype="str")
    for lo, hi, label in AGE_BANDS:
        out = out.mask((age >= lo) & (age <= hi), label)
    return out


def _indicator_frame(
    children: pd.DataFrame, weights: Mapping[str, float], *extra: str
) -> pd.DataFrame:
    return children[list(weights) + [c for c in extra if c not in weights]]


def measure_names(indicators: Sequence[str]) -> list[str]:
    """Every measure with an interval: H, A, M0, then each indicator's uncensored and
    censored headcount."""
    return [*MEASURES, *[f"{p}_{i}" for i in indicators for p in ("uncensored", "censored")]]


def base_column(measure: str) -> str:
    """The count a measure's simple-random-sampling variance is taken over: A is a mean
    over the MDH children, every other measure over the children in the index."""
    return "mdh_n" if measure == "A" else "index_n"


def _design_factors(
    inf: pd.DataFrame,
    counts: pd.DataFrame,
    key: str | None,
    measures: Sequence[str],
    confidence: float,
) -> pd.DataFrame:
    """Each measure's estimate, interval and design factor (deft) per group.

    deft = t_df se / (z sqrt(p (1 - p) / n)): the clustered interval's half-width over
    the simple-random-sampling one (Kish 1965, *Survey Sampling*, s. 8.2), with the
    small-sample t of the clustered estimate folded in. Published to two decimals beside
    the measure, it lets the interval be recomputed from the protected counts
    (:func:`child_mdh.aggregates.formulas` ``design_lower``/``design_upper``).
    """
    inf = inf[inf["measure"].isin(measures)]
    if key is None:
        inf = inf[inf["group"] == "All"].assign(_key="All")
        key = "_key"
    else:
        inf = inf[inf["group"] != "All"]
    wide = inf.pivot(
        index=key, columns="measure", values=["estimate", "lower", "upper", "se", "df"]
    )
    z = sps.norm.ppf(1 - (1 - confidence) / 2)
    out = pd.DataFrame(index=wide.index)
    for m in measures:
        p = wide[("estimate", m)].astype("float64")
        n = counts[base_column(m)].reindex(wide.index).astype("float64")
        dof = wide[("df", m)].astype("float64")
        with np.errstate(invalid="ignore", divide="ignore"):
            t = sps.t.ppf(1 - (1 - confidence) / 2, dof.where(dof > 0))
            srs = np.sqrt(p * (1 - p) / n)
            deft = (t * wide[("se", m)].astype("float64")) / (z * srs)
        out[m] = p
        out[f"{m}_lower"] = wide[("lower", m)]
        out[f"{m}_upper"] = wide[("upper", m)]
        out[f"{m}_deft"] = np.round(deft.where(np.isfinite(deft)), 2)
    return out


def _measures_for(
    children: pd.DataFrame,
    weights,
    k,
    by: str | None,
    cluster: str | None,
    confidence: float,
    interval: str = "wald",
) -> pd.DataFrame:
    """Counts, measures, intervals and design factors for each group of ``by`` (or all).

    Counts: ``index_n`` (children with every indicator known: the index's population),
    ``mdh_n``, and per indicator ``deprived_<i>_n`` and ``censored_<i>_n`` (deprived
    and MDH). Children with an indicator unknown are counted in the linkage report
    (``linkage_by_la.csv``), not here: beside ``index_n`` their number, often zero,
    would be pinned by subtraction. The measures are full-precision estimates from the microdata; the release
    recomputes them from the protected counts (:func:`index_formulas`).
    """
    indicators = list(weights)
    cols = [c for c in (by, cluster) if c]
    X = _indicator_frame(children, weights, *cols)
    res = alkire_foster(X.drop(columns=[c for c in cols if c != by]), weights, k, by=by)
    measures = measure_names(indicators)
    inf = af_inference(
        X,
        weights,
        k,
        by=by,
        cluster=cluster,
        confidence=confidence,
        measures=measures,
        interval=interval,
    )
    if by is None:
        g = pd.DataFrame(
            {
                "n_obs": [len(X)],
                "n": [res.n],
                "q": [res.q],
                **{f"uncensored_{i}": [res.uncensored_headcount[i]] for i in indicators},
                **{f"censored_{i}": [res.censored_headcount[i]] for i in indicators},
            },
            index=["All"],
        )
    else:
        g = res.groups.set_index(by)
    counts = pd.DataFrame({"index_n": g["n"]}, index=g.index)
    counts["mdh_n"] = g["q"]
    for i in indicators:
        counts[f"deprived_{i}_n"] = g[f"uncensored_{i}"] * g["n"]
        counts[f"censored_{i}_n"] = g[f"censored_{i}"] * g["n"]
    counts = counts.round().astype("int64")
    stats = _design_factors(inf, counts, by, measures, confidence)
    out = counts.join(stats, how="left")
    contrib = np.asarray([weights[i] for i in indicators]) * out[
        [f"censored_{i}_n" for i in indicators]
    ].to_numpy(dtype="float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = contrib / contrib.sum(axis=1, keepdims=True)
    for j, i in enumerate(indicators):
        out[f"contribution_{i}"] = shares[:, j]
    return out


def with_cluster_codes(children: pd.DataFrame, cluster: str = "household_id") -> pd.DataFrame:
    """``children`` with the cluster column (household ids, text) replaced by integer codes
    numbered in order of first appearance, the numbering the linearisation gives clusters
    itself (:func:`child_mdh.aggregates.index.inference.af_inference`), so every interval is
    the same to the last bit. Factorising millions of text ids is done once here rather than
    in each of the index's tables (England, regions, LAs, sex, age band). Left as it is when
    a household id is missing (the linearisation then says which rows)."""
    ids = children[cluster]
    if ids.isna().any():
        return children
    codes, _ = pd.factorize(ids, sort=False)
    return children.assign(**{cluster: codes.astype(np.int64)})


def area_lookup(children: pd.DataFrame) -> pd.DataFrame:
    """LA -> region lookup (with names) from the children table."""
    return (
        children[["la_code", "la_name", "region_code", "region_name"]]
        .drop_duplicates("la_code")
        .sort_values("la_code")
        .reset_index(drop=True)
    )


def area_index_table(
    children: pd.DataFrame,
    weights: Mapping[str, float],
    k: float,
    confidence: float = 0.95,
    interval: str = "wald",
) -> pd.DataFrame:
    """Counts, measures, headcounts, contributions and intervals for England, every region
    and every LA: one wide row per area, the base every other index table is a view of.
    ``interval``: the linearisation's interval, ``wald`` or ``logit``
    (:func:`child_mdh.aggregates.index.inference.af_inference`)."""
    areas = area_lookup(children)
    hh = "household_id"
    england = _measures_for(children, weights, k, None, hh, confidence, interval)
    england.index = [ENGLAND_CODE]
    region = _measures_for(children, weights, k, "region_code", hh, confidence, interval)
    la = _measures_for(children, weights, k, "la_code", hh, confidence, interval)
    names = {
        ENGLAND_CODE: ENGLAND_NAME if len(areas) > 1 else SINGLE_LA_TOTAL_NAME,
        **dict(zip(areas["region_code"], areas["region_name"])),
        **dict(zip(areas["la_code"], areas["la_name"])),
    }
    parents = {
        **dict(zip(areas["la_code"], areas["region_code"])),
        **dict.fromkeys(areas["region_code"], ENGLAND_CODE),
    }
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


def group_index_table(
    children: pd.DataFrame,
    weights: Mapping[str, float],
    k: float,
    confidence: float = 0.95,
    interval: str = "wald",
) -> pd.DataFrame:
    """The same columns for England by sex and by age band, with the England row
    ('All') as their total."""
    kids = children.assign(age_band=age_band(children["age"]))
    england = _measures_for(kids, weights, k, None, "household_id", confidence, interval)
    rows = [england.assign(group_type="all", group="All")]
    for by in ("sex", "age_band"):
        f = _measures_for(kids, weights, k, by, "household_id", confidence, interval)
        rows.append(f.assign(group_type=by, group=f.index.astype(str)))
    out = pd.concat(rows, ignore_index=True)
    lead = ["group_type", "group"]
    return out[lead + [c for c in out.columns if c not in lead]]


def indicator_view(area: pd.DataFrame, indicators: Sequence[str]) -> pd.DataFrame:
    """The per-indicator columns of the (protected) area table, one row per area and
    indicator: the same published numbers, arranged long."""
    parts = []
    for i in indicators:
        f = area[["area_level", "area_code", "parent_code", "index_n"]].copy()
        f.insert(3, "indicator", i)
        f["deprived_n"] = area[f"deprived_{i}_n"]
        f["censored_deprived_n"] = area[f"censored_{i}_n"]
        for p, label in (
            ("uncensored", "uncensored_headcount"),
            ("censored", "censored_headcount"),
        ):
            for suffix in ("", "_lower", "_upper", "_deft"):
                f[f"{label}{suffix}"] = area[f"{p}_{i}{suffix}"]
        f["contribution"] = area[f"contribution_{i}"]
        parts.append(f)
    return pd.concat(parts, ignore_index=True)


def decomposition_view(area: pd.DataFrame) -> pd.DataFrame:
    """Subgroup decomposition of England's M0 by LA from the (protected) area table:
    population share = index_n / England's index_n, contribution = share x M0_la /
    M0_england (Alkire & Foster 2011); England's counts and M0 on every row so each
    statistic follows from its own row."""
    eng = area[area["area_level"] == "england"].iloc[0]
    rows = area[area["area_level"].isin(["england", "la"])]
    out = rows[["area_level", "area_code", "index_n", "mdh_n", "M0"]].copy()
    out["england_index_n"] = eng["index_n"]
    out["england_M0"] = eng["M0"]
    out["population_share"] = np.nan
    out["contribution_to_M0"] = np.nan
    return out.reset_index(drop=True)


def robustness_table(
    children: pd.DataFrame,
    weights: Mapping[str, float],
    k_values: Sequence[float],
    area: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """England and regional MDH counts at every cut-off k, with the censored headcounts
    that A and M0 rest on; ``index_n`` (which does not depend on k) is taken from the
    protected ``area`` table when given, so it is the number published there."""
    indicators = list(weights)
    X = _indicator_frame(children, weights, "region_code")
    by_region = robustness_over_k(X, weights, k_values, by="region_code")
    england = by_region[by_region["level"] == "all"].assign(area_code=ENGLAND_CODE)
    regions = by_region[by_region["level"] != "all"].rename(columns={"region_code": "area_code"})
    t = pd.concat([england, regions], ignore_index=True)
    out = pd.DataFrame({"area_code": t["area_code"].astype(str), "k": t["k"]})
    out["parent_code"] = np.where(out["area_code"] == ENGLAND_CODE, None, ENGLAND_CODE)
    out["index_n"] = t["n"].round().astype("int64")
    if area is not None:
        published = area.set_index("area_code")["index_n"]
        out["index_n"] = out["area_code"].map(published)
    out["mdh_n"] = t["q"].round().astype("int64")
    for i in indicators:
        out[f"censored_{i}_n"] = (t[f"censored_{i}"] * t["n"]).round().astype("int64")
    for m in MEASURES:
        out[m] = t[m].to_numpy()
    return out


def weight_set_table(
    children: pd.DataFrame, weight_sets: Mapping[str, Mapping[str, float]], k: float
) -> pd.DataFrame:
    """England's counts under each configured weight set at cut-off k, with the weights
    as columns (``w_<indicator>``, 0 where a set leaves an indicator out) so that H, A
    and M0 follow from each row (:func:`weight_set_formulas`)."""
    indicators = sorted({i for w in weight_sets.values() for i in w})
    t = over_weight_sets(children[indicators], weight_sets, k)
    t = t[t["level"] == "all"].reset_index(drop=True)
    out = pd.DataFrame(
        {
            "weight_set": t["weight_set"],
            "k": t["k"],
            "index_n": t["n"].round().astype("int64"),
            "mdh_n": t["q"].round().astype("int64"),
        }
    )
    for i in indicators:
        out[f"w_{i}"] = [float(weight_sets[s].get(i, 0.0)) for s in t["weight_set"]]
    for i in indicators:
        share = t[f"censored_{i}"] if f"censored_{i}" in t.columns else 0.0
        out[f"censored_{i}_n"] = (pd.Series(share).fillna(0) * t["n"]).round().astype("int64")
    for m in MEASURES:
        out[m] = t[m].to_numpy()
    return out


def rank_robustness_table(
    children: pd.DataFrame,
    weights: Mapping[str, float],
    k_values: Sequence[float],
    min_children: int,
) -> pd.DataFrame:
    """Rank correlations of LA M0 and H between every pair of cut-offs (the dominance view),
    over LAs with at least ``min_children`` children in the index."""
    X = _indicator_frame(children, weights, "la_code")
    sizes = X.dropna(subset=list(weights)).groupby("la_code").size()
    big = sizes[sizes >= min_children].index
    rr = la_rank_dominance(X[X["la_code"].isin(big)], weights, k_values, la="la_code")
    return rr.correlations.rename(columns={"n_areas": "areas_compared"})


def child_index(children: pd.DataFrame, weights: Mapping[str, float], k: float) -> pd.DataFrame:
    """Person-level scores and identification (for the secure folder only)."""
    s = scores(children[list(weights)], weights)
    return pd.DataFrame(
        {
            "person_id": children["person_id"],
            "la_code": children["la_code"],
            "score": s,
            "mdh": identify(s, k),
        }
    )
