"""Parse the parts of a source that describe values: column specs and row filters.

A column spec says how one contract column is filled (rename, constant, recode,
true/false lists, date); a filter which rows are kept. Every constant and recode target
is converted to its contract column's type and checked against the contract's code list
and range here, so a wrong value is reported at its line before any data are read.
"""

from __future__ import annotations

import difflib

from child_mdh import cells
from child_mdh.contract.tables import Column, Table
from child_mdh.sources.mapped_extract.errors import ProblemList
from child_mdh.sources.mapped_extract.model import ColumnSpec, FilterSpec
from child_mdh.sources.mapped_extract.values import (
    CellValueError,
    convert_scalar,
    normalise_code,
)
from child_mdh.sources.mapped_extract.yamlload import LineDict, LineList

FILTER_OPS = ("equals", "not_equals", "in", "not_in", "not_empty")
SPEC_KEYS = ("column", "value", "codes", "default", "true", "false", "date_format", "invalid")


def suggest(word: str, options) -> str:
    """`` (did you mean 'x'?)`` for the option closest to ``word`` (difflib), or ``""``."""
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def check_keys(d: LineDict, allowed, what: str, problems: ProblemList) -> None:
    """Record a problem for every key of ``d`` not in ``allowed`` (``what`` names the block)."""
    for key in d:
        if key not in allowed:
            problems.add(
                d.line_of(key),
                f"unknown key {key!r} in {what}{suggest(key, allowed)}; "
                f"the keys allowed here are: {', '.join(allowed)}",
            )


def as_list(value) -> tuple[list, list[int] | None]:
    """A YAML list, or a single value as a one-item list; with item lines where known."""
    if isinstance(value, LineList):
        return list(value), list(value.item_lines)
    if value is None:
        return [], None
    return [value], None


def parse_columns(
    table: Table, raw, line: int, where: str, problems: ProblemList
) -> dict[str, ColumnSpec]:
    """Parse a ``columns:`` block: contract column -> :class:`ColumnSpec` (problems recorded)."""
    if raw is None:
        return {}
    if not isinstance(raw, LineDict):
        problems.add(line, f"{where}: columns: must map contract columns to source columns")
        return {}
    specs = {}
    for target, spec_raw in raw.items():
        ln = raw.line_of(target)
        if target not in table.column_names:
            problems.add(
                ln,
                f"{where}: {target!r} is not a column of {table.name}"
                f"{suggest(target, table.column_names)}; its columns are: "
                f"{', '.join(table.column_names)}",
            )
            continue
        spec = parse_column_spec(table, table.column(target), spec_raw, ln, where, problems)
        if spec is not None:
            specs[target] = spec
    return specs


def parse_column_spec(  # noqa: C901  (one branch per spec form of docs/mapped-extracts.md)
    table: Table,
    column: Column,
    raw,
    line: int,
    where: str,
    problems: ProblemList,
) -> ColumnSpec | None:
    """Parse how contract ``column`` is filled (see docs/mapped-extracts.md, "Columns")."""
    label = f"{where}: {column.name}"
    if isinstance(raw, str):
        if not raw.strip():
            problems.add(line, f"{label}: the source column name is empty")
            return None
        return _implicit_spec(column, ColumnSpec(column.name, line, "rename", source=raw.strip()))
    if not isinstance(raw, LineDict):
        problems.add(
            line,
            f"{label}: give a source column name, or a block such as "
            "{value: ...}, {column: ..., codes: {...}}, {column: ..., date_format: ...}",
        )
        return None
    check_keys(raw, SPEC_KEYS, f"the column {column.name}", problems)
    if "value" in raw:
        extra = [k for k in raw if k != "value"]
        if extra:
            problems.add(
                line,
                f"{label}: a constant {{value: ...}} takes no other keys "
                f"(found {', '.join(extra)})",
            )
        try:
            value = convert_scalar(raw["value"], column, table.name)
        except CellValueError as err:
            problems.add(raw.line_of("value"), f"{label}: {err}")
            return None
        return ColumnSpec(column.name, line, "constant", constant=value)
    source = raw.get("column")
    if not source or not str(source).strip():
        problems.add(
            line, f"{label}: add column: naming the source column (or value: for a constant)"
        )
        return None
    spec = ColumnSpec(column.name, line, "rename", source=str(source).strip())
    invalid = raw.get("invalid")
    if "invalid" in raw:
        if invalid not in ("error", "empty"):
            problems.add(raw.line_of("invalid"), f"{label}: invalid must be error or empty")
        elif column.type not in ("date", "int", "float") or "codes" in raw:
            problems.add(
                raw.line_of("invalid"),
                f"{label}: invalid: applies to dates and "
                "numbers read from text; for codes use default:",
            )
        else:
            spec.invalid_empty = invalid == "empty"
    has_codes = "codes" in raw
    has_bool = "true" in raw or "false" in raw
    if has_codes and has_bool:
        problems.add(line, f"{label}: use either codes: or true:/false:, not both")
        return None
    if "date_format" in raw:
        if column.type != "date":
            problems.add(
                raw.line_of("date_format"),
                f"{label}: date_format applies only to "
                f"date columns; {column.name} is a {column.type}",
            )
        elif has_codes or has_bool:
            problems.add(
                raw.line_of("date_format"), f"{label}: date_format cannot be combined with codes"
            )
        elif not raw["date_format"] or "%" not in str(raw["date_format"]):
            problems.add(
                raw.line_of("date_format"),
                f'{label}: date_format must be a strftime pattern such as "%d/%m/%Y"',
            )
        else:
            spec.kind = "date"
            spec.date_format = str(raw["date_format"])
    if has_codes:
        spec.kind = "recode"
        spec.codes_line = raw.line_of("codes")
        _parse_codes(table, column, raw["codes"], spec, label, problems)
    elif has_bool:
        if column.type != "bool":
            problems.add(
                line,
                f"{label}: true:/false: lists apply to true/false columns; "
                f"{column.name} is a {column.type} (use codes:)",
            )
            return None
        spec.kind = "bool"
        spec.codes_line = raw.line_of("true") if "true" in raw else raw.line_of("false")
        _parse_bool_lists(raw, spec, label, problems)
    if "default" in raw:
        if spec.kind not in ("recode", "bool"):
            problems.add(
                raw.line_of("default"), f"{label}: default applies with codes: or true:/false: only"
            )
        elif raw["default"] != "error":
            try:
                spec.default = convert_scalar(raw["default"], column, table.name)
                spec.has_default = True
            except CellValueError as err:
                problems.add(raw.line_of("default"), f"{label}: default: {err}")
    return _implicit_spec(column, spec)


