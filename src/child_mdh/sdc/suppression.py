"""Primary and secondary suppression, rounding, and the protected table they produce.

Primary suppression empties every disclosive cell: a count below the threshold (or a
non-structural zero when zeros are disclosive), and a magnitude cell that fails the
dominance or contributor-threshold rules. Secondary suppression then empties further
cells so that no emptied cell can be given back by the declared margins:

1. greedy count rule: while some margin equation ('parts = total') has exactly one
   empty cell, empty the smallest published part of that equation (the total only
   when no part is left), for every such equation at once; repeat to a fixed point;
2. exact check: find emptied cells that the published cells still determine through
   chains of equations (:func:`child_mdh.sdc.margins.recoverable_cells`); for each,
   empty the smallest published cell of an equation that contains it; go back to 1.

Structural zeros are known to everyone, so they are never chosen for secondary
suppression and count as published. Derived statistics (rates, percentages, interval
bounds) are emptied wherever a count behind them is empty. Suppressed cells are empty
(NaN), never a fake number. With ``mitigation='round'`` the counts are rounded to the
base instead of secondary suppression; with ``'both'`` after it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from child_mdh.sdc.config import SDCConfig, resolve_config
from child_mdh.sdc.margins import build_equations, recoverable_cells
from child_mdh.sdc.rules import (
    dominance_table,
    numeric_columns,
    round_to_base,
    structural_zero_mask,
    threshold_mask,
)
from child_mdh.sdc.spec import TableSpec

REASONS = ("threshold", "dominance", "secondary", "derived", "missing")


@dataclass
class SecondaryResult:
    """Cells suppressed after secondary suppression (a boolean frame like the input).

    ``unresolved`` lists (row, column) cells still recoverable when the algorithm
    stopped (the table must not be released); ``unchecked`` lists cells in linked
    blocks too large to verify exactly (the table needs review).
    """

    suppressed: pd.DataFrame
    unresolved: list[tuple[int, str]] = field(default_factory=list)
    unchecked: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class ProtectedTable:
    """A table after disclosure control.

    ``table``: what is released (withheld columns dropped); ``checked``: the same with
    withheld columns, as checked; ``reasons``: per protected and derived cell, why it
    was emptied ('' when published); ``rounded``: counts rounded to ``rounding_base``.
    """

    table: pd.DataFrame
    checked: pd.DataFrame
    reasons: pd.DataFrame
    rounded: bool
    unresolved: list[tuple[int, str]] = field(default_factory=list)
    unchecked: list[tuple[int, str]] = field(default_factory=list)

    def summary(self) -> dict:
        """Number of emptied cells by reason (ACRO-style ``sdc.summary``)."""
        counts = {reason: int((self.reasons == reason).to_numpy().sum()) for reason in REASONS}
        counts["suppressed"] = bool(sum(v for k, v in counts.items() if k != "missing"))
        counts["rounded"] = self.rounded
        return counts

    def cells(self) -> dict[str, list[list]]:
        """Emptied cells by reason, as [row, column] pairs (ACRO-style ``sdc.cells``)."""
        out = {}
        values = self.reasons.to_numpy(dtype=object)
        cols = list(self.reasons.columns)
        for reason in REASONS:
            rows, cidx = np.nonzero(values == reason)
            out[reason] = [[int(r), cols[c]] for r, c in zip(rows, cidx)]
        return out


def _cells_to_pairs(cells: np.ndarray, columns: list[str]) -> list[tuple[int, str]]:
    n = len(columns)
    return [(int(c // n), columns[int(c % n)]) for c in cells]


def _first_per_group(group: np.ndarray, cell: np.ndarray, is_total: np.ndarray,
                     value: np.ndarray) -> np.ndarray:
    """Per group, the cell to suppress next: parts before totals, smallest value, then
    lowest cell number (deterministic)."""
    order = np.lexsort((cell, value, is_total, group))
    g = group[order]
    first = np.ones(len(g), dtype=bool)
    first[1:] = g[1:] != g[:-1]
    return np.unique(cell[order][first])


def secondary_suppression(df: pd.DataFrame, columns: list[str], suppressed: pd.DataFrame,
                          margins, eligible: pd.DataFrame | None = None,
                          max_cells: int = 2000, max_rounds: int = 500,
                          table: str = "table") -> SecondaryResult:
    """Suppress further cells of ``columns`` so no suppressed cell is recoverable.

    ``suppressed`` (boolean, over ``columns``) holds the cells already empty;
    ``eligible`` the cells that may be chosen (default all published cells); ``margins``
    the table's :class:`~child_mdh.sdc.spec.RowMargin` / ``ColumnMargin`` declarations.
    Algorithm in the module docstring (greedy count rule to a fixed point, then an
    exact linear-algebra check, repeated).
    """
    eqs = build_equations(df, tuple(margins), list(columns), table)
    sup = suppressed[columns].to_numpy(dtype=bool).ravel().copy()
    if eligible is None:
        elig = np.ones_like(sup)
    else:
        elig = eligible[columns].to_numpy(dtype=bool).ravel()
    values = numeric_columns(df, list(columns), table).to_numpy().ravel()
    vals = np.where(np.isnan(values), np.inf, values)
    if eqs.empty:
        return SecondaryResult(pd.DataFrame(sup.reshape(len(df), len(columns)),
                                            index=df.index, columns=columns))
    eq = eqs["eq"].to_numpy()
    cell = eqs["cell"].to_numpy()
    is_total = eqs["coef"].to_numpy() < 0
    n_eq = int(eq.max()) + 1
    for _ in range(max_rounds):
        while True:  # greedy count rule, to a fixed point
            lone = np.bincount(eq, weights=sup[cell], minlength=n_eq) == 1
            cand = lone[eq] & ~sup[cell] & elig[cell]
            if not cand.any():
                break
            sup[_first_per_group(eq[cand], cell[cand], is_total[cand], vals[cell[cand]])] = True
        rec, _ = recoverable_cells(eqs, sup, max_cells)
        if rec.size == 0:
            break
        in_rec = np.isin(cell, rec)
        rec_eq = pd.DataFrame({"rec": cell[in_rec], "eq": eq[in_rec]})
        ok = ~sup[cell] & elig[cell]
        options = pd.DataFrame({"eq": eq[ok], "cell": cell[ok], "is_total": is_total[ok],
                                "value": vals[cell[ok]]})
        cand = rec_eq.merge(options, on="eq")
        if cand.empty:
            break
        sup[_first_per_group(cand["rec"].to_numpy(), cand["cell"].to_numpy(),
                             cand["is_total"].to_numpy(), cand["value"].to_numpy())] = True
    rec, unc = recoverable_cells(eqs, sup, max_cells)
    return SecondaryResult(
        pd.DataFrame(sup.reshape(len(df), len(columns)), index=df.index, columns=columns),
        unresolved=_cells_to_pairs(rec, list(columns)),
        unchecked=_cells_to_pairs(unc, list(columns)),
    )


def dominance_mask(df: pd.DataFrame, spec: TableSpec, config: SDCConfig,
                   table: str = "table") -> pd.DataFrame:
    """True where a magnitude cell fails the nk, p-ratio or contributor-threshold rules.

    Table rows are matched to their contributions on ``Contributions.keys``; a row with
    no contributions has fewer contributors than the threshold and is disclosive.
    """
    out = pd.DataFrame(False, index=df.index, columns=list(spec.magnitude))
    for col, contrib in spec.magnitude.items():
        missing = [k for k in contrib.keys if k not in df.columns]
        if missing:
            raise ValueError(f"{table}: contributions to {col} are keyed by "
                             f"{', '.join(missing)}, which the table does not have")
        flags = dominance_table(contrib, config)["disclosive"].rename("_disclosive")
        keyed = df[list(contrib.keys)].merge(flags, left_on=list(contrib.keys),
                                             right_index=True, how="left")
        out[col] = keyed["_disclosive"].fillna(True).astype(bool).to_numpy()
    return out


def _derived_masks(spec: TableSpec, suppressed: pd.DataFrame, table: str) -> pd.DataFrame:
    """True where a derived statistic must be emptied: a column behind it is emptied."""
    masks: dict[str, np.ndarray] = {}
    pending = dict(spec.derived)
    while pending:
        progressed = False
        for stat, backing in list(pending.items()):
            known = all(b in suppressed.columns or b in masks for b in backing)
            if not known:
                unknown = [b for b in backing
                           if b not in suppressed.columns and b not in spec.derived]
                if unknown:
                    raise ValueError(
                        f"{table}: derived column {stat} is computed from "
                        f"{', '.join(unknown)}, which are not count columns; end their "
                        "names in _n or list them in count_columns"
                    )
                continue
            m = np.zeros(len(suppressed), dtype=bool)
            for b in backing:
                m |= suppressed[b].to_numpy(dtype=bool) if b in suppressed.columns else masks[b]
            masks[stat] = m
            del pending[stat]
            progressed = True
        if not progressed:
            raise ValueError(f"{table}: derived columns {', '.join(pending)} depend on "
                             "each other in a circle")
    return pd.DataFrame(masks, index=suppressed.index, columns=list(spec.derived))


def _as_count_dtype(s: pd.Series) -> pd.Series:
    """Whole-number columns as nullable integers (so a CSV shows 12, not 12.0)."""
    v = s.to_numpy(dtype="float64")
    finite = v[~np.isnan(v)]
    if np.all(finite == np.round(finite)) and np.all(np.abs(finite) < 2**53):
        return pd.Series(_int64_with_na(v), index=s.index)
    return pd.Series(v, index=s.index)


def _int64_with_na(v: np.ndarray) -> pd.arrays.IntegerArray:
    mask = np.isnan(v)
    return pd.arrays.IntegerArray(np.where(mask, 0, v).astype(np.int64), mask)


def protect_table(df: pd.DataFrame, spec: TableSpec | None = None, config=None,
                  table: str = "table") -> ProtectedTable:
    """Apply primary suppression, secondary suppression and/or rounding to ``df``.

    Steps (``config.mitigation`` chooses 3 and 5): 1 threshold rule on the count
    columns; 2 dominance rules on magnitude columns; 3 secondary suppression over the
    declared margins ('suppress', 'both'); 4 derived statistics emptied where a count
    behind them is empty; 5 counts rounded to ``rounding_base`` ('round', 'both').
    Cells that are empty in the input stay empty (reason 'missing'). Returns a
    :class:`ProtectedTable`; :func:`child_mdh.sdc.checks.check_table` says whether it
    may be released.
    """
    spec = spec or TableSpec()
    config = resolve_config(config)
    spec.validate_against(df, table)
    counts = spec.counts(df)
    protected = spec.protected(df)
    values = numeric_columns(df, protected, table)
    negative = (values < 0).to_numpy()
    if negative.any():
        rows, cols = np.nonzero(negative)
        raise ValueError(f"{table}: negative values in {protected[cols[0]]} (row {rows[0]}); "
                         "counts and magnitudes must be zero or more")
    structural = structural_zero_mask(df, protected, spec.structural_zeros)
    reasons = pd.DataFrame("", index=df.index, columns=protected, dtype=object)
    missing = values.isna()
    reasons[missing] = "missing"
    if counts:
        small = threshold_mask(values[counts], config, structural[counts])
        reasons[counts] = reasons[counts].mask(small & ~missing[counts], "threshold")
    if spec.magnitude:
        dom = dominance_mask(df, spec, config, table)
        for col in dom.columns:
            hit = dom[col] & ~missing[col]
            reasons[col] = reasons[col].mask(hit & (reasons[col] == ""), "dominance")
    empty = reasons != ""
    unresolved: list = []
    unchecked: list = []
    if spec.margins and config.suppresses_secondary:
        eligible = ~empty & ~(structural & (values == 0))
        result = secondary_suppression(df, protected, empty, spec.margins, eligible,
                                       max_cells=config.max_linked_cells, table=table)
        added = result.suppressed & ~empty
        reasons = reasons.mask(added, "secondary")
        empty = reasons != ""
        unresolved, unchecked = result.unresolved, result.unchecked
    out = df.copy()
    for col in protected:
        col_values = values[col].mask(empty[col])
        if config.rounds and col in counts:
            col_values = round_to_base(col_values, config.rounding_base)
        out[col] = _as_count_dtype(col_values) if col in counts else col_values
    derived = _derived_masks(spec, empty, table)
    derived_reasons = pd.DataFrame("", index=df.index, columns=list(spec.derived), dtype=object)
    for stat in spec.derived:
        hit = derived[stat].to_numpy() & out[stat].notna().to_numpy()
        out[stat] = out[stat].mask(derived[stat].to_numpy())
        derived_reasons.loc[hit, stat] = "derived"
    all_reasons = pd.concat([reasons, derived_reasons], axis=1)
    all_reasons = all_reasons.reset_index(drop=True)
    checked = out.reset_index(drop=True)
    released = checked.drop(columns=list(spec.withhold_columns))
    return ProtectedTable(table=released, checked=checked, reasons=all_reasons,
                          rounded=config.rounds, unresolved=unresolved, unchecked=unchecked)
