"""Cell-level disclosure rules: minimum threshold, rounding, dominance, residual df.

Each rule is a pure function on arrays or DataFrames (vectorised, no loops over rows) and
follows the ACRO (AI-SDC) definitions:

- threshold: a count c is disclosive when 0 < c < threshold, and when c = 0 if zeros are
  disclosive and the zero is not structural;
- nk dominance: the n largest contributions to a magnitude cell exceed k of its total;
- p-ratio: the total less the two largest contributions is below p of the largest (the
  second largest contributor could estimate the largest to within p);
- a magnitude cell with fewer contributors than the threshold (one contributor always)
  is disclosive;
- a model is disclosive when its residual degrees of freedom are below the minimum.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from child_mdh.release.sdc.config import SDCConfig
from child_mdh.release.sdc.spec import Contributions

STATUSES = ("pass", "review", "fail")
#: Cells listed per check in the manifest (the count is always complete).
MAX_LISTED_CELLS = 200


@dataclass
class CheckResult:
    """Outcome of one disclosure check on one table.

    ``status`` is 'pass', 'review' (an output checker must look) or 'fail' (must not be
    released); ``cells`` lists the (row position, column) pairs concerned, row positions
    counting data rows of the written file from 0.
    """

    name: str
    status: str
    message: str
    cells: list[tuple[int, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"check {self.name}: status must be one of {STATUSES}")

    def to_dict(self, max_cells: int = MAX_LISTED_CELLS) -> dict:
        """JSON-able form; at most ``max_cells`` cells are listed (``n_cells`` is exact)."""
        return {
            "name": self.name,
            "status": self.status,
            "message": self.message,
            "n_cells": len(self.cells),
            "cells": [[int(r), str(c)] for r, c in self.cells[:max_cells]],
        }


def overall_status(results: list[CheckResult]) -> str:
    """'fail' if any check fails, else 'review' if any needs review, else 'pass'."""
    statuses = {r.status for r in results}
    if "fail" in statuses:
        return "fail"
    if "review" in statuses:
        return "review"
    return "pass"


def mask_cells(mask: pd.DataFrame) -> list[tuple[int, str]]:
    """(row position, column) of every True cell of a boolean DataFrame, row by row."""
    rows, cols = np.nonzero(mask.to_numpy(dtype=bool))
    order = np.lexsort((cols, rows))
    names = list(mask.columns)
    return [(int(rows[i]), names[cols[i]]) for i in order]


def numeric_columns(df: pd.DataFrame, columns: list[str], table: str = "table") -> pd.DataFrame:
    """``df[columns]`` as float64 (empty cells NaN); text in a count column raises ValueError."""
    out = {}
    for col in columns:
        s = df[col]
        if s.dtype == bool or str(s.dtype) == "boolean":
            raise ValueError(f"{table}: column {col} holds true/false values, not counts")
        num = pd.to_numeric(s, errors="coerce")
        bad = num.isna() & s.notna() & (s.astype("str").str.strip() != "")
        if bad.any():
            rows = list(np.flatnonzero(bad.to_numpy())[:5])
            examples = ", ".join(f"row {r}: {s.iloc[r]!r}" for r in rows)
            raise ValueError(
                f"{table}: column {col} must hold numbers, found text ({examples}). A "
                "suppressed cell is left empty; do not write markers such as '<10' or '*'."
            )
        out[col] = num.astype("float64").to_numpy()
    return pd.DataFrame(out, index=df.index)


def structural_zero_mask(df: pd.DataFrame, columns: list[str], flags: dict) -> pd.DataFrame:
    """True where a zero in ``columns`` is declared structural by a boolean flag column.

    ``flags`` maps a column (or ``'*'`` for all) to the name of a boolean column of ``df``.
    """
    out = pd.DataFrame(False, index=df.index, columns=columns)
    for col in columns:
        flag = flags.get(col, flags.get("*"))
        if flag is not None:
            out[col] = df[flag].fillna(False).astype(bool).to_numpy()
    return out


def published_threshold(config: SDCConfig, rounded: bool = False) -> float:
    """Smallest non-zero value a safe published count can show.

    The threshold itself, or, for counts rounded after suppression, the threshold
    rounded to the base (a count of 12 passes a threshold of 12 and is published as 10).
    """
    if rounded and config.rounding_base > 1:
        return float(round_to_base(config.threshold, config.rounding_base))
    return float(config.threshold)


def threshold_mask(
    counts: pd.DataFrame,
    config: SDCConfig,
    structural: pd.DataFrame | None = None,
    rounded: bool = False,
) -> pd.DataFrame:
    """True where a count is disclosive under the minimum-threshold rule (ACRO).

    A count c is disclosive when 0 < c < threshold; a zero is disclosive when
    ``config.zeros_disclosive`` and it is not marked structural. Empty cells are not.
    For counts already rounded (``rounded``) the limit is :func:`published_threshold`.
    """
    values = counts.to_numpy(dtype="float64")
    limit = published_threshold(config, rounded)
    with np.errstate(invalid="ignore"):
        small = (values > 0) & (values < limit)
        zero = values == 0
    if config.zeros_disclosive:
        if structural is not None:
            zero &= ~structural.to_numpy(dtype=bool)
        small |= zero
    return pd.DataFrame(small, index=counts.index, columns=counts.columns)


def round_to_base(values, base: int = 5):
    """Round counts to the nearest multiple of ``base``, halves upwards; NaN stays NaN.

    round(c) = base * floor(c / base + 1/2) (so with base 10, 5 -> 10 and 14 -> 10).
    Accepts an array, Series or DataFrame and returns the same kind.
    """
    if base < 1:
        raise ValueError(f"rounding base must be at least 1, got {base}")
    if isinstance(values, (pd.DataFrame, pd.Series)):
        return base * np.floor(values.astype("float64") / base + 0.5)
    return base * np.floor(np.asarray(values, dtype="float64") / base + 0.5)


def dominance_table(contributions: Contributions, config: SDCConfig) -> pd.DataFrame:
    """Dominance and contributor-threshold results for every magnitude cell.

    One row per combination of ``contributions.keys`` with columns ``contributors``,
    ``total``, ``largest``, ``second``, ``top_n_share`` (sum of the ``dominance_n``
    largest / total), ``p_value`` ((total - largest - second) / largest) and the flags
    ``nk_fail`` (top_n_share > k), ``p_ratio_fail`` (p_value < p), ``threshold_fail``
    (fewer contributors than the threshold) and ``disclosive`` (any of them). A cell with
    one contributor fails both dominance rules; a cell whose total is zero fails them
    when zeros are disclosive (as ACRO). Sources: ACRO ``agg_nk`` and ``agg_p_percent``;
    Hundepool et al. 2012, Statistical Disclosure Control, ch. 4.
    """
    frame, keys, value = contributions.frame, list(contributions.keys), contributions.value
    missing = [c for c in [*keys, value] if c not in frame.columns]
    if missing:
        raise ValueError(f"contributions: missing column(s) {', '.join(missing)}")
    v = pd.to_numeric(frame[value], errors="raise").astype("float64")
    if (v < 0).any():
        rows = list(np.flatnonzero((v < 0).to_numpy())[:5])
        raise ValueError(
            f"contributions: column {value} has negative values (rows {rows}); "
            "dominance rules need non-negative contributions"
        )
    work = frame[keys].copy()
    work["_v"] = v.to_numpy()
    work = work.sort_values([*keys, "_v"], ascending=[True] * len(keys) + [False], kind="mergesort")
    rank = work.groupby(keys, sort=False, dropna=False).cumcount()
    work["_top_n"] = np.where(rank < config.dominance_n, work["_v"], 0.0)
    work["_first"] = np.where(rank == 0, work["_v"], 0.0)
    work["_second"] = np.where(rank == 1, work["_v"], 0.0)
    g = work.groupby(keys, sort=True, dropna=False)
    out = pd.DataFrame(
        {
            "contributors": g["_v"].count(),
            "total": g["_v"].sum(),
            "largest": g["_first"].sum(),
            "second": g["_second"].sum(),
            "top_n": g["_top_n"].sum(),
        }
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        out["top_n_share"] = out["top_n"] / out["total"]
        out["p_value"] = (out["total"] - out["largest"] - out["second"]) / out["largest"]
    single = out["contributors"] <= 1
    zero_total = out["total"] <= 0
    single = single.to_numpy()
    zero_total = zero_total.to_numpy()
    with np.errstate(invalid="ignore"):
        nk = out["top_n_share"].to_numpy() > config.dominance_k
        pr = out["p_value"].to_numpy() < config.p_ratio
    out["nk_fail"] = np.where(zero_total, bool(config.zeros_disclosive), nk) | single
    out["p_ratio_fail"] = np.where(zero_total, bool(config.zeros_disclosive), pr) | single
    out["threshold_fail"] = out["contributors"].to_numpy() < config.threshold
    out["disclosive"] = out["nk_fail"] | out["p_ratio_fail"] | out["threshold_fail"]
    return out.drop(columns="top_n")


def residual_df_check(residual_df, config: SDCConfig) -> CheckResult:
    """Residual degrees of freedom of a model against the minimum (ACRO default 10)."""
    if residual_df is None or (isinstance(residual_df, float) and np.isnan(residual_df)):
        return CheckResult(
            "residual_df",
            "fail",
            "a model output must declare its residual degrees of freedom "
            "(TableSpec(residual_df=...), e.g. results.df_resid)",
        )
    if residual_df < config.min_residual_df:
        return CheckResult(
            "residual_df",
            "fail",
            f"residual degrees of freedom {residual_df:g} are below the "
            f"minimum {config.min_residual_df}: the model nearly reproduces "
            "individual records",
        )
    return CheckResult(
        "residual_df",
        "pass",
        f"residual degrees of freedom {residual_df:g} >= {config.min_residual_df}",
    )
