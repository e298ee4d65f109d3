"""Deprivation profiles, attributable fractions and inequality gradients as release-ready
tables (before disclosure control).

Pure functions: the children table in, DataFrames out. The analysis frames, covariates
and pooling are those of the models (:func:`child_mdh.aggregates.models.tables.analysis_data`);
the methods are :mod:`child_mdh.aggregates.models.inequality`. Disclosure control is applied
when the tables are written (:mod:`child_mdh.release.models.inequality`), using the
counts every table carries in ``*_n`` columns.

- :func:`profile_table`: one row per area (England, then each region) and profile (every
  combination of the indicators), with the subtotals by number of deprived indicators
  and the area's total, so that the table's margins are declared in it: counts of
  children and of children with each outcome, and each outcome's adjusted odds ratio
  against the profile with no deprivation (profile rows of areas whose model could be
  fitted);
- :func:`attributable_fraction_table`: one row per outcome and exposure (MDH, the
  deprivation count, each indicator, every indicator at once).

The gradient by number of deprived indicators and its SII and RII are drawn from the
protected profile table (its subtotal rows) when it is released.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from child_mdh.aggregates.models.collapse import binary_cells
from child_mdh.aggregates.models.glm import SparseLevelError, fit_binomial
from child_mdh.aggregates.models.inequality import (
    N_DEPRIVED,
    PROFILE,
    add_profiles,
    attributable_fraction,
    fit_profile_model,
    profile_counts,
    profile_ratios,
    profile_size,
)
from child_mdh.aggregates.models.prepare import COUNT, ModelData
from child_mdh.aggregates.models.tables import ModelSettings
from child_mdh.contract.vocabulary import ENGLAND_CODE, ENGLAND_NAME

ALL_CHILDREN = "all children"
RATIO_DECIMALS = 3
PAF_DECIMALS = 2


def subtotal_label(k: int, top: bool = False) -> str:
    """The subtotal row of the profiles with ``k`` deprived indicators (``k`` or more
    when ``top``)."""
    plural = "" if k == 1 and not top else "s"
    return f"any {k}{' or more' if top else ''} indicator{plural}"


def group_of(size: int, top: int) -> int:
    """The gradient group of a profile with ``size`` deprived indicators, the groups
    top-coded at ``top`` (``top`` or more)."""
    return min(size, top)


def profile_parent(label: str, n_indicators: int, top: int | None = None) -> str:
    """The row a profile adds up to: its subtotal by number of deprived indicators
    (top-coded at ``top``), or the area's total for a profile alone in its group (no
    deprivation; every indicator, unless top-coded)."""
    top = n_indicators if top is None else top
    k = group_of(profile_size(label), top)
    if k == 0 or (k == n_indicators and top == n_indicators):
        return ALL_CHILDREN
    return subtotal_label(k, top=k == top and top < n_indicators)


def gradient_top(counts: pd.DataFrame, outcomes, n_indicators: int, min_count: int) -> int:
    """The largest number of deprived indicators ``k`` such that the children with
    ``k`` or more deprived indicators number at least ``min_count``, as do their events
    and non-events of every outcome (the rule the models pool the deprivation count
    by), so that the top group of the gradient can be published; at least 1.
    ``counts`` is England's :func:`profile_counts`."""
    size = counts[PROFILE].map(profile_size)
    for k in range(n_indicators, 0, -1):
        part = counts.loc[size >= k]
        n = part["children_n"].sum()
        ok = n >= min_count
        for o in outcomes:
            e = part[f"{o}_n"].sum()
            ok &= e >= min_count and n - e >= min_count
        if ok:
            return k
    return 1


def _adjust(d: ModelData) -> tuple[str, ...]:
    return tuple(d.adjust) + tuple(d.prior)


def _area_rows(counts: pd.DataFrame, outcomes, indicators, top: int) -> pd.DataFrame:
    """Profile rows, then the subtotals by number of deprived indicators (top-coded at
    ``top``) and the total, of one area's :func:`profile_counts`."""
    d = len(indicators)
    c = counts.copy()
    c["row_type"] = "profile"
    c[N_DEPRIVED] = c[PROFILE].map(profile_size)
    c["profile_parent"] = c[PROFILE].map(lambda p: profile_parent(p, d, top))
    cols = ["children_n", *[f"{o}_n" for o in outcomes]]
    subs = []
    for k in range(1, top + 1 if top < d else d):
        group = c[N_DEPRIVED].map(lambda x: group_of(x, top))
        part = c.loc[group == k, cols].sum()
        subs.append(
            {
                PROFILE: subtotal_label(k, top=k == top and top < d),
                "row_type": "subtotal",
                N_DEPRIVED: k,
                "profile_parent": ALL_CHILDREN,
                **part.to_dict(),
            }
        )
    total = {
        PROFILE: ALL_CHILDREN,
        "row_type": "total",
        N_DEPRIVED: pd.NA,
        "profile_parent": pd.NA,
        **c[cols].sum().to_dict(),
    }
    out = pd.concat([c, pd.DataFrame(subs), pd.DataFrame([total])], ignore_index=True)
    out[N_DEPRIVED] = out[N_DEPRIVED].astype("Int64")
    for col in cols:
        out[col] = out[col].astype("int64")
    return out


