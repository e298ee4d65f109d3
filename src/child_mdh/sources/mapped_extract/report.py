"""The row report of a mapped extract: every source row is written or dropped for a reason.

For each source file: rows read, rows dropped by each filter, unmatched join or
de-duplication (with the mapping line that caused it), and rows written, so that
``rows_read == rows_written + sum(rows_dropped)`` always holds (checked when the report
is built). Values set empty on purpose (``invalid: empty``, ``unmatched: keep``) are
counted too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class FileRows:
    """Row accounting for one source file of one table."""

    table: str
    source: int
    file: str
    rows_read: int = 0
    rows_written: int = 0
    #: reason -> rows dropped for it
    rows_dropped: dict[str, int] = field(default_factory=dict)
    #: what was set empty -> number of values
    values_emptied: dict[str, int] = field(default_factory=dict)

    def drop(self, reason: str, n: int) -> None:
        """Record ``n`` rows dropped for ``reason``."""
        if n:
            self.rows_dropped[reason] = self.rows_dropped.get(reason, 0) + int(n)

    def empty(self, what: str, n: int) -> None:
        """Record ``n`` values set empty for ``what``."""
        if n:
            self.values_emptied[what] = self.values_emptied.get(what, 0) + int(n)

    @property
    def balanced(self) -> bool:
        """True when rows read = rows written + rows dropped."""
        return self.rows_read == self.rows_written + sum(self.rows_dropped.values())

    def to_dict(self) -> dict:
        """The accounting as plain JSON-able values."""
        return {
            "table": self.table,
            "source": self.source,
            "file": self.file,
            "rows_read": self.rows_read,
            "rows_written": self.rows_written,
            "rows_dropped": dict(self.rows_dropped),
            "values_emptied": dict(self.values_emptied),
        }


@dataclass
class MappingReport:
    """What :func:`~child_mdh.sources.mapped_extract.apply_mapping` read and wrote."""

    mapping_file: str
    mapping_sha256: str
    extract_dir: str
    out_dir: str
    files: list[FileRows] = field(default_factory=list)
    #: table -> rows written
    tables: dict[str, int] = field(default_factory=dict)
    #: table -> written file
    outputs: dict[str, Path] = field(default_factory=dict)
    empty_tables: list[str] = field(default_factory=list)

    def for_table(self, table: str) -> list[FileRows]:
        """The file rows of ``table``."""
        return [f for f in self.files if f.table == table]

    def to_dict(self) -> dict:
        """The report as written to ``mapping_report.json``."""
        return {
            "mapping_file": self.mapping_file,
            "mapping_sha256": self.mapping_sha256,
            "extract_dir": self.extract_dir,
            "out_dir": self.out_dir,
            "tables": {
                name: {
                    "rows_written": n,
                    "empty_by_mapping": name in self.empty_tables,
                    "files": [f.to_dict() for f in self.for_table(name)],
                }
                for name, n in self.tables.items()
            },
        }

    def summary_text(self) -> str:
        """A plain-text summary: per table and file, rows read, dropped (why) and written."""
        lines = [f"Mapped extract with {self.mapping_file} -> {self.out_dir}"]
        for name, n in self.tables.items():
            if name in self.empty_tables:
                lines.append(f"{name}: written empty, as the mapping says")
                continue
            lines.append(f"{name}: {n:,} row{'s' if n != 1 else ''} written")
            for f in self.for_table(name):
                lines.append(f"  {f.file}: {f.rows_read:,} read, {f.rows_written:,} written")
                for reason, k in f.rows_dropped.items():
                    lines.append(f"    {k:,} dropped: {reason}")
                for what, k in f.values_emptied.items():
                    lines.append(f"    {k:,} values set empty: {what}")
        return "\n".join(lines)
