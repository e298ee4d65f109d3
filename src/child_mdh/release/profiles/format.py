"""How numbers, suppressed cells and comparisons read on a profile page.

Counts are shown rounded to the disclosure rounding base; a suppressed cell is shown in
words, never as a number; a comparison with England is carried by words and a symbol,
with colour as a third cue only.
"""

from __future__ import annotations

import math

import pandas as pd

from child_mdh.aggregates.profiles.measures import COMPARISON_TEXT

#: Okabe & Ito (2008) colour-blind-safe palette (the colours used here have at least
#: 3:1 contrast against white, or carry text of at least 4.5:1).
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}
GROUP_COLOURS = {
    "mdh": OKABE_ITO["vermillion"],
    "non_mdh": OKABE_ITO["bluish_green"],
    "all": OKABE_ITO["blue"],
}
COMPARISON_STYLE = {
    # label: (css class, symbol)
    "higher": ("cmp-higher", "\u25b2"),
    "lower": ("cmp-lower", "\u25bc"),
    "similar": ("cmp-similar", "\u25cf"),
    "not compared": ("cmp-none", "\u2013"),
}


def is_missing(value) -> bool:
    """True for None, NaN and pandas NA (a suppressed or undefined cell)."""
    if value is None or value is pd.NA:
        return True
    try:
        return math.isnan(float(value))
    except (TypeError, ValueError):
        return False


def suppressed_text(threshold: int) -> str:
    """The words shown for a suppressed value."""
    return f"suppressed (fewer than {threshold})"


def round_count(value, base: int) -> int:
    """``base`` x floor(value/base + 1/2): halves up, as the disclosure rounding."""
    return int(base * math.floor(float(value) / base + 0.5))


def fmt_count(value, base: int, threshold: int) -> str:
    """A count rounded to ``base`` with thousands separators, or the suppressed text."""
    if is_missing(value):
        return suppressed_text(threshold)
    return f"{round_count(value, base):,}"


def fmt_number(value, decimals: int, suffix: str = "") -> str:
    """A statistic to ``decimals`` places ('' when missing; inf as 'no upper limit')."""
    if is_missing(value):
        return ""
    v = float(value)
    if math.isinf(v):
        return "no upper limit"
    return f"{v:,.{decimals}f}{suffix}"


def fmt_interval(lower, upper, decimals: int) -> str:
    """'lower to upper' or '' when a limit is missing."""
    if is_missing(lower) or is_missing(upper):
        return ""
    return f"{fmt_number(lower, decimals)} to {fmt_number(upper, decimals)}"


def comparison(label) -> dict:
    """Words, symbol and CSS class of a comparison label ('not compared' when missing)."""
    key = "not compared" if is_missing(label) else str(label)
    css, symbol = COMPARISON_STYLE.get(key, COMPARISON_STYLE["not compared"])
    return {"key": key, "text": COMPARISON_TEXT.get(key, key), "symbol": symbol, "css": css}


def funnel_text(label) -> str:
    """A funnel significance label in words."""
    if is_missing(label) or label == "not compared":
        return "not shown on the funnel plot"
    return {
        "High (0.001)": "above the 99.8% limit",
        "High (0.025)": "above the 95% limit (inside the 99.8% limit)",
        "Low (0.001)": "below the 99.8% limit",
        "Low (0.025)": "below the 95% limit (inside the 99.8% limit)",
        "Not significant": "inside the 95% limits",
    }.get(str(label), str(label))
