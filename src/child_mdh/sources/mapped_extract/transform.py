"""Apply a checked mapping: read, filter, join, recode, stack and de-duplicate, then write.

For each contract table, each source is built file by file:

1. read only the columns the mapping names (:func:`child_mdh.sources.mapped_extract.files.read_columns`);
2. apply the filters in order, counting the rows each one drops;
3. attach joined columns by key (``Index.get_indexer`` on normalised key text);
4. fill every contract column (rename, constant, recode, true/false, date; per-file
   values such as a census date), collecting every value problem with its mapping line;
5. stack the files, de-duplicate if asked (counting the rows dropped per file).

Sources are stacked, cast with :func:`child_mdh.contract.tables.conform` and written with
:func:`child_mdh.files.write_parquet`. Tables are first written to a staging folder and
moved into place only when every table mapped cleanly, so a failed run never leaves a
mixture of new and old tables behind.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from child_mdh.contract.tables import (
    CONTRACT_VERSION,
    TABLES,
    Column,
    Table,
    conform,
    empty_frame,
)
from child_mdh.files import write_json, write_parquet
from child_mdh.sources.mapped_extract.check import check_mapping
from child_mdh.sources.mapped_extract.errors import ProblemList
from child_mdh.sources.mapped_extract.files import read_columns
from child_mdh.sources.mapped_extract.model import (
    ColumnSpec,
    FilterSpec,
    JoinSpec,
    Mapping,
    Source,
)
from child_mdh.sources.mapped_extract.report import FileRows, MappingReport
from child_mdh.sources.mapped_extract.values import (
    SeriesResult,
    as_text,
    check_codes,
    constant_series,
    distinct_text,
    parse_dates,
    parse_floats,
    parse_integers,
    recode,
)

REPORT_NAME = "mapping_report.json"
_FILE = "__file"
_ROW = "__row"
_ORDER = "__order__"


def apply_mapping(
    mapping_path: Path, out_dir: Path, extract_dir: Path | None = None
) -> MappingReport:
    """Turn an extract into the contract tables as the mapping file says.

    Checks the whole mapping first (:func:`check_mapping`), then writes
    ``<out_dir>/<table>.parquet`` for all eight contract tables (cast with
    :func:`child_mdh.contract.tables.conform`; Parquet metadata records the mapping file and
    its SHA-256) and ``<out_dir>/mapping_report.json``, the row report. Raises
    :class:`~child_mdh.sources.mapped_extract.errors.MappingError` listing every problem (mapping line,
    file, column, example values and rows, and the fix); nothing is written then.
    ``extract_dir`` overrides the mapping's ``extract_dir``.
    """
    mapping = check_mapping(mapping_path, extract_dir)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    problems = ProblemList(mapping.path)
    report = MappingReport(mapping.name, mapping.sha256, str(mapping.base_dir), str(out_dir))
    metadata = {
        "source": "mapped_extract",
        "mapping_file": mapping.name,
        "mapping_sha256": mapping.sha256,
        "contract_version": CONTRACT_VERSION,
    }
    staging = Path(tempfile.mkdtemp(prefix=".mapping-", dir=out_dir))
    try:
        for name, tm in mapping.tables.items():
            n_before = len(problems)
            if tm.empty:
                frame = empty_frame(name)
                report.empty_tables.append(name)
            else:
                parts = []
                for source in tm.sources:
                    part, rows = build_source(mapping, source, problems)
                    report.files.extend(rows)
                    parts.append(part)
                frame = pd.concat(parts, ignore_index=True) if parts else empty_frame(name)
            if len(problems) > n_before:
                continue
            frame = conform(frame, name)
            write_parquet(frame, staging / f"{name}.parquet", metadata=metadata)
            report.tables[name] = len(frame)
            del frame
        unbalanced = [f for f in report.files if not f.balanced]
        if unbalanced:  # a bug, never a user error: refuse to write rather than lose rows
            raise RuntimeError(f"row accounting does not balance for {unbalanced}")
        problems.raise_if_any()
        for name in report.tables:
            target = out_dir / f"{name}.parquet"
            os.replace(staging / f"{name}.parquet", target)
            report.outputs[name] = target
        write_json(report.to_dict(), out_dir / REPORT_NAME)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return report


def build_source(
    mapping: Mapping, source: Source, problems: ProblemList
) -> tuple[pd.DataFrame, list[FileRows]]:
    """One source of a table: its files mapped, stacked and de-duplicated, with row counts."""
    table = TABLES[source.table]
    where = f"{table.name} (source {source.number})"
    joined = [_load_join(mapping, j, where, problems) for j in source.joins]
    frames, reports = [], []
    for entry in source.files:
        for path in entry.paths:
            label = _relative(path, mapping.base_dir)
            rows = FileRows(table.name, source.number, label)
            reports.append(rows)
            frame = _map_file(
                table, source, entry.constants, path, label, joined, rows, where, problems
            )
            frame[_FILE] = len(reports) - 1
            frames.append(frame)
    data = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if source.dedupe is not None and len(data):
        data = _deduplicate(table, source, data, reports, where, problems)
    if len(data):
        written = np.bincount(data[_FILE].to_numpy(), minlength=len(reports))
        for i, r in enumerate(reports):
            r.rows_written = int(written[i])
    bookkeeping = [c for c in data.columns if c in (_FILE, _ROW) or c.startswith(_ORDER)]
    return data.drop(columns=bookkeeping), reports


def _relative(path: Path, base: Path) -> str:
    try:
        return str(path.relative_to(base))
    except ValueError:
        return str(path)


def _map_file(  # noqa: C901  (read, map, filter and account one file, in order)
    table: Table,
    source: Source,
    constants: dict,
    path: Path,
    label: str,
    joined: list,
    rows: FileRows,
    where: str,
    problems: ProblemList,
) -> pd.DataFrame:
    resolved = source.resolved[path]
    raw = read_columns(path, [resolved[name] for name in resolved])
    src = {name: raw[actual] for name, actual in resolved.items()}
    n = len(raw)
    rows.rows_read = n
    keep = np.ones(n, dtype=bool)
    for f in source.filters:
        passed = _filter_mask(f, src[f.column])
        rows.drop(
            f"filter at line {f.line}: kept only rows where {f.describe()}",
            int((keep & ~passed).sum()),
        )
        keep &= passed
    row_no = np.flatnonzero(keep)
    src = {k: v[keep].reset_index(drop=True) for k, v in src.items()}
    m = len(row_no)

    out: dict[str, pd.Series] = {}
    reported: set[str] = set()
    for join, lookup in zip(source.joins, joined):
        if lookup is None:
            continue
        indexer = _join_indexer(join, lookup, src)
        unmatched = indexer < 0
        if unmatched.any():
            if join.unmatched == "error":
                reported.update(join.columns)
                keys = pd.DataFrame({k: src[k][unmatched] for k, _ in join.keys})
                examples = keys.drop_duplicates().head(5).astype(str)
                shown = "; ".join(
                    ", ".join(f"{c}={v!r}" for c, v in r.items())
                    for r in examples.to_dict("records")
                )
                problems.add(
                    join.line,
                    f"{where} join: {_n_rows(int(unmatched.sum()))} of {label} "
                    f"have no match in {join.label} (keys: {shown}; e.g. "
                    f"{_rows_text(row_no[unmatched])}); add the keys to the joined "
                    "file, or set unmatched: drop (rows counted in the report) or "
                    "unmatched: keep (columns left empty)",
                )
            elif join.unmatched == "drop":
                rows.drop(
                    f"join at line {join.line}: no match in {join.label}", int(unmatched.sum())
                )
                keep_j = ~unmatched
                row_no = row_no[keep_j]
                src = {k: v[keep_j].reset_index(drop=True) for k, v in src.items()}
                for k in out:
                    out[k] = out[k][keep_j].reset_index(drop=True)
                indexer = indexer[keep_j]
                m = len(row_no)
            else:
                for col in join.columns:
                    rows.empty(
                        f"{col} (join at line {join.line}: no match in {join.label})",
                        int(unmatched.sum()),
                    )
        jsrc = {
            name: values.reindex(indexer).reset_index(drop=True)
            for name, values in lookup["columns"].items()
        }
        for col, spec in join.columns.items():
            out[col] = _fill(
                table,
                spec,
                jsrc,
                f"{join.label} (joined to {label})",
                m,
                row_no,
                rows,
                where,
                problems,
                reported,
            )
        # later joins and columns see the same (possibly reduced) rows
    for col, spec in source.columns.items():
        out[col] = _fill(table, spec, src, label, m, row_no, rows, where, problems, reported)
    for col, value in constants.items():
        out[col] = constant_series(value, table.column(col), m)
    line_of = {c: s.line for c, s in source.columns.items()}
    line_of.update({c: s.line for j in source.joins for c, s in j.columns.items()})
    for col, values in out.items():
        column = table.column(col)
        if column.nullable or col in reported:
            continue
        empty = values.isna().to_numpy()
        if empty.any():
            problems.add(
                line_of.get(col, source.line),
                f"{where}: {col} is empty in {_n_rows(int(empty.sum()))} of {label} "
                f"(e.g. {_rows_text(row_no[empty])}) but the contract does not allow "
                f'it; map empty cells (a "" entry under codes or true:/false:), or '
                f"drop the rows with a filter {{column: ..., not_empty: true}}",
            )
    frame = pd.DataFrame(out, index=pd.RangeIndex(m))
    if source.dedupe is not None:
        for col in source.dedupe.order_by:
            if col not in table.column_names:
                frame[_ORDER + col] = src[col].to_numpy()
    frame[_ROW] = row_no
    return frame


def _n_rows(n: int) -> str:
    return f"{n:,} row{'s' if n != 1 else ''}"


def _rows_text(rows: np.ndarray, limit: int = 5) -> str:
    rows = np.asarray(rows)
    shown = ", ".join(str(int(r) + 1) for r in rows[:limit])
    more = f" and {len(rows) - limit} more" if len(rows) > limit else ""
    return f"data row{'s' if len(rows) != 1 else ''} {shown}{more}"


def _filter_mask(f: FilterSpec, values: pd.Series) -> np.ndarray:
    """Rows passing filter ``f`` (values compared as normalised text; empty never equals)."""
    d = distinct_text(values, lower=True)
    if f.op == "not_empty":
        return d.codes >= 0
    hit_unique = d.uniques.isin(list(f.values)).to_numpy()
    hit = np.append(hit_unique, "" in f.values)[np.where(d.codes < 0, len(hit_unique), d.codes)]
    if f.op in ("equals", "in"):
        return hit
    return ~hit


def _key_text(values: pd.Series) -> pd.Series:
    """Join keys compared as normalised lower-case text."""
    return distinct_text(values, lower=True).per_row()


def _load_join(mapping: Mapping, join: JoinSpec, where: str, problems: ProblemList):
    """Read a join's files once: a key index (one row per key) and its source columns."""
    parts = []
    for entry in join.files:
        for path in entry.paths:
            resolved = join.resolved[path]
            raw = read_columns(path, [resolved[name] for name in resolved])
            parts.append(pd.DataFrame({name: raw[actual] for name, actual in resolved.items()}))
    if not parts:
        return None
    data = pd.concat(parts, ignore_index=True)
    key_cols = [jc for _, jc in join.keys]
    keys = [_key_text(data[c]) for c in key_cols]
    index = pd.Index(keys[0]) if len(keys) == 1 else pd.MultiIndex.from_arrays(keys)
    dup = index.duplicated(keep=False)
    if dup.any():
        shown = ", ".join(repr(str(k)) for k in pd.unique(index[dup])[:5])
        problems.add(
            join.line,
            f"{where} join: {join.label} holds {int(dup.sum()):,} rows whose "
            f"key ({', '.join(key_cols)}) is not unique, e.g. {shown}; a join needs "
            "one row per key: remove the duplicates from the joined file",
        )
        return None
    return {"index": index, "columns": {c: data[c] for c in data.columns}}


