"""The one parser of cells for every input route: text, identifiers, numbers, booleans,
dates and codes, with the route's rules passed in as a :class:`CellPolicy`.

Input cells arrive as text (CSV) or as Parquet values. Each parser returns the values
in a working dtype that can hold missing values, plus a mask of cells that held
something which could not be read. Nothing here drops rows: the caller decides.

The rules every route shares (documented in ``docs/validation.md``):

- every cell: surrounding spaces are ignored; an empty cell is a missing value;
- identifiers (``*_id`` and ``*_code`` columns): text; a spreadsheet's ``123.0`` is
  read as ``123`` (:func:`clean_identifier`);
- whole numbers: ``3``, ``3.0``, ``-1``; ``3.5`` is refused;
- true/false (:data:`TRUE_WORDS`, :data:`FALSE_WORDS`): ``True/False``, ``true/false``,
  ``TRUE/FALSE``, ``1/0``, ``1.0/0.0``, ``Y/N``, ``y/n``, ``yes/no`` (any case);
- dates: the policy's formats, tried in order (the contract route: ``YYYY-MM-DD`` or
  ``DD/MM/YYYY``, day first as written in the UK; one-digit day or month allowed). A
  midnight time after a date (`` 00:00:00``) is dropped; other times are refused unless
  a format reads them. Dates before 1900 are refused as mistyped years (``0021``). A
  column whose slash dates can only be month/day/year (e.g. ``03/21/2021``) under a
  day-first policy is marked, because its other slash dates cannot then be told apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pandas.api import types as ptypes

from child_mdh.contract.tables import Column

#: Spellings of true and false (compared in lower case) on every route.
TRUE_WORDS = ("true", "1", "1.0", "y", "yes")
FALSE_WORDS = ("false", "0", "0.0", "n", "no")
#: Dates outside these bounds are refused as mistyped (e.g. a two-digit year read as 0021);
#: the upper bound is the last day pandas can hold.
EARLIEST_DATE = pd.Timestamp("1900-01-01")
LATEST_DATE = pd.Timestamp("2262-04-11")
#: Cell text that stands for "no value" when a missing value went through ``str()``.
NULL_WORDS = ("", "nan", "None", "<NA>", "NaT")
_MIDNIGHT = re.compile(r"[ T]00:00(?::00(?:\.0+)?)?$")
_SLASH_PARTS = r"^(\d{1,2})/(\d{1,2})/\d{4}"


@dataclass(frozen=True)
class CellPolicy:
    """What a route accepts in its cells.

    ``date_formats`` are ``strptime`` patterns tried in order (a value read by any but the
    first is marked ``alternative``); ``day_first`` says which order slash dates are meant
    in, so that values which can only be the other order are marked; dates outside
    ``earliest``-``latest`` are unreadable.
    """

    true_words: tuple[str, ...] = TRUE_WORDS
    false_words: tuple[str, ...] = FALSE_WORDS
    date_formats: tuple[str, ...] = ("%Y-%m-%d", "%d/%m/%Y")
    day_first: bool = True
    earliest: pd.Timestamp = field(default=EARLIEST_DATE)
    latest: pd.Timestamp = field(default=LATEST_DATE)
    #: read a whole number of 5 digits (``44652``) as a spreadsheet's serial date (days
    #: since 30 December 1899, as Excel counts), marked ``alternative``
    serial_dates: bool = False

    def with_dates(self, *formats: str) -> CellPolicy:
        """This policy reading dates in ``formats`` (in that order)."""
        return replace(self, date_formats=tuple(formats))


#: The contract route's policy (input folders), and the default of every parser.
CONTRACT_POLICY = CellPolicy()

FORMAT_HINTS = {
    "string": "text (an identifier stored as a floating-point number of 2^53 or more "
    "cannot be held exactly: store ids as text)",
    "int": "a whole number such as 3 (3.0 is accepted, 3.5 is not)",
    "float": "a number such as 2.5",
    "bool": "True or False (also accepted: true, false, 1, 0, Y, N, yes, no)",
    "date": "a date, YYYY-MM-DD (e.g. 2021-03-21) or DD/MM/YYYY (e.g. 21/03/2021)",
}


@dataclass
class Parsed:
    """A column read into its working dtype.

    ``values`` is missing wherever the cell was empty or unreadable; ``unreadable`` marks
    cells that held something which could not be read; ``month_first`` marks slash dates
    that can only be month/day/year (only ever set for date columns).
    """

    values: pd.Series
    unreadable: np.ndarray
    month_first: np.ndarray | None = None
    #: dates read with a format other than the policy's first (only set for dates)
    alternative: np.ndarray | None = None
    #: slash dates whose day/month order nothing in the column shows, in a column that
    #: also holds ISO dates (two sources: the order would be a guess; only for dates)
    order_unproven: np.ndarray | None = None


def is_identifier(name: str) -> bool:
    """Whether a contract column holds an identifier or area code (read as clean text)."""
    return name.endswith(("_id", "_code"))


def as_text(raw: pd.Series, null_words: tuple[str, ...] = ("",)) -> pd.Series:
    """Cells as stripped text (pandas ``str`` dtype); empty cells become missing.

    ``null_words`` (e.g. :data:`NULL_WORDS`) are further spellings read as missing.
    """
    s = raw if raw.dtype == "str" else raw.astype("str")
    s = s.str.strip()
    return s.mask(s.isin(null_words))


def clean_identifier(values: pd.Series) -> pd.Series:
    """Identifiers as strings: strip spaces, and undo a spreadsheet's ``123.0`` -> ``123``.

    Only a trailing ``.0`` on an all-digit value is removed, so ``A12.0B`` is untouched.
    Empty strings become missing.
    """
    s = values.astype("str").str.strip()
    s = s.str.replace(r"^(\d+)\.0+$", r"\1", regex=True)
    return s.mask(s.isin(NULL_WORDS))


def inexact_float_ids(raw: pd.Series) -> np.ndarray:
    """Mask of identifiers held as floating-point numbers too large to be exact (2^53 or
    more): two ids there can round to one number, silently merging two households."""
    if not ptypes.is_float_dtype(raw.dtype):
        return np.zeros(len(raw), dtype=bool)
    nums = raw.to_numpy(dtype="float64", na_value=np.nan)
    with np.errstate(invalid="ignore"):
        return np.abs(nums) >= 2**53


def clean_code(values: pd.Series) -> pd.Series:
    """Codes as upper-case text without surrounding spaces; empty -> missing."""
    return as_text(values, NULL_WORDS).str.upper()


def parse_column(raw: pd.Series, column: Column, policy: CellPolicy = CONTRACT_POLICY) -> Parsed:
    """Read one raw column into the working dtype of contract ``column``.

    Working dtypes: ``str`` (strings), ``Int64`` (int), ``Float64`` (float), ``boolean``
    (bool), ``datetime64[ns]`` (date). Codes are not checked here (see :func:`match_codes`).
    """
    if column.type == "string":
        if not is_identifier(column.name):
            return Parsed(as_text(raw), np.zeros(len(raw), dtype=bool))
        inexact = inexact_float_ids(raw)
        return Parsed(clean_identifier(raw).mask(inexact), inexact)
    if column.type == "int":
        return parse_int(raw)
    if column.type == "float":
        return parse_float(raw)
    if column.type == "bool":
        return parse_bool(raw, policy)
    return parse_date(raw, policy)


def _numbers(raw: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(float values, given mask) for a numeric or text column; NaN where unreadable."""
    if ptypes.is_bool_dtype(raw.dtype):
        raw = raw.astype("str")
    if ptypes.is_numeric_dtype(raw.dtype):
        nums = raw.to_numpy(dtype="float64", na_value=np.nan)
        return nums, ~np.isnan(nums)
    text = as_text(raw)
    given = text.notna().to_numpy()
    nums = pd.to_numeric(text, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    return nums, given


def parse_int(raw: pd.Series) -> Parsed:
    """Whole numbers: integer cells as they are; ``3`` / ``3.0`` accepted; ``3.5``, text refused."""
    if ptypes.is_integer_dtype(raw.dtype):
        return Parsed(raw.astype("Int64"), np.zeros(len(raw), dtype=bool))
    nums, given = _numbers(raw)
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(nums) & (nums == np.round(nums)) & (np.abs(nums) < 2**53)
    values = pd.Series(
        pd.array(np.where(ok, nums, 0).astype("int64"), dtype="Int64"), index=raw.index
    ).mask(~ok)
    return Parsed(values, given & ~ok)


def parse_float(raw: pd.Series) -> Parsed:
    """Numbers: numeric cells as they are; text read as a decimal number; inf/NaN refused."""
    nums, given = _numbers(raw)
    ok = np.isfinite(nums)
    values = pd.Series(pd.array(np.where(ok, nums, np.nan), dtype="Float64"), index=raw.index).mask(
        ~ok
    )
    return Parsed(values, given & ~ok)


def parse_bool(raw: pd.Series, policy: CellPolicy = CONTRACT_POLICY) -> Parsed:
    """True/false from booleans, 1/0, or the policy's words (any case)."""
    if ptypes.is_bool_dtype(raw.dtype):
        values = raw.astype("boolean")
        return Parsed(values, np.zeros(len(raw), dtype=bool))
    if ptypes.is_numeric_dtype(raw.dtype):
        nums = raw.to_numpy(dtype="float64", na_value=np.nan)
        given = ~np.isnan(nums)
        true, false = nums == 1, nums == 0
    else:
        low = as_text(raw, NULL_WORDS).str.lower()
        given = low.notna().to_numpy()
        true = low.isin([w.lower() for w in policy.true_words]).to_numpy()
        false = low.isin([w.lower() for w in policy.false_words]).to_numpy()
    ok = true | false
    values = pd.Series(pd.array(true, dtype="boolean"), index=raw.index).mask(~ok)
    return Parsed(values, given & ~ok)


def parse_date(raw: pd.Series, policy: CellPolicy = CONTRACT_POLICY) -> Parsed:
    """Calendar dates from date/datetime cells, or text in one of the policy's formats.

    The time of day of date-typed cells is dropped. Text is tried with each format in
    turn, then, for what is left, again without a midnight time. ``month_first`` marks
    slash dates that can only be in the order the policy does not expect (a second part
    above 12 under ``day_first``); ``alternative`` marks values read by a later format.
    """
    n = len(raw)
    if ptypes.is_datetime64_any_dtype(raw.dtype):
        values = raw
        if getattr(values.dt, "tz", None) is not None:  # keep the local calendar date
            values = values.dt.tz_localize(None)
        values = values.dt.normalize()
        given = values.notna().to_numpy()
        in_bounds = ((values >= policy.earliest) & (values <= policy.latest)).to_numpy()
        values = values.where(in_bounds).astype("datetime64[ns]")
        return Parsed(values, given & ~in_bounds, np.zeros(n, dtype=bool), np.zeros(n, dtype=bool))
    text = as_text(raw, NULL_WORDS)
    given = text.notna().to_numpy()
    # seconds hold any year a format can read (0021 included), so bounds are checked after
    parsed = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[s]")
    alternative = np.zeros(n, dtype=bool)
    tries = [text]
    if bool((text.str.len() > 10).any()):
        tries.append(text.str.replace(_MIDNIGHT, "", regex=True))
    for attempt in tries:
        for i, fmt in enumerate(policy.date_formats):
            todo = given & parsed.isna().to_numpy()
            if not todo.any():
                break
            got = pd.to_datetime(attempt[todo], format=fmt, errors="coerce")
            hit = got.notna().to_numpy()
            if hit.any():
                idx = np.flatnonzero(todo)[hit]
                parsed.iloc[idx] = got[hit].to_numpy().astype("datetime64[s]")
                alternative[idx] = i > 0
    if policy.serial_dates:
        todo = given & parsed.isna().to_numpy()
        serial = pd.to_numeric(text[todo].where(text[todo].str.fullmatch(r"\d{5}")), "coerce")
        hit = serial.notna().to_numpy()
        if hit.any():
            idx = np.flatnonzero(todo)[hit]
            days = serial[hit].to_numpy(dtype="int64").astype("timedelta64[D]")
            parsed.iloc[idx] = (np.datetime64("1899-12-30") + days).astype("datetime64[s]")
            alternative[idx] = True
    month_first = np.zeros(n, dtype=bool)
    unproven = np.zeros(n, dtype=bool)
    if given.any():
        parts = text.str.extract(_SLASH_PARTS)
        first = pd.to_numeric(parts[0], errors="coerce")
        second = pd.to_numeric(parts[1], errors="coerce")
        other = (second > 12) & (first <= 12) if policy.day_first else (first > 12) & (second <= 12)
        month_first = other.to_numpy(dtype=bool, na_value=False)
        unproven = _order_unproven(text, first, second, policy)
    parsed = parsed.dt.normalize()
    in_bounds = ((parsed >= policy.earliest) & (parsed <= policy.latest)).to_numpy(
        dtype=bool, na_value=False
    )
    values = parsed.where(in_bounds).astype("datetime64[ns]")
    return Parsed(values, given & ~in_bounds, month_first, alternative & in_bounds, unproven)


def _order_unproven(
    text: pd.Series, first: pd.Series, second: pd.Series, policy: CellPolicy
) -> np.ndarray:
    """Slash dates whose order nothing shows, in a column that also holds ISO dates.

    A column of one source shows its order by its own slash dates, or is read in the
    policy's order as documented. A column mixing ISO dates with slash dates none of
    which can only be read one way (``03/04/2021`` could be 3 April or 4 March) comes
    from two sources, one of which may write month first: reading it would be a guess.
    """
    slash = first.notna() & second.notna()
    if not slash.any() or not text.str.match(r"^\d{4}-").any():
        return np.zeros(len(text), dtype=bool)
    if ((first > 12) | (second > 12)).any():  # some slash date shows the order
        return np.zeros(len(text), dtype=bool)
    return (slash & (first != second)).to_numpy(dtype=bool, na_value=False)


def match_codes(values: pd.Series, codes: tuple) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Match values to a code list; text codes match ignoring case (``f`` -> ``F``).

    Returns (values spelled as in the code list, mask of values not in the list, mask of
    values that were re-spelled). Missing values are neither.
    """
    present = values.notna().to_numpy()
    if len(codes) and all(isinstance(c, str) for c in codes):
        exact = values.isin(codes).to_numpy(dtype=bool)
        if not (present & ~exact).any():
            return values, np.zeros(len(values), dtype=bool), np.zeros(len(values), dtype=bool)
        spelled, found = respell_codes(values, codes)
        respelled = present & ~exact & found
        return spelled, present & ~found, respelled
    bad = present & ~values.isin(codes).to_numpy(dtype=bool, na_value=False)
    return values, bad, np.zeros(len(values), dtype=bool)


def respell_codes(values: pd.Series, codes: tuple[str, ...]) -> tuple[pd.Series, np.ndarray]:
    """Each text value spelled as the code it equals ignoring case (kept as is where none does).

    Returns (re-spelled values, mask of values that matched a code). Done in Arrow
    (``index_in`` then ``take``) so it stays fast on millions of rows.
    """
    folded = pa.array(values.astype("str").str.lower().array)
    position = pc.index_in(folded, value_set=pa.array([c.lower() for c in codes], type=folded.type))
    spelled = pc.take(pa.array(list(codes), type=folded.type), position)
    found = np.asarray(pc.is_valid(position).to_numpy(zero_copy_only=False), dtype=bool)
    spelled = pd.Series(spelled, index=values.index, dtype="str")
    return spelled.where(found, values), found
