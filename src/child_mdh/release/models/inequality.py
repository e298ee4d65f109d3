"""The release of deprivation profiles, attributable fractions and inequality gradients.

Reads the children table, the person-level Child-MDH identification and the areas from
``results/secure/``, builds the tables
(:mod:`child_mdh.aggregates.models.inequality_tables`) and writes to
``results/release/inequality/`` only through :mod:`child_mdh.release.sdc`:

==============================  =========================================================
``deprivation_profiles.csv``    England: every combination of the indicators, the
                                subtotals by number of deprived indicators and the
                                total; children, share, each outcome's rate (Wilson
                                95%) and adjusted odds ratio against no deprivation,
                                ranked
``deprivation_profiles_by_``    the same for each region, with England as the
``region.csv``                  declared total of the regions
``attributable_fractions.csv``  model-based population attributable fractions of each
                                outcome (MDH, deprivation count, each indicator, all)
``inequality_gradients.csv``    rates by number of deprived indicators (England) with
                                95% and 99.8% Wilson intervals: the subtotal rows of
                                the profiles table as published
``inequality_indices.csv``      slope and relative indices of inequality over the
                                gradient, from its published counts
==============================  =========================================================

The profile tables declare their margins (profiles add up to their subtotal by number of
deprived indicators, subtotals to the area's total; in the regional table regions to
England), so secondary
suppression and rounding protect it as one table; its rates are formulas of the
protected counts, its ratios are emptied with a count behind them, and the shares and
ranks are computed from the protected table. The gradient is a view of the protected
profile rows (no new counts), and the SII and RII are computed from its published
counts, so they pin nothing the table does not. Local authorities are not released:
32 profiles per authority leave most cells below the threshold, and the authority
margins would then cost most of the region cells as secondary suppressions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from child_mdh.aggregates.formulas import Formula, apply_formulas
from child_mdh.aggregates.index.alkire_foster import TOLERANCE
from child_mdh.aggregates.models import tables as mt
from child_mdh.aggregates.models.inequality import (
    N_DEPRIVED,
    NO_DEPRIVATION,
    PROFILE,
    SEPARATOR,
    profile_levels,
    slope_index,
)
from child_mdh.aggregates.models.inequality_tables import (
    ALL_CHILDREN,
    attributable_fraction_table,
    profile_table,
)
from child_mdh.aggregates.profiles.measures import EXPOSURE_COLUMN
from child_mdh.aggregates.profiles.measures import OUTCOMES as PROFILE_OUTCOMES
from child_mdh.contract.vocabulary import ENGLAND_CODE
from child_mdh.release.models.outputs import release_settings
from child_mdh.release.models.repeats import (
    england_counts,
    model_repeats,
    published_repeats,
)
from child_mdh.release.sdc import CountSum, RowMargin, TableSpec, write_release_table

FOLDER = "inequality"
PER = 10_000
RATE_DECIMALS = 1
LEVELS = (("95", 0.95), ("99_8", 0.998))


def _rate_formulas(outcomes, levels=LEVELS[:1]) -> dict[str, Formula]:
    f: dict[str, Formula] = {}
    for o in outcomes:
        x = f"{o}_n"
        f[f"{o}_rate"] = Formula(f"{PER} * {x} / children_n", RATE_DECIMALS)
        for suffix, level in levels:
            f[f"{o}_rate_lower_{suffix}"] = Formula(
                f"{PER} * wilson_lower({x}, children_n, {level!r})", RATE_DECIMALS
            )
            f[f"{o}_rate_upper_{suffix}"] = Formula(
                f"{PER} * wilson_upper({x}, children_n, {level!r})", RATE_DECIMALS
            )
    return f


def index_sums(weights: Mapping[str, float] | None, k: float | None) -> tuple[CountSum, ...]:
    """The index counts (``index_by_area.csv``, population ``index``) that are sums of an
    area's profile rows: children in the index (the area's total row), MDH children (the
    profiles whose weighted indicators reach the cut-off ``k``), and per indicator the
    deprived (profiles with it) and censored (MDH profiles with it) children. None
    without the index's weights and cut-off."""
    if not weights or k is None:
        return ()
    indicators = list(weights)
    levels = profile_levels(indicators)
    members = {p: set() if p == NO_DEPRIVATION else set(p.split(SEPARATOR)) for p in levels}
    mdh = [p for p in levels if sum(float(weights[i]) for i in members[p]) >= k - TOLERANCE]

    def total(column: str, profiles) -> CountSum:
        return CountSum("index", column, "children_n", {PROFILE: tuple(profiles)}, ("area_code",))

    out = [total("index_n", [ALL_CHILDREN]), total("mdh_n", mdh)]
    for i in indicators:
        out.append(total(f"deprived_{i}_n", [p for p in levels if i in members[p]]))
        out.append(total(f"censored_{i}_n", [p for p in mdh if i in members[p]]))
    return tuple(out)


