"""Calendar arithmetic on day numbers (days since 1970-01-01), vectorised.

The generator holds every date as an integer day number and converts to ``datetime64`` only
when it writes a table. Ages are completed years, as on a birth certificate; a person born
on 29 February reaches a birthday on 1 March in years that are not leap years (the rule in
England and Wales).
"""

from __future__ import annotations

import datetime as dt

import numpy as np

_EPOCH = dt.date(1970, 1, 1)


def day_number(date: dt.date) -> int:
    """Days since 1970-01-01 of a calendar date."""
    return (date - _EPOCH).days


def to_date(day: int) -> dt.date:
    """The calendar date of a day number."""
    return _EPOCH + dt.timedelta(days=int(day))


def add_years(date: dt.date, years: int) -> dt.date:
    """``date`` moved by whole years; 29 February becomes 1 March in a non-leap year."""
    try:
        return date.replace(year=date.year + years)
    except ValueError:
        return dt.date(date.year + years, 3, 1)


def ymd(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year, month (1-12) and day of month of day numbers."""
    d = np.asarray(days, dtype="int64").astype("datetime64[D]")
    months = d.astype("datetime64[M]")
    year = months.astype("datetime64[Y]").astype(np.int64) + 1970
    month = months.astype(np.int64) % 12 + 1
    day = (d - months).astype(np.int64) + 1
    return year, month, day


def age_on(dob: np.ndarray, on: int | np.ndarray) -> np.ndarray:
    """Completed years of age on day ``on`` of people born on day numbers ``dob``."""
    by, bm, bd = ymd(dob)
    oy, om, od = ymd(np.broadcast_to(np.asarray(on, dtype=np.int64), np.shape(dob)))
    before_birthday = (om < bm) | ((om == bm) & (od < bd))
    return (oy - by - before_birthday).astype(np.int64)


def birthday(dob: np.ndarray, years: int) -> np.ndarray:
    """Day number of the ``years``-th birthday (29 February -> 1 March in non-leap years)."""
    by, bm, bd = ymd(dob)
    month_start = (
        ((by + years - 1970) * 12 + (bm - 1)).astype("datetime64[M]").astype("datetime64[D]")
    )
    return month_start.astype(np.int64) + (bd - 1)


def to_datetime64(days: np.ndarray, missing: np.ndarray | None = None) -> np.ndarray:
    """Day numbers as ``datetime64[ns]``; entries flagged in ``missing`` become NaT."""
    out = np.asarray(days, dtype=np.int64).astype("datetime64[D]").astype("datetime64[ns]")
    if missing is not None:
        out = out.copy()
        out[np.asarray(missing, dtype=bool)] = np.datetime64("NaT")
    return out


def nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    """The n-th given weekday (Monday 0 ... Sunday 6) of a month, e.g. third Thursday."""
    first = dt.date(year, month, 1)
    offset = (weekday - first.weekday()) % 7
    return first + dt.timedelta(days=offset + 7 * (n - 1))
