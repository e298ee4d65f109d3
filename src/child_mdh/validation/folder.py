"""Checked reading of an input folder against the data contract.

:func:`validate_folder` reads every contract table (``<table>.parquet`` or
``<table>.csv``), reads each cell into its contract type, checks every rule of the
contract, and writes the usable rows, the quarantined rows and a row accounting.
:func:`read_validated_table` reads what it wrote. ``docs/validation.md`` lists every
check with an example message.

Two kinds of problem:

- structural (the folder cannot be used as it stands: a table or column missing, a file
  given twice or unreadable, a column mostly in the wrong format or codes, a required
  table without usable rows, conflicting duplicate local-authority codes): every such
  problem in the folder is collected, then one :class:`ValidationError` lists them all;
- row level (a bad value, a duplicate, an orphan reference, dates out of order or in
  the future, an ambiguous link): with policy ``"quarantine"`` the row is set aside
  with its reason and the run goes on; with policy ``"stop"`` one
  :class:`ValidationError` lists them all.

Order of checks: every table's values (type, codes, range, missing, dates), then, in
contract order so that parents are final before their children, references to parent
tables (with the cascade: a row whose parent was quarantined is quarantined too), then
duplicate keys and one-to-one links among the rows still usable.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from child_mdh.contract import tables as contract
from child_mdh.contract.loss import MAX_LOSS_SHARE, check_share, is_systematic_loss
from child_mdh.files import InputFileError, find_table_file, read_parquet_metadata, read_raw
from child_mdh.validation.headers import resolve_columns
from child_mdh.validation.issues import Issue, ValidationError, examples, plural
from child_mdh.validation.references import UNMATCHED_PUPIL_POLICIES, check_references
from child_mdh.validation.report import (
    TableAccounting,
    ValidationReport,
    accounting,
    write_tables,
)
from child_mdh.validation.rows import (
    RowFlags,
    TableData,
    check_blank_rows,
    check_column,
    check_dates,
    check_keys,
)

__all__ = [
    "LA_ROUTE_TABLES",
    "POLICIES",
    "ROWS_REQUIRED",
    "UNMATCHED_PUPIL_POLICIES",
    "Issue",
    "TableAccounting",
    "ValidationError",
    "ValidationReport",
    "read_validated_table",
    "validate_folder",
]

POLICIES = ("quarantine", "stop")
#: The contract tables a local authority's own returns give (no census tables): validate
#: them with ``tables=LA_ROUTE_TABLES, unmatched_pupils="keep"``.
LA_ROUTE_TABLES = (
    "areas",
    "pupil_census",
    "cin_referrals",
    "child_protection_plans",
    "looked_after_episodes",
)
#: Tables that must keep at least one usable row (the analysis has nothing without them).
ROWS_REQUIRED = ("areas", "households", "persons")
#: Metadata keys validation sets itself on the tables it writes.
_OWN_METADATA = ("contract_version", "table", "validated", "source_file", "reference_date")


def validate_folder(
    in_dir: Path,
    out_dir: Path,
    quarantine_dir: Path,
    policy: str = "quarantine",
    reference_date: str | dt.date | None = None,
    tables: list[str] | None = None,
    unmatched_pupils: str = "quarantine",
    max_loss_share: float = MAX_LOSS_SHARE,
) -> ValidationReport:
    """Validate the contract tables in ``in_dir``; write the usable and quarantined rows.

    Method: each table is read (:func:`child_mdh.files.read_raw`), its header matched to the
    contract, every cell read into its contract type and checked against the contract
    (``child_mdh.contract.tables.TABLES``: types, code lists, ranges, empties, keys, references,
    date order) and against ``reference_date`` (later dates are in the future; default
    today). Rows breaking a rule are quarantined (``policy="quarantine"``) or stop the
    run (``policy="stop"``); structural problems always stop it. ``tables`` limits the
    run to some tables (references to tables left out are not checked).

    ``max_loss_share``: the systematic-loss rule (:func:`systematic_loss_issue`): a table
    that loses more than this share of its rows (and at least ``MIN_LOST_ROWS``) to
    row checks and their cascades stops the run, because so many point at the whole
    table (or a broken link between tables), not at single rows. Default 5%.

    ``unmatched_pupils``: ``"quarantine"`` (default) treats a social care row
    (``cin_referrals``, ``child_protection_plans``, ``looked_after_episodes``) whose
    ``pupil_id`` has no usable ``pupil_census`` row as an orphan, like any broken
    reference. ``"keep"`` keeps such rows and counts them as a note (issue check
    ``unmatched_pupil``; ``notes`` in the row accounting): for a local authority's own
    returns, which include children who are not on its school roll (under-fives, pupils
    of independent or other areas' schools, children without a UPN). Use it with
    ``tables=LA_ROUTE_TABLES`` (the tables a local authority import writes).

    Writes ``<out_dir>/<table>.parquet``, ``<quarantine_dir>/<table>.parquet``,
    ``<out_dir>/row_accounting.csv`` and ``<out_dir>/validation_report.json``; nothing is
    written when the run stops. Raises :class:`ValidationError` listing every problem.
    """
    in_dir, out_dir, quarantine_dir = Path(in_dir), Path(out_dir), Path(quarantine_dir)
    if policy not in POLICIES:
        raise ValueError(f"policy must be one of {', '.join(POLICIES)}, not {policy!r}")
    max_loss_share = check_share(max_loss_share)
    if unmatched_pupils not in UNMATCHED_PUPIL_POLICIES:
        raise ValueError(
            f"unmatched_pupils must be one of "
            f"{', '.join(UNMATCHED_PUPIL_POLICIES)}, not {unmatched_pupils!r}"
        )
    ref = _reference_date(reference_date)
    names = _table_names(tables)
    if not in_dir.is_dir():
        raise ValidationError(
            [
                Issue(
                    "(all)",
                    str(in_dir),
                    None,
                    "folder",
                    "structural",
                    0,
                    "the input folder does not exist",
                    "check the path (config input.folder, or the folder given to child-mdh validate)",
                )
            ],
            heading=f"Validation of {in_dir} stopped",
        )

    issues: list[Issue] = []
    datasets: dict[str, TableData] = {}
    for name in names:
        data = _read_table(in_dir, contract.table(name), issues)
        if data is None:
            continue
        datasets[name] = data
        issues.extend(check_blank_rows(data))
        for column in data.table.columns:
            if column.name in data.raw.columns:
                issues.extend(check_column(data, column))
        issues.extend(check_dates(data, ref))

    issues.extend(_check_across_tables(names, datasets, unmatched_pupils, max_loss_share))

    order = {name: k for k, name in enumerate(contract.TABLE_ORDER)}
    issues.sort(key=lambda i: order.get(i.table, -1))
    structural = [i for i in issues if i.severity == "structural"]
    if structural:
        emptied = {i.table for i in structural if i.check == "no_rows"}
        explain = [i for i in issues if i.severity == "row" and i.table in emptied]
        raise ValidationError(structural + explain, heading=f"{in_dir} cannot be used as it stands")
    row_issues = [i for i in issues if i.severity == "row"]
    if policy == "stop" and row_issues:
        raise ValidationError(
            row_issues,
            heading=f"Validation of {in_dir} stopped (policy 'stop'): rows break "
            "the data contract; correct them, or run with policy 'quarantine' to set them aside",
        )
    for issue in row_issues:
        issue.outcome = "Quarantined."

    report = ValidationReport(
        in_dir,
        out_dir,
        quarantine_dir,
        policy,
        ref,
        {n: accounting(d) for n, d in datasets.items()},
        issues,
    )
    mark_households_of_quarantined_persons(datasets)
    write_tables(list(datasets.values()), out_dir, quarantine_dir, ref)
    report.write()
    return report


def _check_across_tables(
    names: list[str], datasets: dict[str, TableData], unmatched_pupils: str, max_loss_share: float
) -> list[Issue]:
    """References, keys, and what each table has left: no rows, or a systematic loss."""
    issues: list[Issue] = []
    for name in names:
        data = datasets.get(name)
        if data is None:
            continue
        issues.extend(check_references(data, datasets, unmatched_pupils))
        issues.extend(check_keys(data))
        if name in ROWS_REQUIRED and not data.structural and not data.usable().any():
            issues.append(_no_rows_issue(data))
            data.structural = True
        if not data.structural and data.flags is not None:
            loss = systematic_loss_issue(data, max_loss_share)
            if loss is not None:
                issues.append(loss)
                data.structural = True
    return issues


#: Extra column of the validated households: how many of its persons were quarantined.
QUARANTINED_PERSONS = "persons_quarantined"


def mark_households_of_quarantined_persons(datasets: dict[str, TableData]) -> None:
    """Count, on each household, its persons that were quarantined (in place).

    A household's deprivation depends on every member, so when one is quarantined the
    household's person-based dimensions are unknown unless another member settles them
    (:func:`child_mdh.derive.domains.household_deprivation`): they must never be
    recomputed from the others as if the household were complete. The count is written
    as the extra column :data:`QUARANTINED_PERSONS` of the validated households (only
    when some person was quarantined).
    """
    persons, households = datasets.get("persons"), datasets.get("households")
    if persons is None or households is None or persons.flags is None:
        return
    blank = persons.blank if persons.blank is not None else np.zeros(persons.n_rows, bool)
    lost = persons.flags.any & ~blank
    if not lost.any() or "household_id" not in persons.values:
        return
    per_household = persons.values["household_id"][lost].value_counts()
    ids = households.values.get("household_id")
    if ids is None:
        return
    households.values[QUARANTINED_PERSONS] = (
        ids.map(per_household).fillna(0).astype("int64").to_numpy()
    )


def systematic_loss_issue(data: TableData, max_share: float = MAX_LOSS_SHARE) -> Issue | None:
    """A structural issue when ``data`` lost more than ``max_share`` of its rows (and at
    least ``MIN_LOST_ROWS``) to row checks and their cascades, else None
    (:mod:`child_mdh.contract.loss`, the rule of every route).

    Blank rows are not counted (they carry nothing). The issue names the checks that took
    the rows, with counts and example rows, and the fix.
    """
    counted = ~data.blank if data.blank is not None else np.ones(data.n_rows, dtype=bool)
    lost = data.flags.any & counted
    n_lost, n = int(lost.sum()), int(counted.sum())
    if not is_systematic_loss(n_lost, n, max_share):
        return None
    by_check = sorted(data.flags.counts().items(), key=lambda kv: -kv[1])
    causes = "; ".join(f"{label}: {count:,}" for label, count in by_check[:4])
    reasons = data.flags.reasons()
    return Issue(
        data.name,
        data.file,
        None,
        "systematic_loss",
        "structural",
        n_lost,
        f"{n_lost:,} of {n:,} rows ({n_lost / n:.0%}) would be quarantined by the row checks "
        f"and their cascades (rows per check: {causes}); a loss above "
        f"{max_share:.0%} points at the whole table (a wrong column, date format or coding, "
        "or ids that no longer match the table they refer to, e.g. leading zeros a "
        "spreadsheet dropped), not at single rows, so the run stops rather than analyse "
        "what is left",
        "correct the cause shown by the example rows (in this table, or in the table its "
        "rows refer to) and run again; if the loss is expected, raise the allowed share "
        f"(validation: max_loss_share in the configuration, --max-loss-share; now {max_share:g})",
        examples(lost, pd.Series(reasons.to_numpy(), index=reasons.index)),
    )


def read_validated_table(
    out_dir: Path, name: str, columns: Sequence[str] | None = None
) -> pd.DataFrame:
    """Read table ``name`` as written by :func:`validate_folder` into ``out_dir``.

    Returns the usable rows with the contract columns first in their contract dtypes
    (``contract.conform``) and any extra input columns after them; with ``columns``, only
    those columns, in that order and in their contract dtypes (the others are not read).
    Refuses a file that validation did not write, so unchecked data cannot slip in.
    """
    table = contract.table(name)
    path = Path(out_dir) / f"{table.name}.parquet"
    if not path.exists():
        raise FileNotFoundError(
            f"{path}: no validated table {name}. Run 'child-mdh validate' (or the "
            "validate_inputs step) on the input folder first."
        )
    if read_parquet_metadata(path).get("validated") is not True:
        raise ValueError(
            f"{path} was not written by validation (it lacks the 'validated' mark). "
            "Validate the input folder and read the table from the validated output."
        )
    if columns is None:
        return contract.conform(pq.read_table(path).to_pandas(), table.name)
    df = pq.read_table(path, columns=list(columns)).to_pandas()
    for c in table.columns:
        if c.name in df.columns and str(df[c.name].dtype) != c.pandas_dtype:
            df[c.name] = df[c.name].astype(c.pandas_dtype)
    return df.reset_index(drop=True)


def _reference_date(value: str | dt.date | None) -> dt.date:
    """The date after which dates count as in the future (default: today)."""
    if value is None or value == "":
        return dt.date.today()
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationError(
            [
                Issue(
                    "(all)",
                    "",
                    None,
                    "setting",
                    "structural",
                    0,
                    f"the reference date {value!r} is not a date",
                    "write it as YYYY-MM-DD, e.g. --reference-date 2024-03-31",
                )
            ],
            heading="Validation stopped",
        ) from None


def _table_names(tables: list[str] | None) -> list[str]:
    """The tables to validate, in contract order."""
    if tables is None:
        return list(contract.TABLE_ORDER)
    unknown = [t for t in tables if t not in contract.TABLES]
    if unknown:
        raise ValueError(
            f"not contract tables: {', '.join(unknown)}; the tables are: "
            f"{', '.join(contract.TABLES)}"
        )
    return [t for t in contract.TABLE_ORDER if t in tables]


def _read_table(in_dir: Path, table: contract.Table, issues: list[Issue]) -> TableData | None:
    """Find, read and match the header of one table; None when it cannot be checked."""
    expected = f"{table.name}.parquet or {table.name}.csv"
    try:
        path = find_table_file(in_dir, table.name)
    except InputFileError as err:
        issues.append(
            Issue(
                table.name,
                expected,
                None,
                "duplicate_file",
                "structural",
                0,
                str(err).split(": ", 1)[-1].split(". ")[0],
                "keep one file per table and remove or rename the other",
            )
        )
        return None
    if path is None:
        if table.required:
            issues.append(_missing_table_issue(in_dir, table))
            return None
        raw = pd.DataFrame({c: pd.Series(dtype="str") for c in table.column_names})
        return _new_data(table, "", None, raw)
    try:
        raw = read_raw(path)
    except InputFileError as err:
        issues.append(
            Issue(
                table.name,
                path.name,
                None,
                "unreadable_file",
                "structural",
                0,
                str(err).split(": ", 1)[-1],
                "",
            )
        )
        return None
    if raw.shape == (0, 0):
        raw = pd.DataFrame({c: pd.Series(dtype="str") for c in table.column_names})
    if any(n is not None for n in raw.index.names):
        raw = raw.reset_index()
    raw = raw.reset_index(drop=True)
    raw.columns = [str(c) for c in raw.columns]
    raw, header_issues = resolve_columns(raw, table, path.name)
    issues.extend(header_issues)
    data = _new_data(table, path.name, path, raw)
    data.structural = any(i.severity == "structural" for i in header_issues)
    if path.suffix == ".parquet":
        data.metadata = {
            k: v for k, v in read_parquet_metadata(path).items() if k not in _OWN_METADATA
        }
    return data


def _new_data(table: contract.Table, file: str, path: Path | None, raw: pd.DataFrame) -> TableData:
    return TableData(
        table, file, path, raw, values=pd.DataFrame(index=raw.index), flags=RowFlags(len(raw))
    )


def _missing_table_issue(in_dir: Path, table: contract.Table) -> Issue:
    """Structural issue for a required table with no file: lists what is in the folder."""
    present = sorted(p.name for p in in_dir.iterdir() if p.is_file())
    shown = ", ".join(present[:20])
    if len(present) > 20:
        shown += f" and {len(present) - 20} more"
    problem = (
        f"the required table {table.name} is missing: there is no {table.name}.parquet "
        f"or {table.name}.csv in {in_dir}; the folder holds: {shown or '(nothing)'}"
    )
    stems = {p: Path(p).stem for p in present}
    close = [p for p in present if stems[p].lower() == table.name] or [
        p
        for p in present
        if difflib.get_close_matches(table.name, [stems[p].lower()], n=1, cutoff=0.75)
    ]
    if close and Path(close[0]).suffix.lower() in (".csv", ".parquet", ".xlsx"):
        fix = (
            f"did you mean {close[0]}? Rename it to {table.name}"
            f"{Path(close[0]).suffix.lower()}; file names are lower case."
        )
    elif close:
        fix = (
            f"did you mean {close[0]}? Save it as {table.name}.csv (in Excel: Save As > "
            "CSV UTF-8) or as Parquet; other file types are not read."
        )
    elif table.name in ROWS_REQUIRED:
        fix = (
            f"save the table as {table.name}.parquet or {table.name}.csv in the folder "
            "(the analysis needs its rows)"
        )
    else:
        header = ",".join(table.column_names)
        fix = (
            f"save the table as {table.name}.parquet or {table.name}.csv in the folder; "
            f"with no rows to give, use a CSV holding only its header line: {header}"
        )
    return Issue(
        table.name,
        f"{table.name}.parquet or {table.name}.csv",
        None,
        "missing_table",
        "structural",
        0,
        problem,
        fix,
    )


def _no_rows_issue(data: TableData) -> Issue:
    """Structural issue for a table that must have rows but has none usable."""
    if data.n_rows == 0:
        problem = "the table has no data rows (the file is empty or holds only a header)"
        fix = f"export the {data.name} rows into the file"
    else:
        problem = (
            f"all {plural(data.n_rows, 'row')} break the contract, so no usable row "
            "is left (see the other problems listed)"
        )
        fix = "fix the problems listed for this table and its parent tables"
    return Issue(data.name, data.file, None, "no_rows", "structural", data.n_rows, problem, fix)
