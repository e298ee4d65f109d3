"""Primary and secondary suppression, rounding, and the protected table they produce.

Primary suppression empties every disclosive cell: a count below the threshold (or a
non-structural zero when zeros are disclosive), and a magnitude cell that fails the
dominance or contributor-threshold rules. Secondary suppression then empties further
cells so that no emptied cell can be given back by the declared margins:

1. count rule, one equation at a time: an *open* equation ('parts = total' with exactly
   one empty cell) is closed by emptying one more of its published cells, chosen to
   lose the least: a part before the total; then the cell that opens the fewest new
   equations less those it closes (a cell shared with another open equation closes
   both; one in an equation with no empty cell opens it); then the smallest value.
   The open equation with the best such cell goes first, and which equations are open
   is re-evaluated after each choice, to a fixed point;
2. exact check: find emptied cells that the published cells still determine through
   chains of equations (:func:`child_mdh.release.sdc.margins.recoverable_cells`); empty one
   published cell sharing an equation with the most of them (then as in 1); go back
   to 1.

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

from child_mdh.aggregates.formulas import apply_formulas
from child_mdh.release.sdc.config import SDCConfig, resolve_config
from child_mdh.release.sdc.controlled_rounding import controlled_values
from child_mdh.release.sdc.interval_audit import audit_frame
from child_mdh.release.sdc.margins import build_equations, recoverable_cells
from child_mdh.release.sdc.rules import (
    dominance_table,
    numeric_columns,
    round_to_base,
    structural_zero_mask,
    threshold_mask,
)
from child_mdh.release.sdc.spec import TableSpec

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


@dataclass(frozen=True)
class _Equations:
    """The margin equations as flat arrays, with each cell's entries found in O(1)."""

    eq: np.ndarray  # equation of each entry
    cell: np.ndarray  # cell of each entry
    is_total: np.ndarray  # the entry is its equation's total (coefficient -1)
    n_eq: int
    n_cells: int
    by_cell: np.ndarray  # entry numbers sorted by cell
    starts: np.ndarray  # by_cell[starts[c]:starts[c + 1]] are the entries of cell c

    @classmethod
    def from_frame(cls, eqs: pd.DataFrame, n_cells: int) -> _Equations:
        eq = eqs["eq"].to_numpy(dtype=np.int64)
        cell = eqs["cell"].to_numpy(dtype=np.int64)
        by_cell = np.argsort(cell, kind="stable")
        starts = np.searchsorted(cell[by_cell], np.arange(n_cells + 1))
        return cls(
            eq, cell, eqs["coef"].to_numpy() < 0, int(eq.max()) + 1, n_cells, by_cell, starts
        )

    def entries_of(self, cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The entries of ``cells``, one per equation each is in: (entry numbers, the
        position in ``cells`` of the cell each belongs to)."""
        lengths = self.starts[cells + 1] - self.starts[cells]
        owner = np.repeat(np.arange(len(cells)), lengths)
        offset = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        return self.by_cell[np.repeat(self.starts[cells], lengths) + offset], owner

    def empty_counts(self, sup: np.ndarray) -> np.ndarray:
        """Number of suppressed cells in each equation."""
        return np.bincount(self.eq, weights=sup[self.cell], minlength=self.n_eq).astype(np.int64)

    def net_opened(self, empty: np.ndarray) -> np.ndarray:
        """Per cell: equations that suppressing it would open (none empty yet) minus the
        open equations (exactly one empty) it would close."""
        opens = np.bincount(self.cell, weights=empty[self.eq] == 0, minlength=self.n_cells)
        closes = np.bincount(self.cell, weights=empty[self.eq] == 1, minlength=self.n_cells)
        return (opens - closes).astype(np.int64)


def _close_open_equations(
    s: _Equations, sup: np.ndarray, elig: np.ndarray, vals: np.ndarray
) -> None:
    """Count rule, one equation at a time: suppress cells (in ``sup``, in place) until no
    equation with an eligible cell left has exactly one suppressed cell.

    Each open equation ranks its eligible published cells by (a part before the total;
    fewest equations opened less equations closed; smallest value; lowest cell number)
    and the open equation whose best cell ranks first overall is closed first; then
    every count is re-evaluated. For speed, the open equations that are closed in the
    same pass are those whose best cell ranks first among all open equations that share
    a still-sensitive equation with them (one with at most one suppressed cell): their
    choices cannot change one another's, so the result is that of closing them one by one.
    """
    while True:
        empty = s.empty_counts(sup)
        is_open = empty == 1
        cand = np.flatnonzero(is_open[s.eq] & ~sup[s.cell] & elig[s.cell])
        if cand.size == 0:
            return
        c_eq, c_cell = s.eq[cand], s.cell[cand]
        net = s.net_opened(empty)
        order = np.lexsort((c_cell, vals[c_cell], net[c_cell], s.is_total[cand]))
        ranked_eq = c_eq[order]
        open_eqs, best = np.unique(ranked_eq, return_index=True)  # best: rank of its cell
        priority = np.full(s.n_eq, np.iinfo(np.int64).max)
        priority[open_eqs] = best
        choice = c_cell[order][best]
        # every still-sensitive equation that each open equation's candidates belong to
        entries, owner = s.entries_of(c_cell)
        touched, by = s.eq[entries], c_eq[owner]
        sensitive = empty[touched] <= 1
        touched, by = touched[sensitive], by[sensitive]
        first = np.full(s.n_eq, np.iinfo(np.int64).max)
        np.minimum.at(first, touched, priority[by])
        waits = np.zeros(s.n_eq, dtype=bool)
        waits[by[first[touched] < priority[by]]] = True
        sup[choice[~waits[open_eqs]]] = True


def _repair_recoverable(
    s: _Equations, rec: np.ndarray, sup: np.ndarray, elig: np.ndarray, vals: np.ndarray
) -> bool:
    """Suppress one published, eligible cell sharing an equation with the recoverable
    cells ``rec``, chosen by: a part (in some such equation) before a total; then the
    cell sharing equations with the most recoverable cells; then fewest equations opened
    less closed; then smallest value. Returns False when no cell may be chosen."""
    entries, owner = s.entries_of(rec)
    near = np.zeros(s.n_eq, dtype=bool)
    near[s.eq[entries]] = True
    pairs = pd.DataFrame({"rec": rec[owner], "eq": s.eq[entries]})
    ok = near[s.eq] & ~sup[s.cell] & elig[s.cell]
    if not ok.any():
        return False
    options = pd.DataFrame(
        {"eq": s.eq[ok], "cell": s.cell[ok], "is_total": s.is_total[ok].astype(np.int64)}
    )
    joined = pairs.merge(options, on="eq")
    per_cell = joined.groupby("cell").agg(covers=("rec", "nunique"), is_total=("is_total", "min"))
    cells = per_cell.index.to_numpy(dtype=np.int64)
    net = s.net_opened(s.empty_counts(sup))
    order = np.lexsort(
        (
            cells,
            vals[cells],
            net[cells],
            -per_cell["covers"].to_numpy(),
            per_cell["is_total"].to_numpy(),
        )
    )
    sup[cells[order[0]]] = True
    return True


def secondary_suppression(
    df: pd.DataFrame,
    columns: list[str],
    suppressed: pd.DataFrame,
    margins,
    eligible: pd.DataFrame | None = None,
    max_cells: int = 2000,
    max_rounds: int = 500,
    table: str = "table",
) -> SecondaryResult:
    """Suppress further cells of ``columns`` so no suppressed cell is recoverable.

    ``suppressed`` (boolean, over ``columns``) holds the cells already empty;
    ``eligible`` the cells that may be chosen (default all published cells); ``margins``
    the table's :class:`~child_mdh.release.sdc.spec.RowMargin` / ``ColumnMargin`` declarations.

    Method (module docstring): the count rule applied one equation at a time, choosing
    a part before a total, then the cell that opens the fewest new equations less those
    it closes, then the smallest value, to a fixed point; then the exact linear-algebra
    check (:func:`child_mdh.release.sdc.margins.recoverable_cells`); a recoverable cell costs
    one more cell, and the count rule and check run again, at most ``max_rounds`` times.
    A heuristic in the manner of Hundepool et al. (2012), *Statistical Disclosure
    Control*, ch. 4 (secondary cell suppression), not an optimal pattern.
    """
    eqs = build_equations(df, tuple(margins), list(columns), table)
    sup = suppressed[columns].to_numpy(dtype=bool).ravel().copy()
    elig = np.ones_like(sup) if eligible is None else eligible[columns].to_numpy(dtype=bool).ravel()
    values = numeric_columns(df, list(columns), table).to_numpy().ravel()
    vals = np.where(np.isnan(values), np.inf, values)
    if eqs.empty:
        return SecondaryResult(
            pd.DataFrame(sup.reshape(len(df), len(columns)), index=df.index, columns=columns)
        )
    system = _Equations.from_frame(eqs, sup.size)
    for _ in range(max_rounds):
        _close_open_equations(system, sup, elig, vals)
        rec, unc = recoverable_cells(eqs, sup, max_cells)
        if rec.size == 0 or not _repair_recoverable(system, rec, sup, elig, vals):
            break
    else:
        rec, unc = recoverable_cells(eqs, sup, max_cells)
    return SecondaryResult(
        pd.DataFrame(sup.reshape(len(df), len(columns)), index=df.index, columns=columns),
        unresolved=_cells_to_pairs(rec, list(columns)),
        unchecked=_cells_to_pairs(unc, list(columns)),
    )


def dominance_mask(
    df: pd.DataFrame, spec: TableSpec, config: SDCConfig, table: str = "table"
) -> pd.DataFrame:
    """True where a magnitude cell fails the nk, p-ratio or contributor-threshold rules.

    Table rows are matched to their contributions on ``Contributions.keys``; a row with
    no contributions has fewer contributors than the threshold and is disclosive.
    """
    out = pd.DataFrame(False, index=df.index, columns=list(spec.magnitude))
    for col, contrib in spec.magnitude.items():
        missing = [k for k in contrib.keys if k not in df.columns]
        if missing:
            raise ValueError(
                f"{table}: contributions to {col} are keyed by "
                f"{', '.join(missing)}, which the table does not have"
            )
        flags = dominance_table(contrib, config)["disclosive"].rename("_disclosive")
        keyed = df[list(contrib.keys)].merge(
            flags, left_on=list(contrib.keys), right_index=True, how="left"
        )
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
                unknown = [
                    b for b in backing if b not in suppressed.columns and b not in spec.derived
                ]
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
            raise ValueError(
                f"{table}: derived columns {', '.join(pending)} depend on each other in a circle"
            )
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


def _additive_rounding(
    values: pd.DataFrame,
    counts: list[str],
    eqs: pd.DataFrame | None,
    base: int,
    fixed: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Counts rounded so that every declared total is the sum of its rounded parts.

    The cells that are no equation's total (the finest cells) are rounded to ``base``
    (:func:`~child_mdh.release.sdc.rules.round_to_base`); every total is then the sum of its
    parts' rounded values, computed from the finest cells up (a region from its local
    authorities, England from its regions). Published totals and parts then add up, and
    a reader learns nothing from the relation that the rounded values do not already
    say: a total is known to within its parts' rounding, never more tightly than its
    own (with independent rounding, 'parts = total' narrows both sides). Equations with
    a magnitude cell are left alone. ``fixed`` (a frame over some of the columns, NaN
    where not set): values rounded already, by controlled rounding
    (:mod:`child_mdh.release.sdc.controlled_rounding`), used as they are. Raises
    ``ValueError`` when a total's decompositions disagree (the margins are not
    consistent).
    """
    columns = list(values.columns)
    flat = values.to_numpy(dtype="float64").ravel().copy()
    is_count = np.tile(np.isin(columns, counts), len(values))
    out = flat.copy()
    out[is_count] = round_to_base(flat[is_count], base)
    if fixed is not None:
        given = fixed.reindex(columns=columns).to_numpy(dtype="float64").ravel()
        out = np.where(np.isnan(given), out, given)
    if eqs is None or eqs.empty:
        return pd.DataFrame(out.reshape(values.shape), index=values.index, columns=columns)
    eq, cell = eqs["eq"].to_numpy(), eqs["cell"].to_numpy()
    coef = eqs["coef"].to_numpy()
    n_eq = int(eq.max()) + 1
    use = np.bincount(eq, weights=~is_count[cell], minlength=n_eq) == 0
    total_of, eq_of_total = cell[coef < 0], eq[coef < 0]
    parts_eq, parts_cell = eq[coef > 0], cell[coef > 0]
    pending = np.zeros(flat.size, dtype=bool)
    pending[total_of[use[eq_of_total]]] = True
    if fixed is not None:
        pending[~np.isnan(given)] = False
    while pending.any():
        waiting = np.bincount(parts_eq, weights=pending[parts_cell], minlength=n_eq) > 0
        ready = use & ~waiting
        sums = np.bincount(parts_eq, weights=np.nan_to_num(out[parts_cell]), minlength=n_eq)
        has_nan = np.bincount(parts_eq, weights=np.isnan(out[parts_cell]), minlength=n_eq) > 0
        step = ready[eq_of_total] & pending[total_of]
        if not step.any():
            raise ValueError("margins form a cycle: a total is part of itself")
        cells_now, eqs_now = total_of[step], eq_of_total[step]
        # a total of several equations gets equal sums from each (checked below)
        out[cells_now] = np.where(has_nan[eqs_now], np.nan, sums[eqs_now])
        pending[cells_now] = False
    check = np.bincount(eq, weights=np.nan_to_num(out[cell]) * coef, minlength=n_eq)
    bad = np.flatnonzero(use & (np.abs(check) > 1e-6))
    if bad.size:
        raise ValueError(
            f"declared margins disagree (equation {int(bad[0])}): a total has "
            "two decompositions with different sums; check the margins"
        )
    return pd.DataFrame(out.reshape(values.shape), index=values.index, columns=columns)


def _published_counts(values, empty, counts, config, rounded_values) -> pd.DataFrame:
    out = values.mask(empty)
    if config.rounds:
        rounded = (
            rounded_values
            if rounded_values is not None
            else round_to_base(values[counts], config.rounding_base)
        )
        out[counts] = rounded[counts].mask(empty[counts])
    return out


def _repair_rank(
    equation: np.ndarray, published: np.ndarray, total: bool, value: float
) -> tuple[int, bool, float]:
    """Sort key of a published cell that could be withheld to widen the range of a
    narrowed count sharing ``equation`` with it (smallest first).

    A cell of the equation with the fewest published cells first: there the published
    cells bound the narrowed count most tightly (in 'children = linked + unlinked' the
    published children bound linked from above; in a margin over 150 local authorities
    one more withheld authority changes nothing of it). Then a part before a total (as
    secondary suppression chooses), then the larger value (it widens the range most).
    """
    return int(published[equation].sum()), total, -float(np.nan_to_num(value))


def _repair_narrow_ranges(
    df,
    spec,
    config,
    values,
    structural,
    reasons,
    eqs,
    counts,
    protected,
    table,
    rounded_values,
    unresolved,
    unchecked,
    fixed=None,
    max_rounds: int = 50,
):
    """Withhold more cells until the table alone narrows no withheld count and pins no
    rounded one (the interval audit, :func:`child_mdh.release.sdc.interval_audit.audit_frame`).

    Exact recoverability (secondary suppression) is not enough once counts are rounded
    or withheld cells are small: the published cells can still bound a withheld count
    to a few values above zero. For each count so narrowed, one published count sharing
    an equation with it is withheld too: one of the equation with the fewest published
    cells, a part before a total, the largest value (:func:`_repair_rank`); then
    secondary suppression and the rounding run again, until the
    audit finds nothing or ``max_rounds`` is reached (what remains is then listed as
    unresolved, and the table fails its checks).
    """
    structure = {
        **spec.structure(df),
        "formulas": {},
        "population": None,
        "rounded": config.rounds,
        "rounding_base": config.rounding_base,
        "additive": bool(config.rounds),
    }
    cols = list(protected)
    n_cols = len(cols)
    eq_of_cell: dict[int, np.ndarray] = {}
    is_total: set[tuple[int, int]] = set()
    if eqs is not None and not eqs.empty:
        eq_of_cell = eqs.groupby("cell")["eq"].apply(np.asarray).to_dict()
        cells_of_eq = eqs.groupby("eq")["cell"].apply(np.asarray).to_dict()
        negative = eqs["coef"].to_numpy() < 0
        is_total = set(
            zip(eqs["eq"].to_numpy()[negative].tolist(), eqs["cell"].to_numpy()[negative].tolist())
        )

    def audit():
        empty = reasons != ""
        frame = df.copy()
        frame[cols] = _published_counts(values, empty, counts, config, rounded_values)[cols]
        return empty, audit_frame(frame, structure, min_range=config.threshold, name=table)

    for _ in range(max_rounds):
        empty, report = audit()
        if report.passed:
            return reasons, rounded_values, unresolved, unchecked
        flat_values = values[cols].to_numpy(dtype="float64").ravel()
        eligible = ~(
            empty[cols].to_numpy() | (structural[cols].to_numpy() & (values[cols] == 0).to_numpy())
        ).ravel()
        chosen = set()
        for f in report.findings:
            cell = f.row * n_cols + cols.index(f.column)
            near = [
                (_repair_rank(cells_of_eq[e], eligible, (e, c) in is_total, flat_values[c]), c)
                for e in eq_of_cell.get(cell, [])
                for c in cells_of_eq[e]
                if eligible[c] and c not in chosen
            ]
            if near:
                chosen.add(int(min(near)[1]))
        if not chosen:
            break
        for c in chosen:
            reasons.iat[c // n_cols, reasons.columns.get_loc(cols[c % n_cols])] = "secondary"
        empty = reasons != ""
        result = secondary_suppression(
            df,
            protected,
            empty,
            spec.margins,
            ~empty & ~(structural & (values == 0)),
            max_cells=config.max_linked_cells,
            table=table,
        )
        reasons = reasons.mask(result.suppressed & ~empty, "secondary")
        unresolved, unchecked = result.unresolved, result.unchecked
        if config.rounds:
            rounded_values = _additive_rounding(values, counts, eqs, config.rounding_base, fixed)
    _, report = audit()
    unresolved = list(unresolved) + [(f.row, f.column) for f in report.findings]
    return reasons, rounded_values, unresolved, unchecked


def protect_table(
    df: pd.DataFrame, spec: TableSpec | None = None, config=None, table: str = "table"
) -> ProtectedTable:
    """Apply primary suppression, secondary suppression and/or rounding to ``df``.

    Steps (``config.mitigation`` chooses 3 and 5): 1 threshold rule on the count
    columns; 2 dominance rules on magnitude columns; 3 secondary suppression over the
    declared margins ('suppress', 'both'); 4 derived statistics emptied where a count
    behind them is empty; 5 counts rounded to ``rounding_base`` ('round', 'both');
    6 every declared formula (``spec.formulas``) computed from the protected counts.
    Cells that are empty in the input stay empty (reason 'missing'). Returns a
    :class:`ProtectedTable`; :func:`child_mdh.release.sdc.checks.check_table` says whether it
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
        raise ValueError(
            f"{table}: negative values in {protected[cols[0]]} (row {rows[0]}); "
            "counts and magnitudes must be zero or more"
        )
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
    additive = bool(config.rounds and spec.margins)
    eqs = build_equations(df, spec.margins, protected, table) if spec.margins else None
    fixed = (
        controlled_values(df, values, spec.margins, counts, config.rounding_base, table)
        if additive and any(getattr(m, "same_total", False) for m in spec.margins)
        else None
    )
    rounded_values = None
    for _ in range(len(protected) * len(df) + 1):  # each pass empties at least one cell
        if spec.margins and config.suppresses_secondary:
            eligible = ~empty & ~(structural & (values == 0))
            result = secondary_suppression(
                df,
                protected,
                empty,
                spec.margins,
                eligible,
                max_cells=config.max_linked_cells,
                table=table,
            )
            added = result.suppressed & ~empty
            reasons = reasons.mask(added, "secondary")
            empty = reasons != ""
            unresolved, unchecked = result.unresolved, result.unchecked
        if not additive:
            break
        rounded_values = _additive_rounding(values, counts, eqs, config.rounding_base, fixed)
        # a total is the sum of its rounded parts; one that falls below the threshold
        # once rounded is withheld like any small count, and suppression runs again
        small = (
            threshold_mask(rounded_values[counts], config, structural[counts], rounded=True)
            & ~empty[counts]
        )
        if not small.to_numpy().any():
            break
        reasons[counts] = reasons[counts].mask(small, "threshold")
        empty = reasons != ""
    if spec.margins and config.suppresses_secondary:
        reasons, rounded_values, unresolved, unchecked = _repair_narrow_ranges(
            df,
            spec,
            config,
            values,
            structural,
            reasons,
            eqs,
            counts,
            protected,
            table,
            rounded_values,
            unresolved,
            unchecked,
            fixed,
        )
        empty = reasons != ""
    out = df.copy()
    for col in protected:
        col_values = values[col].mask(empty[col])
        if config.rounds and col in counts:
            col_values = (
                rounded_values[col].mask(empty[col])
                if rounded_values is not None
                else round_to_base(col_values, config.rounding_base)
            )
        out[col] = _as_count_dtype(col_values) if col in counts else col_values
    if spec.formulas:
        # statistics from the protected counts: what is published follows from what is
        # published (child_mdh.aggregates.formulas)
        out = apply_formulas(out, spec.formulas)
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
    return ProtectedTable(
        table=released,
        checked=checked,
        reasons=all_reasons,
        rounded=config.rounds,
        unresolved=unresolved,
        unchecked=unchecked,
    )
