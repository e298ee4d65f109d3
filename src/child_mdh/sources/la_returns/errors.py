"""Problems found while importing a local authority's returns, in plain English.

Two kinds of problem:

- :class:`LAReturnError` stops the import (a path that does not exist, a salt that is too
  short, a file that cannot be read at all). Its message says what is wrong and how to fix
  it.
- Everything else is recorded in a :class:`ProblemLog` and the import carries on: a row
  that cannot be used is *quarantined* (left out of the contract tables and listed with its
  file, row, child, field, value and reason), a value that cannot be read is set empty, and
  quirks that were mended (a byte-order mark, ``123.0`` ids) are noted. Nothing is dropped
  without a line in the log.

Raw UPNs are never put in the log: problems about a UPN name the row and the child's own
id in the return, and leave the value empty.
"""

from __future__ import annotations

import pandas as pd

from child_mdh.errors import UserError

#: A row left out of the contract tables.
QUARANTINED = "row quarantined"
#: A value that could not be read was set empty; the row is still used.
VALUE_EMPTIED = "value set empty"
#: The row or file is used as it is; the problem is worth checking.
KEPT = "kept"
#: The whole file could not be used.
FILE_SKIPPED = "file skipped"
#: A quirk that was handled (mended or noted); nothing to fix.
NOTED = "noted"

SEVERITY_OF_ACTION = {
    QUARANTINED: "error",
    FILE_SKIPPED: "error",
    VALUE_EMPTIED: "warning",
    KEPT: "warning",
    NOTED: "info",
}

PROBLEM_COLUMNS = (
    "return_name",
    "file",
    "table",
    "row",
    "child",
    "field",
    "value",
    "problem",
    "action",
    "severity",
    "rows_affected",
)

#: How many example rows an aggregated problem lists.
N_EXAMPLES = 5


class LAReturnError(UserError):
    """A local-authority return cannot be imported; the message says why and how to fix it."""


class ProblemLog:
    """An append-only list of problems, built with vectorised helpers.

    Every record has the columns in :data:`PROBLEM_COLUMNS`. ``row`` is the row of the
    file as a spreadsheet shows it (the header is row 1) for CSV files, or the position
    of the element for XML files (``child 3, CINdetails 2``); ``child`` is the child's id
    in that return (CHILD, LAchildID or pupilonrolltableid), never a UPN.
    """

    def __init__(self) -> None:
        self._parts: list[pd.DataFrame] = []

    def add(
        self,
        *,
        return_name: str,
        file: str,
        problem: str,
        action: str,
        table: str = "",
        row: str = "",
        child: str = "",
        field: str = "",
        value: str = "",
        rows_affected: int = 1,
    ) -> None:
        """Record one problem."""
        self._parts.append(
            pd.DataFrame(
                [
                    {
                        "return_name": return_name,
                        "file": file,
                        "table": table,
                        "row": str(row),
                        "child": "" if child is None else str(child),
                        "field": field,
                        "value": "" if value is None else str(value),
                        "problem": problem,
                        "action": action,
                        "severity": SEVERITY_OF_ACTION[action],
                        "rows_affected": int(rows_affected),
                    }
                ]
            )
        )

    def add_rows(
        self,
        records: pd.DataFrame,
        mask: pd.Series,
        *,
        return_name: str,
        table: str,
        field: str,
        problem: str,
        action: str,
        value_column: str | None = None,
    ) -> None:
        """Record one problem per row of ``records`` where ``mask`` is true.

        ``records`` must have the columns ``source_file``, ``source_row`` and ``child_ref``;
        ``value_column`` (if given) is shown as the offending value. Never pass a UPN
        column as ``value_column``.
        """
        mask = mask.fillna(False).astype(bool)
        if not mask.any():
            return
        sub = records.loc[mask]
        n = len(sub)
        value = (
            sub[value_column].astype("str").fillna("")
            if value_column
            else pd.Series("", index=sub.index)
        )
        self._parts.append(
            pd.DataFrame(
                {
                    "return_name": return_name,
                    "file": sub["source_file"].astype("str").to_numpy(),
                    "table": table,
                    "row": sub["source_row"].astype("str").to_numpy(),
                    "child": sub["child_ref"].astype("str").fillna("").to_numpy(),
                    "field": field,
                    "value": value.to_numpy(),
                    "problem": problem,
                    "action": action,
                    "severity": SEVERITY_OF_ACTION[action],
                    "rows_affected": [1] * n,
                }
            )
        )

    def add_summary(
        self,
        records: pd.DataFrame,
        mask: pd.Series,
        *,
        return_name: str,
        table: str,
        field: str,
        problem: str,
        action: str,
    ) -> None:
        """Record one line per file for all rows where ``mask`` is true, with example rows.

        For quirks that affect many rows the same way (ids mended from ``123.0``, UPNs not in
        the DfE format), one line per file with the count and the first few rows is more
        useful than one line per row.
        """
        mask = mask.fillna(False).astype(bool)
        if not mask.any():
            return
        sub = records.loc[mask]
        for file, part in sub.groupby("source_file", sort=False):
            rows = part["source_row"].astype("str").head(N_EXAMPLES).tolist()
            more = ", ..." if len(part) > N_EXAMPLES else ""
            self.add(
                return_name=return_name,
                file=str(file),
                table=table,
                row=", ".join(rows) + more,
                field=field,
                problem=problem,
                action=action,
                rows_affected=len(part),
            )

    def extend(self, other: ProblemLog) -> None:
        """Append every record of ``other``."""
        self._parts.extend(other._parts)

    def frame(self) -> pd.DataFrame:
        """All records as one DataFrame with the columns in :data:`PROBLEM_COLUMNS`."""
        parts = [p for p in self._parts if len(p)]
        if not parts:
            return pd.DataFrame(
                {
                    c: pd.Series(dtype="int64" if c == "rows_affected" else "str")
                    for c in PROBLEM_COLUMNS
                }
            )
        out = pd.concat(parts, ignore_index=True)
        return out[list(PROBLEM_COLUMNS)]

    def __len__(self) -> int:
        return sum(len(p) for p in self._parts)