def _region_of(frame: pd.DataFrame, areas: pd.DataFrame | None) -> pd.DataFrame:
    if areas is None or "region_code" not in areas.columns:
        return frame.assign(region_code=pd.NA, region_name=pd.NA)
    a = areas[["la_code", "region_code", "region_name"]].drop_duplicates("la_code")
    return frame.drop(columns=["region_code", "region_name"], errors="ignore").merge(
        a, on="la_code", how="left"
    )


def profile_table(
    data: Mapping[str, ModelData],
    s: ModelSettings,
    areas: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, list[str], int | None]:
    """The profiles of England and of each region (``areas`` maps la_code to region) with
    counts and adjusted odds ratios (module docstring). Returns the table, notes and the
    smallest residual degrees of freedom of the models whose ratios it holds.

    Counts come from the first outcome's analysis frame (children with every indicator
    and every outcome known); each outcome's model uses its own frame, covariates
    pooled on its own events. A region's model is left out (and noted) when it cannot
    be fitted or its residual degrees of freedom fall below ``s.min_residual_df``.
    """
    outcomes = [o for o in s.outcomes if o in data]
    indicators = tuple(s.indicators)
    base = _region_of(add_profiles(data[outcomes[0]].frame, indicators), areas)
    frames = {o: _region_of(add_profiles(data[o].frame, indicators), areas) for o in outcomes}
    regions = (
        base[["region_code", "region_name"]]
        .dropna()
        .drop_duplicates()
        .sort_values("region_code")
        .itertuples(index=False)
    )
    scopes = [("England", ENGLAND_CODE, ENGLAND_NAME, pd.NA, None)]
    scopes += [
        ("region", r.region_code, r.region_name, ENGLAND_CODE, r.region_code) for r in regions
    ]
    if len(scopes) == 2:  # one region: its rows would repeat England's
        scopes = scopes[:1]
    notes: list[str] = []
    dfs: list[int] = []
    area_df: dict[str, int] = {}
    blocks = []
    top = gradient_top(
        profile_counts(base, outcomes, indicators), outcomes, len(indicators), s.min_count
    )
    if top < len(indicators):
        notes.append(
            f"profiles: children with {top} or more deprived indicators form one subtotal "
            "(fewer children, events or non-events than the threshold above it)"
        )
    for level, code, name, parent, region in scopes:
        rows = base if region is None else base.loc[base["region_code"] == region]
        block = _area_rows(profile_counts(rows, outcomes, indicators), outcomes, indicators, top)
        block.insert(0, "area_parent", parent)
        block.insert(0, "area_name", name)
        block.insert(0, "area_code", code)
        block.insert(0, "area_level", level)
        for o in outcomes:
            f = frames[o] if region is None else frames[o].loc[frames[o]["region_code"] == region]
            try:
                fit = fit_profile_model(
                    f,
                    o,
                    _adjust(data[o]),
                    min_count=s.min_count,
                    cluster=s.cluster,
                    name=f"{o}_profile_logit_{code}",
                )
            except (SparseLevelError, np.linalg.LinAlgError, ValueError) as err:
                notes.append(
                    f"{name}, {o}: profile ratios not estimated ({str(err).splitlines()[0]})"
                )
                continue
            if fit.residual_df < s.min_residual_df:
                notes.append(
                    f"{name}, {o}: profile ratios not released (residual degrees of freedom "
                    f"{fit.residual_df} below {s.min_residual_df})"
                )
                continue
            dfs.append(int(fit.residual_df))
            area_df[code] = min(area_df.get(code, int(fit.residual_df)), int(fit.residual_df))
            r = profile_ratios(fit, s.confidence).set_index(PROFILE)
            for src, dst in (
                ("ratio", "ratio"),
                ("ratio_low", "ratio_low"),
                ("ratio_high", "ratio_high"),
            ):
                block[f"{o}_{dst}"] = block[PROFILE].map(r[src]).astype(float).round(RATIO_DECIMALS)
        blocks.append(block)
    out = pd.concat(blocks, ignore_index=True)
    for o in outcomes:
        for c in ("ratio", "ratio_low", "ratio_high"):
            if f"{o}_{c}" not in out.columns:
                out[f"{o}_{c}"] = np.nan
    order = [
        "area_level",
        "area_code",
        "area_name",
        "area_parent",
        "row_type",
        PROFILE,
        "profile_parent",
        N_DEPRIVED,
        "children_n",
        *[f"{o}_n" for o in outcomes],
        *[f"{o}_{c}" for o in outcomes for c in ("ratio", "ratio_low", "ratio_high")],
    ]
    out = out[order]
    out.attrs["outcomes"] = tuple(outcomes)
    out.attrs["top"] = top
    out.attrs["residual_df"] = area_df  # the smallest of each area's profile models
    return out, notes, (min(dfs) if dfs else None)


