"""Row-level checks within one table: values, dates, keys and one-to-one links.

Each check marks rows in a :class:`RowFlags` (with a reason per row) and returns
:class:`~child_mdh.validation.issues.Issue` objects that summarise it. A value problem
that affects most of a column (see :func:`systematic`) is not a row problem but a
structural one: the column is probably the wrong one or in the wrong format, and
quarantining most of a table would hide that.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from child_mdh.cells import FORMAT_HINTS, Parsed, match_codes, parse_column
from child_mdh.contract.tables import Column, Table
from child_mdh.validation.issues import CHECK_LABELS, SHOWN_LENGTH, Issue, examples, plural

#: A value check failing in more than this share of the rows it applies to, and in at
#: least SYSTEMATIC_MIN_ROWS rows, or in every such row, is a structural problem.
SYSTEMATIC_SHARE = 0.05
SYSTEMATIC_MIN_ROWS = 10


def systematic(n_bad: int, n_considered: int) -> bool:
    """Whether a failing value check points at the whole column rather than some rows.

    True when every considered value fails, or when more than ``SYSTEMATIC_SHARE`` of
    them fail and at least ``SYSTEMATIC_MIN_ROWS`` do.
    """
    if n_bad == 0:
        return False
    return n_bad == n_considered or (
        n_bad >= SYSTEMATIC_MIN_ROWS and n_bad > SYSTEMATIC_SHARE * n_considered
    )


class RowFlags:
    """Which rows of one table are quarantined, and why (one reason per failed check)."""

    def __init__(self, n_rows: int) -> None:
        self.n_rows = n_rows
        self.any = np.zeros(n_rows, dtype=bool)
        self._reasons: list[pd.Series] = []
        self._checks: list[tuple[str, np.ndarray]] = []

    def add(self, mask: np.ndarray, check: str, reasons: str | pd.Series) -> None:
        """Flag the rows where ``mask`` holds; ``reasons`` is one text or one per flagged row."""
        pos = np.flatnonzero(mask)
        if not len(pos):
            return
        if isinstance(reasons, str):
            reasons = pd.Series([reasons] * len(pos), dtype="str")
        self.any[pos] = True
        self._reasons.append(pd.Series(reasons.to_numpy(), index=pos, dtype="str"))
        self._checks.append((check, pos))

    def reasons(self) -> pd.Series:
        """The reason text of every flagged row (several reasons joined by ``"; "``)."""
        if not self._reasons:
            return pd.Series([], dtype="str")
        joined = pd.concat(self._reasons)
        several = joined.index.duplicated(keep=False)
        if several.any():
            merged = joined[several].groupby(level=0, sort=False).agg("; ".join)
            joined = pd.concat([joined[~several], merged.astype("str")])
        return joined.sort_index()

    def counts(self) -> dict[str, int]:
        """Rows flagged per check label (a row failing two checks counts under both)."""
        out: dict[str, set | np.ndarray] = {}
        for check, pos in self._checks:
            label = CHECK_LABELS[check]
            out[label] = np.union1d(out[label], pos) if label in out else pos
        return {k: len(v) for k, v in out.items()}


@dataclass
class TableData:
    """One table while it is being checked: raw cells, parsed values and flags."""

    table: Table
    file: str
    path: Path | None
    raw: pd.DataFrame
    values: pd.DataFrame = field(default_factory=pd.DataFrame)
    flags: RowFlags | None = None
    structural: bool = False
    metadata: dict = field(default_factory=dict)
    #: rows whose every cell is empty (a spreadsheet's trailing ",,,,"), set aside first
    blank: np.ndarray | None = None
    #: rows kept although a check noted something about them: note label -> rows
    #: (e.g. social care rows whose pupil is not in pupil_census, with
    #: ``unmatched_pupils="keep"``)
    kept: dict[str, int] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.table.name

    @property
    def n_rows(self) -> int:
        return len(self.raw)

    def usable(self) -> np.ndarray:
        """Mask of rows not (yet) quarantined."""
        return ~self.flags.any

    def issue(
        self,
        column: str | None,
        check: str,
        severity: str,
        mask: np.ndarray,
        problem: str,
        fix: str,
        shown: pd.Series | None = None,
    ) -> Issue:
        """An issue for the rows in ``mask`` with examples from ``shown`` (default: raw cells)."""
        if shown is None:
            shown = self.raw[column] if column in self.raw.columns else pd.Series([], dtype=object)
        n = int(mask.sum())
        return Issue(
            self.name, self.file, column, check, severity, n, problem, fix, examples(mask, shown)
        )


def cell_text(raw: pd.Series, mask: np.ndarray) -> pd.Series:
    """The raw cells where ``mask`` holds, as quoted text for reasons (positional)."""
    cells = raw.reindex(np.flatnonzero(mask))
    text = cells.astype("str")
    text = text.where(text.str.len() <= SHOWN_LENGTH, text.str.slice(0, SHOWN_LENGTH - 3) + "...")
    shown = ("'" + text + "'").where(cells.notna().to_numpy(), "(empty)")
    return pd.Series(shown.to_numpy(), dtype="str")


def _report(
    data: TableData,
    issues: list[Issue],
    column: Column,
    check: str,
    mask: np.ndarray,
    considered: int,
    problem: str,
    fix: str,
    reason: str,
) -> None:
    """Record a failed value check as structural (systematic) or as flagged rows."""
    n = int(mask.sum())
    if not n:
        return
    if systematic(n, considered):
        share = "all" if n == considered else f"{n / considered:.0%}"
        issues.append(
            data.issue(
                column.name,
                check,
                "structural",
                mask,
                f"{plural(n, 'row')} ({share} of the {considered:,} checked) {problem}; so many "
                "point at the whole column (wrong column, format or coding), not at single rows",
                fix,
            )
        )
        data.structural = True
        return
    issues.append(data.issue(column.name, check, "row", mask, f"{plural(n, 'row')} {problem}", fix))
    data.flags.add(mask, check, f"{column.name} {reason} " + cell_text(data.raw[column.name], mask))


def check_column(data: TableData, column: Column) -> list[Issue]:
    """Parse one contract column and check type, ambiguous dates, codes, range and missing.

    Stores the parsed values in ``data.values``; returns the issues found.
    """
    issues: list[Issue] = []
    raw = data.raw[column.name]
    parsed: Parsed = parse_column(raw, column)
    values = parsed.values
    given = int(values.notna().sum() + parsed.unreadable.sum())
    if parsed.month_first is not None and parsed.month_first.any():
        issues.append(
            data.issue(
                column.name,
                "ambiguous_date",
                "structural",
                parsed.month_first,
                f"{plural(int(parsed.month_first.sum()), 'date')} can only be month/day/year, "
                "so the day/month order of the column's other slash dates is a guess",
                "slash dates are read as DD/MM/YYYY; re-save the column with dates written "
                "YYYY-MM-DD (in Excel: Format Cells > Custom > yyyy-mm-dd)",
            )
        )
        data.structural = True
    if parsed.order_unproven is not None and parsed.order_unproven.any():
        issues.append(
            data.issue(
                column.name,
                "ambiguous_date",
                "structural",
                parsed.order_unproven,
                "the column mixes ISO dates (YYYY-MM-DD) with "
                f"{plural(int(parsed.order_unproven.sum()), 'slash date')} none of which "
                "shows the day/month order (03/04/2021 could be 3 April or 4 March): two "
                "sources, one of which may write the month first, so reading them would "
                "be a guess",
                "re-save the column with every date written YYYY-MM-DD (in Excel: Format "
                "Cells > Custom > yyyy-mm-dd), or with every date DD/MM/YYYY",
            )
        )
        data.structural = True
    _report(
        data,
        issues,
        column,
        "type",
        parsed.unreadable,
        given,
        f"with a value that cannot be read as {column.type}",
        f"write each value as {FORMAT_HINTS[column.type]}; correct or empty the cells",
        f"cannot be read as {column.type}:",
    )
    if column.codes:
        values, bad, respelled = match_codes(values, column.codes)
        if respelled.any():
            issues.append(
                data.issue(
                    column.name,
                    "recoded",
                    "note",
                    respelled,
                    f"{plural(int(respelled.sum()), 'value')} matched the code list ignoring case",
                    "",
                )
            )
        codes = ", ".join(str(c) for c in column.codes)
        _report(
            data,
            issues,
            column,
            "code",
            bad,
            int(values.notna().sum()),
            f"with a value not in the code list ({codes})",
            f"recode the values to the contract codes: {codes}",
            "not in the code list:",
        )
    if column.pattern is not None:
        text = values.astype("str")
        off = (values.notna() & ~text.str.fullmatch(column.pattern)).to_numpy(
            dtype=bool, na_value=False
        )
        _report(
            data,
            issues,
            column,
            "code",
            off,
            int(values.notna().sum()),
            f"with a value not shaped like a {column.description or column.name}",
            f"write each value as {column.description or column.name}",
            f"not shaped like {column.description or column.name}:",
        )
    if column.minimum is not None or column.maximum is not None:
        lo = -np.inf if column.minimum is None else column.minimum
        hi = np.inf if column.maximum is None else column.maximum
        out = ((values < lo) | (values > hi)).to_numpy(dtype=bool, na_value=False)
        _report(
            data,
            issues,
            column,
            "range",
            out,
            int(values.notna().sum()),
            f"with a value out of range {lo:g} to {hi:g}",
            f"correct the values so they lie between {lo:g} and {hi:g} "
            f"({column.description or column.name})",
            f"out of range {lo:g} to {hi:g}:",
        )
    if not column.nullable:
        blank = data.blank if data.blank is not None else np.zeros(data.n_rows, dtype=bool)
        empty = values.isna().to_numpy() & ~parsed.unreadable & ~blank
        _report(
            data,
            issues,
            column,
            "missing",
            empty,
            data.n_rows - int(blank.sum()),
            "with an empty value (the column must have one in every row)",
            f"fill in {column.name} ({column.description or column.type}) in every row",
            "is empty:",
        )
    data.values[column.name] = raw if _same_cells(raw, values) else values
    return issues


def _same_cells(raw: pd.Series, values: pd.Series) -> bool:
    """Whether the parsed values are the raw cells unchanged (same dtype, same values,
    missing in the same rows): then the parsed column keeps the raw column's memory
    instead of a copy of it. Most columns of a clean Parquet input are (identifiers,
    codes, dates), which halves validation's memory for them."""
    return raw.dtype == values.dtype and raw.equals(values)