def profile_children_sums(
    weights: Mapping[str, float] | None, k: float | None, outcomes
) -> tuple[CountSum, ...]:
    """The counts of the local profiles' population (``profiles/area_statistics.csv``,
    population ``profile children``) that are sums of an area's profile rows: children
    (the 'all children' row), MDH and other children (the profiles that reach the
    cut-off ``k`` and the others), deprived and censored children per indicator, and for
    each outcome the children with it among all, MDH and other children. England's are
    published in the local profiles; a region's are the sums of its authorities there
    (:func:`child_mdh.release.profiles.tables.region_sums`). Only for the same children:
    :func:`same_children_as_local_profiles`."""
    if not weights or k is None:
        return ()
    levels = profile_levels(list(weights))
    members = {p: set() if p == NO_DEPRIVATION else set(p.split(SEPARATOR)) for p in levels}
    mdh = [p for p in levels if sum(float(weights[i]) for i in members[p]) >= k - TOLERANCE]
    other = [p for p in levels if p not in mdh]
    keys = {o.column: o.key for o in PROFILE_OUTCOMES if not o.events}
    groups = {"all": [ALL_CHILDREN], "mdh": mdh, "non_mdh": other}

    def total(column: str, parts: str, profiles) -> CountSum:
        return CountSum(
            "profile children", column, parts, {PROFILE: tuple(profiles)}, ("area_code",)
        )

    out = [
        total(column, "children_n", groups[g])
        for g, column in (("all", "children_n"), ("mdh", "mdh_n"), ("non_mdh", "non_mdh_n"))
    ]
    for i in weights:
        out.append(total(f"deprived_{i}_n", "children_n", [p for p in levels if i in members[p]]))
        out.append(total(f"censored_{i}_n", "children_n", [p for p in mdh if i in members[p]]))
    for o in outcomes:
        if o in keys:
            out += [total(f"{keys[o]}_{g}_n", f"{o}_n", groups[g]) for g in groups]
    return tuple(out)


def same_children_as_local_profiles(
    children: pd.DataFrame, indicators, weights: Mapping[str, float] | None, outcomes
) -> bool:
    """True when the profiles count the local profiles' children: the same indicators
    as the index's weights, and every child with each of them and each of ``outcomes``
    known has every outcome of the local profiles (and its exposure) known, and the
    reverse (:func:`child_mdh.aggregates.profiles.statistics.profile_statistics`)."""
    if not weights or set(weights) != set(indicators):
        return False
    theirs = [o.column for o in PROFILE_OUTCOMES] + [EXPOSURE_COLUMN]
    if any(c not in children.columns for c in [*indicators, *outcomes, *theirs]):
        return False
    known = children[list(indicators)].notna().all(axis=1)
    mine = known & children[list(outcomes)].notna().all(axis=1)
    local = known & children[theirs].notna().all(axis=1)
    return bool((mine == local).all())


