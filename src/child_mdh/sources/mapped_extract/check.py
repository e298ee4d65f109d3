"""Check a whole mapping against the contract and the extract's headers, before transforming.

:func:`check_mapping` parses the mapping (every table, column, code list, constant and
file name; see :mod:`child_mdh.sources.mapped_extract.mapping`), then reads the header of every file it
names and finds every source column there (tolerating case, spaces and NPD affixes, see
:mod:`child_mdh.sources.mapped_extract.columns`). All problems are reported together in one
:class:`~child_mdh.sources.mapped_extract.errors.MappingError`.
"""

from __future__ import annotations

from pathlib import Path

from child_mdh.sources.mapped_extract.columns import (
    ColumnAmbiguousError,
    ColumnNotFoundError,
    resolve_column,
)
from child_mdh.sources.mapped_extract.errors import ProblemList
from child_mdh.sources.mapped_extract.files import SourceFileError, read_header
from child_mdh.sources.mapped_extract.mapping import parse_mapping
from child_mdh.sources.mapped_extract.model import JoinSpec, Mapping, Source


def source_column_lines(source: Source) -> dict[str, int]:
    """Source columns the main files must hold, each with the first mapping line naming it."""
    named: dict[str, int] = {}
    for spec in source.columns.values():
        if spec.source:
            named.setdefault(spec.source, spec.line)
    for f in source.filters:
        named.setdefault(f.column, f.line)
    for j in source.joins:
        for main_col, _ in j.keys:
            named.setdefault(main_col, j.line)
    if source.dedupe:
        for col in source.dedupe.order_by:
            if (
                col not in source.columns
                and not any(col in e.constants for e in source.files)
                and not any(col in j.columns for j in source.joins)
            ):
                named.setdefault(col, source.dedupe.line)
    return named


def join_column_lines(join: JoinSpec) -> dict[str, int]:
    """Columns the joined files must hold (keys and mapped columns), with their lines."""
    named: dict[str, int] = {}
    for _, join_col in join.keys:
        named.setdefault(join_col, join.line)
    for spec in join.columns.values():
        if spec.source:
            named.setdefault(spec.source, spec.line)
    return named


def _resolve_files(
    paths: list[Path], named: dict[str, int], where: str, problems: ProblemList, resolved: dict
) -> None:
    for path in paths:
        try:
            header = read_header(path)
        except SourceFileError as err:
            line = min(named.values()) if named else 0
            problems.add(line, f"{where}: {err}")
            continue
        found = {}
        for requested, line in named.items():
            try:
                found[requested] = resolve_column(requested, header)
            except (ColumnNotFoundError, ColumnAmbiguousError) as err:
                problems.add(line, f"{where}: {err.describe(path.name)}")
        resolved[path] = found


def check_mapping(mapping_path: str | Path, extract_dir: str | Path | None = None) -> Mapping:
    """Parse ``mapping_path`` and check it against the contract and the extract's headers.

    Returns the parsed mapping with every source column resolved to the name its file
    uses. Raises :class:`~child_mdh.sources.mapped_extract.errors.MappingError` listing every problem
    (mapping file and line, source file, column, similar columns, and the fix).
    """
    problems = ProblemList(Path(mapping_path))
    mapping = parse_mapping(mapping_path, extract_dir, problems)
    if mapping is not None:
        for tm in mapping.tables.values():
            for source in tm.sources:
                where = f"{tm.name} (source {source.number})"
                named = source_column_lines(source)
                paths = [p for e in source.files for p in e.paths]
                _resolve_files(paths, named, where, problems, source.resolved)
                for join in source.joins:
                    jpaths = [p for e in join.files for p in e.paths]
                    _resolve_files(
                        jpaths, join_column_lines(join), f"{where} join", problems, join.resolved
                    )
    problems.raise_if_any()
    return mapping
