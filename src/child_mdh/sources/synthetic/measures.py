"""Stock and flow measures of children's social care, on day numbers.

One implementation serves both the generator (to calibrate durations and rates) and the
fidelity report (to measure the written tables), so the two cannot drift apart.

Conventions (DfE statistical releases):
- on a plan / in care / in need at day d: start <= d and (end > d or the record is open);
  the end date is the day the plan, episode or case ceased;
- a re-referral is a referral within 12 months (1-365 days) after a previous referral of
  the same child;
- open records carry ``OPEN`` as their end day.
"""

from __future__ import annotations

import numpy as np

#: End day of an open record (far beyond any real date).
OPEN = np.iinfo(np.int64).max // 4


def same_as_previous(*arrays: np.ndarray) -> np.ndarray:
    """True where a row equals the row before it in every array (False for the first row)."""
    n = len(arrays[0])
    out = np.zeros(n, dtype=bool)
    if n > 1:
        out[1:] = np.logical_and.reduce([a[1:] == a[:-1] for a in arrays])
    return out


def same_as_next(*arrays: np.ndarray) -> np.ndarray:
    """True where a row equals the row after it in every array (False for the last row)."""
    n = len(arrays[0])
    out = np.zeros(n, dtype=bool)
    if n > 1:
        out[:-1] = np.logical_and.reduce([a[1:] == a[:-1] for a in arrays])
    return out


def open_on(start: np.ndarray, end: np.ndarray, day: int) -> np.ndarray:
    """Records open on ``day``: start <= day < end (open records never end)."""
    return (start <= day) & (end > day)


def children_open_on(child: np.ndarray, start: np.ndarray, end: np.ndarray, day: int) -> int:
    """Number of distinct children with at least one record open on ``day``."""
    mask = open_on(start, end, day)
    return int(np.unique(child[mask]).size)


def rereferral(child: np.ndarray, day: np.ndarray) -> np.ndarray:
    """For each referral, whether the same child had a referral 1-365 days before it.

    Inputs need not be sorted; the result is in input order.
    """
    order = np.lexsort((day, child))
    c, d = child[order], day[order]
    gap = np.zeros(len(d), dtype=np.int64)
    gap[1:] = np.diff(d)
    flag_sorted = same_as_previous(c) & (gap >= 1) & (gap <= 365)
    out = np.empty(len(child), dtype=bool)
    out[order] = flag_sorted
    return out


def truncate_overlaps(child: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Ends cut so a child's records do not overlap: end <= next start - 1.

    Inputs sorted by (child, start) with distinct starts per child; returns the new ends.
    """
    nxt_start = np.full(len(start), OPEN, dtype=np.int64)
    nxt_start[:-1] = start[1:]
    return np.where(same_as_next(child), np.minimum(end, nxt_start - 1), end)


def person_years_year_before_census(age_at_census: np.ndarray) -> float:
    """Person-years aged 0-17 in the 365 days before census day, from ages on census day.

    A child aged 1-17 on census day was under 18 for the whole year (1 year each); a child
    aged 0 was born during it (half a year on average, births being spread evenly).
    """
    a = np.asarray(age_at_census)
    return float(((a >= 1) & (a <= 17)).sum() + 0.5 * (a == 0).sum())
