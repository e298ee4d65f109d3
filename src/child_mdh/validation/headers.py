"""Matching a file's header to the contract columns of its table.

A contract column is found by its exact name first. Failing that, a header that differs
only in case, spaces, hyphens or dots (``Pupil ID``, ``PUPIL_ID``, ``pupil-id``) is
accepted and renamed, and a note records it: the meaning is certain. A required column
that is still missing is a structural problem; the message suggests the closest header
names (difflib) so a typo such as ``pupil_idd`` is easy to spot.
"""

from __future__ import annotations

import difflib
import re

import pandas as pd

from child_mdh.contract.tables import Table
from child_mdh.validation.issues import Issue, plural

MAX_HEADER_LISTED = 15


#: the fix for a column given more than once
KEEP_ONE = "keep one column of that name and delete or rename the others"


def normalise_name(name: str) -> str:
    """A header name folded for matching: lower case, spaces/hyphens/dots as underscores."""
    return re.sub(r"[\s\-.]+", "_", str(name).strip().lower()).strip("_")


def _listed(names: list[str]) -> str:
    shown = ", ".join(f"'{n}'" for n in names[:MAX_HEADER_LISTED])
    if len(names) > MAX_HEADER_LISTED:
        shown += f" and {len(names) - MAX_HEADER_LISTED} more"
    return shown or "(none)"


def resolve_columns(raw: pd.DataFrame, table: Table, file: str) -> tuple[pd.DataFrame, list[Issue]]:
    """Rename case/spacing variants of contract columns; report missing or doubled ones.

    Returns the frame (columns renamed where a variant was matched) and the issues: a
    ``note`` per renamed column, a ``structural`` issue per required column that is
    missing or given twice.
    """
    header = [str(c) for c in raw.columns]
    issues: list[Issue] = []
    renames: dict[str, str] = {}
    contract_names = set(table.column_names)
    n_rows = len(raw)
    for col in table.columns:
        exact = [h for h in header if h == col.name]
        repeats = [h for h in header if re.fullmatch(rf"{re.escape(col.name)}\.\d+", h)]
        variants = [h for h in header if normalise_name(h) == col.name and h not in contract_names]
        duplicate = None
        if len(exact) > 1:
            duplicate = (f"the header has the column '{col.name}' {len(exact)} times", KEEP_ONE)
        elif exact and repeats and file.lower().endswith(".csv"):
            duplicate = (
                f"the header has the column '{col.name}' {len(repeats) + 1} times (the "
                f"repeats were read as {_listed(repeats)})",
                KEEP_ONE,
            )
        elif exact and variants:
            duplicate = (
                f"the headers {_listed([col.name, *variants])} all mean the contract column "
                f"'{col.name}' (names are matched ignoring case and spaces), so one of "
                "them would be silently left out",
                f"keep one of them, named exactly '{col.name}', and delete or rename the others",
            )
        if duplicate is not None:
            message, fix = duplicate
            issues.append(
                Issue(
                    table.name,
                    file,
                    col.name,
                    "duplicate_column",
                    "structural",
                    n_rows,
                    message,
                    fix,
                )
            )
            continue
        if exact:
            continue
        if len(variants) == 1:
            renames[variants[0]] = col.name
            issues.append(
                Issue(
                    table.name,
                    file,
                    col.name,
                    "renamed_column",
                    "note",
                    n_rows,
                    f"header '{variants[0]}' read as the contract column '{col.name}'",
                    "",
                )
            )
            continue
        if len(variants) > 1:
            issues.append(
                Issue(
                    table.name,
                    file,
                    col.name,
                    "duplicate_column",
                    "structural",
                    n_rows,
                    f"several headers could be the column '{col.name}': {_listed(variants)}",
                    f"keep one of them, named exactly '{col.name}'",
                )
            )
            continue
        if not col.required:
            continue
        close = difflib.get_close_matches(col.name, header, n=2, cutoff=0.6)
        if not close:
            folded = {normalise_name(h): h for h in header}
            close = [
                folded[m]
                for m in difflib.get_close_matches(col.name, list(folded), n=2, cutoff=0.6)
            ]
        close = [c for c in close if c not in contract_names]
        if close:
            fix = (
                f"did you mean '{close[0]}'? Rename that column to '{col.name}'"
                + (f" (or '{close[1]}', if that is the one)" if len(close) > 1 else "")
                + "."
            )
        else:
            fix = f"add a column named '{col.name}' ({col.description or col.type}) to the file."
        issues.append(
            Issue(
                table.name,
                file,
                col.name,
                "missing_column",
                "structural",
                n_rows,
                f"the required column '{col.name}' is missing ({plural(n_rows, 'row')} "
                f"affected); the file's columns are: {_listed(header)}",
                fix,
            )
        )
    out = raw.rename(columns=renames) if renames else raw
    return out, issues
