"""Households with dependent children: local authority, deprivation flags, type, dwelling.

The household's four ONS deprivation flags are drawn first (ONS Census 2011 QS119EW /
2021 TS011 definitions; the persons and the dwelling are then generated to satisfy exactly
these flags, see :mod:`child_mdh.sources.synthetic.persons`):

1. local authority: in proportion to the LA's households in the census (packaged ONS counts);
2. number of deprived dimensions: the LA's real distribution, shifted for households with
   dependent children (:func:`child_mdh.sources.synthetic.areas.shift_count_distribution`);
3. which dimensions: a log-linear model over the 16 patterns with main effects, pairwise
   associations and a region-specific housing effect (``params['domain_patterns']``);
4. household type given the count, then the number of dependent children given the type;
   households are drawn until the requested number of children is reached exactly;
5. dwelling (occupancy rating for rooms, shared dwelling, central heating) consistent with
   the housing flag, and an LSOA of the LA drawn in proportion to the LSOA's households
   with the same deprivation count.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd

from child_mdh.contract.vocabulary import DOMAINS
from child_mdh.sources.synthetic.areas import (
    COUNT_COLUMNS,
    count_shares,
    shift_count_distribution,
)
from child_mdh.sources.synthetic.params import HOUSEHOLD_TYPES
from child_mdh.sources.synthetic.sampling import categorical, grouped_categorical

#: The 16 deprivation patterns as rows of 0/1 (employment, education, health, housing).
PATTERNS = np.array([[(p >> j) & 1 for j in range(4)] for p in range(16)], dtype=np.int8)
PATTERN_COUNT = PATTERNS.sum(axis=1)


@dataclass
class Households:
    """Household-level arrays (one entry per household, in household order)."""

    la_index: np.ndarray
    region_index: np.ndarray
    n_domains: np.ndarray
    flags: np.ndarray  # (H, 4) bool, DOMAINS order
    household_type: np.ndarray  # index into HOUSEHOLD_TYPES
    n_children: np.ndarray
    occupancy_rating_rooms: np.ndarray | None = None
    shared_dwelling: np.ndarray | None = None
    central_heating: np.ndarray | None = None
    lsoa_code: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.la_index)

    def rows(self, start: int, stop: int) -> Households:
        """The households start..stop-1 (views, not copies)."""
        return Households(
            **{
                f: (None if getattr(self, f) is None else getattr(self, f)[start:stop])
                for f in self.__dataclass_fields__
            }
        )


def pattern_probabilities(params: dict, region_codes: list[str]) -> np.ndarray:
    """P(pattern | count, region): array (n_regions, 5, 16), zero outside the count."""
    dp = params["domain_patterns"]
    main = np.array([dp["main"][d] for d in DOMAINS])
    score = PATTERNS @ main
    for (i, a), (j, b) in combinations(enumerate(DOMAINS), 2):
        score = score + dp["pairwise"][f"{a}:{b}"] * PATTERNS[:, i] * PATTERNS[:, j]
    out = np.zeros((len(region_codes), 5, 16))
    for r, code in enumerate(region_codes):
        s = score + dp["region_housing"].get(code, 0.0) * PATTERNS[:, 3]
        w = np.exp(s)
        for c in range(5):
            wc = np.where(c == PATTERN_COUNT, w, 0.0)
            out[r, c] = wc / wc.sum()
    return out


def draw_households(
    n_children: int, la: pd.DataFrame, delta: float, params: dict, rng: np.random.Generator
) -> Households:
    """Draw households until exactly ``n_children`` dependent children are placed.

    Households are drawn independently (LA, count, pattern, type, children); the first
    households whose children reach ``n_children`` are kept and the last one's children are
    cut to make the total exact.
    """
    if n_children < 1:
        raise ValueError(f"n_children must be at least 1, got {n_children}")
    hp = params["households"]
    region_codes = sorted(la["region_code"].unique())
    la_region = np.searchsorted(region_codes, la["region_code"].to_numpy(dtype=object))
    la_households = la[list(COUNT_COLUMNS)].to_numpy(dtype=float).sum(axis=1)

    h_max = int(np.ceil(n_children / 1.4)) + 50
    la_index = categorical(rng, la_households, h_max)
    p_count = shift_count_distribution(count_shares(la), delta)
    n_domains = grouped_categorical(rng, la_index, p_count)
    region_index = la_region[la_index]
    p_pattern = pattern_probabilities(params, region_codes).reshape(len(region_codes) * 5, 16)
    pattern = grouped_categorical(rng, region_index * 5 + n_domains, p_pattern)
    household_type = grouped_categorical(rng, n_domains, np.asarray(hp["type_given_count"]))
    kids_given_type = np.array([hp["children_given_type"][t] for t in HOUSEHOLD_TYPES])
    n_kids = grouped_categorical(rng, household_type, kids_given_type) + 1

    total = np.cumsum(n_kids)
    h = int(np.searchsorted(total, n_children)) + 1  # households needed
    if h > h_max:  # pragma: no cover - h_max leaves a wide margin
        raise RuntimeError("internal: too few households drawn")
    n_kids = n_kids[:h].copy()
    n_kids[-1] -= int(total[h - 1] - n_children)
    flags = PATTERNS[pattern[:h]].astype(bool)
    return Households(
        la_index=la_index[:h],
        region_index=region_index[:h],
        n_domains=n_domains[:h],
        flags=flags,
        household_type=household_type[:h],
        n_children=n_kids,
    )


def draw_dwellings(
    hh: Households, params: dict, region_codes: list[str], rng: np.random.Generator
) -> None:
    """Occupancy rating, shared dwelling and central heating, consistent with the housing flag.

    Housing deprivation (ONS): occupancy rating for rooms of -1 or less, OR a shared
    dwelling, OR no central heating. A housing-deprived household gets one main reason
    (region-specific probabilities) and each other reason with a small probability; a
    household that is not housing-deprived has rating >= 0, its own dwelling and central
    heating.
    """
    dp = params["dwellings"]
    n = len(hh)
    housing = hh.flags[:, 3]
    reason_probs = np.array(
        [dp["housing_reason"].get(code, dp["housing_reason"]["default"]) for code in region_codes]
    )
    reason = grouped_categorical(rng, hh.region_index, reason_probs)
    extra = rng.random((n, 3)) < dp["extra_reason_probability"]
    overcrowded = housing & ((reason == 0) | extra[:, 0])
    no_heating = housing & ((reason == 1) | extra[:, 1])
    shared = housing & ((reason == 2) | extra[:, 2])
    over_vals = np.array([int(k) for k in dp["overcrowded_rating"]])
    ok_vals = np.array([int(k) for k in dp["not_overcrowded_rating"]])
    over_draw = over_vals[categorical(rng, list(dp["overcrowded_rating"].values()), n)]
    ok_draw = ok_vals[categorical(rng, list(dp["not_overcrowded_rating"].values()), n)]
    hh.occupancy_rating_rooms = np.where(overcrowded, over_draw, ok_draw).astype(np.int64)
    hh.shared_dwelling = shared
    hh.central_heating = ~no_heating


def draw_lsoas(
    hh: Households, la: pd.DataFrame, lsoa: pd.DataFrame, rng: np.random.Generator
) -> None:
    """An LSOA of the household's LA, in proportion to LSOA households with the same count.

    Falls back to all the LA's households when no LSOA of the LA has a household with that
    count (so every household gets an LSOA of its own LA).
    """
    la_codes = la["la_code"].to_numpy(dtype=object)
    lsoa = lsoa[lsoa["la_code"].isin(la_codes)].reset_index(drop=True)
    lsoa_la = np.searchsorted(la_codes, lsoa["la_code"].to_numpy(dtype=object))
    counts = lsoa[list(COUNT_COLUMNS)].to_numpy(dtype=float)
    codes = lsoa["lsoa_code"].to_numpy(dtype=object)
    out = np.empty(len(hh), dtype=object)
    # one weight table per (LA, count): rows = LSOAs of the LA laid end to end
    order = np.argsort(lsoa_la, kind="stable")
    starts = np.searchsorted(lsoa_la[order], np.arange(len(la_codes)))
    ends = np.searchsorted(lsoa_la[order], np.arange(len(la_codes)), side="right")
    key = hh.la_index * 5 + hh.n_domains
    u = rng.random(len(hh))
    hh_order = np.argsort(key, kind="stable")
    key_sorted = key[hh_order]
    bounds = np.flatnonzero(np.diff(key_sorted)) + 1
    for block in np.split(np.arange(len(hh)), bounds):
        if len(block) == 0:
            continue
        k = int(key_sorted[block[0]])
        la_i, c = divmod(k, 5)
        rows = order[starts[la_i] : ends[la_i]]
        if len(rows) == 0:
            raise ValueError(f"no LSOA listed for LA {la_codes[la_i]}")
        w = counts[rows, c]
        if w.sum() <= 0:
            w = counts[rows].sum(axis=1)
        cum = np.cumsum(w / w.sum())
        cum[-1] = 1.0
        members = hh_order[block]
        out[members] = codes[rows[np.searchsorted(cum, u[members], side="right")]]
    hh.lsoa_code = out
