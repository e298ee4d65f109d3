"""Figures of the model results, drawn from the released (disclosure-checked) tables.

Both figures take the tables as read back from the release folder, so they show only
what passed disclosure control: a suppressed estimate is an empty cell there and is not
drawn. Colours are the Okabe-Ito palette (Okabe & Ito 2008, *Color Universal Design*),
distinguishable with every common colour-vision deficiency, and every series also has
its own marker. matplotlib's non-interactive Agg backend is used (no display needed).
"""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd

matplotlib.use("Agg")
import matplotlib.pyplot as plt

#: Okabe-Ito colours (blue, vermillion, bluish green, reddish purple, orange, sky blue)
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")
MARKERS = ("o", "s", "^", "D", "v", "P")

INDICATOR_LABELS = {"fsm": "free school meals", "health": "health and disability"}
OUTCOME_LABELS = {
    "any_referral": "Referral",
    "any_cin": "Child in need",
    "any_cpp": "Child protection plan",
    "entered_care": "Entered care",
}


def preferred_link(links) -> str:
    """cloglog (hazard ratios) when fitted, else the first link."""
    links = list(dict.fromkeys(links))
    return "cloglog" if "cloglog" in links else links[0]


def coefficient_data(binary: pd.DataFrame, indicators) -> pd.DataFrame:
    """The rows the coefficient plot shows: the domain specification without
    local-authority effects, preferred link, one row per outcome and indicator."""
    if binary.empty:
        return binary
    link = preferred_link(binary.loc[binary["specification"] == "domains", "link"])
    rows = binary[
        (binary["specification"] == "domains")
        & (binary["fixed_effects"] == "none")
        & (binary["link"] == link)
        & binary["variable"].isin(list(indicators))
    ]
    return rows.reset_index(drop=True)


def coefficient_figure(binary: pd.DataFrame, indicators):
    """Ratios with confidence intervals of each indicator (mutually adjusted), one
    series per outcome, on a log scale. Returns a matplotlib figure, or None when no
    estimate is published."""
    rows = coefficient_data(binary, indicators)
    rows = rows[rows["ratio"].notna()]
    if rows.empty:
        return None
    indicators = [i for i in indicators if i in set(rows["variable"])]
    outcomes = list(dict.fromkeys(rows["outcome"]))
    fig, ax = plt.subplots(figsize=(7, 0.7 + 0.55 * len(indicators) * max(1, len(outcomes)) / 2))
    step = 0.8 / max(len(outcomes), 1)
    for j, outcome in enumerate(outcomes):
        r = rows[rows["outcome"] == outcome].set_index("variable").reindex(indicators)
        y = np.arange(len(indicators)) - 0.4 + step * (j + 0.5)
        ok = r["ratio"].notna().to_numpy()
        err = np.vstack([r["ratio"] - r["ratio_low"], r["ratio_high"] - r["ratio"]])
        ax.errorbar(
            r["ratio"].to_numpy()[ok],
            y[ok],
            xerr=err[:, ok],
            fmt=MARKERS[j % 6],
            color=PALETTE[j % 6],
            capsize=2,
            markersize=4,
            label=OUTCOME_LABELS.get(outcome, outcome),
        )
    ax.axvline(1.0, color="0.5", lw=0.8, ls="--")
    ax.set_xscale("log")
    lo = float(np.nanmin(rows["ratio_low"].fillna(rows["ratio"])))
    hi = float(np.nanmax(rows["ratio_high"].fillna(rows["ratio"])))
    ticks = [
        t for t in (0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4, 6, 8, 12, 16) if lo / 1.2 <= t <= hi * 1.2
    ]
    ax.set_xticks(ticks)
    ax.set_xticklabels([f"{t:g}" for t in ticks])
    ax.minorticks_off()
    ax.set_yticks(np.arange(len(indicators)))
    ax.set_yticklabels([INDICATOR_LABELS.get(i, i.replace("_", " ")) for i in indicators])
    ax.invert_yaxis()
    name = rows["ratio_name"].iloc[0]
    ax.set_xlabel(f"{name} (log scale), 95% interval")
    ax.set_title("Each indicator, mutually adjusted, by outcome")
    ax.legend(frameon=False, fontsize=8, loc="best")
    fig.tight_layout()
    return fig


def gradient_data(rates: pd.DataFrame, variable: str = "deprivation_count") -> pd.DataFrame:
    """The rows the gradient plot shows: standardised rates of the binary outcomes by
    ``variable`` from the models without local-authority effects, one link (logit when
    fitted: the usual standardisation; the links agree closely)."""
    if rates.empty:
        return rates
    r = rates[(rates["variable"] == variable) & (rates["family"] == "binomial")]
    if r.empty:
        return r
    links = list(dict.fromkeys(r["link"]))
    link = "logit" if "logit" in links else links[0]
    return r[r["link"] == link].reset_index(drop=True)


def gradient_figure(rates: pd.DataFrame, variable: str = "deprivation_count"):
    """Adjusted rates per 10,000 children by number of deprived indicators, one panel
    per outcome, with 95% intervals. Returns a figure, or None when nothing is published."""
    rows = gradient_data(rates, variable)
    if rows.empty or rows["rate"].notna().sum() == 0:
        return None
    outcomes = list(dict.fromkeys(rows["outcome"]))
    ncol = 2 if len(outcomes) > 1 else 1
    nrow = int(np.ceil(len(outcomes) / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(3.6 * ncol, 2.8 * nrow), squeeze=False)
    for j, outcome in enumerate(outcomes):
        ax = axes[j // ncol][j % ncol]
        r = rows[rows["outcome"] == outcome]
        x = np.arange(len(r))
        ok = r["rate"].notna().to_numpy()
        if ok.any():
            err = np.vstack([r["rate"] - r["rate_low"], r["rate_high"] - r["rate"]])
            ax.errorbar(
                x[ok],
                r["rate"].to_numpy()[ok],
                yerr=err[:, ok],
                fmt=MARKERS[j % 6] + "-",
                color=PALETTE[j % 6],
                capsize=3,
                markersize=5,
            )
            ax.set_ylim(bottom=0)
        else:
            ax.text(
                0.5,
                0.5,
                "suppressed\n(disclosure control)",
                ha="center",
                va="center",
                transform=ax.transAxes,
                fontsize=8,
            )
        ax.set_xticks(x)
        ax.set_xticklabels(r["level"].astype(str).tolist())
        ax.set_title(OUTCOME_LABELS.get(outcome, outcome), fontsize=10)
        ax.set_xlabel("deprived indicators", fontsize=8)
        ax.set_ylabel("per 10,000 children", fontsize=8)
        ax.tick_params(labelsize=8)
    for k in range(len(outcomes), nrow * ncol):
        axes[k // ncol][k % ncol].set_visible(False)
    fig.suptitle("Adjusted rates by number of deprived indicators (95% intervals)", fontsize=10)
    fig.tight_layout()
    return fig
