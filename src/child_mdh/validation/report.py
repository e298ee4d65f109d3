"""Row accounting, the validation report, and the files validation writes.

Files (see ``docs/validation.md``):

- ``<out_dir>/<table>.parquet``: the usable rows, contract columns first in contract
  dtypes, extra columns kept;
- ``<quarantine_dir>/<table>.parquet``: the quarantined rows, every cell as the text it
  was in the input, plus ``_row_number`` and ``_reason`` (one file per table, empty
  when nothing was quarantined, so no stale file survives a re-run);
- ``<out_dir>/row_accounting.csv``: one row per table; ``rows_read == rows_used +
  rows_quarantined`` always; ``notes`` counts rows used with a note (for example social
  care rows kept with ``unmatched_pupils="keep"``);
- ``<out_dir>/validation_report.json``: the accounting and every issue.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from child_mdh.contract.tables import CONTRACT_VERSION, conform
from child_mdh.files import write_json, write_parquet
from child_mdh.validation.issues import Issue
from child_mdh.validation.rows import TableData

ACCOUNTING_COLUMNS = [
    "table",
    "file",
    "rows_read",
    "rows_used",
    "rows_quarantined",
    "reasons",
    "notes",
]


@dataclass
class TableAccounting:
    """Where every row of one input table went."""

    table: str
    file: str
    rows_read: int
    rows_used: int
    rows_quarantined: int
    reasons: dict[str, int] = field(default_factory=dict)
    #: rows used but noted, per note label (they are part of ``rows_used``)
    notes: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.rows_read != self.rows_used + self.rows_quarantined:
            raise AssertionError(
                f"row accounting of {self.table} does not add up: {self.rows_read} read, "
                f"{self.rows_used} used, {self.rows_quarantined} quarantined"
            )

    @property
    def reasons_text(self) -> str:
        """``"label: n; label: n"`` (rows per reason; a row can have several reasons)."""
        return "; ".join(f"{k}: {v}" for k, v in sorted(self.reasons.items()))

    @property
    def notes_text(self) -> str:
        """``"label: n; label: n"`` (rows used with each note)."""
        return "; ".join(f"{k}: {v}" for k, v in sorted(self.notes.items()))


@dataclass
class ValidationReport:
    """The outcome of validating one folder: per-table accounting and every issue found."""

    in_dir: Path
    out_dir: Path
    quarantine_dir: Path
    policy: str
    reference_date: dt.date
    tables: dict[str, TableAccounting] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)

    @property
    def rows_quarantined(self) -> int:
        return sum(t.rows_quarantined for t in self.tables.values())

    def one_line(self) -> str:
        """The summary in one line: tables, rows used, rows quarantined and where."""
        used = sum(t.rows_used for t in self.tables.values())
        q = self.rows_quarantined
        where = f" (rows and reasons in {self.quarantine_dir})" if q else ""
        return f"{len(self.tables)} tables validated: {used:,} rows used, {q:,} quarantined{where}"

    def summary_text(self) -> str:
        """A plain-English summary for the log (:meth:`one_line` for the terminal)."""
        lines = [
            f"Validated {len(self.tables)} tables from {self.in_dir} against data contract "
            f"v{CONTRACT_VERSION} (policy: {self.policy}; dates after "
            f"{self.reference_date:%Y-%m-%d} count as in the future).",
            "",
            f"{'table':<24}{'file':<34}{'read':>12}{'used':>12}{'quarantined':>13}",
        ]
        for t in self.tables.values():
            lines.append(
                f"{t.table:<24}{t.file:<34}{t.rows_read:>12,}{t.rows_used:>12,}"
                f"{t.rows_quarantined:>13,}"
            )
        lines.append("")
        q = self.rows_quarantined
        if q:
            n_tables = sum(1 for t in self.tables.values() if t.rows_quarantined)
            lines.append(
                f"{q:,} row{'s' if q != 1 else ''} quarantined in {n_tables} "
                f"table{'s' if n_tables != 1 else ''}; the rows and their reasons "
                f"are in {self.quarantine_dir}."
            )
        else:
            lines.append("No row was quarantined.")
        rows = [i for i in self.issues if i.severity == "row"]
        kept = [i for i in self.issues if i.severity == "note" and i.check == "unmatched_pupil"]
        notes = [i for i in self.issues if i.severity == "note" and i.check != "unmatched_pupil"]
        if rows:
            lines += ["", "Rows quarantined:"] + [f"- {i.message}" for i in rows]
        if kept:
            lines += ["", "Kept, with a note:"] + [f"- {i.message}" for i in kept]
        if notes:
            lines += ["", "Mended on reading (nothing lost):"] + [f"- {i.message}" for i in notes]
        lines += ["", f"Validated tables: {self.out_dir}"]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """The report as plain JSON-able values."""
        return {
            "contract_version": CONTRACT_VERSION,
            "in_dir": str(self.in_dir),
            "out_dir": str(self.out_dir),
            "quarantine_dir": str(self.quarantine_dir),
            "policy": self.policy,
            "reference_date": self.reference_date.isoformat(),
            "tables": {k: {**vars(v)} for k, v in self.tables.items()},
            "issues": [i.to_dict() for i in self.issues],
        }

    def accounting_frame(self) -> pd.DataFrame:
        """Row accounting, one row per table (the content of row_accounting.csv)."""
        rows = [
            {
                "table": t.table,
                "file": t.file,
                "rows_read": t.rows_read,
                "rows_used": t.rows_used,
                "rows_quarantined": t.rows_quarantined,
                "reasons": t.reasons_text,
                "notes": t.notes_text,
            }
            for t in self.tables.values()
        ]
        return pd.DataFrame(rows, columns=ACCOUNTING_COLUMNS)

    def write(self) -> None:
        """Write row_accounting.csv and validation_report.json into ``out_dir``."""
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.accounting_frame().to_csv(self.out_dir / "row_accounting.csv", index=False)
        write_json(self.to_dict(), self.out_dir / "validation_report.json")


def accounting(data: TableData) -> TableAccounting:
    """Row accounting of one checked table."""
    q = int(data.flags.any.sum())
    return TableAccounting(
        data.name, data.file, data.n_rows, data.n_rows - q, q, data.flags.counts(), dict(data.kept)
    )


def clean_table(data: TableData) -> pd.DataFrame:
    """The usable rows: contract columns first in contract dtypes, extra columns as read."""
    keep = data.usable()
    frame = data.values.loc[keep].copy()
    contract_names = set(data.table.column_names)
    for col in data.raw.columns:
        if col not in contract_names and col not in frame.columns:
            frame[col] = data.raw[col].loc[keep]
    return conform(frame, data.name)


def quarantine_table(data: TableData) -> pd.DataFrame:
    """The quarantined rows as the text they were in the input, with row number and reason."""
    pos = np.flatnonzero(data.flags.any)
    raw = data.raw.iloc[pos]
    out = {}
    for col in raw.columns:
        s = raw[col]
        text = s.astype("str") if s.dtype != "str" else s
        out[str(col)] = text.where(s.notna().to_numpy(), None).astype("str")
    frame = pd.DataFrame(out, index=raw.index)
    frame["_row_number"] = (pos + 1).astype("int64")
    frame["_reason"] = data.flags.reasons().reindex(pos).to_numpy()
    return frame.reset_index(drop=True)


def write_tables(
    datasets: list[TableData], out_dir: Path, quarantine_dir: Path, reference_date: dt.date
) -> None:
    """Write the clean table and the quarantine file of every checked table."""
    for data in datasets:
        meta = {
            **data.metadata,
            "contract_version": CONTRACT_VERSION,
            "table": data.name,
            "validated": True,
            "source_file": data.file,
            "reference_date": reference_date.isoformat(),
        }
        write_parquet(clean_table(data), out_dir / f"{data.name}.parquet", meta)
        write_parquet(
            quarantine_table(data),
            quarantine_dir / f"{data.name}.parquet",
            {"table": data.name, "source_file": data.file, "quarantine": True},
        )
