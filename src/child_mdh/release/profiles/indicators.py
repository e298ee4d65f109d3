"""The profile as one row per area and indicator, beside England (a Fingertips-style export).

Built only from the disclosure-protected ``area_statistics`` and ``children_left_out``
tables, so every value is one already checked there; the long form is what local
analysts filter and pivot in Excel and what the pages show in their data tables.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from child_mdh.aggregates.profiles.measures import (
    GROUP_DENOMINATOR,
    GROUP_LABELS,
    GROUPS,
    OUTCOMES,
    comparison_columns,
    count_column,
    indicator_label,
    interval_columns,
    rate_column,
)
from child_mdh.aggregates.profiles.statistics import DECIMALS, table_indicators
from child_mdh.contract.vocabulary import ENGLAND_CODE
from child_mdh.release.sdc import TableSpec

LONG_COLUMNS = (
    "la_code",
    "la_name",
    "area_level",
    "section",
    "indicator",
    "indicator_label",
    "group",
    "unit",
    "count_n",
    "denominator_n",
    "value",
    "lower_95",
    "upper_95",
    "lower_99_8",
    "upper_99_8",
    "vs_england_95",
    "vs_england_99_8",
    "funnel",
    "england_count_n",
    "england_denominator_n",
    "england_value",
)

SECTIONS = {
    "children": "Children in the profile",
    "index": "Child-MDH index",
    "domains": "Deprivation indicators",
    "contacts": "Contacts with children's social care",
}


@dataclass(frozen=True)
class IndicatorDef:
    """One indicator of the long table: where its values sit in ``area_statistics``."""

    section: str
    indicator: str
    label: str
    group: str
    unit: str
    count: str | None
    denominator: str | None
    value: str | None
    decimals: int = 1
    intervals: bool = True
    ratio: bool = False
    funnel: str | None = None


def indicator_definitions(columns) -> list[IndicatorDef]:
    """Every indicator the ``area_statistics`` columns hold, in page order."""
    ordered = list(columns)
    columns = set(ordered)
    defs = [
        IndicatorDef(
            "children",
            "children",
            "Children in the profile",
            "all",
            "children",
            "children_n",
            None,
            None,
        ),
        IndicatorDef(
            "children",
            "left_out",
            "Children left out (an indicator or outcome unknown)",
            "all",
            "children",
            "left_out_n",
            None,
            None,
        ),
        IndicatorDef(
            "index",
            "mdh_prevalence",
            "Children in multidimensionally disadvantaged households (Child-MDH prevalence)",
            "all",
            "%",
            "mdh_n",
            "children_n",
            "mdh_pct",
            DECIMALS["pct"],
            funnel="mdh_pct_funnel",
        ),
        IndicatorDef(
            "index",
            "H",
            "Headcount ratio H",
            "all",
            "proportion",
            "mdh_n",
            "children_n",
            "H",
            DECIMALS["af"],
        ),
        IndicatorDef(
            "index",
            "A",
            "Intensity A (average share of weighted indicators among MDH children)",
            "mdh",
            "proportion",
            "mdh_n",
            "children_n",
            "A",
            DECIMALS["af"],
        ),
        IndicatorDef(
            "index",
            "M0",
            "Adjusted headcount ratio M0",
            "all",
            "proportion",
            "mdh_n",
            "children_n",
            "M0",
            DECIMALS["af"],
        ),
    ]
    for ind in table_indicators(ordered):
        name = indicator_label(ind)
        defs += [
            IndicatorDef(
                "domains",
                f"deprived_{ind}",
                f"{name}: deprived (uncensored headcount)",
                "all",
                "%",
                f"deprived_{ind}_n",
                "children_n",
                f"deprived_{ind}_pct",
                DECIMALS["pct"],
            ),
            IndicatorDef(
                "domains",
                f"censored_{ind}",
                f"{name}: MDH and deprived (censored headcount)",
                "all",
                "%",
                f"censored_{ind}_n",
                "children_n",
                f"censored_{ind}_pct",
                DECIMALS["pct"],
            ),
            IndicatorDef(
                "domains",
                f"contribution_{ind}",
                f"{name}: contribution to M0",
                "mdh",
                "%",
                f"censored_{ind}_n",
                "children_n",
                f"contribution_{ind}_pct",
                DECIMALS["pct"],
                intervals=False,
            ),
        ]
    for o in OUTCOMES:
        if count_column(o.key, "all") not in columns:
            continue
        for gr in GROUPS:
            col = rate_column(o.key, gr)
            defs.append(
                IndicatorDef(
                    "contacts",
                    f"{o.key}_rate",
                    o.label,
                    gr,
                    o.unit,
                    count_column(o.key, gr),
                    GROUP_DENOMINATOR[gr],
                    col,
                    DECIMALS["rate"],
                    funnel=f"{col}_funnel" if f"{col}_funnel" in columns else None,
                )
            )
        defs.append(
            IndicatorDef(
                "contacts",
                f"{o.key}_rate_ratio",
                f"{o.label}: rate ratio, MDH / other children",
                "mdh",
                "ratio",
                count_column(o.key, "mdh"),
                "mdh_n",
                f"{o.key}_rate_ratio",
                DECIMALS["ratio"],
                ratio=True,
            )
        )
    return defs


def _column(df: pd.DataFrame, name: str | None, dtype: str = "float64") -> pd.Series:
    if name is None or name not in df.columns:
        return pd.Series(np.nan if dtype == "float64" else pd.NA, index=df.index, dtype=dtype)
    return df[name].astype(dtype)


def long_indicators(tables, la_codes=None) -> pd.DataFrame:
    """One row per area and indicator from the protected profile tables.

    ``tables``: the dict of :func:`~child_mdh.release.profiles.tables.profile_tables` (at least
    ``area_statistics``; ``children_left_out`` adds the left-out row). ``la_codes``
    limits the areas (England included when listed). Columns: ``LONG_COLUMNS``; the
    England columns repeat England's count, denominator and value on every row.
    """
    wide = tables["area_statistics"].reset_index(drop=True)
    if "children_left_out" in tables:
        left = tables["children_left_out"][["la_code", "left_out_n"]]
        wide = wide.merge(left, on="la_code", how="left", validate="one_to_one")
    england = wide[wide["la_code"] == ENGLAND_CODE]
    if len(england) != 1:
        raise ValueError(
            f"area_statistics: expected one England row ({ENGLAND_CODE}), "
            f"found {len(england)}; pass the tables of profile_tables"
        )
    rows = wide if la_codes is None else wide[wide["la_code"].isin(list(la_codes))]
    parts = []
    for order, d in enumerate(indicator_definitions(wide.columns)):  # ~50 indicators
        if d.count not in wide.columns:
            continue
        bounds = interval_columns(d.value) if d.value and d.intervals else [None] * 4
        if d.ratio:
            bounds = [f"{d.value}_lower_95", f"{d.value}_upper_95", None, None]
        vs = comparison_columns(d.value) if d.value else [None, None]
        part = pd.DataFrame(
            {
                "la_code": rows["la_code"].astype("str"),
                "la_name": rows["la_name"].astype("str"),
                "area_level": rows["area_level"].astype("str"),
                "section": SECTIONS[d.section],
                "indicator": d.indicator,
                "indicator_label": d.label,
                "group": GROUP_LABELS[d.group],
                "unit": d.unit,
                "count_n": _column(rows, d.count, "Float64"),
                "denominator_n": _column(rows, d.denominator, "Float64"),
                "value": _column(rows, d.value),
                **{
                    name: _column(rows, b)
                    for name, b in zip(("lower_95", "upper_95", "lower_99_8", "upper_99_8"), bounds)
                },
                **{
                    name: _column(rows, c, "str")
                    for name, c in zip(("vs_england_95", "vs_england_99_8"), vs)
                },
                "funnel": _column(rows, d.funnel, "str"),
                "england_count_n": _column(england, d.count, "Float64").iloc[0],
                "england_denominator_n": _column(england, d.denominator, "Float64").iloc[0],
                "england_value": _column(england, d.value).iloc[0],
                "_order": order,
            }
        )
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    out["_england"] = out["la_code"] != ENGLAND_CODE
    out = out.sort_values(["_england", "la_code", "_order"], kind="stable")
    out = out.drop(columns=["_order", "_england"]).reset_index(drop=True)
    # England's own rows are not compared with England: its figures are the row itself;
    # nor is a lone local authority (the LA route), whose total row is itself
    own = out["la_code"] == ENGLAND_CODE
    if out.loc[~own, "la_code"].nunique() == 1:
        own[:] = True
    out.loc[own, ["england_count_n", "england_denominator_n", "england_value"]] = np.nan
    for c in ("count_n", "denominator_n", "england_count_n", "england_denominator_n"):
        out[c] = out[c].astype("Int64")
    return out[list(LONG_COLUMNS)]


LONG_SPEC = TableSpec(
    key_columns=(
        "la_code",
        "la_name",
        "area_level",
        "section",
        "indicator",
        "indicator_label",
        "group",
        "unit",
    ),
    derived={
        **dict.fromkeys(
            (
                "value",
                "lower_95",
                "upper_95",
                "lower_99_8",
                "upper_99_8",
                "vs_england_95",
                "vs_england_99_8",
                "funnel",
            ),
            ("count_n", "denominator_n"),
        ),
        "england_value": ("england_count_n", "england_denominator_n"),
    },
)