def profile_spec(
    outcomes,
    residual_df: int | None,
    *,
    regions: bool = False,
    sums: tuple[CountSum, ...] = (),
) -> TableSpec:
    """The disclosure declaration of ``deprivation_profiles`` (England) or, with
    ``regions``, of ``deprivation_profiles_by_region`` (England and the regions, which
    add up to it). An area's rows in both tables are the same counts (population
    ``deprivation profiles``); ``sums`` (:func:`index_sums`) tells the release audit
    which index counts they add up to."""
    derived: dict[str, tuple[str, ...]] = {"share_pct": ("children_n",)}
    for o in outcomes:
        for c in ("ratio", "ratio_low", "ratio_high"):
            derived[f"{o}_{c}"] = ("children_n", f"{o}_n")
    return TableSpec(
        key_columns=("area_code", PROFILE),
        count_columns=("children_n", *[f"{o}_n" for o in outcomes]),
        derived=derived,
        formulas=_rate_formulas(outcomes),
        margins=(
            RowMargin(PROFILE, parent="profile_parent", within=("area_code",)),
            *([RowMargin("area_code", parent="area_parent", within=(PROFILE,))] if regions else []),
        ),
        not_counts=(N_DEPRIVED, *[f"{o}_rank" for o in outcomes]),
        residual_df=residual_df,
        population="deprivation profiles",
        dimensions={"area_code": "area", PROFILE: "profile"},
        sums=sums,
    )


def gradient_sums(outcomes, profiles: Mapping[str, str]) -> tuple[CountSum, ...]:
    """Each count of a gradient row is the count of England's profile row it repeats
    (``profiles``: the row's ``deprived_indicators`` label -> the profile's name in
    ``deprivation_profiles.csv``): one-part sums, so the release audit reads the two
    cells as one number."""
    return tuple(
        CountSum(
            "deprivation profiles",
            column,
            column,
            {N_DEPRIVED: (label,)},
            at={"area": ENGLAND_CODE, "profile": profile},
            view=True,
        )
        for label, profile in profiles.items()
        for column in ("children_n", *[f"{o}_n" for o in outcomes])
    )


def gradient_spec(outcomes, profiles: Mapping[str, str] | None = None) -> TableSpec:
    """The disclosure declaration of ``inequality_gradients`` (a view of the profiles):
    with ``profiles`` (the attribute of :func:`gradient_view`), each row is declared to
    be England's profile row it repeats (:func:`gradient_sums`)."""
    return TableSpec(
        key_columns=(N_DEPRIVED,),
        count_columns=("children_n", *[f"{o}_n" for o in outcomes]),
        formulas=_rate_formulas(outcomes, LEVELS),
        margins=(RowMargin(N_DEPRIVED, total="all"),),
        sums=gradient_sums(outcomes, profiles or {}),
    )


INDEX_SPEC = TableSpec(
    key_columns=("outcome", "statistic"),
    derived=dict.fromkeys(("value", "lower_95", "upper_95"), ("children_n", "events_n")),
)


def index_spec(indices: pd.DataFrame) -> TableSpec:
    """:data:`INDEX_SPEC` with each row's counts declared to be those of England's 'all
    children' row of ``deprivation_profiles.csv`` (the gradient's total, which they
    repeat): children and the children with the row's outcome."""
    sums = tuple(
        CountSum(
            "deprivation profiles",
            total,
            part,
            {"outcome": (o,), "statistic": (st,)},
            at={"area": ENGLAND_CODE, "profile": ALL_CHILDREN},
            view=True,
        )
        for o, st in zip(indices["outcome"], indices["statistic"])
        for total, part in (("children_n", "children_n"), (f"{o}_n", "events_n"))
    )
    return replace(INDEX_SPEC, sums=sums)


def paf_spec(residual_df: int | None) -> TableSpec:
    """The disclosure declaration of ``attributable_fractions``."""
    return TableSpec(
        key_columns=("outcome", "exposure"),
        derived=dict.fromkeys(
            ("paf_pct", "paf_low_pct", "paf_high_pct"), ("children_n", "events_n")
        ),
        not_counts=("conf_level",),
        residual_df=residual_df,
    )