def _fit(d: ModelData, outcome: str, exposure: tuple[str, ...], s: ModelSettings, name: str):
    adjust = _adjust(d)
    terms = list(dict.fromkeys([*exposure, *adjust]))
    keys = list(dict.fromkeys([*terms, s.cluster]))
    cells = binary_cells(d.frame, outcome, keys)
    return fit_binomial(
        cells,
        terms,
        link="logit",
        cluster=s.cluster,
        name=name,
        outcome=outcome,
        exposure_terms=exposure,
        adjust_terms=adjust,
    )


def attributable_fraction_table(
    data: Mapping[str, ModelData], s: ModelSettings
) -> tuple[pd.DataFrame, list[str], int | None]:
    """Model-based population attributable fractions (percent) of each outcome with
    their intervals, from the logit models of the models stage (no local-authority
    effects; errors clustered by ``s.cluster``): MDH (reference: not MDH), the
    deprivation count (reference: none deprived), each indicator in the mutually
    adjusted model (reference: not deprived in it, others as observed) and every
    indicator at once (reference: no deprivation). Returns the table, notes and the
    smallest residual degrees of freedom of its models."""
    rows, notes, dfs = [], [], []
    for o in [o for o in s.outcomes if o in data]:
        d = data[o]
        plans = [("mdh", ("mdh",), [("mdh", {"mdh": False}, "not MDH")])]
        if d.count_levels:
            plans.append(
                (
                    "count",
                    (COUNT,),
                    [(COUNT, {COUNT: d.count_levels[0]}, f"{d.count_levels[0]} indicators")],
                )
            )
        ind = tuple(d.indicators)
        plans.append(
            (
                "domains",
                ind,
                [(i, {i: False}, f"not deprived in {i}") for i in ind]
                + [("all indicators", dict.fromkeys(ind, False), "no indicator deprived")],
            )
        )
        for label, exposure, scenarios in plans:
            name = f"{o}_{label}_logit"
            try:
                fit = _fit(d, o, exposure, s, name)
            except (SparseLevelError, np.linalg.LinAlgError, ValueError) as err:
                notes.append(
                    f"{name}: attributable fractions not estimated ({str(err).splitlines()[0]})"
                )
                continue
            if fit.residual_df < s.min_residual_df:
                notes.append(f"{name}: not released (residual df {fit.residual_df})")
                continue
            dfs.append(int(fit.residual_df))
            for exp_name, ref, ref_words in scenarios:
                af = attributable_fraction(fit, ref, s.confidence)
                rows.append(
                    {
                        "outcome": o,
                        "exposure": exp_name,
                        "reference": ref_words,
                        "model": name,
                        "paf_pct": round(100 * af.paf, PAF_DECIMALS),
                        "paf_low_pct": round(100 * af.low, PAF_DECIMALS),
                        "paf_high_pct": round(100 * af.high, PAF_DECIMALS),
                        "children_n": int(fit.n_rows),
                        "events_n": round(fit.n_events),
                    }
                )
    cols = [
        "outcome",
        "exposure",
        "reference",
        "model",
        "paf_pct",
        "paf_low_pct",
        "paf_high_pct",
        "children_n",
        "events_n",
    ]
    out = pd.DataFrame(rows, columns=cols)
    out["conf_level"] = s.confidence
    return out, notes, (min(dfs) if dfs else None)


__all__ = [
    "ALL_CHILDREN",
    "attributable_fraction_table",
    "gradient_top",
    "group_of",
    "profile_parent",
    "profile_table",
    "subtotal_label",
]
