"""A Fingertips-style spine chart: each indicator of an area against every area's range.

For each indicator, a row shows the area's value as a marker against the range of the
local authorities' values (the lightest bar from the lowest to the highest, a darker
band from the 25th to the 75th percentile) with England's value as the centre line, as
in the spine charts of OHID's public health profiles (Fingertips). Each row is scaled
so that England is in the middle and the area furthest from it reaches the end.

Only released values are used: the area's value, England's and the range all come from
the protected long indicator table, and a suppressed local authority value is left out
of the range (never imputed). A quartile of published values gives no count back.
The chart is inline SVG (the pages load nothing) with a ``<title>`` on every row.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

import numpy as np
import pandas as pd
from markupsafe import Markup

from child_mdh.contract.vocabulary import ENGLAND_CODE
from child_mdh.release.profiles.format import fmt_number, is_missing
from child_mdh.release.profiles.memo import per_table

#: Rows of the spine chart: (indicator of the long table, group). Deprivation indicators
#: are added from the table (every ``deprived_<indicator>`` row).
HEAD_ROWS = (("mdh_prevalence", "All children"), ("M0", "All children"))
CONTACT_ROWS = tuple(
    (f"{key}_rate", "All children") for key in ("referral", "cin", "cpp", "care", "referrals")
)

#: Marker fill and shape by comparison with England (shape carries it without colour).
MARKERS = {
    "higher": ("#0072B2", "up"),
    "lower": ("#E69F00", "down"),
    "similar": ("#ffffff", "circle"),
    "not compared": ("#ffffff", "square"),
}

#: Drawing geometry, in SVG user units (the SVG scales with its ``viewBox``).
WIDTH, HEIGHT, PAD = 300, 26, 10


@dataclass(frozen=True)
class SpineRow:
    """One indicator: the area's released value, England's, and the released LA range."""

    indicator: str
    label: str
    unit: str
    decimals: int
    value: float
    england: float
    comparison: str
    n_areas: int
    low: float
    q25: float
    q75: float
    high: float

    def scale(self) -> float:
        """Half the width of the row in the indicator's units (England at the centre)."""
        values = [self.low, self.high]
        if not is_missing(self.value):
            values.append(self.value)
        spread = max(abs(v - self.england) for v in values)
        return spread if spread > 0 else 1.0

    def x(self, v: float) -> float:
        half = WIDTH / 2 - PAD
        return WIDTH / 2 + (float(v) - self.england) / self.scale() * half


def _decimals(unit: str) -> int:
    return {"%": 1, "proportion": 3, "ratio": 2}.get(unit, 1)


def _spine_ranges(long: pd.DataFrame) -> list[tuple]:
    """What the spine chart's rows share across areas, computed once per table: per row
    (indicator, group) with England's value and at least one released local authority
    value, the range of those values and, per code, its first row's unit, value,
    comparison and label."""
    domain_rows = [
        (str(i), "All children")
        for i in pd.unique(long["indicator"].astype("str"))
        if str(i).startswith("deprived_")
    ]
    wanted = [*HEAD_ROWS, *domain_rows, *CONTACT_ROWS]
    codes = long["la_code"].astype("str")
    las = long[codes != ENGLAND_CODE]
    out = []
    for indicator, group in wanted:
        chosen = (long["indicator"] == indicator) & (long["group"] == group)
        rows = long[chosen]
        if rows.empty:
            continue
        eng = rows[codes[chosen] == ENGLAND_CODE]
        if eng.empty or is_missing(eng["value"].iloc[0]):
            continue
        released = las.loc[
            (las["indicator"] == indicator) & (las["group"] == group), "value"
        ].astype("float64")
        released = released[np.isfinite(released.to_numpy())].to_numpy()
        if len(released) == 0:
            continue
        q25, q75 = np.percentile(released, [25, 75])
        per_code: dict[str, tuple] = {}
        for code, unit, value, vs, label in zip(
            codes[chosen],
            rows["unit"],
            rows["value"],
            rows["vs_england_95"],
            rows["indicator_label"],
            strict=True,
        ):
            per_code.setdefault(code, (unit, value, vs, label))
        shared = dict(
            england=float(eng["value"].iloc[0]),
            n_areas=len(released),
            low=float(released.min()),
            q25=float(q25),
            q75=float(q75),
            high=float(released.max()),
        )
        out.append((indicator, per_code, shared))
    return out


def spine_rows(long: pd.DataFrame, la_code: str) -> list[SpineRow]:
    """The spine chart's rows for ``la_code`` from the released long indicator table.

    A row needs England's value and at least one released local authority value; the
    area's own value may be suppressed (no marker then). Percentiles are those of the
    released local authority values (linear interpolation).
    """
    out = []
    for indicator, per_code, shared in per_table(long, "spine", lambda: _spine_ranges(long)):
        if la_code not in per_code:
            continue
        unit, value, vs, label = per_code[la_code]
        unit = str(unit)
        out.append(
            SpineRow(
                indicator=indicator,
                label=str(label),
                unit=unit,
                decimals=_decimals(unit),
                value=float(value) if not is_missing(value) else float("nan"),
                comparison=(
                    ("not compared" if is_missing(vs) else str(vs))
                    if la_code != ENGLAND_CODE
                    else "not compared"
                ),
                **shared,
            )
        )
    return out