def _with_rates(profiles: pd.DataFrame, outcomes) -> pd.DataFrame:
    """The profiles table with its share and rate columns in place (the rates are
    computed again from the protected counts when the table is protected)."""
    t = apply_formulas(profiles.assign(share_pct=np.nan), _rate_formulas(outcomes))
    counts = ["children_n", *[f"{o}_n" for o in outcomes]]
    stats = [
        f"{o}_{c}"
        for o in outcomes
        for c in ("rate", "rate_lower_95", "rate_upper_95", "ratio", "ratio_low", "ratio_high")
    ]
    keys = [c for c in t.columns if c not in counts + stats + ["share_pct"]]
    return t[[*keys, *counts, "share_pct", *stats]]


def shares_and_ranks(table: pd.DataFrame, outcomes) -> pd.DataFrame:
    """Each row's share of its area's children (percent) and, per area and outcome, the
    rank of each profile's published ratio (1 the highest), from the protected table."""
    out = table.copy()
    total = out.loc[out[PROFILE] == ALL_CHILDREN].set_index("area_code")["children_n"]
    denom = out["area_code"].map(total).astype(float)
    children = out["children_n"].astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["share_pct"] = (100 * children / denom).round(1)
    for o in outcomes:
        ratio = out[f"{o}_ratio"].astype(float).where(out["row_type"] == "profile")
        rank = ratio.groupby(out["area_code"]).rank(ascending=False, method="min")
        out.insert(out.columns.get_loc(f"{o}_ratio_high") + 1, f"{o}_rank", rank.astype("Int64"))
    return out


def gradient_view(profiles: pd.DataFrame, outcomes) -> pd.DataFrame:
    """England's rows by number of deprived indicators (no deprivation, the subtotals,
    every indicator unless the subtotals are top-coded, all children) of the released
    profiles table, with 95% and 99.8% Wilson intervals of each outcome's rate computed
    from those published counts; ``attrs["profiles"]`` maps each row's label to the
    profile row it repeats. ``deprived_indicators`` is ``0``, ``1``, ... (``3+``
    for a top-coded group) or ``all``."""
    eng = profiles.loc[profiles["area_code"] == ENGLAND_CODE]
    kind = eng["row_type"]
    d = int(eng.loc[kind == "profile", N_DEPRIVED].max())
    subs = eng.loc[kind == "subtotal"]
    top_coded = subs[PROFILE].str.contains("or more").any()
    ends = [0] if top_coded else [0, d]
    pick = kind.isin(["subtotal", "total"]) | ((kind == "profile") & eng[N_DEPRIVED].isin(ends))
    g = eng.loc[pick, [PROFILE, "row_type", N_DEPRIVED, "children_n"]]
    g = g.join(eng.loc[pick, [f"{o}_n" for o in outcomes]])
    g = g.sort_values(N_DEPRIVED, na_position="last")
    g[N_DEPRIVED] = [
        "all" if t == "total" else f"{int(k)}{'+' if 'or more' in p else ''}"
        for p, t, k in zip(g[PROFILE], g["row_type"], g[N_DEPRIVED])
    ]
    repeats = dict(zip(g[N_DEPRIVED], g[PROFILE]))
    g = g.drop(columns=["row_type", PROFILE]).reset_index(drop=True)
    for c in g.columns[1:]:
        g[c] = g[c].astype("Int64")
    out = apply_formulas(g, _rate_formulas(outcomes, LEVELS))
    out.attrs["profiles"] = repeats
    return out


def _finite(value: float, digits: int) -> float:
    return round(float(value), digits) if np.isfinite(value) else np.nan


