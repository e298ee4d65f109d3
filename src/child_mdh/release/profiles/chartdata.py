"""The data of each profile chart, read from the protected tables only.

Every value drawn comes from ``area_statistics`` as released (suppressed cells stay
missing and are drawn as words); hover texts state the value, its interval, the number
of children (rounded) and the comparison with England in words.
"""

from __future__ import annotations

import pandas as pd

from child_mdh.aggregates.profiles.measures import (
    GROUP_DENOMINATOR,
    GROUP_LABELS,
    GROUPS,
    OUTCOMES,
    count_column,
    indicator_label,
    rate_column,
)
from child_mdh.aggregates.profiles.statistics import DECIMALS, table_indicators
from child_mdh.contract.vocabulary import ENGLAND_CODE
from child_mdh.release.profiles.figures import Bar, FunnelData, Panel
from child_mdh.release.profiles.format import (
    GROUP_COLOURS,
    OKABE_ITO,
    comparison,
    fmt_count,
    fmt_interval,
    fmt_number,
    funnel_text,
    is_missing,
)
from child_mdh.release.profiles.memo import per_table


def _row_positions(wide: pd.DataFrame) -> dict[str, list[int]]:
    """Where each code's rows are in ``wide`` (kept for the table: see :mod:`.memo`)."""

    def compute() -> dict[str, list[int]]:
        out: dict[str, list[int]] = {}
        for i, code in enumerate(wide["la_code"].tolist()):
            out.setdefault(code, []).append(i)
        return out

    return per_table(wide, "row_positions", compute)


def _row(wide: pd.DataFrame, code: str) -> pd.Series | None:
    """The row of ``code`` (a copy), None unless exactly one."""
    where = _row_positions(wide).get(code, [])
    if len(where) != 1:
        return None
    rows = per_table(wide, "rows", dict)
    if code not in rows:
        rows[code] = wide.iloc[where[0]]
    return rows[code].copy()


def england_row(wide: pd.DataFrame) -> pd.Series:
    """England's row of ``area_statistics``."""
    row = _row(wide, ENGLAND_CODE)
    if row is None:
        raise ValueError(f"area_statistics must hold exactly one England row ({ENGLAND_CODE})")
    return row


def area_row(wide: pd.DataFrame, la_code: str) -> pd.Series:
    """One area's row of ``area_statistics`` (ValueError naming the code when absent)."""
    row = _row(wide, la_code)
    if row is None:
        raise ValueError(
            f"area {la_code} is not in area_statistics (it has no children in "
            "the profile, or the code is wrong)"
        )
    return row


def funnel_rate_column(wide: pd.DataFrame) -> str | None:
    """The rate column placed on the second funnel plot (the one with a funnel label)."""
    cols = [c[: -len("_funnel")] for c in wide.columns if c.endswith("_rate_funnel")]
    return cols[0] if cols else None


def _split_rate(col: str) -> tuple[str, str]:
    for o in OUTCOMES:
        for gr in GROUPS:
            if rate_column(o.key, gr) == col:
                return o.key, gr
    raise ValueError(f"{col} is not a profile rate column")


def _hover(name, value_text, interval, n_text, labels) -> str:
    parts = [f"{name}: {value_text}"]
    if interval:
        parts.append(f"95% CI {interval}")
    if n_text:
        parts.append(n_text)
    if labels:
        parts.append(labels)
    return "; ".join(parts)


def _comparisons_text(row: pd.Series, stat: str) -> str:
    c95 = comparison(row.get(f"{stat}_vs_england_95"))
    c998 = comparison(row.get(f"{stat}_vs_england_99_8"))
    if c95["key"] == "not compared" and c998["key"] == "not compared":
        return ""
    return f"{c95['text'].lower()} (95%), {c998['text'].lower()} (99.8%)"


def funnel_points(
    wide: pd.DataFrame,
    value: str,
    denominator: str,
    unit_suffix: str,
    decimals: int,
    highlight: str | None,
    base: int,
    threshold: int,
    denominator_words: str,
) -> pd.DataFrame:
    """Points of a funnel plot: local authorities whose value and denominator are published."""

    def compute() -> tuple[pd.DataFrame, pd.Series]:
        las = wide[wide["la_code"] != ENGLAND_CODE]
        keep = las[value].notna() & las[denominator].notna()
        pts = las[keep]
        hover = [
            _hover(
                r["la_name"],
                fmt_number(r[value], decimals, unit_suffix),
                fmt_interval(r.get(f"{value}_lower_95"), r.get(f"{value}_upper_95"), decimals),
                f"{fmt_count(r[denominator], base, threshold)} {denominator_words}",
                funnel_text(r.get(f"{value}_funnel")),
            )
            for _, r in pts.iterrows()  # one text per local authority (~150)
        ]
        points = pd.DataFrame(
            {
                "x": pts[denominator].astype("float64").to_numpy(),
                "y": pts[value].astype("float64").to_numpy(),
                "name": pts["la_name"].astype("str").to_numpy(),
                "hover": hover,
            }
        )
        return points, pts["la_code"]

    key = ("funnel_points", value, denominator, unit_suffix, decimals, base, threshold)
    points, codes = per_table(wide, (*key, denominator_words), compute)
    return points.assign(highlight=(codes == highlight).to_numpy())


