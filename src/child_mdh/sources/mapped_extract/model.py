"""The parsed form of a mapping file: what each contract table is built from.

These dataclasses are produced by :func:`child_mdh.sources.mapped_extract.mapping.parse_mapping` and
read by :mod:`child_mdh.sources.mapped_extract.transform`; ``docs/mapped-extracts.md`` describes the
YAML they come from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from child_mdh.contract.tables import TABLES


@dataclass
class ColumnSpec:
    """How one contract column is filled: a rename, constant, recode, boolean or date."""

    target: str
    line: int
    kind: str  # rename | constant | recode | bool | date
    source: str | None = None
    constant: object = None
    codes: dict = field(default_factory=dict)
    has_default: bool = False
    default: object = None
    codes_line: int = 0
    date_format: str | None = None
    invalid_empty: bool = False


@dataclass
class FilterSpec:
    """Keep only rows whose source ``column`` passes ``op`` (against normalised ``values``)."""

    line: int
    column: str
    op: str
    values: tuple[str, ...] = ()
    written: tuple[str, ...] = ()

    def describe(self) -> str:
        """The filter in words, as the row report shows it."""
        shown = ", ".join(self.written)
        return {
            "equals": f"{self.column} equals {shown}",
            "not_equals": f"{self.column} does not equal {shown}",
            "in": f"{self.column} is one of [{shown}]",
            "not_in": f"{self.column} is not one of [{shown}]",
            "not_empty": f"{self.column} is not empty",
        }[self.op]


@dataclass
class FileEntry:
    """One entry of ``files``: a path or glob, with per-file contract values."""

    pattern: str
    line: int
    constants: dict = field(default_factory=dict)
    paths: list[Path] = field(default_factory=list)
    #: contract columns named in the entry (even those whose value has a problem)
    named: set = field(default_factory=set)


@dataclass
class JoinSpec:
    """Contract columns taken from another file, matched on key columns."""

    line: int
    files: list[FileEntry]
    keys: list[tuple[str, str]]
    columns: dict[str, ColumnSpec]
    unmatched: str = "error"
    #: per file: source column as named in the mapping -> as spelt in the file
    resolved: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        """The joined file name(s), as messages and the row report show them."""
        return ", ".join(e.pattern for e in self.files)


@dataclass
class DedupeSpec:
    """Keep one row per ``on`` key: the first or last (after ``order_by``), or check consistency."""

    line: int
    on: list[str]
    keep: str
    order_by: list[str]


@dataclass
class Source:
    """One source of a contract table: files stacked, filtered, joined, mapped."""

    table: str
    number: int
    line: int
    files: list[FileEntry]
    columns: dict[str, ColumnSpec]
    filters: list[FilterSpec]
    joins: list[JoinSpec]
    dedupe: DedupeSpec | None
    #: per file: source column as named in the mapping -> as spelt in the file
    resolved: dict = field(default_factory=dict)

    def main_source_columns(self) -> list[str]:
        """Source columns read from the main files (mapped, filtered, join keys, ordering)."""
        names = [s.source for s in self.columns.values() if s.source]
        names += [f.column for f in self.filters]
        names += [k for j in self.joins for k, _ in j.keys]
        if self.dedupe:
            contract_cols = set(TABLES[self.table].column_names)
            names += [o for o in self.dedupe.order_by if o not in contract_cols]
        return list(dict.fromkeys(names))


@dataclass
class TableMapping:
    """How one contract table is built: its sources, or written empty."""

    name: str
    line: int
    sources: list[Source]
    empty: bool = False


@dataclass
class Mapping:
    """A parsed mapping file."""

    path: Path
    base_dir: Path
    tables: dict[str, TableMapping]
    sha256: str

    @property
    def name(self) -> str:
        """The mapping file's name."""
        return self.path.name
