"""Sums that hold between a release table's count columns but that it does not declare.

A relation between published counts that the table does not declare (for example
'children = linked + unlinked') is never protected: secondary suppression and the release
audit only know the declared margins, so a withheld count can come back by subtraction.
:func:`undeclared_sums` looks for them the way a reader would: for every count column, every
other count column and every pair of them, does 'total = part' or 'total = a + b' hold on
every row where all three are published, within what rounding allows? Each relation found
that the table's declared column margins do not give is returned, so a test (or a checker)
can fail on it.

Rows are sampled (``max_rows``); a relation must hold on at least ``min_rows`` rows with
some variation in the total, so a column of zeros or a constant does not count.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Relation:
    """``total`` = sum of ``parts`` on every published row checked (``rows``)."""

    total: str
    parts: tuple[str, ...]
    rows: int


def _declared(structure: Mapping) -> set[tuple[str, frozenset]]:
    out = set()
    for m in structure.get("margins") or ():
        if m.get("kind") == "columns":
            out.add((m["total"], frozenset(m["parts"])))
    return out


def _implied(declared: set[tuple[str, frozenset]]) -> set[tuple[str, frozenset]]:
    """Declared sums and what follows from them by moving a part across
    (total = a + b also gives a = total - b: not a sum, so only the declared form and
    nested declarations, a = b + c with t = a + d giving t = b + c + d, are added)."""
    out = set(declared)
    changed = True
    while changed:
        changed = False
        for total, parts in list(out):
            for inner_total, inner_parts in list(out):
                if inner_total in parts:
                    new = (total, frozenset((parts - {inner_total}) | inner_parts))
                    if new not in out:
                        out.add(new)
                        changed = True
    return out


def undeclared_sums(
    frame: pd.DataFrame,
    structure: Mapping,
    *,
    max_rows: int = 200,
    min_rows: int = 5,
    seed: int = 0,
) -> list[Relation]:
    """Sums of one or two count columns equal to a third on every checked row, that the
    table's declared column margins do not give (module docstring).

    ``structure`` is the table's entry in ``outputs.json`` (count columns, margins,
    rounding). For a table rounded independently, 'holds' means within what the rounding
    of the columns involved allows; for one with totals summed from rounded parts, or not
    rounded, it means exactly.
    """
    cols = [c for c in structure.get("count_columns") or [] if c in frame.columns]
    if len(cols) < 2:
        return []
    values = frame[cols].apply(pd.to_numeric, errors="coerce")
    if len(values) > max_rows:
        values = values.sample(max_rows, random_state=seed)
    v = values.to_numpy(dtype="float64")
    base = int(structure.get("rounding_base") or 1) if structure.get("rounded") else 1
    exact = base == 1 or bool(structure.get("additive"))
    half = 0.0 if exact else base // 2
    declared = _implied(_declared(structure))
    # a relation among columns of one declared sum (total = a + b holding as total = a
    # where b is zero or withheld) is that sum, not a new one
    declared_sets = [frozenset({total, *parts}) for total, parts in declared]
    found = []
    index = {c: i for i, c in enumerate(cols)}
    for t in cols:
        total = v[:, index[t]]
        for k in (1, 2):
            for parts in combinations([c for c in cols if c != t], k):
                if (t, frozenset(parts)) in declared or any(
                    frozenset({t, *parts}) <= d for d in declared_sets
                ):
                    continue
                summed = sum(v[:, index[p]] for p in parts)
                ok = ~np.isnan(total) & ~np.isnan(summed)
                if ok.sum() < min_rows or np.nanstd(total[ok]) == 0:
                    continue
                tolerance = half * (k + 1) + 1e-9
                if np.all(np.abs(total[ok] - summed[ok]) <= tolerance):
                    found.append(Relation(t, tuple(parts), int(ok.sum())))
    return found