def prevalence_funnel(tables, highlight: str | None, base: int, threshold: int) -> FunnelData:
    """Child-MDH prevalence (%) of every local authority against its number of children."""
    wide = tables["area_statistics"]
    eng = england_row(wide)
    pts = funnel_points(
        wide, "mdh_pct", "children_n", "%", DECIMALS["pct"], highlight, base, threshold, "children"
    )
    return FunnelData(
        points=pts,
        limits=tables["funnel_limits_prevalence"],
        baseline=float(eng["mdh_pct"]) if not is_missing(eng["mdh_pct"]) else float("nan"),
        x_label="Children in the profile",
        y_label="Children in MDH households (%)",
        title="Child-MDH prevalence: local authorities against England",
    )


def rate_funnel(tables, highlight: str | None, base: int, threshold: int) -> FunnelData | None:
    """The chosen contact rate of every local authority against its number of children."""
    wide = tables["area_statistics"]
    col = funnel_rate_column(wide)
    if col is None:
        return None
    outcome, group = _split_rate(col)
    o = next(x for x in OUTCOMES if x.key == outcome)
    eng = england_row(wide)
    who = GROUP_LABELS[group]
    pts = funnel_points(
        wide,
        col,
        GROUP_DENOMINATOR[group],
        f" {o.unit}",
        DECIMALS["rate"],
        highlight,
        base,
        threshold,
        who.lower(),
    )
    return FunnelData(
        points=pts,
        limits=tables["funnel_limits_rate"],
        baseline=float(eng[col]) if not is_missing(eng[col]) else float("nan"),
        x_label=f"{who} in the profile",
        y_label=f"Rate {o.unit}",
        title=f"{o.label} ({who.lower()}), {o.unit}: local authorities against England",
    )


def domain_panels(tables, la_code: str) -> list[Panel]:
    """Indicators: uncensored and censored headcounts and contributions, with England."""
    wide = tables["area_statistics"]
    row, eng = area_row(wide, la_code), england_row(wide)
    name = row["la_name"]
    specs = [
        (
            "deprived",
            "Deprived in the indicator (% of all children)",
            "% of children",
            OKABE_ITO["blue"],
        ),
        (
            "censored",
            "In an MDH household and deprived in the indicator (censored "
            "headcount, % of all children)",
            "% of children",
            OKABE_ITO["vermillion"],
        ),
        (
            "contribution",
            "Contribution of the indicator to M0 (%)",
            "% of M0",
            OKABE_ITO["bluish_green"],
        ),
    ]
    panels = []
    for prefix, title, axis, colour in specs:
        bars = []
        for ind in table_indicators(wide.columns):
            col = f"{prefix}_{ind}_pct"
            v, e = row.get(col), eng.get(col)
            vt = fmt_number(v, DECIMALS["pct"], "%")
            et = fmt_number(e, DECIMALS["pct"], "%")
            bars.append(
                Bar(
                    label=indicator_label(ind),
                    value=v,
                    england=e,
                    colour=colour,
                    value_text=vt,
                    hover=f"{name}: {vt}" if vt else indicator_label(ind),
                    england_text=f"England: {et}" if et else "",
                )
            )
        panels.append(Panel(title=title, axis_label=axis, bars=bars))
    return panels


def contact_panels(tables, la_code: str, base: int, threshold: int) -> list[Panel]:
    """Contact rates per 10,000 for MDH, other and all children, one panel per outcome."""
    wide = tables["area_statistics"]
    row, eng = area_row(wide, la_code), england_row(wide)
    panels = []
    for o in OUTCOMES:
        if rate_column(o.key, "all") not in wide.columns:
            continue
        bars = []
        for gr in GROUPS:
            col = rate_column(o.key, gr)
            vt = fmt_number(row[col], DECIMALS["rate"])
            ci = fmt_interval(row[f"{col}_lower_95"], row[f"{col}_upper_95"], DECIMALS["rate"])
            events = fmt_count(row[count_column(o.key, gr)], base, threshold)
            kids = fmt_count(row[GROUP_DENOMINATOR[gr]], base, threshold)
            hover = _hover(
                f"{GROUP_LABELS[gr]}, {row['la_name']}",
                f"{vt} {o.unit}",
                ci,
                f"{events} {'referrals' if o.events else 'children'} of {kids} children",
                _comparisons_text(row, col),
            )
            et = fmt_number(eng[col], DECIMALS["rate"])
            bars.append(
                Bar(
                    label=GROUP_LABELS[gr],
                    value=row[col],
                    lower=row[f"{col}_lower_95"],
                    upper=row[f"{col}_upper_95"],
                    england=eng[col],
                    colour=GROUP_COLOURS[gr],
                    value_text=vt,
                    hover=hover if vt else f"{GROUP_LABELS[gr]}: suppressed",
                    england_text=f"England, {GROUP_LABELS[gr].lower()}: {et}" if et else "",
                )
            )
        panels.append(Panel(title=o.label, axis_label=o.unit, bars=bars))
    return panels