def check_blank_rows(data: TableData) -> list[Issue]:
    """Set aside rows whose every cell is empty (spreadsheets export them as ``,,,,``).

    They hold no data, so this is a note, not a row problem (policy ``stop`` does not
    stop for them), but they go to the quarantine file so the row accounting still adds
    up. A cell holding only spaces counts as empty.
    """
    blank = np.full(data.n_rows, data.raw.shape[1] > 0)
    for col in data.raw.columns:
        if not blank.any():
            break
        cells = data.raw[col]
        empty = cells.isna().to_numpy()
        if cells.dtype == "str":
            empty = empty | cells.str.strip().eq("").to_numpy(dtype=bool, na_value=True)
        blank &= empty
    data.blank = blank
    if not blank.any():
        return []
    data.flags.add(blank, "blank_row", "row is blank (every cell empty)")
    return [
        data.issue(
            None,
            "blank_row",
            "note",
            blank,
            f"{plural(int(blank.sum()), 'row')} with every cell empty, set aside "
            "in the quarantine file",
            "",
        )
    ]


def check_dates(data: TableData, reference_date: date) -> list[Issue]:
    """Row checks on dates: end before start (``Table.date_order``) and dates after
    ``reference_date`` (in the future)."""
    issues: list[Issue] = []
    ref = pd.Timestamp(reference_date)
    for col in data.table.columns:
        if col.type != "date" or col.name not in data.values:
            continue
        future = (data.values[col.name] > ref).to_numpy(dtype=bool, na_value=False)
        if future.any():
            issues.append(
                data.issue(
                    col.name,
                    "future_date",
                    "row",
                    future,
                    f"{plural(int(future.sum()), 'row')} with a date after {ref:%Y-%m-%d} "
                    "(in the future)",
                    "correct the dates, or pass --reference-date if the data were extracted "
                    "later than that",
                )
            )
            data.flags.add(
                future,
                "future_date",
                f"{col.name} after {ref:%Y-%m-%d}: " + cell_text(data.raw[col.name], future),
            )
    for start, end in data.table.date_order:
        if start not in data.values or end not in data.values:
            continue
        bad = (data.values[end] < data.values[start]).to_numpy(dtype=bool, na_value=False)
        if bad.any():
            shown = _joined(data.raw, [start, end], np.flatnonzero(bad), " to ")
            issues.append(
                data.issue(
                    end,
                    "date_order",
                    "row",
                    bad,
                    f"{plural(int(bad.sum()), 'row')} with {end} before {start}",
                    f"correct {start} or {end}; an open {end} is left empty",
                    shown=shown,
                )
            )
            data.flags.add(bad, "date_order", f"{end} before {start}: " + cell_text(shown, bad))
    return issues


