"""The release-wide interval audit: what an output checker with every file and a linear
programming solver can learn about each withheld or rounded count.

An output checker (or any later reader) holds the whole release folder at once. This
audit does what such a reader would (the attack of Hundepool et al. 2012, *Statistical
Disclosure Control*, s. 4.3 and 5.2, 'audit' of a suppression pattern by linear
programming, as tau-ARGUS does it):

1. **One unknown per number.** Every count cell of every release table listed in
   ``outputs.json`` with a recorded structure is an unknown true count. Cells declared
   to count the same thing (same ``population``, column and dimension values, see
   :class:`~child_mdh.release.sdc.spec.TableSpec`) are one unknown, wherever they are published.
2. **What is published bounds it.** A count published as r after rounding to base b
   lies in [r - b/2, r + b/2) (so r - 2 .. r + 2 for base 5); an unrounded one equals
   r; a withheld one is at least 0.
3. **Every declared relation holds exactly for the true counts**: row, column and
   hierarchy margins of each table (LA -> region -> England, parts -> totals), and the
   same count in several files. A statistic published as a ratio of linear forms of counts
   (a percentage, a rate, H, M0) gives two linear inequalities (its value is known to
   half a unit of its last decimal), unless it follows from the published counts by its
   formula (then it adds nothing).
4. **The feasible range** of every withheld and every rounded unknown is its minimum
   and maximum over that polyhedron (HiGHS, through ``highspy``), block by block of
   linked unknowns;
   the bounds are then rounded inwards to whole numbers (integrality of the bounds; the
   polyhedron itself is not made integral, so a range can be a little wider than the
   integer hull: never narrower).

A count is *withheld* when no file publishes it with a value of its own: one withheld in
a file and published in another (say England's row of two tables) is a published count,
known to within its rounding whatever the first file withholds, and is checked as such.
The findings: a withheld count whose range holds one value is recovered **exactly**
(a zero too); one whose range holds fewer than ``min_range`` whole numbers (default: the
threshold) and excludes 0 is recovered **narrowly** (the reader learns that someone is
there, and about how many); a rounded count whose range is narrower than its rounding
allows is **pinned**; a count published twice with values that cannot both hold is
**inconsistent**. A release passes when there are none. A withheld count whose range is
[0, u] with u below ``min_range`` - 1 tells the reader only that it is small, which is
what withholding it says; one whose range lies at or above ``min_range`` (a count withheld
only to protect another) could have been published. Neither is a finding, but both are
counted (``withheld_known_only_to_be_small``,
``withheld_known_to_be_at_least_the_threshold``) so the checker sees how many there are.

Speed: most ranges are settled without a problem of their own. A few linear programs per
block push every unknown to its limits at once (all up, all down, random directions);
an unknown seen at both ends of what its rounding allows (or spread over at least
``min_range`` values, when withheld) needs nothing more, and only the others get their own
minimum and maximum.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

import highspy
import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix, csr_matrix, vstack
from scipy.sparse.csgraph import connected_components

from child_mdh.aggregates.formulas import (
    FormulaError,
    as_formula,
    linear_ratio,
    not_following,
)
from child_mdh.release.sdc.controlled_rounding import controlled_cells
from child_mdh.release.sdc.margins import build_equations
from child_mdh.release.sdc.spec import margin_from_dict

#: How many findings of each kind the report lists (the counts are always complete).
MAX_LISTED = 50
_EPS = 1e-6


@dataclass
class Finding:
    """One count an output checker can narrow down: its kind, where it is published, what
    was published ('' when withheld) and the range the whole release leaves it."""

    kind: str
    file: str
    row: int
    column: str
    published: str
    lower: float
    upper: float


@dataclass
class IntervalAudit:
    """Figures of the release-wide interval audit (see the module docstring)."""

    cells: int = 0
    unknowns: int = 0
    withheld: int = 0
    rounded: int = 0
    exact: int = 0
    narrow: int = 0
    pinned: int = 0
    inconsistent: int = 0
    below_threshold: int = 0
    withheld_publishable: int = 0
    linear_programs: int = 0
    seconds: float = 0.0
    min_range: int = 10
    findings: list[Finding] = field(default_factory=list)
    not_audited: list[tuple[str, str]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """True when nothing withheld is recovered, no rounded count is pinned and every
        table could be audited."""
        return not (
            self.exact or self.narrow or self.pinned or self.inconsistent or self.not_audited
        )

    def to_dict(self) -> dict:
        """JSON-able figures (findings listed up to :data:`MAX_LISTED` per kind)."""
        listed: dict[str, int] = {}
        findings = []
        for f in self.findings:
            listed[f.kind] = listed.get(f.kind, 0) + 1
            if listed[f.kind] <= MAX_LISTED:
                findings.append(asdict(f))
        return {
            "passed": self.passed,
            "count_cells": self.cells,
            "distinct_counts": self.unknowns,
            "withheld_counts": self.withheld,
            "rounded_counts": self.rounded,
            "exact_recoveries": self.exact,
            "narrow_recoveries": self.narrow,
            "pinned_rounded_counts": self.pinned,
            "inconsistent_counts": self.inconsistent,
            "withheld_known_only_to_be_small": self.below_threshold,
            "withheld_known_to_be_at_least_the_threshold": self.withheld_publishable,
            "min_range": self.min_range,
            "not_audited": [list(t) for t in self.not_audited],
            "linear_programs": self.linear_programs,
            "seconds": round(self.seconds, 2),
            "findings": findings,
        }


@dataclass
class _Table:
    name: str
    frame: pd.DataFrame
    structure: dict


# ------------------------------------------------------------------------------------
# reading the release
# ------------------------------------------------------------------------------------
def _tables(release_dir: Path, manifest: Mapping) -> list[_Table]:
    out = []
    for entry in (manifest.get("results") or {}).values():
        structure = entry.get("structure")
        if not structure:
            continue
        for f in entry.get("files", []):
            name = f["name"]
            if not name.lower().endswith(".csv") or not (release_dir / name).is_file():
                continue  # the XLSX copy holds the same numbers as its CSV
            keys = list(structure.get("key_columns") or [])
            frame = pd.read_csv(release_dir / name, dtype=dict.fromkeys(keys, "str"))
            out.append(_Table(name, frame, structure))
    return out


def _count_columns(t: _Table) -> list[str]:
    cols = list(t.structure.get("count_columns") or [])
    cols += [c for c in t.structure.get("magnitude_columns") or [] if c not in cols]
    return [c for c in cols if c in t.frame.columns]


def _identities(t: _Table, cols: list[str]) -> np.ndarray:
    """Identity string of every (row, column) cell, row by row (row * len(cols) + col)."""
    n = len(t.frame)
    population = t.structure.get("population")
    if not population:
        rows = np.repeat(np.arange(n), len(cols)).astype(str)
        return np.char.add(
            np.char.add(f"{t.name}|", rows), np.char.add("|", np.tile(np.array(cols, dtype=str), n))
        )
    dims = dict(t.structure.get("dimensions") or {})
    key = pd.Series(f"{population}", index=t.frame.index, dtype=object)
    for col, dim in sorted(dims.items(), key=lambda kv: kv[1]):
        key = key + f"|{dim}=" + t.frame[col].astype("str")
    key = key.to_numpy(dtype=str)
    return np.char.add(
        np.repeat(key, len(cols)), np.char.add("|", np.tile(np.array(cols, dtype=str), n))
    )


def _count_sums(tables: list[_Table], cells: pd.DataFrame) -> list[tuple[str, np.ndarray]]:
    """The declared sums of each table's cells that are counts of other populations
    (:class:`~child_mdh.release.sdc.spec.CountSum`): (identity of the total, cell numbers
    of its parts) for each group of selected rows."""
    out = []
    index = _cell_index(cells)
    for ti, t in enumerate(tables):
        dims = dict(t.structure.get("dimensions") or {})
        for d in t.structure.get("sums") or ():
            if d["parts"] not in t.frame.columns:
                continue
            pick = np.ones(len(t.frame), dtype=bool)
            for col, values in (d.get("where") or {}).items():
                pick &= t.frame[col].astype("str").isin([str(v) for v in values]).to_numpy()
            by = list(d.get("by") or ())
            rows = t.frame.loc[pick, by].astype("str") if by else None
            groups = rows.groupby(by, sort=False).indices if by else {(): np.flatnonzero(pick)}
            picked = np.flatnonzero(pick)
            for key, members in groups.items():
                key = key if isinstance(key, tuple) else (key,)
                members = picked[members] if by else members
                if not len(members):
                    continue  # nothing selected: no sum declared (not a total of 0)
                named = sorted(
                    {**(d.get("at") or {}), **dict(zip([dims.get(c, c) for c in by], key))}.items()
                )
                identity = d["population"] + "".join(f"|{k}={v}" for k, v in named)
                parts = [index[(ti, int(r), d["parts"])] for r in members]
                out.append((f"{identity}|{d['column']}", np.asarray(parts, dtype=np.int64)))
    return out


def _views(tables: list[_Table], cells: pd.DataFrame) -> list[tuple[str, int]]:
    """(identity of the count, cell number) of cells declared to publish another
    table's published value (a :class:`~child_mdh.release.sdc.spec.CountSum` with
    ``view`` and one selected row per declaration)."""
    index = _cell_index(cells)
    out = []
    for ti, t in enumerate(tables):
        for d in t.structure.get("sums") or ():
            if not d.get("view") or d["parts"] not in t.frame.columns or d.get("by"):
                continue
            pick = np.ones(len(t.frame), dtype=bool)
            for col, values in (d.get("where") or {}).items():
                pick &= t.frame[col].astype("str").isin([str(v) for v in values]).to_numpy()
            rows = np.flatnonzero(pick)
            if len(rows) != 1:
                continue
            named = sorted((d.get("at") or {}).items())
            identity = d["population"] + "".join(f"|{k}={v}" for k, v in named)
            out.append((f"{identity}|{d['column']}", index[(ti, int(rows[0]), d["parts"])]))
    return out


def _repeats(
    views: list[tuple[str, int]], cells: pd.DataFrame, known: Mapping
) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """The views that publish their count's published value, and what ties them to it:
    (cell numbers of those views, (view cell, source cell) pairs).

    A view showing the value its count is published with elsewhere publishes that
    table's number (a sum of rounded parts there, or a rounding of its own, bounded
    there), not a rounding of its own: it bounds nothing of its own. Withheld in the
    view, its hidden value is the source's (withheld there too, or published: the view
    then says nothing more); tied to it, the view's table's own relations between
    published values (a gradient's 'none' + 'any' = 'all') act on the source's values,
    never on a rounding the view does not make. A view publishing a value the other
    table withholds, or another value, stays a bound."""
    view_cells = {c for _, c in views}
    var = cells["var"].to_numpy()
    value = cells["value"].to_numpy()
    out, ties = [], []
    for identity, c in views:
        if identity not in known:
            continue
        source = [i for i in np.flatnonzero(var == known[identity]) if i not in view_cells]
        if np.isnan(value[c]):
            out.append(c)
            hidden = [i for i in source if np.isnan(value[i])]
            if hidden:
                ties.append((c, hidden[0]))
            continue
        same = [i for i in source if not np.isnan(value[i]) and abs(value[i] - value[c]) < _EPS]
        if same:
            out.append(c)
    return np.asarray(out, dtype=np.int64), ties


def _cells(tables: list[_Table]) -> pd.DataFrame:
    """One row per count cell: table, row, column, identity, value, rounding base."""
    parts = []
    for ti, t in enumerate(tables):
        cols = _count_columns(t)
        if not cols or t.frame.empty:
            continue
        values = t.frame[cols].apply(pd.to_numeric, errors="coerce").to_numpy(dtype="float64")
        base = int(t.structure.get("rounding_base") or 1) if t.structure.get("rounded") else 1
        n = len(t.frame)
        controlled, shared = _controlled(t, cols, base)
        parts.append(
            pd.DataFrame(
                {
                    "table": ti,
                    "row": np.repeat(np.arange(n), len(cols)),
                    "column": np.tile(np.array(cols, dtype=object), n),
                    "identity": _identities(t, cols),
                    "value": values.ravel(),
                    "base": base,
                    "controlled": controlled,
                    "shared_total": shared,
                }
            )
        )
    if not parts:
        return pd.DataFrame(columns=[*CELL_COLUMNS])
    return pd.concat(parts, ignore_index=True)


CELL_COLUMNS = ("table", "row", "column", "identity", "value", "base", "controlled", "shared_total")


def _controlled(t: _Table, cols: list[str], base: int) -> tuple[np.ndarray, np.ndarray]:
    """Cell by cell (row by row), as in :func:`_identities`: rounded by controlled
    rounding as the part of a breakdown sharing its total (known to within one base),
    and the shared total itself (rounded to the nearest base, a bound of its own
    although its parts add up to it); :mod:`child_mdh.release.sdc.controlled_rounding`."""
    n = len(t.frame) * len(cols)
    margins = tuple(margin_from_dict(m) for m in t.structure.get("margins") or ())
    if (
        base <= 1
        or not t.structure.get("additive")
        or not any(getattr(m, "same_total", False) for m in margins)
    ):
        return np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    parts, totals = controlled_cells(t.frame, margins, cols)
    return parts.to_numpy().ravel(), totals.to_numpy().ravel()


def _box(cells: pd.DataFrame, n_vars: int) -> tuple[np.ndarray, np.ndarray]:
    """What the published values alone say of each true count (intersected over the
    cells publishing it): [v - below, v + above] for a rounded value, v for an exact one."""
    lo = np.zeros(n_vars)
    hi = np.full(n_vars, np.inf)
    shown = cells[cells["value"].notna()]
    v = shown["value"].to_numpy()
    below, above = _half_widths(shown["base"].to_numpy(), v, shown["controlled"].to_numpy())
    var = shown["var"].to_numpy()
    np.maximum.at(lo, var, v - below)
    np.minimum.at(hi, var, v + above)
    return lo, hi


# ------------------------------------------------------------------------------------
# constraints
# ------------------------------------------------------------------------------------
def _cell_index(cells: pd.DataFrame) -> dict:
    return {
        (int(t), int(r), c): i
        for i, (t, r, c) in enumerate(cells[["table", "row", "column"]].itertuples(index=False))
    }


def _half_widths(
    base: np.ndarray, value: np.ndarray, controlled: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """How far below and above a value rounded to ``base`` (halves up) the count can be;
    ``controlled``: rounded down or up (controlled rounding), so by less than one base
    either way."""
    b = base.astype("float64")
    v = np.nan_to_num(value)
    below = np.where(b > 1, v - np.ceil(v - b / 2), 0.0)
    above = np.where(b > 1, np.ceil(v + b / 2) - 1 - v, 0.0)
    if controlled is not None:
        wide = controlled.astype(bool) & (b > 1)
        below = np.where(wide, b - 1, below)
        above = np.where(wide, b - 1, above)
    return below, above


class _System:
    """Unknowns z = [x (one true count per identity), r (one published value per cell)]
    and the linear constraints between them, built row by row."""

    def __init__(self, n_x: int, n_r: int):
        self.n_x, self.n = n_x, n_x + n_r
        self.eq: list[tuple[np.ndarray, np.ndarray]] = []
        self.eq_informative: list[bool] = []
        self.ub: list[tuple[np.ndarray, np.ndarray, float]] = []
        self.ub_informative: list[bool] = []  # False for the ties of a value to its count
        self.totals = np.zeros(n_r, dtype=bool)  # cells published as sums of their parts
        self.skipped: list[tuple[str, str]] = []  # tables whose margins could not be read
        self._seen: set = set()

    def add_eq(self, idx, coef, informative: bool = True) -> None:
        acc: dict[int, float] = {}
        for i, k in zip(idx, coef):
            acc[int(i)] = acc.get(int(i), 0.0) + float(k)
        acc = {i: k for i, k in acc.items() if k != 0}
        if not acc:
            return
        key = tuple(sorted(acc.items()))
        neg = tuple(sorted((i, -k) for i, k in acc.items()))
        if key in self._seen or neg in self._seen:
            return
        self._seen.add(key)
        self.eq_informative.append(informative)
        self.eq.append((np.array(list(acc), dtype=np.int64), np.array(list(acc.values()))))

    def add_ub(self, idx, coef, bound: float, informative: bool = True) -> None:
        self.ub_informative.append(informative)
        self.ub.append(
            (np.asarray(idx, dtype=np.int64), np.asarray(coef, dtype="float64"), float(bound))
        )

    def matrices(self) -> tuple[csr_matrix, csr_matrix, np.ndarray]:
        def build(rows):
            if not rows:
                return csr_matrix((0, self.n))
            r = np.concatenate([np.full(len(row[0]), i) for i, row in enumerate(rows)])
            c = np.concatenate([row[0] for row in rows])
            k = np.concatenate([row[1] for row in rows])
            return coo_matrix((k, (r, c)), shape=(len(rows), self.n)).tocsr()

        return build(self.eq), build(self.ub), np.array([row[2] for row in self.ub])


def _build_system(
    tables: list[_Table], cells: pd.DataFrame, n_x: int, sums=(), repeats=(), ties=()
) -> _System:
    """Every relation between the published numbers and the true counts (module doc);
    ``sums``: (unknown of a total, cell numbers of its parts) of declared sums;
    ``repeats``: cells that repeat a value published elsewhere, ``ties`` (view cell,
    source cell) whose published values are one (:func:`_repeats`)."""
    n_r = len(cells)
    system = _System(n_x, n_r)
    # a view repeating the number of the table it views: no bound of its own
    system.totals[np.asarray(repeats, dtype=np.int64)] = True
    for view, source in ties:  # a view's hidden value is its source's
        system.add_eq([n_x + view, n_x + source], [1.0, -1.0])
    index = _cell_index(cells)
    x_of = cells["var"].to_numpy()
    for total, parts in sums:  # a count of another population: the sum of its parts
        system.add_eq([total, *x_of[parts]], [-1.0, *np.ones(len(parts))])
    totals = system.totals  # cells published as the sum of their parts
    for ti, t in enumerate(tables):
        margins = tuple(margin_from_dict(m) for m in t.structure.get("margins") or ())
        cols = _count_columns(t)
        if not margins or not cols:
            continue
        try:
            eqs = build_equations(t.frame, margins, cols, t.name)
        except ValueError as err:  # the file no longer fits its declared structure
            system.skipped.append((t.name, str(err)))
            continue
        r_cells = np.array(
            [index[(ti, int(r), c)] for r, c in zip(eqs["row"], eqs["col"])], dtype=np.int64
        )
        additive = bool(t.structure.get("additive"))
        if additive:
            totals[r_cells[eqs["coef"].to_numpy() < 0]] = True
        for rows in eqs.groupby("eq", sort=False).indices.values():
            coef = eqs["coef"].to_numpy()[rows]
            system.add_eq(x_of[r_cells[rows]], coef)  # true counts add up
            if additive:
                system.add_eq(n_x + r_cells[rows], coef)  # published values add up
    # a total shared by several breakdowns is rounded to the nearest base: a bound of
    # its own, although its parts add up to it (controlled rounding)
    totals[cells["shared_total"].to_numpy(dtype=bool)] = False
    value = cells["value"].to_numpy()
    below, above = _half_widths(cells["base"].to_numpy(), value, cells["controlled"].to_numpy())
    for i in np.flatnonzero(~totals):
        x, r = int(x_of[i]), n_x + int(i)
        if cells["base"].iat[i] > 1:  # r - below <= x <= r + above
            system.add_ub([x, r], [1.0, -1.0], above[i], informative=False)
            system.add_ub([x, r], [-1.0, 1.0], below[i], informative=False)
        else:
            system.add_eq([x, r], [1.0, -1.0], informative=False)
    for idx, coef, bound in _ratio_rows(tables, cells, index):
        system.add_ub(x_of[idx], coef, bound)
    return system


def _ratio_rows(tables: list[_Table], cells: pd.DataFrame, index: dict):
    """(cells, coefficients, bound) of 'a x <= bound' rows on the true counts from
    published ratios that do not follow from the published counts by their formula."""
    out = []
    for ti, t in enumerate(tables):
        for stat, spec in (t.structure.get("formulas") or {}).items():
            formula = as_formula(spec)
            parts = linear_ratio(formula.expr) if stat in t.frame.columns else None
            if parts is None:
                continue
            num, den = parts
            published = pd.to_numeric(t.frame[stat], errors="coerce").to_numpy(dtype="float64")
            try:
                differs = not_following(formula, t.frame, stat)
            except FormulaError:  # not evaluable: every published value is a constraint
                differs = ~np.isnan(published)
            for r in np.flatnonzero(differs):
                if any((ti, int(r), c) not in index for c in [*num, *den]):
                    continue  # a column that is not a count: no linear constraint
                v = published[r]
                d = (
                    0.5 * 10.0 ** (-formula.digits)
                    if formula.digits is not None
                    else 1e-9 * max(1.0, abs(v))
                )
                cols = [*num, *den]
                idx = [index[(ti, int(r), c)] for c in cols]
                # num - (v + d) den <= 0  and  (v - d) den - num <= 0
                out.append((idx, [*num.values(), *[-(v + d) * k for k in den.values()]], 0.0))
                out.append(
                    (idx, [*[-k for k in num.values()], *[(v - d) * k for k in den.values()]], 0.0)
                )
    return out


# ------------------------------------------------------------------------------------
# ranges
# ------------------------------------------------------------------------------------
@dataclass
class _Result:
    """A program's outcome: ``status`` 0 optimal, 2 infeasible, 3 unbounded (as linprog)."""

    status: int
    x: np.ndarray | None = None


def _quiet_highs(highspy):
    """A HiGHS instance, without the banner HiGHS writes to standard output the first
    time one is made in a process (the workflow's console stays for the workflow)."""
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no standard output to silence
        return highspy.Highs()
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        return highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(devnull)
        os.close(saved)


class _Program:
    """The linear programs over a set of blocks of linked unknowns.

    One HiGHS model (``highspy``) is built once; each program only changes the objective,
    and HiGHS hot-starts the simplex from the previous basis, so the many programs of an
    audit cost a few iterations each (scipy's ``linprog`` would rebuild and solve every
    one from scratch).
    """

    def __init__(self, a_eq, a_ub, b_ub, lower, upper):
        self._highspy = highspy
        self.n = len(lower)
        self.programs = 0
        a = vstack([a_eq, a_ub]).tocsc() if a_ub.shape[0] else a_eq.tocsc()
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = self.n, a.shape[0]
        lp.col_cost_ = np.zeros(self.n)
        lp.col_lower_ = np.asarray(lower, dtype="float64")
        lp.col_upper_ = np.where(np.isinf(upper), highspy.kHighsInf, upper).astype("float64")
        n_eq = a_eq.shape[0]
        lp.row_lower_ = np.r_[np.zeros(n_eq), np.full(a_ub.shape[0], -highspy.kHighsInf)]
        lp.row_upper_ = np.r_[np.zeros(n_eq), np.asarray(b_ub, dtype="float64")]
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = a.indptr.astype(np.int32)
        lp.a_matrix_.index_ = a.indices.astype(np.int32)
        lp.a_matrix_.value_ = a.data.astype("float64")
        self._h = _quiet_highs(highspy)
        self._h.setOptionValue("output_flag", False)
        # primal simplex: a new objective leaves the last basis primal feasible, so each
        # program starts from a feasible vertex (on the test workflow's release with the
        # local profiles' relations, 30 programs over a block of 14,613 unknowns took
        # 0.3 s instead of 11 s with HiGHS's default choice)
        self._h.setOptionValue("simplex_strategy", 4)
        self._h.passModel(lp)
        self._all = np.arange(self.n, dtype=np.int32)

    def solve(self, c: np.ndarray) -> _Result:
        """Minimise c'z."""
        self.programs += 1
        self._h.changeColsCost(self.n, self._all, np.asarray(c, dtype="float64"))
        self._h.run()
        status = self._h.getModelStatus()
        kinds = self._highspy.HighsModelStatus
        if status == kinds.kOptimal:
            return _Result(0, np.asarray(self._h.getSolution().col_value))
        if status in (kinds.kUnbounded, kinds.kUnboundedOrInfeasible):
            return _Result(3)
        return _Result(2)


def _restrict(a_eq, a_ub, b_ub, lower_z, upper_z, members) -> _Program:
    """The program over the unknowns ``members`` (whole blocks) and their constraints."""
    rows_eq = np.unique(a_eq[:, members].nonzero()[0])
    rows_ub = np.unique(a_ub[:, members].nonzero()[0])
    return _Program(
        a_eq[rows_eq][:, members],
        a_ub[rows_ub][:, members],
        b_ub[rows_ub],
        lower_z[members],
        upper_z[members],
    )


def _push(program: _Program, c: np.ndarray, seen_lo: np.ndarray, seen_hi: np.ndarray) -> int:
    """Solve min c'z and widen the seen ranges by the solution; returns linprog's status."""
    res = program.solve(c)
    if res.status == 0:
        np.minimum(seen_lo, res.x, out=seen_lo)
        np.maximum(seen_hi, res.x, out=seen_hi)
    return res.status


def _open_sides(targets, seen_lo, seen_hi, box_lo, box_hi, withheld, min_range):
    """Target unknowns whose lower (upper) end is not yet settled by a solution seen: a
    withheld one until its seen spread holds ``min_range`` values, a rounded one until
    it has been seen at that end of what its rounding allows."""
    spread = seen_hi - seen_lo >= min_range - 1 + _EPS
    need_lo = np.where(withheld, ~spread, seen_lo > box_lo + _EPS)
    need_hi = np.where(withheld, ~spread, seen_hi < box_hi - _EPS)
    return targets[need_lo[targets]], targets[need_hi[targets]]


def _settle(
    program: _Program,
    targets,
    seen_lo,
    seen_hi,
    box_lo,
    box_hi,
    withheld,
    min_range,
    rng,
    random_pushes: int = 4,
) -> bool:
    """Push the targets up, down, in random directions, then every open side at once
    while that settles more; False when the constraints cannot all hold."""
    on = np.zeros(program.n)
    on[targets] = 1.0
    if _push(program, on, seen_lo, seen_hi) == 2:
        return False
    _push(program, -on, seen_lo, seen_hi)
    for _ in range(random_pushes):
        _push(program, on * rng.choice([-1.0, 1.0], program.n), seen_lo, seen_hi)
    for _ in range(20):
        need_lo, need_hi = _open_sides(
            targets, seen_lo, seen_hi, box_lo, box_hi, withheld, min_range
        )
        before = need_lo.size + need_hi.size
        if before == 0:
            break
        c = np.zeros(program.n)
        c[need_lo] += 1.0
        c[need_hi] -= 1.0
        _push(program, c, seen_lo, seen_hi)
        after = sum(
            a.size
            for a in _open_sides(targets, seen_lo, seen_hi, box_lo, box_hi, withheld, min_range)
        )
        if after >= before:
            break
    return True


def _extremes(program: _Program, need_lo, need_hi, seen_lo, seen_hi, settled=None):
    """The exact minimum of each unknown in ``need_lo`` and maximum of each in
    ``need_hi``, one program each (the seen ranges elsewhere).

    ``settled(j, side)``, when given, says whether the solutions seen so far already
    settle that side of unknown ``j`` (as :func:`_open_sides` would); such a side is
    skipped, as every solution of an earlier program widens the seen ranges. Its bound is
    then the seen one, inside the exact one: the classification does not change, since
    a side is settled only when the seen range alone shows the unknown safe there."""
    lower, upper = seen_lo.copy(), seen_hi.copy()
    for side, unknowns, out in ((1.0, need_lo, lower), (-1.0, need_hi, upper)):
        for j in unknowns:
            if settled is not None and settled(j, side):
                out[j] = seen_lo[j] if side > 0 else seen_hi[j]
                continue
            c = np.zeros(program.n)
            c[j] = side
            res = program.solve(c)
            if res.status == 3:
                out[j] = -np.inf * side
            elif res.status == 0:
                out[j] = res.x[j]
                np.minimum(seen_lo, res.x, out=seen_lo)
                np.maximum(seen_hi, res.x, out=seen_hi)
    return lower, upper


def audit_release_tables(
    release_dir: str | Path, manifest: Mapping, *, min_range: int, seed: int = 0
) -> IntervalAudit:
    """The interval audit of every table ``manifest`` (a folder's ``outputs.json``, read)
    lists with a structure, read together."""
    return audit_tables(_tables(Path(release_dir), manifest), min_range=min_range, seed=seed)


def audit_frame(
    frame: pd.DataFrame,
    structure: Mapping,
    *,
    min_range: int = 10,
    name: str = "table",
    seed: int = 0,
) -> IntervalAudit:
    """The interval audit of one table as it would be published (``structure`` as
    :meth:`child_mdh.release.sdc.spec.TableSpec.structure` plus ``rounded``, ``rounding_base``
    and ``additive``): what the table alone gives back. Protection uses it to repair a
    suppression pattern before anything is written."""
    return audit_tables(
        [_Table(name, frame.reset_index(drop=True), dict(structure))],
        min_range=min_range,
        seed=seed,
    )


def audit_tables(tables: list[_Table], *, min_range: int = 10, seed: int = 0) -> IntervalAudit:
    """The interval audit of ``tables`` read together (module docstring)."""
    start = time.perf_counter()
    report = IntervalAudit(min_range=min_range)
    cells = _cells(tables)
    report.cells = len(cells)
    if cells.empty:
        report.seconds = time.perf_counter() - start
        return report
    cells["var"], identities = pd.factorize(cells["identity"])
    # a total of a declared sum that no table publishes is one more unknown
    sums = _count_sums(tables, cells)
    known = {str(k): i for i, k in enumerate(identities)}
    extra = list(dict.fromkeys(t for t, _ in sums if t not in known))
    known.update({t: len(identities) + i for i, t in enumerate(extra)})
    n_x = len(identities) + len(extra)
    report.unknowns = n_x
    repeats, ties = _repeats(_views(tables, cells), cells, known)
    system = _build_system(tables, cells, n_x, [(known[t], p) for t, p in sums], repeats, ties)
    report.not_audited = list(system.skipped)
    # a total published as the sum of its rounded parts says nothing of its own count
    # beyond its parts: it is no bound and no rounded count to pin
    own = cells[~system.totals]
    box_lo, box_hi = _box(own, n_x)
    withheld = np.zeros(n_x, dtype=bool)
    withheld[cells.loc[cells["value"].isna(), "var"].to_numpy()] = True
    # withheld in one file and published with its own value (rounded or exact) in
    # another: a published count, which the reader knows to within its rounding whatever
    # the other file withholds; it must not be pinned more tightly than that
    withheld[own.loc[own["value"].notna(), "var"].to_numpy()] = False
    rounded = np.zeros(n_x, dtype=bool)
    rounded[own.loc[own["value"].notna() & (own["base"] > 1), "var"].to_numpy()] = True
    report.withheld, report.rounded = int(withheld.sum()), int(rounded.sum())

    a_eq, a_ub, b_ub = system.matrices()
    n = system.n
    lower_z = np.zeros(n)
    # 'as large as you like': a cap far above every published number keeps every program
    # bounded (an unknown that reaches it is unbounded for the audit's purpose)
    cap = 10 * (np.nanmax(np.r_[cells["value"].to_numpy(), 0.0]) + 1000)
    upper_z = np.full(n, cap)
    shown = cells["value"].notna().to_numpy()
    lower_z[n_x + np.flatnonzero(shown)] = cells["value"].to_numpy()[shown]
    upper_z[n_x + np.flatnonzero(shown)] = cells["value"].to_numpy()[shown]
    inconsistent = np.zeros(n_x, dtype=bool)
    inconsistent |= box_lo > box_hi + _EPS
    lower, upper = np.r_[box_lo, lower_z[n_x:]], np.r_[box_hi, upper_z[n_x:]]
    if a_eq.shape[0] + a_ub.shape[0]:
        pattern = (abs(a_eq).T @ abs(a_eq) + abs(a_ub).T @ abs(a_ub)).tocsr()
        _, label = connected_components(pattern, directed=False)
        is_target = np.r_[withheld | rounded, np.zeros(n - n_x, dtype=bool)]
        # a block whose only constraints tie published values to their counts says no
        # more than the values themselves: no program needed
        constrained = np.zeros(n, dtype=bool)
        eq_info = np.asarray(system.eq_informative, dtype=bool)
        ub_info = np.asarray(system.ub_informative, dtype=bool)
        constrained[np.unique(np.r_[a_eq[eq_info].indices, a_ub[ub_info].indices])] = True
        rng = np.random.default_rng(seed)
        useful = np.zeros(label.max() + 1, dtype=bool)
        useful[np.unique(label[constrained])] = True
        has_target = np.zeros(label.max() + 1, dtype=bool)
        has_target[np.unique(label[is_target])] = True
        members = np.flatnonzero((useful & has_target)[label])
        pad = np.zeros(n - n_x, dtype=bool)
        withheld_z = np.r_[withheld, pad]
        seen_lo = np.full(n, np.inf)
        seen_hi = np.full(n, -np.inf)
        if members.size:
            # every block at once first: one program settles most unknowns of all blocks
            program = _restrict(a_eq, a_ub, b_ub, lower_z, upper_z, members)
            sub_lo, sub_hi = seen_lo[members], seen_hi[members]
            targets = np.flatnonzero(is_target[members])
            _settle(
                program,
                targets,
                sub_lo,
                sub_hi,
                lower[members],
                upper[members],
                withheld_z[members],
                min_range,
                rng,
            )
            seen_lo[members], seen_hi[members] = sub_lo, sub_hi
            report.linear_programs += program.programs
        need = np.zeros(n, dtype=bool)
        in_program = np.zeros(n, dtype=bool)
        in_program[members] = True
        for side in _open_sides(
            np.flatnonzero(is_target & in_program),
            seen_lo,
            seen_hi,
            lower,
            upper,
            withheld_z,
            min_range,
        ):
            need[side] = True
        for b in np.unique(label[need]):  # then block by block where anything is open
            block = np.flatnonzero(label == b)
            program = _restrict(a_eq, a_ub, b_ub, lower_z, upper_z, block)
            sub_lo, sub_hi = seen_lo[block], seen_hi[block]
            targets = np.flatnonzero(is_target[block])
            args = (lower[block], upper[block], withheld_z[block], min_range)
            if not _settle(program, targets, sub_lo, sub_hi, *args, rng):
                inconsistent[block[targets]] = True
                continue
            need_lo, need_hi = _open_sides(targets, sub_lo, sub_hi, *args)
            box_lo_b, box_hi_b, withheld_b, _ = args

            def settled(j, side, lo=sub_lo, hi=sub_hi, blo=box_lo_b, bhi=box_hi_b, w=withheld_b):
                if w[j]:
                    return hi[j] - lo[j] >= min_range - 1 + _EPS
                return lo[j] <= blo[j] + _EPS if side > 0 else hi[j] >= bhi[j] - _EPS

            lo, hi = _extremes(program, need_lo, need_hi, sub_lo, sub_hi, settled)
            report.linear_programs += program.programs
            seen_lo[block], seen_hi[block] = lo, hi
        tx = np.flatnonzero(is_target & in_program)
        lower[tx], upper[tx] = seen_lo[tx], seen_hi[tx]
    lower = np.ceil(lower[:n_x] - _EPS)
    upper = np.floor(upper[:n_x] + _EPS)
    _classify(
        report,
        tables,
        cells,
        withheld,
        rounded,
        inconsistent,
        lower,
        upper,
        box_lo,
        box_hi,
        min_range,
    )
    report.seconds = time.perf_counter() - start
    return report


def _classify(
    report, tables, cells, withheld, rounded, inconsistent, lower, upper, box_lo, box_hi, min_range
) -> None:
    kinds = np.full(len(lower), "", dtype=object)
    width = upper - lower
    # a range from 0 says only that the count is small, never that anyone is there
    small = withheld & (width < min_range - 1) & (lower < 0.5)
    report.below_threshold = int((small & (width >= 1)).sum())
    # one known to be at least min_range could have been published: nothing small in it
    publishable = withheld & (lower >= min_range - _EPS)
    report.withheld_publishable = int(publishable.sum())
    kinds[withheld & (width < min_range - 1) & ~small & ~publishable] = "narrow"
    kinds[withheld & (width < 1)] = "exact"
    kinds[rounded & ((lower > box_lo + _EPS) | (upper < box_hi - _EPS))] = "pinned"
    kinds[inconsistent] = "inconsistent"
    for kind in ("narrow", "exact", "pinned", "inconsistent"):
        setattr(report, kind, int((kinds == kind).sum()))
    # list each finding where it is withheld (or else where it is first published)
    listed = cells.assign(_shown=cells["value"].notna()).sort_values(
        ["var", "_shown"], kind="stable"
    )
    first = listed.drop_duplicates("var").set_index("var")
    for v in np.flatnonzero(kinds != ""):
        cell = first.loc[v]
        shown = "" if np.isnan(cell["value"]) else f"{cell['value']:g}"
        report.findings.append(
            Finding(
                kind=str(kinds[v]),
                file=tables[int(cell["table"])].name,
                row=int(cell["row"]),
                column=str(cell["column"]),
                published=shown,
                lower=float(lower[v]),
                upper=float(upper[v]),
            )
        )
