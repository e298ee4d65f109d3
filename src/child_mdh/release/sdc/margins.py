"""Margins as linear equations, and which suppressed cells they give back.

A declared margin (:class:`~child_mdh.release.sdc.spec.RowMargin`,
:class:`~child_mdh.release.sdc.spec.ColumnMargin`) becomes a set of equations over the table's
cells, each 'parts minus total = 0'. A suppressed cell is *recoverable* when the
published cells determine it exactly: when its unit vector lies in the row space of the
equations restricted to the suppressed cells (equivalently, every solution of the
homogeneous system is zero in that coordinate). This is checked exactly, block by block
of linked suppressed cells, with a thin singular value decomposition: it catches recovery
through chains of equations (for example two suppressed rectangles joined by one cell)
that the usual 'two suppressed cells per row and column' rule misses.

Cells are numbered ``row * n_columns + column_index`` over the protected columns.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.linalg import svd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from threadpoolctl import threadpool_limits

from child_mdh.release.sdc.spec import ColumnMargin, Margin, RowMargin

EQUATION_COLUMNS = ("eq", "row", "col", "coef", "cell")


def _ids(df: pd.DataFrame, column: str, table: str) -> np.ndarray:
    s = df[column]
    if s.isna().any():
        rows = list(np.flatnonzero(s.isna().to_numpy())[:5])
        raise ValueError(
            f"{table}: margin id column {column} is empty in rows {rows}; "
            "every row of a table with margins needs its id"
        )
    return s.astype("str").to_numpy(dtype=object)


def _row_margin_entries(
    df: pd.DataFrame, m: RowMargin, columns: list[str], table: str
) -> pd.DataFrame:
    ids = _ids(df, m.id_column, table)
    n = len(df)
    if m.total is not None:
        parent = np.where(ids == str(m.total), None, str(m.total)).astype(object)
    elif isinstance(m.parent, str):
        p = df[m.parent]
        parent = np.where(p.isna().to_numpy(), None, p.astype("str").to_numpy(dtype=object))
    else:
        mapping = {str(k): str(v) for k, v in dict(m.parent).items()}
        mapped = pd.Series(ids, dtype=object).map(mapping)
        parent = np.where(mapped.isna().to_numpy(), None, mapped.to_numpy(dtype=object))
    within = {w: df[w].astype("str").to_numpy(dtype=object) for w in m.within}
    rows = np.arange(n)
    totals = pd.DataFrame({**within, "_id": ids, "_row_total": rows})
    dup = totals.duplicated([*m.within, "_id"], keep=False)
    if dup.any():
        ex = list(np.flatnonzero(dup.to_numpy())[:5])
        keys = " + ".join([*m.within, m.id_column])
        raise ValueError(
            f"{table}: rows are not unique by {keys} (rows {ex}), so the "
            "declared margin is ambiguous; aggregate or add a key to within="
        )
    has_parent = np.array([p is not None for p in parent], dtype=bool)
    children = pd.DataFrame(
        {
            **{w: v[has_parent] for w, v in within.items()},
            "_parent": parent[has_parent],
            "_row": rows[has_parent],
        }
    )
    merged = children.merge(
        totals, left_on=[*m.within, "_parent"], right_on=[*m.within, "_id"], how="left"
    )
    lost = merged["_row_total"].isna()
    if lost.any():
        ex = merged.loc[lost, ["_row", "_parent"]].head(5)
        listing = "; ".join(f"row {int(r)} -> {p}" for r, p in ex.itertuples(index=False))
        where = f" within the same {', '.join(m.within)}" if m.within else ""
        raise ValueError(
            f"{table}: margin on {m.id_column}: total row missing{where} for "
            f"{int(lost.sum())} row(s) ({listing}). Add the total rows or fix "
            "the margin declaration."
        )
    child_rows = merged["_row"].to_numpy(dtype=np.int64)
    total_rows = merged["_row_total"].to_numpy(dtype=np.int64)
    unique_totals = np.unique(total_rows)
    parts = []
    for col in columns:  # a handful of count columns, not rows
        parts.append(pd.DataFrame({"key": total_rows, "row": child_rows, "col": col, "coef": 1}))
        parts.append(
            pd.DataFrame({"key": unique_totals, "row": unique_totals, "col": col, "coef": -1})
        )
    if m.same_total and len(unique_totals) > 1:
        # one count shown once per breakdown: each total row equals the first one
        first, others = unique_totals[0], unique_totals[1:]
        for col in columns:
            keys = np.char.add("same:", others.astype(str))
            parts.append(pd.DataFrame({"key": keys, "row": others, "col": col, "coef": 1}))
            parts.append(pd.DataFrame({"key": keys, "row": first, "col": col, "coef": -1}))
    out = (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame({"key": [], "row": [], "col": [], "coef": []})
    )
    out["key"] = out["key"].astype("str") + "|" + out["col"].astype("str")
    return out


def _column_margin_entries(df: pd.DataFrame, m: ColumnMargin) -> pd.DataFrame:
    rows = np.arange(len(df))
    parts = [pd.DataFrame({"key": rows, "row": rows, "col": p, "coef": 1}) for p in m.parts]
    parts.append(pd.DataFrame({"key": rows, "row": rows, "col": m.total, "coef": -1}))
    out = pd.concat(parts, ignore_index=True)
    out["key"] = out["key"].astype("str")
    return out


def build_equations(
    df: pd.DataFrame, margins: tuple[Margin, ...], columns: list[str], table: str = "table"
) -> pd.DataFrame:
    """The margins of ``df`` as equation entries: one row per (equation, cell).

    Columns: ``eq`` (equation number), ``row`` (row position), ``col`` (column name),
    ``coef`` (+1 for a part, -1 for the total) and ``cell`` (cell number over
    ``columns``, the protected columns). Raises ``ValueError`` when a margin names a
    column outside ``columns`` or a total row is missing.
    """
    col_index = {c: i for i, c in enumerate(columns)}
    frames = []
    for i, m in enumerate(margins):
        if isinstance(m, RowMargin):
            cols = list(m.columns) if m.columns is not None else list(columns)
            named = cols
            entries = _row_margin_entries(df, m, cols, table)
        elif isinstance(m, ColumnMargin):
            named = [*m.parts, m.total]
            entries = _column_margin_entries(df, m)
        else:
            raise TypeError(f"{table}: margins must be RowMargin or ColumnMargin, got {m!r}")
        outside = [c for c in named if c not in col_index]
        if outside:
            raise ValueError(
                f"{table}: margin uses column(s) {', '.join(outside)} that are "
                "not count or magnitude columns; name them in count_columns "
                "(or end their names in _n)"
            )
        entries["key"] = f"{i}:" + entries["key"]
        frames.append(entries)
    if not frames:
        return pd.DataFrame(
            {
                "eq": np.array([], dtype=np.int64),
                "row": np.array([], dtype=np.int64),
                "col": [],
                "coef": np.array([], dtype=np.int64),
                "cell": np.array([], dtype=np.int64),
            }
        )
    eqs = pd.concat(frames, ignore_index=True)
    eqs["eq"] = pd.factorize(eqs["key"])[0].astype(np.int64)
    eqs["row"] = eqs["row"].astype(np.int64)
    eqs["coef"] = eqs["coef"].astype(np.int64)
    eqs["cell"] = eqs["row"] * len(columns) + eqs["col"].map(col_index).astype(np.int64)
    return eqs[list(EQUATION_COLUMNS)]


#: A cell is determined when the squared length of its unit vector's component outside
#: the row space of the equations is below this. Margin equations have coefficients
#: +1/-1 and their null spaces integer bases with small entries, so an undetermined
#: cell's component is many orders of magnitude larger, and a determined one's rounding
#: error is of order 1e-15. A cell in doubt is counted as determined (the safe side).
DETERMINED_TOLERANCE = 1e-10


def determined_cells(a: np.ndarray) -> np.ndarray:
    """Which unknowns the linear system with coefficient matrix ``a`` determines exactly.

    Unknown j is determined when its unit vector lies in the row space of ``a`` (every
    solution of ``a x = 0`` has x_j = 0). Method: thin singular value decomposition
    ``a = U S V'``, rank r from the singular values with numpy's default tolerance
    (``max(shape) * eps * s_max``, as ``scipy.linalg.null_space``); the squared length
    of e_j's projection on the row space is ``sum_{k<r} V[j, k]^2``, and j is determined
    when 1 minus it is below :data:`DETERMINED_TOLERANCE`. The thin decomposition costs
    O(m n min(m, n)), against O(n^3) for a full null-space basis when there are fewer
    equations (m) than unknowns (n). The audit of a suppression pattern by linear
    algebra follows Hundepool et al. (2012), *Statistical Disclosure Control*, ch. 4.
    """
    if a.size == 0:
        return np.zeros(a.shape[1], dtype=bool)
    try:
        _, s, vh = svd(a, full_matrices=False, lapack_driver="gesdd")
    except np.linalg.LinAlgError:  # divide-and-conquer did not converge: the slower QR
        _, s, vh = svd(a, full_matrices=False, lapack_driver="gesvd")
    if s.size == 0 or s[0] == 0:
        return np.zeros(a.shape[1], dtype=bool)
    rank = int(np.sum(s > max(a.shape) * np.finfo(float).eps * s[0]))
    outside = 1.0 - np.einsum("kj,kj->j", vh[:rank], vh[:rank])
    return outside < DETERMINED_TOLERANCE


def _check_blocks(blocks, e_idx, c_idx, k, cell_ids, max_cells, recoverable, unchecked):
    """Append to ``recoverable`` the determined cells of each linked block of suppressed
    cells, and to ``unchecked`` the cells of blocks larger than ``max_cells``."""
    for block in blocks:  # one block per linked group of suppressed cells
        b_cells, b_col = np.unique(c_idx[block], return_inverse=True)
        if np.unique(e_idx[block]).size == 1:
            # one equation: its only empty cell is determined, two or more are not
            if len(b_cells) == 1:
                recoverable.append(cell_ids[b_cells])
            continue
        if len(b_cells) > max_cells:
            unchecked.append(cell_ids[b_cells])
            continue
        b_eqs, b_row = np.unique(e_idx[block], return_inverse=True)
        a = np.zeros((len(b_eqs), len(b_cells)))
        np.add.at(a, (b_row, b_col), k[block])
        recoverable.append(cell_ids[b_cells[determined_cells(a)]])


def recoverable_cells(
    eqs: pd.DataFrame, suppressed: np.ndarray, max_cells: int = 2000
) -> tuple[np.ndarray, np.ndarray]:
    """Suppressed cells that the published cells determine exactly through the equations.

    ``suppressed`` is a flat boolean array over cell numbers (True: not published).
    Returns ``(recoverable, unchecked)``: cell numbers determined by the margins, and
    cells in linked blocks larger than ``max_cells`` that were not verified.

    Method: keep the equations that involve a suppressed cell, restricted to their
    suppressed cells (published values move to the right-hand side); split them into
    connected blocks; in each block a cell is determined exactly when the null space of
    the block's coefficient matrix is zero in that cell's coordinate, that is when its
    unit vector lies in the row space (:func:`determined_cells`).
    """
    suppressed = np.asarray(suppressed, dtype=bool)
    empty = np.array([], dtype=np.int64)
    if eqs.empty or not suppressed.any():
        return empty, empty
    eq = eqs["eq"].to_numpy()
    cell = eqs["cell"].to_numpy()
    coef = eqs["coef"].to_numpy(dtype="float64")
    sup = suppressed[cell]
    n_eq = int(eq.max()) + 1
    involved = np.bincount(eq, weights=sup, minlength=n_eq) > 0
    sel = involved[eq] & sup
    if not sel.any():
        return empty, empty
    e, c, k = eq[sel], cell[sel], coef[sel]
    eq_ids, e_idx = np.unique(e, return_inverse=True)
    cell_ids, c_idx = np.unique(c, return_inverse=True)
    n_e, n_c = len(eq_ids), len(cell_ids)
    graph = coo_matrix((np.ones(len(e_idx)), (e_idx, n_e + c_idx)), shape=(n_e + n_c,) * 2)
    _, labels = connected_components(graph, directed=False)
    cell_label = labels[n_e:]
    entry_label = cell_label[c_idx]
    order = np.argsort(entry_label, kind="stable")
    bounds = np.flatnonzero(np.diff(entry_label[order])) + 1
    recoverable, unchecked = [], []
    # BLAS on one thread: the blocks are small, and thread contention on a shared
    # machine slows their decompositions many times over
    with threadpool_limits(limits=1, user_api="blas"):
        _check_blocks(
            np.split(order, bounds), e_idx, c_idx, k, cell_ids, max_cells, recoverable, unchecked
        )
    rec = np.concatenate(recoverable) if recoverable else empty
    unc = np.concatenate(unchecked) if unchecked else empty
    return np.sort(rec.astype(np.int64)), np.sort(unc.astype(np.int64))


def margin_mismatches(eqs: pd.DataFrame, values: np.ndarray, tolerance: float = 1e-6) -> np.ndarray:
    """Equations whose cells are all published but do not add up (declaration or data wrong).

    ``values`` is the flat array of cell values (NaN where suppressed). Returns the
    equation numbers.
    """
    if eqs.empty:
        return np.array([], dtype=np.int64)
    eq = eqs["eq"].to_numpy()
    v = values[eqs["cell"].to_numpy()]
    n_eq = int(eq.max()) + 1
    has_nan = np.bincount(eq, weights=np.isnan(v), minlength=n_eq) > 0
    total = np.bincount(eq, weights=np.nan_to_num(v) * eqs["coef"].to_numpy(), minlength=n_eq)
    scale = np.bincount(eq, weights=np.abs(np.nan_to_num(v)), minlength=n_eq)
    bad = ~has_nan & (np.abs(total) > tolerance * np.maximum(scale, 1))
    return np.flatnonzero(bad)