def _joined(frame: pd.DataFrame, cols: list[str], positions: np.ndarray, sep: str) -> pd.Series:
    """The cells of ``cols`` at ``positions`` joined as text, indexed by row position."""
    sub = frame[cols].iloc[positions]
    text = sub.iloc[:, 0].astype("str").fillna("(empty)")
    for c in cols[1:]:
        text = text + sep + sub[c].astype("str").fillna("(empty)")
    return pd.Series(text.to_numpy(), index=positions, dtype="str")


def _usable_columns(data: TableData, cols: list[str]) -> tuple[np.ndarray, pd.DataFrame]:
    """(positions of usable rows, those rows of ``cols``) without copying when all are usable."""
    mask = data.usable()
    if mask.all():
        return np.arange(data.n_rows), data.values[cols]
    usable = np.flatnonzero(mask)
    return usable, data.values[cols].iloc[usable]


def _duplicated(frame: pd.DataFrame, keep) -> np.ndarray:
    """``DataFrame.duplicated`` as a mask (missing values equal to each other).

    Rows are given one integer code each (:func:`_key_codes`) and sorted (stably, so
    equal rows stay in their order): pandas' own ``duplicated`` on Arrow strings goes
    through Python objects and hash tables, several times the column's memory, which
    made the key checks of a table of tens of millions of rows validation's memory peak.
    """
    codes = _key_codes(frame)
    n = len(codes)
    out = np.zeros(n, dtype=bool)
    if n == 0:
        return out
    order = np.argsort(codes, kind="stable")
    ordered = codes[order]
    del codes  # each array of the table's length is 0.4 GB at 55 million rows
    first = np.empty(n, dtype=bool)  # first of its run of equal codes
    first[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    del ordered
    last = np.empty(n, dtype=bool)
    last[-1] = True
    last[:-1] = first[1:]
    if keep == "first":
        out[order] = ~first
    elif keep == "last":
        out[order] = ~last
    else:
        out[order] = ~(first & last)
    return out


def _key_codes(frame: pd.DataFrame) -> np.ndarray:
    """One int64 code per row, equal exactly when the rows' values are (missing equal to
    missing); text columns are coded by Arrow (``dictionary_encode``)."""
    codes = None
    for name in frame.columns:
        col = frame[name]
        if col.dtype == "str":
            # chunk by chunk (one dictionary for all chunks), without joining the text
            enc = pa.chunked_array(pa.array(col.array)).dictionary_encode(null_encoding="encode")
            c = np.empty(len(col), dtype=np.int64)
            start = 0
            for chunk in enc.chunks:
                c[start : start + len(chunk)] = chunk.indices.to_numpy(zero_copy_only=False)
                start += len(chunk)
            n = len(enc.chunk(0).dictionary) if enc.num_chunks else 0
            del enc
        else:
            c, uniques = pd.factorize(col, use_na_sentinel=False)
            c, n = c.astype(np.int64, copy=False), len(uniques)
        if codes is None:
            codes = c
            continue
        n = max(n, 1)
        if len(codes) and int(codes.max()) >= (2**62) // n:
            codes = np.unique(codes, return_inverse=True)[1].astype(np.int64).ravel()
        codes *= n
        codes += c
    return np.zeros(len(frame), dtype=np.int64) if codes is None else codes


def _first_positions(frame: pd.DataFrame, cols: list[str], rows: np.ndarray) -> np.ndarray:
    """For each row position in ``rows``, the position of the first row with the same key."""
    sub = frame.iloc[rows][cols].copy()
    sub["_pos"] = rows
    return sub.groupby(cols, sort=False, dropna=False)["_pos"].transform("first").to_numpy()


def check_keys(data: TableData) -> list[Issue]:
    """Duplicated keys among usable rows: keep the first, quarantine the repeats.

    A repeat whose every contract value equals the first row is an exact duplicate; any
    other repeat is a conflicting duplicate (the reason names the differing columns).
    Conflicting duplicates are structural in the tables listed in
    ``UNDECIDABLE_DUPLICATES``. Tables with further unique column sets (the census-NPD
    link) are one-to-one links, checked by :func:`check_links` once exact duplicates are
    set aside.
    """
    issues: list[Issue] = []
    pk = list(data.table.primary_key)
    if not pk or any(c not in data.values for c in pk):
        return issues
    cols = [c for c in data.table.column_names if c in data.values]
    usable, keys = _usable_columns(data, pk)
    repeat_in_usable = _duplicated(keys, keep="first")
    if repeat_in_usable.any():
        involved = usable[_duplicated(keys, keep=False)]
        first = pd.Series(_first_positions(data.values, pk, involved), index=involved)
        exact_involved = data.values[cols].iloc[involved].duplicated(keep="first").to_numpy()
        exact = np.zeros(data.n_rows, dtype=bool)
        exact[involved[exact_involved]] = True
        conflict = np.zeros(data.n_rows, dtype=bool)
        conflict[usable[repeat_in_usable]] = True
        conflict &= ~exact
        key_text = _joined(data.values, pk, involved, ", ")
        if exact.any():
            firsts = first.loc[np.flatnonzero(exact)].to_numpy() + 1
            issues.append(
                data.issue(
                    None,
                    "exact_duplicate",
                    "row",
                    exact,
                    f"{plural(int(exact.sum()), 'row')} repeating an earlier row exactly "
                    f"(key {', '.join(pk)})",
                    "delete the repeated rows; the first copy is kept",
                    shown=key_text,
                )
            )
            data.flags.add(
                exact,
                "exact_duplicate",
                pd.Series([f"exact duplicate of row {r}" for r in firsts], dtype="str"),
            )
        if conflict.any() and not data.table.unique:
            issues.append(_conflicting(data, conflict, first, pk, cols, key_text))
    if data.table.unique:
        issues.extend(check_links(data))
    return issues


def _conflicting(
    data: TableData,
    conflict: np.ndarray,
    first: pd.Series,
    pk: list[str],
    cols: list[str],
    key_text: pd.Series,
) -> Issue:
    """Issue (and flags, unless structural) for repeats of a key with different values."""
    pos = np.flatnonzero(conflict)
    firsts = first.loc[pos].to_numpy()
    differ = pd.Series([""] * len(pos), dtype="str")
    for c in cols:
        a = data.values[c].iloc[pos].reset_index(drop=True)
        b = data.values[c].iloc[firsts].reset_index(drop=True)
        same = (a == b).fillna(False).to_numpy(dtype=bool) | (a.isna() & b.isna()).to_numpy()
        differ = differ + np.where(same, "", c + " ")
    differ = differ.str.strip().str.replace(" ", ", ", regex=False)
    structural = data.name in UNDECIDABLE_DUPLICATES
    if structural:
        data.structural = True
    else:
        reasons = (
            "duplicate key of row "
            + pd.Series(firsts + 1).astype("str")
            + ", values differ in: "
            + differ
        )
        data.flags.add(conflict, "duplicate_key", reasons)
    return data.issue(
        None,
        "duplicate_key",
        "structural" if structural else "row",
        conflict,
        f"{plural(len(pos), 'row')} repeating the key ({', '.join(pk)}) of an earlier row "
        "with different values",
        (
            f"keep one row per {', '.join(pk)}: other tables refer to it, so which row is "
            "right must be decided in the file"
        )
        if structural
        else "correct or delete the repeats; the first row with each key is kept",
        shown=key_text,
    )


#: Tables whose conflicting duplicate keys stop the run (the key is referenced everywhere).
UNDECIDABLE_DUPLICATES = ("areas",)


def check_links(data: TableData) -> list[Issue]:
    """One-to-one links: a key (primary or unique) used by two distinct usable rows makes
    every row sharing it ambiguous, so all of them are quarantined (keeping one would be
    a guess)."""
    ambiguous = np.zeros(data.n_rows, dtype=bool)
    for key in (data.table.primary_key, *data.table.unique):
        key = list(key)
        if any(c not in data.values for c in key):
            continue
        usable, keys = _usable_columns(data, key)
        ambiguous[usable[_duplicated(keys, keep=False)]] = True
    if not ambiguous.any():
        return []
    pk, other = data.table.primary_key[0], data.table.unique[0][0]
    shown = _joined(data.values, [pk, other], np.flatnonzero(ambiguous), " - ")
    data.flags.add(
        ambiguous, "link_not_one_to_one", "link not one-to-one: " + cell_text(shown, ambiguous)
    )
    return [
        data.issue(
            None,
            "link_not_one_to_one",
            "row",
            ambiguous,
            f"{plural(int(ambiguous.sum()), 'row')} linking a {pk} to several {other}s or a "
            f"{other} to several {pk}s; all rows of an ambiguous link are quarantined",
            f"keep at most one row per {pk} and per {other} (the best match)",
            shown=shown,
        )
    ]