def _implicit_spec(column: Column, spec: ColumnSpec) -> ColumnSpec:
    """A plain rename into a date or true/false column reads ISO dates, or the true/false
    spellings every route accepts (:data:`child_mdh.cells.TRUE_WORDS`)."""
    if spec.kind == "rename" and column.type == "date":
        spec.kind = "date"
    elif spec.kind == "rename" and column.type == "bool":
        spec.kind = "bool"
        spec.codes = {normalise_code(w): True for w in cells.TRUE_WORDS} | {
            normalise_code(w): False for w in cells.FALSE_WORDS
        }
        spec.codes_line = spec.line
    return spec


def _parse_codes(
    table: Table, column: Column, raw, spec: ColumnSpec, label: str, problems: ProblemList
) -> None:
    if not isinstance(raw, LineDict) or not raw:
        problems.add(
            spec.codes_line,
            f"{label}: codes: must map source codes to contract "
            'values, e.g. codes: {"1": F, "2": M}',
        )
        return
    written: dict[str, str] = {}
    for code, target in raw.items():
        key = normalise_code(code)
        ln = raw.line_of(code)
        try:
            value = convert_scalar(target, column, table.name)
        except CellValueError as err:
            problems.add(ln, f"{label}: code {code!r}: {err}")
            continue
        if key in spec.codes and spec.codes[key] != value:
            problems.add(
                ln,
                f"{label}: code {code!r} is the same code as {written[key]!r} "
                "(codes ignore case, spaces and a trailing .0) but maps elsewhere",
            )
            continue
        spec.codes[key] = value
        written[key] = code


def _parse_bool_lists(raw: LineDict, spec: ColumnSpec, label: str, problems: ProblemList) -> None:
    for word, value in (("true", True), ("false", False)):
        items, _ = as_list(raw.get(word))
        for item in items:
            if item is None:
                item = ""
            if not isinstance(item, str):
                problems.add(raw.line_of(word), f"{label}: {word}: must list codes as text")
                continue
            key = normalise_code(item)
            if key in spec.codes and spec.codes[key] != value:
                problems.add(
                    raw.line_of(word),
                    f"{label}: code {item!r} is listed under both true: and false:",
                )
                continue
            spec.codes[key] = value


def parse_filters(raw, line: int, where: str, problems: ProblemList) -> list[FilterSpec]:
    """Parse a ``filter:`` list (or one condition) into :class:`FilterSpec` (problems recorded)."""
    items, item_lines = as_list(raw)
    out = []
    for i, item in enumerate(items):
        ln = item_lines[i] if item_lines else line
        if not isinstance(item, LineDict) or not item.get("column"):
            problems.add(
                ln, f"{where}: each filter is a block such as {{column: EnrolStatus, in: [C, M]}}"
            )
            continue
        check_keys(item, ("column", *FILTER_OPS), "a filter", problems)
        ops = [k for k in item if k in FILTER_OPS]
        if len(ops) != 1:
            problems.add(ln, f"{where}: a filter needs exactly one of {', '.join(FILTER_OPS)}")
            continue
        op = ops[0]
        if op == "not_empty":
            if str(item[op]).strip().lower() != "true":
                problems.add(item.line_of(op), f"{where}: write not_empty: true")
                continue
            written: list = []
        else:
            written, _ = as_list(item[op])
            written = ["" if w is None else w for w in written]
            if op in ("equals", "not_equals") and isinstance(item[op], LineList):
                problems.add(
                    item.line_of(op),
                    f"{where}: {op} takes one value; use "
                    f"{'in' if op == 'equals' else 'not_in'} for a list",
                )
                continue
            if not written or not all(isinstance(w, str) for w in written):
                problems.add(item.line_of(op), f"{where}: {op} needs a value or list of values")
                continue
        out.append(
            FilterSpec(
                ln,
                str(item["column"]).strip(),
                op,
                tuple(normalise_code(w) for w in written),
                tuple(written),
            )
        )
    return out
