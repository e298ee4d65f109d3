"""The problems validation finds, how they are worded, and the error that stops a run.

Every problem is an :class:`Issue`: which file, table and column, which check, how many
rows, up to five example values with their row numbers, what is wrong and how to fix it.
Row numbers count data rows from 1 (the header is not a row), so row 1 is the first
line under the header of a CSV file.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from child_mdh.errors import UserError

#: How many example values a message shows, and how many characters of each.
MAX_EXAMPLES = 5
SHOWN_LENGTH = 60

#: Severity of an issue: "structural" stops the run whatever the policy; "row" moves the
#: rows to quarantine (policy "quarantine") or stops the run (policy "stop"); "note"
#: records something validation mended on its own (nothing is lost).
SEVERITIES = ("structural", "row", "note")

#: Short label of each check, used in row accounting and in the quarantine reasons.
CHECK_LABELS: dict[str, str] = {
    "folder": "input folder not found",
    "setting": "invalid setting",
    "missing_table": "table missing",
    "unreadable_file": "file cannot be read",
    "duplicate_file": "table given twice (CSV and Parquet)",
    "missing_column": "required column missing",
    "renamed_column": "column header matched ignoring case and spaces",
    "duplicate_column": "column given twice",
    "type": "value cannot be read as the column type",
    "ambiguous_date": "date order ambiguous (day/month or month/day)",
    "code": "value not in the code list",
    "recoded": "code matched ignoring case",
    "range": "value out of range",
    "missing": "missing value",
    "duplicate_key": "duplicate key",
    "exact_duplicate": "exact duplicate row",
    "reference": "reference to a row that does not exist",
    "parent_quarantined": "parent row quarantined",
    "date_order": "end date before start date",
    "future_date": "date in the future",
    "link_not_one_to_one": "link not one-to-one",
    "no_rows": "no usable rows",
    "systematic_loss": "table lost most of its rows to row checks",
    "blank_row": "blank row",
    "unmatched_pupil": "pupil not in pupil_census (kept)",
}


@dataclass
class Issue:
    """One problem found in one table (and column), with its examples and its fix."""

    table: str
    file: str
    column: str | None
    check: str
    severity: str
    rows: int
    problem: str
    fix: str
    examples: list[tuple[int, str]] = field(default_factory=list)
    outcome: str = ""

    def __post_init__(self) -> None:
        if self.check not in CHECK_LABELS:
            raise ValueError(f"unknown check {self.check!r}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.severity!r}")

    @property
    def label(self) -> str:
        """The short label of the check (as used in row accounting)."""
        return CHECK_LABELS[self.check]

    @property
    def message(self) -> str:
        """The full plain-English message: where, what, how many, examples, fix."""
        where = f"table {self.table}"
        if self.column:
            where += f", column {self.column}"
        head = f"{self.file or '(no file)'} ({where}): {self.problem}"
        if self.examples:
            head += ", e.g. " + ", ".join(f"row {r}: {v}" for r, v in self.examples)
        text = head.rstrip(".") + "."
        if self.outcome:
            text += f" {self.outcome}"
        if self.fix:
            text += f" Fix: {self.fix.rstrip('.')}."
        return text

    def to_dict(self) -> dict:
        """The issue as plain JSON-able values (for validation_report.json)."""
        out = asdict(self)
        out["examples"] = [{"row": int(r), "value": v} for r, v in self.examples]
        out["label"] = self.label
        out["message"] = self.message
        return out


class ValidationError(UserError):
    """A problem that stops the run: the folder cannot be used as it stands.

    ``issues`` holds every problem found (all of them, so they can be fixed in one pass);
    ``str(error)`` lists them in plain English.
    """

    def __init__(self, issues: list[Issue], heading: str = "") -> None:
        self.issues = list(issues)
        self.heading = heading or "Validation stopped"
        super().__init__(self._text())

    def _text(self) -> str:
        n = len(self.issues)
        lines = [f"{self.heading}: {n} problem{'s' if n != 1 else ''} to fix."]
        for i, issue in enumerate(self.issues, 1):
            lines.append(f"{i}. {issue.message}")
        return "\n".join(lines)


def show_value(value) -> str:
    """A cell value as shown in messages: quoted text, or ``(empty)`` when missing."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "(empty)"
    text = str(value)
    if len(text) > SHOWN_LENGTH:
        text = text[: SHOWN_LENGTH - 3] + "..."
    return f"'{text}'"


def examples(
    mask: np.ndarray, raw_text: pd.Series, limit: int = MAX_EXAMPLES
) -> list[tuple[int, str]]:
    """Up to ``limit`` (row number, shown value) pairs for the first rows where ``mask`` holds.

    ``raw_text`` is indexed by row position (0 is row number 1); it may hold only the
    flagged rows.
    """
    positions = np.flatnonzero(mask)[:limit]
    values = raw_text.reindex(positions).tolist() if len(positions) else []
    return [(int(p) + 1, show_value(v)) for p, v in zip(positions, values)]


def plural(n: int, word: str, words: str | None = None) -> str:
    """``"1 row"`` / ``"3 rows"`` with the count formatted with thousands separators."""
    return f"{n:,} {word if n == 1 else (words or word + 's')}"
