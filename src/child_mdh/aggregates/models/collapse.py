"""Covariate-pattern cells: many rows with the same covariates become one row.

Binomial and Poisson likelihoods with only categorical covariates depend on the data
only through, for each covariate pattern, the number of rows, the number of events and
the total exposure. Fitting on these cells instead of on rows gives the same estimates
(methods.md section 5) and, when the cluster is part of the cell key so that every cell
lies within one cluster, the same cluster-robust standard errors: that is how tens of
millions of children fit in seconds.

Rows with a missing value in a key or a summed column are dropped before collapsing
(statsmodels does not realign cluster groups with dropped rows) and counted in the
frame's ``attrs["collapse"]`` record.

The grouping is vectorised: each key is factorised, the codes are combined into one
integer per row, and sums are taken with ``numpy.bincount``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

_COMPACT_AT = 2**31


def _missing(series: pd.Series) -> np.ndarray:
    return series.isna().to_numpy(dtype=bool)


def collapse(
    frame: pd.DataFrame,
    keys,
    sums: dict[str, str] | None = None,
    *,
    rows_name: str = "rows",
    table: str = "children",
) -> pd.DataFrame:
    """Collapse ``frame`` to one row per distinct combination of ``keys``.

    Returns the key columns (with their original dtypes), ``rows_name`` (the number of
    rows in the cell) and, for each ``name: column`` of ``sums``, the sum of ``column``
    in the cell (booleans count as 0/1). Cells are sorted by the keys.

    ``attrs["collapse"]`` records rows in, rows used, rows dropped for a missing value
    (by column) and the number of cells.
    """
    keys = list(dict.fromkeys(keys))
    sums = dict(sums or {})
    needed = keys + [c for c in sums.values() if c not in keys]
    absent = [c for c in needed if c not in frame.columns]
    if absent:
        raise KeyError(
            f"table {table}: columns {absent} are needed to form model cells but are not "
            f"present (columns: {list(frame.columns)[:30]}). Add them, or change the model "
            "specification."
        )
    n = len(frame)
    drop = np.zeros(n, dtype=bool)
    dropped: dict[str, int] = {}
    for c in needed:
        m = _missing(frame[c])
        new = m & ~drop
        if new.any():
            dropped[c] = int(new.sum())
        drop |= m
    used = np.flatnonzero(~drop)
    all_used = len(used) == n

    combined = np.zeros(len(used), dtype=np.int64)
    radix = 1
    for k in keys:
        col = frame[k] if all_used else frame[k].iloc[used]
        codes, uniques = pd.factorize(col, sort=True)
        card = max(len(uniques), 1)
        if radix * card >= _COMPACT_AT:
            combined, u = pd.factorize(combined, sort=True)
            combined = combined.astype(np.int64)
            radix = max(len(u), 1)
        combined = combined * card + codes.astype(np.int64)
        radix *= card
    if keys:
        cell, _ = pd.factorize(combined, sort=True)
        n_cells = int(cell.max()) + 1 if len(cell) else 0
    else:
        cell = np.zeros(len(used), dtype=np.int64)
        n_cells = 1 if len(used) else 0

    first = np.full(n_cells, -1, dtype=np.int64)
    first[cell[::-1]] = np.arange(len(cell) - 1, -1, -1)
    out = {k: frame[k].iloc[used[first]].reset_index(drop=True) for k in keys}
    out[rows_name] = np.bincount(cell, minlength=n_cells).astype(np.int64)
    for name, col in sums.items():
        values = frame[col] if all_used else frame[col].iloc[used]
        values = values.astype("float64").to_numpy(dtype=float)
        out[name] = np.bincount(cell, weights=values, minlength=n_cells)
    result = pd.DataFrame(out)
    result.attrs["collapse"] = {
        "table": table,
        "rows_in": int(n),
        "rows_used": len(used),
        "rows_dropped_missing": dropped,
        "cells": int(n_cells),
        "keys": keys,
    }
    return result


def binary_cells(
    frame: pd.DataFrame, outcome: str, keys, *, table: str = "children"
) -> pd.DataFrame:
    """Cells for a binary outcome: ``trials`` (children) and ``events`` (outcome true)."""
    _check_binary(frame, outcome, table)
    cells = collapse(frame, keys, {"events": outcome}, rows_name="trials", table=table)
    cells["rows"] = cells["trials"]
    return cells


def count_cells(
    frame: pd.DataFrame, count: str, exposure: str, keys, *, table: str = "children"
) -> pd.DataFrame:
    """Cells for a count outcome: ``rows``, ``events`` (sum of counts), ``exposure``."""
    s = frame[count]
    if (s.dropna() < 0).any():
        raise ValueError(f"table {table}: count column {count!r} has negative values")
    e = frame[exposure]
    if (e.dropna() < 0).any():
        raise ValueError(f"table {table}: exposure column {exposure!r} has negative values")
    return collapse(frame, keys, {"events": count, "exposure": exposure}, table=table)


def distinct_rows(frame: pd.DataFrame, columns, *, table: str = "children") -> pd.DataFrame:
    """Distinct rows of ``columns`` with their frequency in ``rows``.

    Rows that are identical in every column the likelihood uses contribute identically
    to any likelihood, so a frequency-weighted fit on them is exact for any model
    (used for the negative binomial, whose likelihood does not collapse to cell sums).
    """
    return collapse(frame, list(columns), None, rows_name="rows", table=table)


def _check_binary(frame: pd.DataFrame, outcome: str, table: str) -> None:
    if outcome not in frame.columns:
        raise KeyError(f"table {table}: outcome column {outcome!r} is missing")
    s = frame[outcome].dropna()
    if pd.api.types.is_bool_dtype(s.dtype):
        return
    bad = ~s.isin([0, 1])
    if bad.any():
        examples = s[bad].head(5).tolist()
        raise ValueError(
            f"table {table}: outcome {outcome!r} must be true/false (or 0/1); found "
            f"values such as {examples} in rows {s.index[bad][:5].tolist()}"
        )
