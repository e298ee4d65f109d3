"""Read a mapping file and check it against the data contract, before any data is read.

The format is described in ``docs/mapped-extracts.md``. :func:`parse_mapping` turns the
YAML into the dataclasses of :mod:`child_mdh.sources.mapped_extract.model`, converting every constant, per-file value and recode
target to the type of its contract column and checking it against the contract's code
lists and ranges. Every problem found is recorded with its line; nothing stops at the
first one.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from child_mdh.contract.tables import TABLES, Table
from child_mdh.sources.mapped_extract.errors import ProblemList
from child_mdh.sources.mapped_extract.files import expand_pattern, file_kind
from child_mdh.sources.mapped_extract.model import (
    DedupeSpec,
    FileEntry,
    JoinSpec,
    Mapping,
    Source,
    TableMapping,
)
from child_mdh.sources.mapped_extract.specs import (
    as_list,
    check_keys,
    parse_columns,
    parse_filters,
    suggest,
)
from child_mdh.sources.mapped_extract.values import CellValueError, convert_scalar
from child_mdh.sources.mapped_extract.yamlload import (
    LineDict,
    LineList,
    YamlSyntaxError,
    load_yaml_with_lines,
)

MAPPING_VERSION = "1"
TOP_KEYS = ("mapping_version", "description", "extract_dir", "tables")
SOURCE_KEYS = ("files", "columns", "filter", "join", "deduplicate")
JOIN_KEYS = ("files", "keys", "columns", "unmatched")
DEDUPE_KEYS = ("on", "keep", "order_by")
UNMATCHED = ("error", "drop", "keep")
KEEP = ("first", "last", "consistent")
EMPTY_TABLE = "empty"


def parse_mapping(
    mapping_path: str | Path, extract_dir: str | Path | None, problems: ProblemList
) -> Mapping | None:
    """Parse and check the mapping file, recording every problem in ``problems``.

    ``extract_dir`` (when given) overrides the file's ``extract_dir``; relative file
    patterns are resolved against it, or else against the mapping file's folder.
    Returns the parsed mapping (possibly partial when there are problems), or None when
    the file cannot be read as YAML at all.
    """
    path = Path(mapping_path)
    if not path.is_file():
        problems.add(0, f"the mapping file {path} does not exist")
        return None
    try:
        doc, duplicates = load_yaml_with_lines(path)
    except YamlSyntaxError as err:
        problems.add(err.line, err.detail)
        return None
    for line, key, first in duplicates:
        problems.add(
            line, f"{key!r} is given twice in the same block (first at line {first}); keep one"
        )
    if not isinstance(doc, LineDict):
        problems.add(1, "the mapping file must be a YAML mapping with a 'tables:' key")
        return None
    check_keys(doc, TOP_KEYS, "the top level", problems)
    version = doc.get("mapping_version", MAPPING_VERSION)
    if str(version) != MAPPING_VERSION:
        problems.add(
            doc.line_of("mapping_version"),
            f"mapping_version {version!r} is not supported; this version reads {MAPPING_VERSION!r}",
        )
    if extract_dir is not None:
        base_dir = Path(extract_dir)
    elif doc.get("extract_dir"):
        base_dir = Path(str(doc["extract_dir"])).expanduser()
        if not base_dir.is_absolute():
            base_dir = path.parent / base_dir
    else:
        base_dir = path.parent
    if not base_dir.is_dir():
        problems.add(
            doc.line_of("extract_dir"),
            f"the extract folder {base_dir} does not exist; "
            "set extract_dir to the folder holding the extract files",
        )
    mapping = Mapping(
        path=path,
        base_dir=base_dir,
        tables={},
        sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
    )
    tables = doc.get("tables")
    if not isinstance(tables, LineDict):
        problems.add(doc.line_of("tables"), "'tables:' must map each contract table to its sources")
        return mapping
    for name in tables:
        if name not in TABLES:
            problems.add(
                tables.line_of(name),
                f"{name!r} is not a contract table{suggest(name, TABLES)}; "
                f"the tables are: {', '.join(TABLES)}",
            )
    for name, table in TABLES.items():
        if name not in tables:
            problems.add(
                tables.line,
                f"table {name} is not mapped; map it, or write "
                f"'{name}: empty' if the extract has no such data",
            )
            continue
        mapping.tables[name] = _parse_table(
            table, tables[name], tables.line_of(name), base_dir, problems
        )
    return mapping


def _parse_table(
    table: Table, raw, line: int, base_dir: Path, problems: ProblemList
) -> TableMapping:
    if isinstance(raw, str) and raw.strip().lower() == EMPTY_TABLE:
        return TableMapping(table.name, line, [], empty=True)
    if isinstance(raw, LineDict):
        raws, lines = [raw], [raw.line]
    elif isinstance(raw, LineList) and raw and all(isinstance(r, LineDict) for r in raw):
        raws, lines = list(raw), [r.line for r in raw]
    else:
        problems.add(
            line,
            f"table {table.name} must be a source (a block with files: and "
            "columns:), a list of sources, or the word empty",
        )
        return TableMapping(table.name, line, [])
    sources = [
        _parse_source(table, r, i + 1, ln, base_dir, problems)
        for i, (r, ln) in enumerate(zip(raws, lines))
    ]
    return TableMapping(table.name, line, sources)


def _where(table: Table, number: int) -> str:
    return f"{table.name} (source {number})"


def _parse_source(
    table: Table, raw: LineDict, number: int, line: int, base_dir: Path, problems: ProblemList
) -> Source:
    where = _where(table, number)
    check_keys(raw, SOURCE_KEYS, f"a source of {table.name}", problems)
    files = _parse_files(
        table,
        raw.get("files"),
        raw.line_of("files"),
        base_dir,
        where,
        problems,
        allow_constants=True,
    )
    if "files" not in raw:
        problems.add(line, f"{where}: add files: naming the file(s) to read")
    columns = parse_columns(table, raw.get("columns"), raw.line_of("columns"), where, problems)
    filters = (
        parse_filters(raw.get("filter"), raw.line_of("filter"), where, problems)
        if "filter" in raw
        else []
    )
    joins = []
    if "join" in raw:
        join_raw = raw["join"]
        if isinstance(join_raw, LineList):
            items, item_lines = list(join_raw), list(join_raw.item_lines)
        else:
            items, item_lines = [join_raw], [raw.line_of("join")]
        for item, item_line in zip(items, item_lines):
            if not isinstance(item, LineDict):
                problems.add(
                    item_line,
                    f"{where}: join must be a block with files:, "
                    "keys: and columns: (or a list of such blocks)",
                )
                continue
            join = _parse_join(table, item, base_dir, where, problems)
            join.line = item_line
            joins.append(join)
    dedupe = (
        _parse_dedupe(table, raw.get("deduplicate"), raw.line_of("deduplicate"), where, problems)
        if "deduplicate" in raw
        else None
    )
    source = Source(table.name, number, line, files, columns, filters, joins, dedupe)
    _check_coverage(table, source, raw, problems)
    return source


def _parse_files(
    table: Table,
    raw,
    line: int,
    base_dir: Path,
    where: str,
    problems: ProblemList,
    allow_constants: bool,
) -> list[FileEntry]:
    items, item_lines = as_list(raw)
    entries: list[FileEntry] = []
    seen: dict[Path, int] = {}
    for i, item in enumerate(items):
        ln = item_lines[i] if item_lines else line
        if isinstance(item, str):
            entry = FileEntry(item, ln)
        elif isinstance(item, LineDict) and allow_constants:
            if not item.get("file"):
                problems.add(
                    item.line,
                    f"{where}: a file entry with values needs file: "
                    "(e.g. {file: npd_spring_2021.csv, census_date: 2021-01-21})",
                )
                continue
            entry = FileEntry(str(item["file"]), item.line)
            for key, value in item.items():
                if key == "file":
                    continue
                if key in table.column_names:
                    entry.named.add(key)
                else:
                    problems.add(
                        item.line_of(key),
                        f"{where}: {key!r} is not a column of "
                        f"{table.name}{suggest(key, table.column_names)}; a file entry "
                        "holds file: and contract columns with one value for the whole file",
                    )
                    continue
                try:
                    entry.constants[key] = convert_scalar(value, table.column(key), table.name)
                except CellValueError as err:
                    problems.add(item.line_of(key), f"{where}: {err}")
        else:
            problems.add(
                ln,
                f"{where}: each files entry must be a file name or glob"
                + (" or {file: ..., <column>: <value>}" if allow_constants else ""),
            )
            continue
        is_glob = bool(set("*?[") & set(entry.pattern))
        if not is_glob and file_kind(Path(entry.pattern)) is None:
            problems.add(
                entry.line,
                f"{where}: {entry.pattern!r} is not a .csv, .csv.gz, .txt, .tsv, .xlsx or "
                ".parquet file; export the table in one of these forms",
            )
            entries.append(entry)
            continue
        if not base_dir.is_dir() and not Path(entry.pattern).expanduser().is_absolute():
            entries.append(entry)  # the missing folder is reported once, not per file
            continue
        entry.paths = [
            p for p in expand_pattern(entry.pattern, base_dir) if file_kind(p) is not None
        ]
        if not entry.paths or not entry.paths[0].exists():
            problems.add(
                entry.line,
                f"{where}: no file matches {entry.pattern!r} in {base_dir}; "
                "check the name, or set extract_dir (in the mapping or when running)",
            )
            entry.paths = []
        for p in entry.paths:
            if p in seen:
                problems.add(
                    entry.line,
                    f"{where}: {p.name} is read twice (also by the entry at "
                    f"line {seen[p]}); its rows would be counted twice",
                )
            seen[p] = entry.line
        entries.append(entry)
    if raw is not None and not items:
        problems.add(line, f"{where}: files: is empty")
    return entries


def _parse_join(
    table: Table, raw: LineDict, base_dir: Path, where: str, problems: ProblemList
) -> JoinSpec:
    check_keys(raw, JOIN_KEYS, "a join", problems)
    files = _parse_files(
        table,
        raw.get("files"),
        raw.line_of("files"),
        base_dir,
        f"{where} join",
        problems,
        allow_constants=False,
    )
    if "files" not in raw:
        problems.add(raw.line, f"{where}: the join needs files: naming the file to join")
    keys = []
    keys_raw = raw.get("keys")
    if isinstance(keys_raw, LineDict) and keys_raw:
        for main_col, join_col in keys_raw.items():
            if not isinstance(join_col, str) or not join_col.strip():
                problems.add(
                    keys_raw.line_of(main_col),
                    f"{where}: join key {main_col!r} must "
                    "name the matching column of the joined file",
                )
                continue
            keys.append((main_col.strip(), join_col.strip()))
    else:
        problems.add(
            raw.line_of("keys"),
            f"{where}: the join needs keys: mapping each key "
            "column of the main file to the matching column of the joined file, "
            "e.g. keys: {LA: la_number}",
        )
    columns = parse_columns(
        table, raw.get("columns"), raw.line_of("columns"), f"{where} join", problems
    )
    if not columns:
        problems.add(
            raw.line_of("columns"),
            f"{where}: the join needs columns: naming the contract columns it fills",
        )
    unmatched = str(raw.get("unmatched", "error"))
    if unmatched not in UNMATCHED:
        problems.add(
            raw.line_of("unmatched"), f"{where}: unmatched must be one of {', '.join(UNMATCHED)}"
        )
        unmatched = "error"
    return JoinSpec(raw.line, files, keys, columns, unmatched)


def _parse_dedupe(
    table: Table, raw, line: int, where: str, problems: ProblemList
) -> DedupeSpec | None:
    if not isinstance(raw, LineDict):
        problems.add(
            line,
            f"{where}: deduplicate must be a block such as "
            "{on: [pupil_id, census_date], keep: first}",
        )
        return None
    check_keys(raw, DEDUPE_KEYS, "deduplicate", problems)
    on, _ = as_list(raw.get("on"))
    on = [str(c) for c in on] or list(table.primary_key)
    for col in on:
        if col not in table.column_names:
            problems.add(
                raw.line_of("on"),
                f"{where}: deduplicate on {col!r}: not a column of "
                f"{table.name}{suggest(col, table.column_names)}",
            )
    keep = str(raw.get("keep", "first"))
    if keep not in KEEP:
        problems.add(raw.line_of("keep"), f"{where}: keep must be one of {', '.join(KEEP)}")
    order_by, _ = as_list(raw.get("order_by"))
    order_by = [str(c).strip() for c in order_by]
    if order_by and keep == "consistent":
        problems.add(
            raw.line_of("order_by"),
            f"{where}: order_by has no effect with keep: consistent; remove it",
        )
    return DedupeSpec(line, on, keep, order_by)


def _named(raw, table: Table) -> set[str]:
    """Contract columns named in a ``columns:`` block."""
    return {k for k in raw if k in table.column_names} if isinstance(raw, LineDict) else set()


def _check_coverage(table: Table, source: Source, raw: LineDict, problems: ProblemList) -> None:  # noqa: C901  (one check per contract rule, all reported)
    """Every required contract column filled exactly once, for every file."""
    where = _where(table, source.number)
    # columns named in the mapping count as mapped even when their spec has a problem
    # (reported where it is), so one mistake is not reported twice
    main = set(source.columns) | _named(raw.get("columns"), table)
    from_join: dict[str, int] = {}
    for j in source.joins:
        for col, spec in j.columns.items():
            if col in main or col in from_join:
                problems.add(
                    spec.line, f"{where}: {col} is filled twice (in columns and a join); keep one"
                )
            from_join[col] = spec.line
    common = main | set(from_join)
    for j_raw in raw.get("join") if isinstance(raw.get("join"), LineList) else [raw.get("join")]:
        if isinstance(j_raw, LineDict):
            common |= _named(j_raw.get("columns"), table)
    required = set(table.required_columns)
    reported_common = False
    for entry in source.files:
        for col in entry.constants:
            if col in common:
                problems.add(
                    entry.line,
                    f"{where}: {col} is given both for the file "
                    f"{entry.pattern} and under columns; keep one",
                )
        missing = [c for c in table.column_names if c in required - common - entry.named]
        if not missing:
            continue
        if not entry.named:
            if reported_common:
                continue
            reported_common = True
            problems.add(
                raw.line_of("columns") if "columns" in raw else source.line,
                f"{where}: required contract column{'s' if len(missing) > 1 else ''} "
                f"{', '.join(missing)} {'are' if len(missing) > 1 else 'is'} not mapped; "
                "add under columns (a source column, or {value: ...})",
            )
        else:
            problems.add(
                entry.line,
                f"{where}: required contract column"
                f"{'s' if len(missing) > 1 else ''} {', '.join(missing)} not mapped for "
                f"{entry.pattern}; add under columns or in this file entry",
            )
    if source.dedupe:
        known = common | {c for e in source.files for c in e.named}
        for col in source.dedupe.on:
            if col in table.column_names and col not in known:
                problems.add(
                    source.dedupe.line,
                    f"{where}: deduplicate on {col!r}, which this source does not map",
                )
        for col in source.dedupe.order_by:
            if col in table.column_names and col not in known:
                problems.add(
                    source.dedupe.line,
                    f"{where}: deduplicate order_by {col!r}, a "
                    "contract column this source does not map",
                )
