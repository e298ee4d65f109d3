"""Turn source values into contract values: text normalisation, constants and series.

Source cells are compared and recoded as *normalised text*: surrounding spaces removed,
lower case, and a whole number written as a decimal (``1.0``, as spreadsheets and
floating-point Parquet columns do) read as the whole number (``1``). Empty cells are
missing. Results are built in the contract column's pandas dtype, nullable while being
assembled (``Int64``, ``boolean``) so that a missing value is never silently turned
into a number or ``True``.

All series operations work on the distinct values of a column (``pandas.factorize``)
and then broadcast back, so recoding or parsing ten million rows costs about as much as
the few hundred distinct codes or dates they hold.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from child_mdh import cells
from child_mdh.contract.tables import Column

_WHOLE_DECIMAL = r"^(-?\d+)\.0+$"
_INT_TEXT = re.compile(r"^[+-]?\d+$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: The extract route's cell policy: the shared spellings and date bounds; a column's
#: ``date_format`` (ISO ``YYYY-MM-DD`` without one) is passed in per column.
EXTRACT_POLICY = cells.CellPolicy(date_formats=("%Y-%m-%d",))


def normalise_code(value: str) -> str:
    """The normalised text of one code as written in a mapping (strip, lower, ``1.0``->``1``)."""
    text = str(value).strip().lower()
    return re.sub(_WHOLE_DECIMAL, r"\1", text)


def as_text(values: pd.Series) -> pd.Series:
    """Source values as text (``str`` dtype), spaces stripped, ``1.0`` -> ``1``, empty -> missing.

    Booleans become ``true``/``false``, dates ``YYYY-MM-DD``, whole floats integers.
    """
    s = values
    if pd.api.types.is_bool_dtype(s.dtype):
        s = s.astype("boolean").map({True: "true", False: "false"})
    elif pd.api.types.is_datetime64_any_dtype(s.dtype):
        s = s.dt.strftime("%Y-%m-%d")
    elif pd.api.types.is_float_dtype(s.dtype):
        finite = s.dropna()
        if len(finite) and bool((finite % 1 == 0).all()) and finite.abs().max() < 2**53:
            s = s.astype("Int64")
    text = s.astype("str").str.strip()
    if text.str.endswith(".0").any() or text.str.endswith(".00").any():
        text = text.str.replace(_WHOLE_DECIMAL, r"\1", regex=True)
    return text.mask(text == "")


@dataclass
class Distinct:
    """A column as its distinct normalised values: row ``i`` holds ``uniques[codes[i]]``.

    ``codes`` is -1 for a missing (or blank) cell. ``shown`` gives, for each distinct
    value, the text as it appears in the file (first occurrence), for messages.
    """

    codes: np.ndarray
    uniques: pd.Series
    shown: list[str]

    def counts(self) -> np.ndarray:
        """Rows holding each distinct value."""
        return np.bincount(self.codes[self.codes >= 0], minlength=len(self.uniques))

    def per_row(self) -> pd.Series:
        """The normalised value of every row (missing where the cell is)."""
        return pd.Series(self.uniques.array.take(self.codes, allow_fill=True))


def distinct_text(values: pd.Series, lower: bool = False) -> Distinct:
    """Factorise ``values`` by their normalised text (:func:`as_text`, lower-cased if asked).

    The normalisation runs on the distinct raw values only, so its cost does not grow
    with the number of rows.
    """
    raw_codes, raw_uniques = pd.factorize(values)
    raw_uniques = pd.Series(raw_uniques)
    shown_all = as_text(raw_uniques)
    norm = shown_all.str.lower() if lower else shown_all
    codes2, uniques = pd.factorize(norm)
    codes2 = np.asarray(codes2)
    lookup = np.append(codes2, -1)  # raw code -1 (missing) -> -1
    codes = lookup[np.where(raw_codes < 0, len(codes2), raw_codes)]
    shown: list[str] = [""] * len(uniques)
    for i, c in enumerate(codes2.tolist()):
        if c >= 0 and not shown[c]:
            shown[c] = str(shown_all.iloc[i])
    return Distinct(codes, pd.Series(uniques, dtype="str"), shown)


# ---------------------------------------------------------------------------------------
# single values: constants, per-file values and recode targets


class CellValueError(ValueError):
    """A value written in the mapping does not fit its contract column."""


def convert_scalar(value: str | None, column: Column, table_name: str):
    """Convert ``value`` (text from the mapping, or None) to ``column``'s contract type.

    Returns a Python value (str, int, bool, float, pandas.Timestamp) or None for empty.
    Checks the contract's code list and range. Raises :class:`CellValueError` with a
    message naming the column and what is allowed.
    """
    where = f"{table_name}.{column.name}"
    if value is None:
        if not column.nullable:
            raise CellValueError(f"{where} may not be empty in the data contract")
        return None
    text = str(value).strip()
    if column.type == "string":
        out = text
    elif column.type == "int":
        if not _INT_TEXT.match(text):
            raise CellValueError(f"{text!r} is not a whole number, as {where} needs")
        out = int(text)
    elif column.type == "float":
        try:
            out = float(text)
        except ValueError:
            raise CellValueError(f"{text!r} is not a number, as {where} needs") from None
    elif column.type == "bool":
        got = cells.parse_bool(pd.Series([text], dtype="str"), EXTRACT_POLICY)
        if got.unreadable.any():
            raise CellValueError(f"{text!r} is not true or false, as {where} needs")
        out = bool(got.values.iloc[0])
    else:  # date
        if not _ISO_DATE.match(text):
            raise CellValueError(f"{text!r} is not a date written YYYY-MM-DD, as {where} needs")
        got = cells.parse_date(pd.Series([text], dtype="str"), EXTRACT_POLICY)
        if got.unreadable.any():
            raise CellValueError(
                f"{text!r} is not a valid date for {where} (a real date from 1900 on)"
            )
        out = pd.Timestamp(got.values.iloc[0])
    if column.codes is not None and out not in column.codes:
        allowed = ", ".join(str(c) for c in column.codes)
        raise CellValueError(f"{text!r} is not a contract code for {where}; use one of: {allowed}")
    if (
        column.minimum is not None
        and isinstance(out, (int, float))
        and not isinstance(out, bool)
        and (out < column.minimum or out > column.maximum)
    ):
        raise CellValueError(
            f"{out} is outside the contract range of {where} "
            f"({column.minimum:g} to {column.maximum:g})"
        )
    return out


def empty_series(column: Column, n: int, index=None) -> pd.Series:
    """A series of ``n`` missing values in the nullable dtype used while assembling."""
    return pd.Series(pd.array([None] * n, dtype=assembly_dtype(column)), index=index)


def assembly_dtype(column: Column) -> str:
    """The nullable dtype a contract column is assembled in (before :func:`conform`)."""
    return {
        "string": "str",
        "int": "Int64",
        "bool": "boolean",
        "float": "Float64",
        "date": "datetime64[ns]",
    }[column.type]


def constant_series(value, column: Column, n: int) -> pd.Series:
    """``value`` (already converted) repeated ``n`` times, in the assembly dtype."""
    if value is None:
        return empty_series(column, n)
    if column.type == "date":
        return pd.Series(np.full(n, np.datetime64(pd.Timestamp(value), "ns")))
    return pd.Series(pd.array([value] * n, dtype=assembly_dtype(column)))


# ---------------------------------------------------------------------------------------
# whole columns


@dataclass
class SeriesResult:
    """A converted column, the problems found, and how many values were set empty."""

    values: pd.Series
    problems: list[str]
    emptied: int = 0


def _examples(rows: np.ndarray, limit: int = 5) -> str:
    rows = np.asarray(rows)
    shown = ", ".join(str(int(r) + 1) for r in rows[:limit])
    more = f" and {len(rows) - limit} more" if len(rows) > limit else ""
    return f"data row{'s' if len(rows) > 1 else ''} {shown}{more}"


def _distinct_report(first_text: list[str], counts: list[int], limit: int = 8) -> str:
    pairs = sorted(zip(first_text, counts), key=lambda p: (-p[1], p[0]))
    shown = ", ".join(f"{t!r} ({n:,} row{'s' if n != 1 else ''})" for t, n in pairs[:limit])
    if len(pairs) > limit:
        shown += f" and {len(pairs) - limit} more"
    return shown


def recode(
    values: pd.Series,
    codes: dict,
    default,
    has_default: bool,
    column: Column,
    rows: np.ndarray,
    what: str,
    where_to_add: str = "codes",
) -> SeriesResult:
    """Recode source values with ``codes`` (normalised code -> contract value).

    Values are compared as normalised lower-case text. Missing cells stay missing unless
    ``codes`` has an entry for ``""``. A value not in ``codes`` takes ``default`` when
    ``has_default``, otherwise it is a problem naming the value, how many rows hold it
    and example rows. ``what`` describes the source column in messages, ``where_to_add``
    the mapping key a missing code belongs under.
    """
    d = distinct_text(values, lower=True)
    missing_target = codes.get("")
    targets, unmapped = [], []
    for i, u in enumerate(d.uniques.tolist()):
        if u in codes:
            targets.append(codes[u])
        elif has_default:
            targets.append(default)
        else:
            targets.append(None)
            unmapped.append(i)
    problems = []
    if unmapped:
        counts = d.counts()
        bad_rows = rows[np.isin(d.codes, unmapped)]
        one = len(unmapped) == 1
        problems.append(
            f"{'code' if one else 'codes'} "
            f"{_distinct_report([d.shown[i] for i in unmapped], [int(counts[i]) for i in unmapped])}"
            f" of {what} {'has' if one else 'have'} no mapping (e.g. {_examples(bad_rows)}); "
            f"add {'it' if one else 'them'} under {where_to_add}, or set default"
        )
    dtype = assembly_dtype(column)
    lookup = (
        pd.array(targets + [missing_target], dtype=dtype)
        if column.type != "date"
        else pd.DatetimeIndex(targets + [missing_target]).astype("datetime64[ns]").array
    )
    taken = lookup.take(np.where(d.codes < 0, len(targets), d.codes))
    return SeriesResult(pd.Series(taken, index=values.index), problems)


def parse_dates(
    values: pd.Series, date_format: str | None, invalid_empty: bool, rows: np.ndarray, what: str
) -> SeriesResult:
    """Source values as calendar dates (``datetime64[ns]``, time of day dropped).

    Date-typed sources (Parquet dates and timestamps) are taken as they are. Text is
    parsed by :func:`child_mdh.cells.parse_date` with ``date_format`` (a ``strftime``
    pattern); without one, ``YYYY-MM-DD`` is expected; a midnight time, as some exports
    append, is dropped; dates before 1900 are not dates (mistyped years). Text that does
    not parse is a problem naming the values and rows, or with ``invalid_empty`` is set
    empty and counted. Each distinct text is parsed once.
    """
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        if getattr(values.dt, "tz", None) is not None:  # keep the local calendar date
            values = values.dt.tz_localize(None)
        return SeriesResult(values.dt.normalize().astype("datetime64[ns]"), [])
    d = distinct_text(values)
    uniq = d.uniques
    fmt = date_format or "%Y-%m-%d"
    parsed = cells.parse_date(uniq, EXTRACT_POLICY.with_dates(fmt)).values
    bad = np.flatnonzero(parsed.isna().to_numpy())
    problems, emptied = [], 0
    if len(bad):
        counts = d.counts()
        bad_rows_mask = np.isin(d.codes, bad)
        if invalid_empty:
            emptied = int(bad_rows_mask.sum())
        else:
            hint = (
                f"set date_format to match them (now {date_format!r})"
                if date_format
                else 'add date_format, e.g. date_format: "%d/%m/%Y"'
            )
            problems.append(
                f"{what} has text that is not a date in the expected form ({fmt}): "
                f"{_distinct_report([d.shown[i] for i in bad], [int(counts[i]) for i in bad])}, "
                f"e.g. {_examples(rows[bad_rows_mask])}; {hint}, or add invalid: empty to "
                "leave such dates empty (they are counted in the row report)"
            )
    lookup = pd.DatetimeIndex(list(parsed) + [pd.NaT]).astype("datetime64[ns]").array
    taken = lookup.take(np.where(d.codes < 0, len(uniq), d.codes))
    return SeriesResult(pd.Series(taken, index=values.index), problems, emptied)


def parse_integers(
    values: pd.Series, invalid_empty: bool, rows: np.ndarray, what: str
) -> SeriesResult:
    """Source values as whole numbers (``Int64``); non-numbers and fractions are problems.

    Each distinct text is converted once.
    """
    if pd.api.types.is_integer_dtype(values.dtype):
        return SeriesResult(values.astype("Int64"), [])
    d = distinct_text(values)
    num = pd.to_numeric(d.uniques, errors="coerce")
    bad = np.flatnonzero((num.isna() | (num % 1 != 0)).to_numpy())
    problems, emptied = [], 0
    if len(bad):
        bad_rows_mask = np.isin(d.codes, bad)
        if invalid_empty:
            emptied = int(bad_rows_mask.sum())
        else:
            counts = d.counts()
            problems.append(
                f"{what} has values that are not whole numbers: "
                f"{_distinct_report([d.shown[i] for i in bad], [int(counts[i]) for i in bad])}, "
                f"e.g. {_examples(rows[bad_rows_mask])}; recode them under codes, filter the "
                "rows out, or add invalid: empty"
            )
    num[bad] = np.nan
    lookup = pd.array(list(num.astype("Int64")) + [None], dtype="Int64")
    taken = lookup.take(np.where(d.codes < 0, len(num), d.codes))
    return SeriesResult(pd.Series(taken, index=values.index), problems, emptied)


def parse_floats(
    values: pd.Series, invalid_empty: bool, rows: np.ndarray, what: str
) -> SeriesResult:
    """Source values as numbers (``Float64``); text that is not a number is a problem."""
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        return SeriesResult(values.astype("Float64"), [])
    text = as_text(values)
    num = pd.to_numeric(text, errors="coerce")
    bad_mask = (text.notna() & num.isna()).to_numpy()
    problems, emptied = [], 0
    if bad_mask.any():
        if invalid_empty:
            emptied = int(bad_mask.sum())
        else:
            problems.append(
                f"{what} has values that are not numbers, e.g. {_examples(rows[bad_mask])}"
            )
    return SeriesResult(num.astype("Float64"), problems, emptied)


def check_codes(values: pd.Series, column: Column, rows: np.ndarray, what: str) -> list[str]:
    """Problems for values of a coded contract column that are not contract codes."""
    if column.codes is None:
        return []
    allowed = pd.Series(list(column.codes))
    present = values.dropna()
    bad = ~present.isin(allowed.astype(present.dtype) if column.type != "string" else allowed)
    if not bad.any():
        return []
    vc = present[bad].astype(str).value_counts()
    bad_rows = rows[values.index.get_indexer(present[bad].index)]
    return [
        f"{what} holds values that are not contract codes of {column.name}: "
        f"{_distinct_report(list(vc.index), list(vc.to_numpy()))}, e.g. {_examples(bad_rows)}; "
        f"recode them with codes: (contract codes: {', '.join(map(str, column.codes))})"
    ]
