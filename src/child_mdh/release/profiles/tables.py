"""The local-area profile tables as they may be released.

:func:`profile_tables` computes every area's statistics
(:func:`child_mdh.aggregates.profiles.statistics.profile_statistics`) and protects them
(:func:`protect_profile_tables`): threshold, secondary suppression over 'MDH + other =
all' and 'local authorities = England', rounding as configured, statistics recomputed
from the protected counts by their formulas and emptied with their counts. Profiles
always apply secondary suppression (a 'round'-only mitigation is refused: a withheld
small count beside rounded margins would be bounded to a few values).
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from child_mdh.aggregates.profiles.measures import (
    GROUPS,
    KEY_COLUMNS,
    LEVELS,
    OUTCOMES,
    comparison_columns,
    count_column,
    interval_columns,
    outcome_backing,
    rate_column,
)
from child_mdh.aggregates.profiles.statistics import (
    DEFAULT_FUNNEL_RATE,
    ProfileInputError,
    add_labels,
    exposure_column,
    funnel_tables,
    profile_formulas,
    profile_statistics,
    table_indicators,
)
from child_mdh.contract.vocabulary import ENGLAND_CODE
from child_mdh.release.sdc import (
    ColumnMargin,
    CountSum,
    RowMargin,
    SDCConfig,
    TableSpec,
    protect_table,
)


def region_sums(area: pd.DataFrame, columns) -> tuple[CountSum, ...]:
    """Each region's count of the profile population (``profile children``, dimension
    ``area`` = the region code) as the sum of its local authorities' rows, for every
    count column: not published here, these are the unknowns that
    ``inequality/deprivation_profiles_by_region.csv`` declares its region rows to be
    (:func:`child_mdh.release.models.inequality.profile_children_sums`)."""
    if "region_code" not in area.columns or "area_level" not in area.columns:
        return ()
    las = area.loc[area["area_level"] == "local_authority", ["la_code", "region_code"]]
    las = las.dropna()
    members = las.groupby(las["region_code"].astype(str))["la_code"].agg(
        lambda v: tuple(sorted(map(str, v)))
    )
    counts = [c for c in columns if str(c).endswith("_n")]
    return tuple(
        CountSum("profile children", c, c, {"la_code": in_region}, at={"area": region})
        for region, in_region in members.items()
        for c in counts
    )


def area_table_spec(
    columns,
    weights: Mapping[str, float] | None = None,
    sums: tuple[CountSum, ...] = (),
    *,
    k: float | None = None,
    interval: str = "wald",
) -> TableSpec:
    """The disclosure declaration of ``area_statistics`` (counts, statistics, margins).

    With ``weights`` every numeric statistic is declared by its formula
    (:func:`profile_formulas`), so it is computed from the protected counts and the
    release audit can check it. Every statistic also names the counts it rests on:
    prevalence and H on MDH and all children; A and M0 also on every censored headcount
    (M0 with the others would give a suppressed one back); contributions on the censored
    headcounts; a rate on its events, its group's children (and, for referrals, the
    children referred); a rate ratio on both groups' counts; a comparison or funnel
    label on what its interval rests on; a design factor or a number of child-years on
    its group's children. Margins: MDH + other = all children, per outcome MDH + other
    = all, and local authorities add up to England; ``sums`` (:func:`region_sums`): the
    regions' counts of the same children, as sums of their authorities.
    """
    columns = list(columns)
    indicators = table_indicators(columns)
    censored = tuple(f"censored_{i}_n" for i in indicators)
    derived: dict[str, tuple[str, ...]] = {}

    def declare(stat: str, backing: tuple[str, ...]) -> None:
        for col in [
            stat,
            *interval_columns(stat),
            *comparison_columns(stat),
            f"{stat}_lower_95",
            f"{stat}_upper_95",
            f"{stat}_funnel",
            *[f"{stat}_deft_{suffix}" for suffix, _ in LEVELS],
        ]:
            if col in columns:
                derived[col] = backing

    declare("mdh_pct", ("mdh_n", "children_n"))
    declare("H", ("mdh_n", "children_n"))
    declare("A", ("mdh_n", "children_n", *censored))
    declare("M0", ("mdh_n", "children_n", *censored))
    for i in indicators:
        declare(f"deprived_{i}_pct", (f"deprived_{i}_n", "children_n"))
        declare(f"censored_{i}_pct", (f"censored_{i}_n", "children_n"))
        declare(f"contribution_{i}_pct", ("mdh_n", "children_n", *censored))
    margins: list = [ColumnMargin(("mdh_n", "non_mdh_n"), "children_n")]
    for o in OUTCOMES:
        if count_column(o.key, "all") not in columns:
            continue
        for gr in GROUPS:
            declare(rate_column(o.key, gr), outcome_backing(o, gr))
            if exposure_column(o.key, gr) in columns:
                derived[exposure_column(o.key, gr)] = outcome_backing(o, gr)
        declare(
            f"{o.key}_rate_ratio",
            tuple(dict.fromkeys(outcome_backing(o, "mdh") + outcome_backing(o, "non_mdh"))),
        )
        margins.append(
            ColumnMargin(
                (count_column(o.key, "mdh"), count_column(o.key, "non_mdh")),
                count_column(o.key, "all"),
            )
        )
    margins.append(RowMargin("la_code", total=ENGLAND_CODE))
    formulas = (
        profile_formulas(columns, weights, k=k, interval=interval) if weights is not None else {}
    )
    count_cols = tuple(c for c in columns if str(c).endswith("_n"))
    return TableSpec(
        key_columns=KEY_COLUMNS,
        count_columns=count_cols,
        derived=derived,
        formulas=formulas,
        margins=tuple(margins),
        population="profile children",
        dimensions={"la_code": "area"},
        sums=sums,
    )


LEFT_OUT_SPEC = TableSpec(
    key_columns=("la_code", "la_name", "area_level"),
    margins=(RowMargin("la_code", total=ENGLAND_CODE),),
)


FUNNEL_LIMIT_SPEC = TableSpec(
    key_columns=("statistic",),
    not_counts=("denominator", "lower_95", "upper_95", "lower_99_8", "upper_99_8", "baseline"),
)


def table_specs(tables: Mapping[str, pd.DataFrame]) -> dict[str, TableSpec]:
    """The disclosure declaration of each profile table, by table name."""
    specs = {
        "children_left_out": LEFT_OUT_SPEC,
        "funnel_limits_prevalence": FUNNEL_LIMIT_SPEC,
        "funnel_limits_rate": FUNNEL_LIMIT_SPEC,
    }
    if "area_statistics" in tables:
        area = tables["area_statistics"]
        weights = area.attrs.get("weights")
        if weights is None:
            raise ProfileInputError(
                "area_statistics carries no index weights (table.attrs['weights']), so its "
                "statistics cannot be declared as formulas of the protected counts; build "
                "it with profile_statistics"
            )
        specs["area_statistics"] = area_table_spec(
            area.columns,
            weights,
            region_sums(area, area.columns),
            k=area.attrs.get("k"),
            interval=area.attrs.get("interval", "wald"),
        )
    return specs


def rounded_statistics(tables: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The tables with the funnel limits rounded to 3 decimals; every other table as it
    is (the statistics of ``area_statistics`` carry their published decimals in their
    formulas, :func:`profile_formulas`, and are computed when the table is protected)."""
    out = {}
    for name, df in tables.items():
        if name.startswith("funnel_limits"):
            df = df.copy()
            num = [
                c for c in df.columns if pd.api.types.is_float_dtype(df[c]) and c != "denominator"
            ]
            df[num] = df[num].round(3)
        out[name] = df
    return out