def inequality_indices(gradient: pd.DataFrame, outcomes, *, seed: int = 2021) -> pd.DataFrame:
    """SII (per 10,000 children) and RII of each outcome over the groups of ``gradient``
    (0 to all indicators deprived), from its published counts; an outcome with a group
    withheld is left out."""
    rows = []
    groups = gradient.loc[gradient[N_DEPRIVED] != "all"]
    total = gradient.loc[gradient[N_DEPRIVED] == "all"].iloc[0]
    for o in outcomes:
        x, n = groups[f"{o}_n"], groups["children_n"]
        if x.isna().any() or n.isna().any() or (n <= 0).any():
            continue
        r = slope_index(x.to_numpy(float), n.to_numpy(float), seed=seed)
        common = {"outcome": o, "children_n": total["children_n"], "events_n": total[f"{o}_n"]}
        rows.append(
            {
                **common,
                "statistic": f"sii_per_{PER}",
                "value": _finite(PER * r.sii, 1),
                "lower_95": _finite(PER * r.sii_low, 1),
                "upper_95": _finite(PER * r.sii_high, 1),
            }
        )
        rows.append(
            {
                **common,
                "statistic": "rii",
                "value": _finite(r.rii, 3),
                "lower_95": _finite(r.rii_low, 3),
                "upper_95": _finite(r.rii_high, 3),
            }
        )
    cols = ["outcome", "statistic", "value", "lower_95", "upper_95", "children_n", "events_n"]
    out = pd.DataFrame(rows, columns=cols)
    for c in ("children_n", "events_n"):
        out[c] = out[c].astype("Int64")
    return out


METHODS = {
    "profiles": (
        "every combination of the index's indicators (deprivation profile), with subtotals "
        "by number of deprived indicators and the area's total, for England and each "
        "region; rates per 10,000 children with 95% Wilson intervals; ratio columns are "
        "odds ratios against the profile with no deprivation from a logit model of the "
        "outcome on the profile and the models' covariates, fitted on covariate-pattern "
        "cells, errors clustered by local authority (CR1), 95% normal intervals; profiles "
        "below the threshold's children, events or non-events share one pooled level "
        "and have no ratio; a region's ratios are released only when its residual "
        "degrees of freedom reach the minimum; rank 1 is the highest published ratio of "
        "the area; share_pct is the share of the area's children. Associations, not "
        "effects. Local authorities are not released (most cells would be withheld)"
    ),
    "regions": (
        "England and each region, the regions adding up to England: England's counts "
        "here are the sums of the regions' rounded counts (England's own rounding is in "
        "deprivation_profiles.csv); each region's ratios from a model of that region alone"
    ),
    "fractions": (
        "model-based population attributable fractions (Greenland & Drescher 1993): "
        "100 x (1 - expected events with every child at the reference level, other "
        "covariates as observed / expected events as observed), from logit models on "
        "covariate-pattern cells (no local-authority effects), 95% delta-method interval "
        "on log(1 - PAF) with the cluster-robust (CR1, by local authority) covariance. "
        "The share of contacts associated with the exposure under the model, not the "
        "share the exposure caused or that removing it would prevent"
    ),
    "gradients": (
        "rates per 10,000 children by number of deprived indicators (England), with 95% "
        "and 99.8% Wilson score intervals (Fingertips method); the rows of "
        "deprivation_profiles.csv as published"
    ),
    "indices": (
        "slope index of inequality (SII, per 10,000 children) and relative index of "
        "inequality (RII) over the groups 0 to all indicators deprived, ordered from least "
        "to most deprived: ridit scores at each group's cumulative population midpoint, "
        "least squares of the rate on the ridit weighted by the groups' children, SII the "
        "slope, RII the fitted rate at ridit 1 over that at ridit 0 (Low & Low 2004; PHE "
        "PHEindicatormethods phe_sii); 95% intervals by simulation (100,000 draws of each "
        "group's rate from a normal distribution with the standard error of its 95% "
        "Wilson interval); computed from the published counts of inequality_gradients.csv"
    ),
}