def _fmt(row: SpineRow, v: float) -> str:
    return fmt_number(v, row.decimals, "%" if row.unit == "%" else "")


def _marker(shape: str, x: float, y: float, fill: str) -> str:
    s = 6.5
    stroke = 'stroke="#000" stroke-width="1.2"'
    if shape == "up":
        pts = f"{x:.1f},{y - s:.1f} {x - s:.1f},{y + s * 0.8:.1f} {x + s:.1f},{y + s * 0.8:.1f}"
        return f'<polygon points="{pts}" fill="{fill}" {stroke}/>'
    if shape == "down":
        pts = f"{x:.1f},{y + s:.1f} {x - s:.1f},{y - s * 0.8:.1f} {x + s:.1f},{y - s * 0.8:.1f}"
        return f'<polygon points="{pts}" fill="{fill}" {stroke}/>'
    if shape == "square":
        return (
            f'<rect x="{x - s * 0.75:.1f}" y="{y - s * 0.75:.1f}" width="{s * 1.5:.1f}" '
            f'height="{s * 1.5:.1f}" fill="{fill}" {stroke}/>'
        )
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{s * 0.85:.1f}" fill="{fill}" {stroke}/>'


def row_title(row: SpineRow, area_name: str) -> str:
    """The row's hover text: the area, England and the range in words."""
    here = (
        f"{area_name}: {_fmt(row, row.value)}"
        if not is_missing(row.value)
        else f"{area_name}: suppressed"
    )
    return (
        f"{row.label}. {here}; England {_fmt(row, row.england)}; "
        f"{row.n_areas} local authorities with a released value range from "
        f"{_fmt(row, row.low)} to {_fmt(row, row.high)} "
        f"(middle half {_fmt(row, row.q25)} to {_fmt(row, row.q75)})"
    )


def svg_spine(row: SpineRow, area_name: str, *, show_marker: bool = True) -> str:
    """One row of the spine chart as an inline SVG (scales with its ``viewBox``)."""
    y = HEIGHT / 2
    x_low, x_high = row.x(row.low), row.x(row.high)
    x_q25, x_q75 = row.x(row.q25), row.x(row.q75)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="spine" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'role="img" aria-label="{escape(row_title(row, area_name))}" '
        'preserveAspectRatio="xMidYMid meet">',
        f"<title>{escape(row_title(row, area_name))}</title>",
        f'<rect x="{x_low:.1f}" y="{y - 7:.1f}" width="{max(x_high - x_low, 1):.1f}" '
        'height="14" fill="#d9d9d9"/>',
        f'<rect x="{x_q25:.1f}" y="{y - 7:.1f}" width="{max(x_q75 - x_q25, 1):.1f}" '
        'height="14" fill="#8c8c8c"/>',
        f'<line x1="{WIDTH / 2:.1f}" x2="{WIDTH / 2:.1f}" y1="1" y2="{HEIGHT - 1}" '
        'stroke="#000" stroke-width="2"/>',
    ]
    if show_marker and not is_missing(row.value):
        fill, shape = MARKERS.get(row.comparison, MARKERS["not compared"])
        parts.append(_marker(shape, row.x(row.value), y, fill))
    parts.append("</svg>")
    return "".join(parts)


def _swatch(body: str, width: int = 34) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="swatch" viewBox="0 0 {width} 16" '
        f'width="{width}" height="16" aria-hidden="true">{body}</svg>'
    )


def legend_html() -> str:
    """The spine chart's key, as a list that wraps on a narrow screen: the range, the
    middle half, England, and the area's marker by comparison."""
    items = [
        (
            _swatch('<rect x="0" y="2" width="34" height="12" fill="#d9d9d9"/>'),
            "lowest to highest local authority",
        ),
        (
            _swatch('<rect x="0" y="2" width="34" height="12" fill="#8c8c8c"/>'),
            "25th to 75th percentile",
        ),
        (
            _swatch('<line x1="7" x2="7" y1="0" y2="16" stroke="#000" stroke-width="2"/>', 14),
            "England",
        ),
        (
            _swatch(
                _marker("up", 8, 8, MARKERS["higher"][0])
                + _marker("circle", 24, 8, MARKERS["similar"][0])
                + _marker("down", 40, 8, MARKERS["lower"][0]),
                48,
            ),
            "this area: higher than, similar to, lower than England (95%)",
        ),
        (
            _swatch(_marker("square", 8, 8, MARKERS["not compared"][0]), 16),
            "this area, not compared with England",
        ),
    ]
    return (
        '<ul class="spine-key" aria-label="Key to the spine chart">'
        + "".join(f"<li>{swatch} {escape(text)}</li>" for swatch, text in items)
        + "</ul>"
    )


def spine_context(long: pd.DataFrame, la_code: str, area_name: str) -> list[dict]:
    """The spine chart's rows as the page template shows them."""
    out = []
    for row in spine_rows(long, la_code):
        out.append(
            {
                "label": row.label,
                "unit": row.unit,
                "value": "suppressed" if is_missing(row.value) else _fmt(row, row.value),
                "suppressed": is_missing(row.value),
                "england": _fmt(row, row.england),
                "low": _fmt(row, row.low),
                "high": _fmt(row, row.high),
                "n_areas": row.n_areas,
                # built from numbers and escaped texts only
                "svg": Markup(svg_spine(row, area_name, show_marker=la_code != ENGLAND_CODE)),
            }
        )
    return out
