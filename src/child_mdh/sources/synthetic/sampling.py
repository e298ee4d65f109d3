"""Random streams and vectorised sampling used by every part of the generator.

Each component of the generator draws from its own stream, spawned from the user's seed
with :class:`numpy.random.SeedSequence` (``SeedSequence(seed).spawn``), so changing how one
component draws does not shift the draws of the others. The streams are named and their
order is fixed here: append new names at the end, never insert.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import brentq

#: Component streams, in spawn order (append only).
STREAM_NAMES = (
    "households",
    "persons",
    "dwellings",
    "lsoa",
    "school",
    "fsm",
    "linkage",
    "social_care",
    "care_episodes",
    "la_effects",
)


def spawn_streams(seed: int) -> dict[str, np.random.Generator]:
    """One independent generator per component, from ``SeedSequence(seed).spawn``."""
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    children = np.random.SeedSequence(int(seed)).spawn(len(STREAM_NAMES))
    return {name: np.random.default_rng(ss) for name, ss in zip(STREAM_NAMES, children)}


def categorical(rng: np.random.Generator, probs, size: int) -> np.ndarray:
    """Draw ``size`` category indices from one probability vector (normalised here)."""
    p = np.asarray(probs, dtype=float)
    if size == 0:
        return np.zeros(0, dtype=np.int64)
    cum = np.cumsum(p / p.sum())
    cum[-1] = 1.0
    return np.searchsorted(cum, rng.random(size), side="right").astype(np.int64)


def grouped_categorical(
    rng: np.random.Generator, group: np.ndarray, probs: np.ndarray
) -> np.ndarray:
    """For each row, draw a category from the probability row of its group.

    ``probs`` has one row per group (rows normalised here; a row of zeros is an error when
    used). The draw is one uniform per row and a single ``searchsorted`` on the groups'
    cumulative probabilities laid end to end (group g occupies the interval [g, g+1)), so
    memory is O(rows + groups x categories) whatever the number of rows.
    """
    probs = np.asarray(probs, dtype=float)
    n_groups, k = probs.shape
    group = np.asarray(group, dtype=np.int64)
    if len(group) == 0:
        return np.zeros(0, dtype=np.int64)
    totals = probs.sum(axis=1, keepdims=True)
    used = np.bincount(group, minlength=n_groups) > 0
    if np.any(totals[used[:n_groups], 0] <= 0):
        raise ValueError("grouped_categorical: a group in use has no probability mass")
    cum = np.cumsum(probs / np.where(totals > 0, totals, 1.0), axis=1)
    cum[:, -1] = 1.0
    flat = (cum + np.arange(n_groups)[:, None]).ravel()
    pos = np.searchsorted(flat, group + rng.random(len(group)), side="right")
    idx = pos - group * k
    return np.clip(idx, 0, k - 1)


def expit(x):
    """The logistic function 1 / (1 + exp(-x))."""
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float)))


def logit(p):
    """log(p / (1 - p))."""
    p = np.asarray(p, dtype=float)
    return np.log(p) - np.log1p(-p)


def solve_increasing(f, lo: float, hi: float, xtol: float = 1e-12) -> float:
    """Root of an increasing function on [lo, hi] (Brent's method), clamped to the ends.

    When the target cannot be reached inside [lo, hi] (tiny synthetic populations), the
    nearer end is returned instead of failing, so small test data can still be generated;
    the calibrated value is written to truth.json either way.
    """
    f_lo, f_hi = f(lo), f(hi)
    if not np.isfinite(f_lo) or not np.isfinite(f_hi):
        raise ValueError("solve_increasing: the function is not finite at the ends")
    if f_lo >= 0:
        return float(lo)
    if f_hi <= 0:
        return float(hi)
    return float(brentq(f, lo, hi, xtol=xtol))
