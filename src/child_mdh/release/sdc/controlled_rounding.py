"""Controlled rounding of breakdowns that share one total.

A table that breaks one population down several ways (children linked to a pupil record
by region, by sex, by age...) shows the same total in each breakdown. Rounded
independently, with each total the sum of its own rounded parts, the breakdowns publish
different totals for one count, and a reader who knows they are one count intersects
what each says: the count, and then its parts, come out narrower than rounding allows.
(On a test release: England's linked children were 1,860 by one domain, 1,865 by sex,
1,870 by region; together they put the count in 1,861-1,864 and pinned eight parts.)

Controlled rounding (Cox 1987, 'A constructive procedure for unbiased controlled rounding',
JASA 82; Hundepool et al. 2012, *Statistical Disclosure Control*, s. 5.4) publishes one
total instead: the total is rounded to the nearest multiple of the base, and each
breakdown's parts are rounded to one of the two multiples next to them (down, or up)
so that they add up to it. The parts rounded up are those with the largest remainders
(Hamilton's largest-remainder rule; ties to the earlier row), so the published values
are deterministic. A part that is already a multiple of the base is never changed
(zero-restricted). A solution always exists: the nearest multiple of the total lies
between the sums of the parts rounded down and rounded up.

What the reader then knows, and the release audit assumes
(:mod:`child_mdh.release.sdc.interval_audit`): the total within half a base of its
published value (``r - 2`` to ``r + 2`` for base 5), each part within less than one base
(``r - 4`` to ``r + 4``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from child_mdh.release.sdc.rules import round_to_base
from child_mdh.release.sdc.spec import ColumnMargin, Margin, RowMargin


def controlled_cells(
    df: pd.DataFrame, margins: tuple[Margin, ...], counts: list[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Which cells controlled rounding sets, as two boolean frames over ``counts``:
    ``parts`` (the parts of a breakdown sharing its total: rounded up or down) and
    ``totals`` (the shared totals: rounded to the nearest base). Columns that are the
    total of a :class:`~child_mdh.release.sdc.spec.ColumnMargin` are neither: they are the
    sums of their rounded parts, row by row."""
    parts = pd.DataFrame(False, index=df.index, columns=counts)
    totals = pd.DataFrame(False, index=df.index, columns=counts)
    for _, cols, is_total in _shared_totals(df, margins, counts):
        for c in cols:
            parts[c] |= ~is_total
            totals[c] |= is_total
    return parts, totals


def _shared_totals(df: pd.DataFrame, margins: tuple[Margin, ...], counts: list[str]):
    """(margin, columns rounded by it, which rows are its total rows) of each margin
    with ``same_total``; a column that is a column margin's total is not rounded by it
    (it is the sum of its rounded parts, row by row)."""
    column_totals = {m.total for m in margins if isinstance(m, ColumnMargin)}
    for m in margins:
        if not (isinstance(m, RowMargin) and m.same_total):
            continue
        cols = [
            c
            for c in (m.columns if m.columns is not None else counts)
            if c in counts and c not in column_totals
        ]
        yield m, cols, (df[m.id_column].astype("str") == str(m.total)).to_numpy()


def controlled_values(
    df: pd.DataFrame,
    values: pd.DataFrame,
    margins: tuple[Margin, ...],
    counts: list[str],
    base: int,
    table: str = "table",
) -> pd.DataFrame:
    """The controlled rounding of every breakdown that shares its total (module doc):
    a frame like ``values[counts]`` holding the rounded part and total cells and NaN
    elsewhere (those cells are rounded as usual). Raises ``ValueError`` naming the
    table, column and rows when the totals declared to be one count differ, or when a
    breakdown's parts do not add up to its total."""
    out = pd.DataFrame(np.nan, index=values.index, columns=counts)
    for m, cols, is_total in _shared_totals(df, margins, counts):
        groups = df.groupby(list(m.within), sort=False).indices
        for c in cols:
            v = values[c].to_numpy(dtype="float64")
            shown = v[is_total & ~np.isnan(v)]
            if shown.size and np.ptp(shown) > 0:
                rows = list(np.flatnonzero(is_total)[:5])
                raise ValueError(
                    f"{table}: {c}: the total rows (rows {rows}, {m.id_column} "
                    f"{m.total!r}) are declared to be one count (same_total) but hold "
                    f"{sorted(set(shown.tolist()))[:5]}; give every breakdown the same "
                    "total or drop same_total"
                )
            if not shown.size:
                continue
            total = float(round_to_base(shown[:1], base)[0])
            for key, rows in groups.items():
                rows = np.asarray(rows)
                part_rows = rows[~is_total[rows]]
                total_rows = rows[is_total[rows]]
                x = v[part_rows]
                if np.isnan(x).any():
                    continue  # a part not known: the breakdown is rounded as usual
                if abs(x.sum() - shown[0]) > 1e-9:
                    raise ValueError(
                        f"{table}: {c}: the parts of {dict(zip(m.within, np.atleast_1d(key)))} "
                        f"add up to {x.sum():g}, not to their total {shown[0]:g} (rows "
                        f"{list(part_rows[:5])}); the declared margin does not hold"
                    )
                out.iloc[total_rows, out.columns.get_loc(c)] = total
                out.iloc[part_rows, out.columns.get_loc(c)] = round_parts(x, total, base)
    return out


def round_parts(x: np.ndarray, total: float, base: int) -> np.ndarray:
    """``x`` rounded to multiples of ``base``, each down or up, adding up to ``total``
    (a multiple of ``base`` between the sums rounded down and up): the parts with the
    largest remainders go up (ties to the earlier part); multiples stay as they are."""
    x = np.asarray(x, dtype="float64")
    down = base * np.floor(x / base)
    remainder = x - down
    ups = round(float(total - down.sum()) / base)
    movable = np.flatnonzero(remainder > 0)
    if ups < 0 or ups > movable.size:
        raise ValueError(
            f"no controlled rounding of {x.tolist()} to {total:g}: the total must lie "
            "between the sums of the parts rounded down and up"
        )
    order = movable[np.argsort(-remainder[movable], kind="stable")]
    out = down.copy()
    out[order[:ups]] += base
    return out
