"""Profile charts: inline SVG for the pages (hover text on every mark) and PNG files.

Two kinds of chart, each drawn twice from the same data (SVG for the page, matplotlib
for the PNG file):

- a funnel plot (Spiegelhalter 2005, Stat Med 24:1185-1202): every local authority's
  value against its denominator, England's value, and the 95% and 99.8% control limits
  (:func:`child_mdh.aggregates.stats.funnel_limits_table`); the area of the page highlighted;
- bar panels: one bar per group or indicator with its 95% interval and England's value
  as a black tick; each panel has its own axis (rates of different outcomes differ by
  orders of magnitude).

Colours are the Okabe-Ito palette; line styles and marker sizes repeat what colour
says, and every value is also given in words (hover text and the page's tables). The
charts read only protected tables: a suppressed value is drawn as the words
'suppressed (fewer than 10)', never as a bar.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from html import escape

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from child_mdh.release.profiles.format import OKABE_ITO, is_missing, suppressed_text

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif"
GREY_POINT = "#767676"  # 4.5:1 on white
LIMIT_STYLES = {  # level: (colour, SVG dash pattern, matplotlib line style, legend text)
    "95": (OKABE_ITO["blue"], "7 4", (0, (7, 4)), "95% limits"),
    "99_8": (OKABE_ITO["reddish_purple"], "2 3", (0, (2, 3)), "99.8% limits"),
}


@dataclass
class Bar:
    """One bar: its label, value, 95% interval, England's value, colour and texts."""

    label: str
    value: float | None
    lower: float | None = None
    upper: float | None = None
    england: float | None = None
    colour: str = OKABE_ITO["blue"]
    hover: str = ""
    value_text: str = ""
    england_text: str = ""


@dataclass
class Panel:
    """A group of bars sharing one axis."""

    title: str
    axis_label: str
    bars: list[Bar] = field(default_factory=list)