def _release_config(sdc_config) -> SDCConfig:
    config = SDCConfig.from_mapping(sdc_config)
    if not config.suppresses_secondary:
        raise ProfileInputError(
            "disclosure.mitigation is 'round': without secondary suppression a withheld small "
            "count beside rounded margins is bounded to a few values; set mitigation to "
            "'both' (suppression then rounding) or 'suppress'."
        )
    return config


def protect_profile_tables(
    statistics: Mapping[str, pd.DataFrame], sdc_config
) -> dict[str, pd.DataFrame]:
    """The tables of :func:`profile_statistics` as they may be released.

    Each table protected by :func:`child_mdh.release.sdc.protect_table` with its declaration
    (:func:`table_specs`): cells below the threshold emptied, secondary suppression so no
    emptied cell follows from the margins, counts rounded (totals as sums of their
    rounded parts), every statistic recomputed from the protected counts by its formula
    and emptied with a count behind it; then the labels (:func:`add_labels`) and the
    funnel limits (:func:`funnel_tables`) from the protected table. Raises for the
    'round'-only mitigation.
    """
    config = _release_config(sdc_config)
    ready = rounded_statistics(statistics)
    specs = table_specs(ready)
    area = ready["area_statistics"]
    funnel_rate = area.attrs.get("funnel_rate", DEFAULT_FUNNEL_RATE)
    protected = protect_table(
        area, specs["area_statistics"], config, table="profiles/area_statistics"
    ).table
    out = {"area_statistics": add_labels(protected, funnel_rate)}
    out["children_left_out"] = protect_table(
        ready["children_left_out"],
        specs["children_left_out"],
        config,
        table="profiles/children_left_out",
    ).table
    out.update(rounded_statistics(funnel_tables(out["area_statistics"], funnel_rate)))
    return out


def profile_tables(
    children: pd.DataFrame,
    areas: pd.DataFrame,
    weights: Mapping[str, float],
    k: float,
    sdc_config,
    *,
    funnel_rate: tuple[str, str] = DEFAULT_FUNNEL_RATE,
) -> dict[str, pd.DataFrame]:
    """All local authorities' profile tables in one vectorised pass, disclosure-protected.

    :func:`profile_statistics` then :func:`protect_profile_tables`; the per-area pages
    are rendered from these tables only (:func:`child_mdh.release.profiles.build.build_profiles`).
    """
    return protect_profile_tables(
        profile_statistics(children, areas, weights, k, funnel_rate=funnel_rate), sdc_config
    )
