"""Reading the values of the returns: dates, identifiers, UPNs, codes and yes/no flags.

The cells are parsed by the one parser of every route (:mod:`child_mdh.cells`) with the
returns' policy: each return's own date format first, then the alternatives a re-saved
file may hold. Each function is vectorised over a pandas Series of text and returns the
parsed values with masks saying which ones could not be read, so the caller decides what
to do (quarantine the row, set the value empty) and reports it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from child_mdh import cells

#: A UPN as the DfE issues it: a check letter, then 11 digits (LA number, school number,
#: year of allocation, serial), then a digit, or a letter for a temporary UPN.
#: (DfE, 'Unique pupil numbers (UPNs): guidance for schools and local authorities'.)
DFE_UPN_PATTERN = r"^[A-Z]\d{11}[0-9A-Z]$"
#: SSDA903 and CIN census codes recorded where a child's UPN is not known (UN1 ... UN10).
UPN_UNKNOWN_PATTERN = r"^UN\d{1,2}$"
#: The returns' cell policy; each return passes its own date formats.
#: Spreadsheet serial dates (``44652``, a date cell Excel saved as a number) are read.
RETURNS_POLICY = cells.CellPolicy(serial_dates=True)


@dataclass
class ParsedDates:
    """Dates read from text: the dates (NaT where empty or bad), and masks."""

    dates: pd.Series
    #: non-empty text that is not a real date in any accepted format
    bad: pd.Series
    #: read with one of the alternative formats, not the return's own format
    alternative: pd.Series
    #: bad because the year has two digits (``01/04/23``): the century would be a guess
    two_digit_year: pd.Series | None = None


def blank_to_na(values: pd.Series) -> pd.Series:
    """Text stripped of surrounding spaces, with empty strings as missing."""
    return cells.as_text(values, cells.NULL_WORDS)


def parse_dates(values: pd.Series, fmt: str, alternatives: tuple[str, ...] = ()) -> ParsedDates:
    """Read text dates written in format ``fmt`` (``strptime`` codes), trying ``alternatives``.

    A value is *bad* when it is not empty and no format reads it as a real calendar date
    from 1900 on: ``31/02/2020`` and ``02/01/20251`` are bad. A spreadsheet's serial date
    (``44652``) is read as the date it counts and marked ``alternative``. Times of day
    are dropped (dates are calendar dates in the data contract).
    """
    got = cells.parse_date(values, RETURNS_POLICY.with_dates(fmt, *alternatives))
    bad = pd.Series(got.unreadable, index=values.index)
    alternative = pd.Series(got.alternative, index=values.index)
    short = blank_to_na(values).str.fullmatch(r"\d{1,2}[/.-]\d{1,2}[/.-]\d{2}")
    two_digit = bad & short.fillna(False).astype(bool)
    return ParsedDates(dates=got.values, bad=bad, alternative=alternative, two_digit_year=two_digit)


def two_digit_reason(field: str) -> str:
    """The reason given for a date whose year has two digits."""
    return (
        f"{field} has a two-digit year (dd/mm/yy): the century would be a guess; write the "
        "year in full (dd/mm/yyyy; in Excel: Format Cells > Custom > dd/mm/yyyy)"
    )


def clean_ids(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Identifiers as text (:func:`child_mdh.cells.clean_identifier`), and a mask of those
    mended from ``123.0``."""
    raw = blank_to_na(values)
    ids = cells.clean_identifier(values)
    mended = raw.notna() & ids.notna() & (raw != ids)
    return ids, mended


def normalise_upn(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """UPNs in upper case without surrounding spaces, and a mask of 'UPN unknown' codes.

    The SSDA903 and CIN census returns record ``UN1``-``UN10`` in place of a UPN that is
    not known; those are not UPNs, so they come back missing (and flagged).
    """
    s = blank_to_na(values).str.upper().str.replace(r"\s+", "", regex=True)
    unknown = s.str.match(UPN_UNKNOWN_PATTERN).fillna(False).astype(bool)
    return s.mask(unknown), unknown


def upn_format_ok(upns: pd.Series) -> pd.Series:
    """True where a (normalised, non-missing) UPN has the DfE 13-character format."""
    return upns.str.match(DFE_UPN_PATTERN).fillna(False).astype(bool)


def clean_code(values: pd.Series) -> pd.Series:
    """Codes in upper case without spaces; empty -> missing."""
    return cells.clean_code(values)


def parse_flags(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Yes/no values (1/0, true/false, yes/no, y/n in any case) as a nullable boolean.

    Returns the flags (missing where empty or unreadable) and a mask of unreadable values.
    ``1.0``/``0.0`` (numbers a spreadsheet rewrote) are read as 1/0.
    """
    got = cells.parse_bool(values, RETURNS_POLICY)
    return got.values, pd.Series(got.unreadable, index=values.index)


def is_in(values: pd.Series, candidates) -> pd.Series:
    """``values.isin(candidates)`` for text, computed by Arrow (``pyarrow.compute.is_in``).

    pandas' ``isin`` on its Arrow-backed text columns is slow when ``candidates`` holds
    hundreds of thousands of ids; this gives the same answer in a fraction of the time.
    Missing values are never 'in'.
    """
    cand = (
        pd.Series(candidates, dtype="str")
        if not isinstance(candidates, pd.Series)
        else candidates.astype("str")
    )
    arr = pa.array(values.astype("str"), from_pandas=True)
    value_set = pa.array(cand.dropna().drop_duplicates(), from_pandas=True)
    got = pc.is_in(arr, value_set=value_set, skip_nulls=True)
    return (
        pd.Series(got.to_numpy(zero_copy_only=False), index=values.index).fillna(False).astype(bool)
    )