def _join_indexer(join: JoinSpec, lookup: dict, src: dict) -> np.ndarray:
    """Position in the joined rows of each main row's key; -1 where there is no match."""
    if len(join.keys) == 1:  # match the distinct keys only, then broadcast
        d = distinct_text(src[join.keys[0][0]], lower=True)
        found = np.asarray(lookup["index"].get_indexer(d.uniques))
        return np.append(found, -1)[np.where(d.codes < 0, len(found), d.codes)]
    keys = [_key_text(src[mc]) for mc, _ in join.keys]
    probe = pd.Index(keys[0]) if len(keys) == 1 else pd.MultiIndex.from_arrays(keys)
    indexer = np.asarray(lookup["index"].get_indexer(probe))
    missing_key = np.zeros(len(indexer), dtype=bool)
    for k in keys:
        missing_key |= k.isna().to_numpy()
    indexer[missing_key] = -1
    return indexer


def _fill(
    table: Table,
    spec: ColumnSpec,
    src: dict,
    label: str,
    m: int,
    row_no: np.ndarray,
    rows: FileRows,
    where: str,
    problems: ProblemList,
    reported: set,
) -> pd.Series:
    """Fill one contract column from the source values, recording problems at its line.

    Columns with a problem are added to ``reported`` (their empty values are not
    reported a second time).
    """
    column = table.column(spec.target)
    if spec.kind == "constant":
        return constant_series(spec.constant, column, m)
    values = src[spec.source]
    what = f"column {spec.source!r} of {label}"
    result = evaluate(spec, column, values, row_no, what)
    if result.problems:
        reported.add(spec.target)
    for msg in result.problems:
        problems.add(
            spec.codes_line if spec.kind in ("recode", "bool") else spec.line,
            f"{where}: {spec.target}: {msg}",
        )
    rows.empty(
        f"{spec.target} (invalid values in {spec.source!r}, line {spec.line})", result.emptied
    )
    return result.values