def inequality_outputs(
    children: pd.DataFrame,
    settings,
    release_dir: Path,
    manifest,
    child_index: pd.DataFrame | None = None,
    areas: pd.DataFrame | None = None,
    log=None,
    profile_counts: Mapping[str, float] | None = None,
) -> dict[str, str]:
    """Build and write the four tables to ``release_dir/inequality`` through disclosure
    control; return the manifest uids. ``settings`` and ``profile_counts`` as for
    :func:`child_mdh.release.models.outputs.model_outputs`."""
    settings_index = None if isinstance(settings, mt.ModelSettings) else settings.get("index")
    settings = release_settings(settings, manifest)
    data, s, notes = mt.analysis_data(children, settings, child_index, outcomes=settings.outcomes)
    out = Path(release_dir) / FOLDER
    written: dict[str, str] = {}

    profiles, more, _ = profile_table(data, s, areas)
    notes += more
    outcomes = list(profiles.attrs["outcomes"])
    area_df = profiles.attrs["residual_df"]
    profiles = _with_rates(profiles, outcomes)
    index = settings_index if isinstance(settings_index, Mapping) else {}
    sums = index_sums(index.get("weights"), index.get("k"))
    if same_children_as_local_profiles(children, s.indicators, index.get("weights"), outcomes):
        sums += profile_children_sums(index.get("weights"), index.get("k"), outcomes)
    # England alone: its counts rounded directly (as the sums of rounded region cells they
    # would drift by up to 2 per region); the regions with England as their total
    england = profiles.loc[profiles["area_code"] == ENGLAND_CODE].reset_index(drop=True)
    written["profiles"] = write_release_table(
        england,
        out / "deprivation_profiles.csv",
        profile_spec(outcomes, area_df.get(ENGLAND_CODE), sums=sums),
        manifest,
        method=METHODS["profiles"],
        after_protect=lambda t: shares_and_ranks(t, outcomes),
        xlsx=True,
        title="Deprivation profiles, England: children and their social care contact",
    )["uid"]
    released = pd.read_csv(out / "deprivation_profiles.csv", dtype={"area_parent": "string"})
    if profiles["area_code"].nunique() > 1:
        written["profiles_by_region"] = write_release_table(
            profiles,
            out / "deprivation_profiles_by_region.csv",
            profile_spec(outcomes, min(area_df.values(), default=None), regions=True, sums=sums),
            manifest,
            method=METHODS["profiles"] + "; " + METHODS["regions"],
            after_protect=lambda t: shares_and_ranks(t, outcomes),
            xlsx=True,
            title="Deprivation profiles by region: children and their social care contact",
        )["uid"]

    fractions, more, df_fractions = attributable_fraction_table(data, s)
    notes += more
    if not fractions.empty:
        spec = paf_spec(df_fractions)
        exact = england_counts(children, s.indicators, child_index)
        if profile_counts is not None:
            fractions, sums = published_repeats(fractions, spec.key_columns, exact, profile_counts)
        else:
            sums = model_repeats(fractions, spec.key_columns, exact)
        spec = replace(spec, sums=sums)
        written["fractions"] = write_release_table(
            fractions,
            out / "attributable_fractions.csv",
            spec,
            manifest,
            output_type="regression",
            method=METHODS["fractions"],
            xlsx=True,
            title="Social care contact associated with household deprivation "
            "(population attributable fractions)",
        )["uid"]

    gradient = gradient_view(released, outcomes)
    written["gradients"] = write_release_table(
        gradient,
        out / "inequality_gradients.csv",
        gradient_spec(outcomes, gradient.attrs["profiles"]),
        manifest,
        method=METHODS["gradients"],
        mitigate=False,
        xlsx=True,
        title="Social care contact by number of deprived indicators, England",
        additive=True,
    )["uid"]
    indices = inequality_indices(gradient, outcomes, seed=s.seed)
    if not indices.empty:
        written["indices"] = write_release_table(
            indices,
            out / "inequality_indices.csv",
            index_spec(indices),
            manifest,
            method=METHODS["indices"],
            mitigate=False,
            xlsx=True,
            title="Slope and relative indices of inequality in social care contact",
        )["uid"]
    if log is not None:
        for note in notes:
            log.info("note: %s", note)
    return written


__all__ = [
    "FOLDER",
    "gradient_spec",
    "gradient_view",
    "index_sums",
    "inequality_indices",
    "inequality_outputs",
    "paf_spec",
    "profile_spec",
    "shares_and_ranks",
]