@dataclass
class FunnelData:
    """A funnel plot: points (x, y, name, hover, highlight), limits, England's value."""

    points: pd.DataFrame
    limits: pd.DataFrame
    baseline: float
    x_label: str
    y_label: str
    title: str


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """About ``n`` round tick values covering [lo, hi] (steps of 1, 2, 2.5 or 5 x 10^k)."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        hi = lo + 1
    raw = (hi - lo) / max(n, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.floor(lo / step) * step
    ticks = []
    t = start
    while t <= hi + step * 1e-9:
        if t >= lo - step * 1e-9:
            ticks.append(round(t, 10))
        t += step
    return ticks


def _tick_text(v: float) -> str:
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:g}"


def _finite(values) -> np.ndarray:
    a = np.array([np.nan if is_missing(v) else float(v) for v in values], dtype="float64")
    return a[np.isfinite(a)]


# --------------------------------------------------------------------------------------
# SVG
# --------------------------------------------------------------------------------------
def _svg_open(width: int, height: int, title: str, description: str, uid: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{uid}-t {uid}-d" font-family="{escape(FONT)}">',
        f'<title id="{uid}-t">{escape(title)}</title>',
        f'<desc id="{uid}-d">{escape(description)}</desc>',
    ]


def svg_panels(
    panels: list[Panel],
    *,
    title: str,
    description: str,
    uid: str,
    threshold: int = 10,
    width: int = 720,
) -> str:
    """Bar panels as an SVG string: bars, 95% interval whiskers, England ticks, axes.

    Every bar, whisker and England tick carries a ``<title>`` (hover text); a missing
    value is written as the suppressed text instead of a bar.
    """
    label_w, right_w, row_h, top = 250, 80, 24, 8
    plot_w = width - label_w - right_w
    height = top + sum(28 + len(p.bars) * row_h + 34 for p in panels) + 26
    out = _svg_open(width, height, title, description, uid)
    y = top
    for p in panels:
        out.append(
            f'<text x="0" y="{y + 16}" font-size="14" font-weight="600" '
            f'fill="#000">{escape(p.title)}</text>'
        )
        y += 28
        vals = _finite([v for b in p.bars for v in (b.value, b.upper, b.england)])
        vmax = float(vals.max()) * 1.05 if vals.size and vals.max() > 0 else 1.0
        ticks = nice_ticks(0.0, vmax, 4)
        vmax = max(vmax, ticks[-1])

        def sx(v: float, vmax: float = vmax) -> float:
            return label_w + plot_w * float(v) / vmax

        y0 = y
        for b in p.bars:
            cy = y + row_h / 2
            out.append(
                f'<text x="{label_w - 8}" y="{cy + 4:.1f}" font-size="13" '
                f'text-anchor="end" fill="#000">{escape(b.label)}</text>'
            )
            if is_missing(b.value):
                out.append(
                    f'<text x="{label_w + 4}" y="{cy + 4:.1f}" font-size="12" '
                    f'font-style="italic" fill="#444">{escape(suppressed_text(threshold))}'
                    f"<title>{escape(b.hover or b.label)}</title></text>"
                )
            else:
                x1 = sx(max(float(b.value), 0.0))
                out.append(
                    f'<rect x="{label_w}" y="{y + 4}" width="{max(x1 - label_w, 1):.1f}" '
                    f'height="{row_h - 8}" fill="{b.colour}">'
                    f"<title>{escape(b.hover)}</title></rect>"
                )
                end = x1
                if not (is_missing(b.lower) or is_missing(b.upper)):
                    xl = sx(float(b.lower))
                    xu = sx(min(float(b.upper), vmax))
                    end = max(end, xu)
                    out.append(
                        f'<g stroke="#000" stroke-width="1.5"><title>95% confidence '
                        f"interval: {escape(b.hover)}</title>"
                        f'<line x1="{xl:.1f}" y1="{cy}" x2="{xu:.1f}" y2="{cy}"/>'
                        f'<line x1="{xl:.1f}" y1="{cy - 5}" x2="{xl:.1f}" y2="{cy + 5}"/>'
                        f'<line x1="{xu:.1f}" y1="{cy - 5}" x2="{xu:.1f}" y2="{cy + 5}"/>'
                        "</g>"
                    )
                if not is_missing(b.england):
                    end = max(end, sx(float(b.england)) + 2)
                out.append(
                    f'<text x="{end + 6:.1f}" y="{cy + 4:.1f}" font-size="12" '
                    f'fill="#000">{escape(b.value_text)}</text>'
                )
            if not is_missing(b.england):
                xe = sx(float(b.england))
                out.append(
                    f'<rect x="{xe - 2:.1f}" y="{y + 1}" width="4" height="{row_h - 2}" '
                    f'fill="#000"><title>{escape(b.england_text or "England")}</title>'
                    "</rect>"
                )
            y += row_h
        # axis
        out.append(f'<line x1="{label_w}" y1="{y0}" x2="{label_w}" y2="{y}" stroke="#000"/>')
        out.append(
            f'<line x1="{label_w}" y1="{y}" x2="{label_w + plot_w}" y2="{y}" stroke="#000"/>'
        )
        for t in ticks:
            xt = sx(t)
            out.append(
                f'<line x1="{xt:.1f}" y1="{y}" x2="{xt:.1f}" y2="{y + 4}" stroke="#000"/>'
                f'<text x="{xt:.1f}" y="{y + 16}" font-size="11" text-anchor="middle" '
                f'fill="#000">{_tick_text(t)}</text>'
            )
        out.append(
            f'<text x="{label_w + plot_w / 2}" y="{y + 30}" font-size="12" '
            f'text-anchor="middle" fill="#000">{escape(p.axis_label)}</text>'
        )
        y += 34
    out.append(
        f'<g font-size="12" fill="#000"><rect x="{label_w}" y="{y + 4}" width="4" '
        f'height="14" fill="#000"/><text x="{label_w + 10}" y="{y + 16}">England</text>'
        f'<line x1="{label_w + 90}" y1="{y + 11}" x2="{label_w + 120}" y2="{y + 11}" '
        f'stroke="#000" stroke-width="1.5"/><text x="{label_w + 126}" y="{y + 16}">'
        "95% confidence interval</text></g>"
    )
    out.append("</svg>")
    return "\n".join(out)


def _funnel_ranges(data: FunnelData) -> tuple[float, float, float]:
    pts = data.points
    xs = pts["x"].to_numpy(dtype="float64")
    ys = pts["y"].to_numpy(dtype="float64")
    lim = data.limits
    x_max = (
        max(
            float(np.nanmax(xs)) if xs.size else 1.0,
            float(lim["denominator"].max()) if len(lim) else 1.0,
        )
        * 1.02
    )
    candidates = list(ys[np.isfinite(ys)]) + [data.baseline]
    if len(lim) and xs.size:
        near = lim[lim["denominator"] >= 0.5 * float(np.nanmin(xs))]
        for c in ("lower_99_8", "upper_99_8"):
            candidates += list(near[c].to_numpy(dtype="float64"))
    cand = np.array([c for c in candidates if np.isfinite(c)])
    y_lo, y_hi = float(cand.min()), float(cand.max())
    pad = 0.08 * (y_hi - y_lo if y_hi > y_lo else max(abs(y_hi), 1.0))
    return x_max, max(y_lo - pad, 0.0), y_hi + pad


def svg_funnel(
    data: FunnelData, *, description: str, uid: str, width: int = 720, height: int = 420
) -> str:
    """A funnel plot as an SVG string, each point with its hover text (``<title>``)."""
    left, right, top, bottom = 70, 20, 16, 78
    pw, ph = width - left - right, height - top - bottom
    x_max, y_lo, y_hi = _funnel_ranges(data)

    def sx(v):
        return left + pw * np.asarray(v, dtype="float64") / x_max

    def sy(v):
        return top + ph * (1 - (np.asarray(v, dtype="float64") - y_lo) / (y_hi - y_lo))

    out = _svg_open(width, height, data.title, description, uid)
    out.append(
        f'<defs><clipPath id="{uid}-clip"><rect x="{left}" y="{top}" width="{pw}" '
        f'height="{ph}"/></clipPath></defs>'
    )
    for t in nice_ticks(y_lo, y_hi, 5):
        yt = float(sy(t))
        out.append(
            f'<line x1="{left}" y1="{yt:.1f}" x2="{left + pw}" y2="{yt:.1f}" '
            f'stroke="#e0e0e0"/><text x="{left - 6}" y="{yt + 4:.1f}" font-size="11" '
            f'text-anchor="end" fill="#000">{_tick_text(t)}</text>'
        )
    for t in nice_ticks(0, x_max, 5):
        xt = float(sx(t))
        out.append(
            f'<line x1="{xt:.1f}" y1="{top + ph}" x2="{xt:.1f}" y2="{top + ph + 4}" '
            f'stroke="#000"/><text x="{xt:.1f}" y="{top + ph + 17}" font-size="11" '
            f'text-anchor="middle" fill="#000">{_tick_text(t)}</text>'
        )
    out.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#000"/>')
    g = [f'<g clip-path="url(#{uid}-clip)" fill="none" stroke-width="1.6">']
    lim = data.limits
    for level, (colour, dash, _, text) in LIMIT_STYLES.items():
        for side in ("lower", "upper"):
            col = f"{side}_{level}"
            if col not in lim or not len(lim):
                continue
            xs, ys = sx(lim["denominator"]), sy(lim[col])
            pts = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(xs, ys) if np.isfinite(b))
            g.append(
                f'<polyline points="{pts}" stroke="{colour}" stroke-dasharray="{dash}">'
                f"<title>{escape(text)}</title></polyline>"
            )
    yb = float(sy(data.baseline))
    g.append(
        f'<line x1="{left}" y1="{yb:.1f}" x2="{left + pw}" y2="{yb:.1f}" stroke="#000">'
        f"<title>England: {escape(_tick_text(round(data.baseline, 1)))}</title></line>"
    )
    g.append("</g>")
    out += g
    pts = data.points
    normal = pts[~pts["highlight"].astype(bool)]
    special = pts[pts["highlight"].astype(bool)]
    # one mark per local authority (~150), placed by one vectorised transform
    for cx, cy, hover in zip(sx(normal["x"]), sy(normal["y"]), normal["hover"], strict=True):
        out.append(
            f'<circle cx="{float(cx):.1f}" cy="{float(cy):.1f}" r="4" '
            f'fill="{GREY_POINT}" stroke="#fff" stroke-width="0.8">'
            f"<title>{escape(hover)}</title></circle>"
        )
    for row in special.itertuples(index=False):
        cx, cy = float(sx(row.x)), float(sy(row.y))
        anchor = "end" if cx > left + pw * 0.7 else "start"
        dx = -10 if anchor == "end" else 10
        out.append(
            f'<g><title>{escape(row.hover)}</title><circle cx="{cx:.1f}" cy="{cy:.1f}" '
            f'r="7.5" fill="{OKABE_ITO["vermillion"]}" stroke="#000" stroke-width="1.5"/>'
            f'<text x="{cx + dx:.1f}" y="{cy - 10:.1f}" font-size="13" font-weight="700" '
            f'text-anchor="{anchor}" fill="#000" stroke="#fff" stroke-width="3" '
            f'paint-order="stroke">{escape(row.name)}</text></g>'
        )
    out.append(
        f'<text x="{left + pw / 2}" y="{top + ph + 34}" font-size="12" '
        f'text-anchor="middle" fill="#000">{escape(data.x_label)}</text>'
    )
    out.append(
        f'<text transform="translate(16 {top + ph / 2}) rotate(-90)" font-size="12" '
        f'text-anchor="middle" fill="#000">{escape(data.y_label)}</text>'
    )
    ly = height - 16
    legend = [
        f'<g font-size="12" fill="#000"><line x1="{left}" y1="{ly - 4}" '
        f'x2="{left + 26}" y2="{ly - 4}" stroke="#000" stroke-width="1.6"/>'
        f'<text x="{left + 32}" y="{ly}">England</text>'
    ]
    x = left + 100
    for colour, dash, _, text in LIMIT_STYLES.values():
        legend.append(
            f'<line x1="{x}" y1="{ly - 4}" x2="{x + 26}" y2="{ly - 4}" '
            f'stroke="{colour}" stroke-width="1.6" stroke-dasharray="{dash}"/>'
            f'<text x="{x + 32}" y="{ly}">{text}</text>'
        )
        x += 130
    legend.append(
        f'<circle cx="{x + 6}" cy="{ly - 4}" r="4" fill="{GREY_POINT}"/>'
        f'<text x="{x + 16}" y="{ly}">local authorities</text>'
    )
    if len(special):
        legend.append(
            f'<circle cx="{x + 146}" cy="{ly - 4}" r="6" '
            f'fill="{OKABE_ITO["vermillion"]}" stroke="#000"/>'
            f'<text x="{x + 158}" y="{ly}">this area</text>'
        )
    legend.append("</g>")
    out += legend
    out.append("</svg>")
    return "\n".join(out)


# --------------------------------------------------------------------------------------
# PNG (matplotlib)
# --------------------------------------------------------------------------------------
def _figure(width_in: float, height_in: float):
    return Figure(figsize=(width_in, height_in))


def png_bytes(fig, dpi: int = 110) -> bytes:
    """The figure as PNG bytes, drawn once (fixed margins, no 'tight' second pass)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def png_funnel(data: FunnelData):
    """The funnel plot as a matplotlib Figure (for the PNG file)."""
    fig = _figure(8, 4.8)
    ax = fig.add_subplot()
    lim = data.limits
    for level, (colour, _, style, text) in LIMIT_STYLES.items():
        if len(lim):
            ax.plot(
                lim["denominator"], lim[f"lower_{level}"], color=colour, linestyle=style, label=text
            )
            ax.plot(lim["denominator"], lim[f"upper_{level}"], color=colour, linestyle=style)
    ax.axhline(data.baseline, color="black", linewidth=1.4, label="England")
    pts = data.points
    hl = pts["highlight"].astype(bool)
    ax.scatter(
        pts.loc[~hl, "x"],
        pts.loc[~hl, "y"],
        s=18,
        color=GREY_POINT,
        label="local authorities",
        zorder=3,
    )
    if hl.any():
        ax.scatter(
            pts.loc[hl, "x"],
            pts.loc[hl, "y"],
            s=80,
            color=OKABE_ITO["vermillion"],
            edgecolors="black",
            linewidths=1.2,
            label="this area",
            zorder=4,
        )
        for row in pts[hl].itertuples(index=False):
            ax.annotate(
                row.name,
                (row.x, row.y),
                xytext=(8, 8),
                textcoords="offset points",
                fontsize=10,
                fontweight="bold",
            )
    x_max, y_lo, y_hi = _funnel_ranges(data)
    ax.set_xlim(0, x_max)
    ax.set_ylim(y_lo, y_hi)
    ax.set_xlabel(data.x_label)
    ax.set_ylabel(data.y_label)
    ax.set_title(data.title, fontsize=11, loc="left")
    ax.grid(axis="y", color="#e0e0e0")
    ax.legend(fontsize=8, loc="upper right", frameon=False, ncols=2)
    fig.subplots_adjust(left=0.1, right=0.97, top=0.92, bottom=0.12)
    return fig