def evaluate(
    spec: ColumnSpec, column: Column, values: pd.Series, row_no: np.ndarray, what: str
) -> SeriesResult:
    """The contract values of one column from its source values, as ``spec`` says.

    Dates: parsed with ``spec.date_format`` (ISO by default). Recodes and true/false
    lists: looked up as normalised text. Renames: text for strings (checked against the
    contract's code list where it has one), whole numbers for integers.
    """
    if spec.kind == "date":
        return parse_dates(values, spec.date_format, spec.invalid_empty, row_no, what)
    if spec.kind in ("recode", "bool"):
        return recode(
            values,
            spec.codes,
            spec.default,
            spec.has_default,
            column,
            row_no,
            what,
            "codes" if spec.kind == "recode" else "true: or false:",
        )
    if column.type == "int":
        res = parse_integers(values, spec.invalid_empty, row_no, what)
        res.problems += check_codes(res.values, column, row_no, what)
        return res
    if column.type == "float":
        return parse_floats(values, spec.invalid_empty, row_no, what)
    text = as_text(values)
    return SeriesResult(text, check_codes(text, column, row_no, what))


def _deduplicate(
    table: Table,
    source: Source,
    data: pd.DataFrame,
    reports: list[FileRows],
    where: str,
    problems: ProblemList,
) -> pd.DataFrame:
    spec = source.dedupe
    on = [c for c in spec.on if c in data.columns]
    reason = (
        f"deduplicate at line {spec.line}: another row has the same "
        f"{', '.join(on)} (keep: {spec.keep})"
    )
    if spec.keep == "consistent":
        contract_cols = [c for c in table.column_names if c in data.columns]
        repeated = data[data.duplicated(subset=on, keep=False)]
        distinct = repeated.drop_duplicates(subset=contract_cols)
        conflict = distinct.duplicated(subset=on, keep=False)
        if conflict.any():
            bad = distinct[conflict]
            differing = [
                c
                for c in contract_cols
                if c not in on
                and bad.groupby(on, dropna=False)[c].nunique(dropna=False).gt(1).any()
            ]
            examples = "; ".join(
                f"{reports[int(r[_FILE])].file} data row {int(r[_ROW]) + 1}"
                for _, r in bad.head(4).iterrows()
            )
            problems.add(
                spec.line,
                f"{where}: deduplicate with keep: consistent: "
                f"{int(bad[on].drop_duplicates().shape[0]):,} values of "
                f"({', '.join(on)}) have rows that differ in {', '.join(differing)} "
                f"(e.g. {examples}); use keep: first or last with order_by to choose",
            )
        dup = data.duplicated(subset=on, keep="first")
    else:
        ordered = data
        if spec.order_by:
            cols = [c if c in table.column_names else _ORDER + c for c in spec.order_by]
            ordered = data.sort_values(cols, kind="mergesort", na_position="first")
        dup = ordered.duplicated(subset=on, keep=spec.keep).reindex(data.index)
    dropped = np.bincount(data.loc[dup.to_numpy(), _FILE].to_numpy(), minlength=len(reports))
    for i, r in enumerate(reports):
        r.drop(reason, int(dropped[i]))
    return data[~dup.to_numpy()]
