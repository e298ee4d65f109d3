"""Row records of a return, with a status that accounts for every row read.

Every row read from a file that the contract tables need (an SSDA903 episode, a CIN
referral, a pupil on roll) is kept as a record with its file, its row, the child's id in
that return and a ``status``:

- ``used``: goes into the contract tables;
- ``quarantined``: left out, with the reasons in ``reason`` and in the problem log;
- ``duplicate``: the same event is in a later (or the same) return; the later record is
  used. For CIN referrals this is the de-duplication across return years.

Tables the contract does not need (SSDA903 reviews, missing episodes ...) are counted
as ``not needed`` in the file accounting. So, for each file and table,
``rows_read == used + quarantined + duplicate + not needed``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from child_mdh.sources.la_returns.errors import KEPT, NOTED, QUARANTINED, ProblemLog

USED = "used"
QUARANTINED_STATUS = "quarantined"
DUPLICATE = "duplicate"
NOT_NEEDED = "not needed"
STATUSES = (USED, QUARANTINED_STATUS, DUPLICATE)

RECORD_COLUMNS = ("source_file", "source_row", "child_ref", "order", "status", "reason")


@dataclass
class ReturnData:
    """What one return (SSDA903, CIN census or school census) yielded.

    ``tables`` maps a record table name (``episodes``, ``referrals`` ...) to its records;
    ``children`` holds one row per child per file for linking (``child_ref``, ``upn``,
    ``dob``, ``sex``, ``order``, ``status``); ``files`` lists, per file and table, the rows
    read (and the rows not needed); ``problems`` is the log.
    """

    name: str
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    children: pd.DataFrame | None = None
    files: list[dict] = field(default_factory=list)
    problems: ProblemLog = field(default_factory=ProblemLog)

    def add_file(
        self, file, table: str, rows_read: int, *, not_needed: int = 0, year=None, note: str = ""
    ) -> None:
        """Record that ``rows_read`` rows of ``table`` were read from ``file``."""
        self.files.append(
            {
                "return_name": self.name,
                "file": str(file),
                "table": table,
                "rows_read": int(rows_read),
                "rows_not_needed": int(not_needed),
                "year": "" if year is None else str(year),
                "note": note,
            }
        )


def start_records(
    frame: pd.DataFrame, *, source_file, source_row: pd.Series, child_ref: pd.Series, order: int
) -> pd.DataFrame:
    """``frame`` with the record columns added: every row starts as ``used``."""
    out = frame.copy()
    out["source_file"] = str(source_file)
    out["source_row"] = source_row.astype("str").to_numpy()
    out["child_ref"] = child_ref.to_numpy()
    out["order"] = int(order)
    out["status"] = USED
    out["reason"] = ""
    return out


def empty_records(columns: tuple[str, ...]) -> pd.DataFrame:
    """A records frame with no rows and the given value columns."""
    cols = {c: pd.Series(dtype="str") for c in columns}
    cols.update({c: pd.Series(dtype="int64" if c == "order" else "str") for c in RECORD_COLUMNS})
    return pd.DataFrame(cols)


def quarantine(
    records: pd.DataFrame,
    mask: pd.Series,
    reason: str,
    log: ProblemLog,
    *,
    return_name: str,
    table: str,
    field: str,
    value_column: str | None = None,
) -> None:
    """Mark rows where ``mask`` is true as quarantined (in place) and log one line per row."""
    mask = mask.fillna(False).astype(bool)
    if not mask.any():
        return
    prior = records.loc[mask, "reason"]
    records.loc[mask, "reason"] = prior.where(prior == "", prior + "; ") + reason
    records.loc[mask, "status"] = QUARANTINED_STATUS
    log.add_rows(
        records,
        mask,
        return_name=return_name,
        table=table,
        field=field,
        problem=reason,
        action=QUARANTINED,
        value_column=value_column,
    )


def keep_latest(
    records: pd.DataFrame,
    key: list[str],
    log: ProblemLog,
    *,
    return_name: str,
    table: str,
    what: str,
) -> None:
    """Among used rows, keep one per ``key``: the one from the latest return (highest
    ``order``; within one file, the last row). The others become ``duplicate`` (in place).

    Repeats within one file are logged row by row (a return should not hold the same
    event twice); repeats across returns are the expected overlap of consecutive years and
    are logged as one note per file.
    """
    used = records.index[records["status"] == USED]
    if len(used) < 2:
        return
    sub = records.loc[used, key + ["order", "source_file"]].copy()
    sub["_pos"] = range(len(sub))
    sub = sub.sort_values(["order", "_pos"], kind="stable")
    dup = sub.duplicated(subset=key, keep="last")
    if not dup.any():
        return
    dup_idx = sub.index[dup.to_numpy()]
    # the row kept for each duplicated key, to tell same-file repeats from later returns
    kept = sub[~dup.to_numpy()].drop_duplicates(subset=key, keep="last")
    kept_file = (
        sub.loc[dup_idx, key]
        .merge(kept[key + ["source_file"]], on=key, how="left")["source_file"]
        .to_numpy()
    )
    same_file = records.loc[dup_idx, "source_file"].to_numpy() == kept_file
    records.loc[dup_idx, "status"] = "duplicate"
    in_file = dup_idx[same_file]
    across = dup_idx[~same_file]
    records.loc[in_file, "reason"] = f"{what} repeated in the same file; the last one is used"
    records.loc[across, "reason"] = f"{what} also in a later return, whose values are used"
    if len(in_file):
        m = pd.Series(False, index=records.index)
        m[in_file] = True
        log.add_rows(
            records,
            m,
            return_name=return_name,
            table=table,
            field=", ".join(key),
            problem=f"{what} repeated in the same file; the last one is used",
            action=KEPT,
        )
    if len(across):
        m = pd.Series(False, index=records.index)
        m[across] = True
        log.add_summary(
            records,
            m,
            return_name=return_name,
            table=table,
            field=", ".join(key),
            problem=f"{what} also in a later return: the later return's values "
            "are used (de-duplication across return years)",
            action=NOTED,
        )