def png_panels(panels: list[Panel], *, title: str, threshold: int = 10):
    """Bar panels as a matplotlib Figure (for the PNG file)."""
    heights = [0.9 + 0.3 * len(p.bars) for p in panels]
    total = sum(heights) + 0.9
    fig = _figure(8, total)
    axes = fig.subplots(len(panels), 1, height_ratios=heights, squeeze=False)[:, 0]
    total += 0.4
    fig.set_size_inches(8, total)
    fig.subplots_adjust(left=0.27, right=0.95, top=1 - 0.75 / total, bottom=0.7 / total, hspace=0.9)
    fig.suptitle(title, fontsize=11, x=0.01, ha="left")
    for ax, p in zip(axes, panels):
        labels = [b.label for b in p.bars]
        ypos = np.arange(len(p.bars))[::-1]
        vals = _finite([v for b in p.bars for v in (b.value, b.upper, b.england)])
        vmax = float(vals.max()) * 1.15 if vals.size and vals.max() > 0 else 1.0
        for yv, b in zip(ypos, p.bars):
            if is_missing(b.value):
                ax.text(
                    0,
                    yv,
                    " " + suppressed_text(threshold),
                    va="center",
                    fontsize=8,
                    style="italic",
                    color="#444",
                )
            else:
                ax.barh(yv, float(b.value), color=b.colour, height=0.6)
                if not (is_missing(b.lower) or is_missing(b.upper)):
                    hi = min(float(b.upper), vmax)
                    ax.errorbar(
                        float(b.value),
                        yv,
                        xerr=[[float(b.value) - float(b.lower)], [hi - float(b.value)]],
                        color="black",
                        capsize=3,
                        linewidth=1,
                    )
                ends = [float(b.value)] + [
                    float(v) for v in (b.upper, b.england) if not is_missing(v)
                ]
                ax.text(
                    min(max(ends), vmax) + vmax * 0.01, yv, b.value_text, fontsize=7, va="center"
                )
            if not is_missing(b.england):
                ax.plot([float(b.england)] * 2, [yv - 0.4, yv + 0.4], color="black", linewidth=2.5)
        ax.set_yticks(ypos, labels, fontsize=8)
        ax.set_xlim(0, vmax)
        ax.set_title(p.title, fontsize=9, loc="left")
        ax.set_xlabel(p.axis_label, fontsize=8)
        ax.tick_params(axis="x", labelsize=8)
    whiskers = any(not (is_missing(b.lower) or is_missing(b.upper)) for p in panels for b in p.bars)
    fig.text(
        0.01,
        0.08 / total,
        "Black tick: England." + (" Whiskers: 95% confidence interval." if whiskers else ""),
        fontsize=8,
        va="bottom",
    )
    return fig
