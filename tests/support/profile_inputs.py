"""Inputs of the profile tests: small random children tables, areas, awkward areas."""

import numpy as np
import pandas as pd

INDICATORS = ("employment", "education", "health", "housing", "fsm")
WEIGHTS = dict.fromkeys(INDICATORS, 0.2)
K = 0.4


def make_areas(codes, names=None):
    """An areas table for ``codes`` (two regions)."""
    names = names or [f"Area {c[-3:]}" for c in codes]
    return pd.DataFrame(
        {
            "la_code": list(codes),
            "la_name": list(names),
            "region_code": ["E12000001" if i % 2 == 0 else "E12000002" for i in range(len(codes))],
            "region_name": [
                "North East" if i % 2 == 0 else "North West" for i in range(len(codes))
            ],
        }
    )


def make_children(sizes: dict, seed: int = 1) -> pd.DataFrame:
    """Random children: ``sizes`` maps la_code -> number of children.

    Deprivation probabilities vary by area, contacts are more likely with more
    deprived domains, so rates and rate ratios are of realistic shape.
    """
    rng = np.random.default_rng(seed)
    parts = []
    for i, (code, n) in enumerate(sizes.items()):
        base = 0.15 + 0.05 * (i % 4)
        dep = {ind: rng.random(n) < base + 0.1 * (ind == "fsm") for ind in INDICATORS}
        score = sum(dep[ind].astype(int) for ind in INDICATORS)
        p_ref = 0.03 + 0.04 * score
        any_ref = rng.random(n) < p_ref
        n_ref = np.where(any_ref, 1 + rng.poisson(0.4, n), 0)
        any_cin = any_ref & (rng.random(n) < 0.6)
        any_cpp = any_cin & (rng.random(n) < 0.3)
        care = any_cin & (rng.random(n) < 0.15)
        parts.append(
            pd.DataFrame(
                {
                    "la_code": code,
                    "age": rng.integers(4, 16, n),
                    "sex": np.where(rng.random(n) < 0.5, "F", "M"),
                    **{ind: pd.array(dep[ind], dtype="boolean") for ind in INDICATORS},
                    "any_referral": pd.array(any_ref, dtype="boolean"),
                    "any_cin": pd.array(any_cin, dtype="boolean"),
                    "any_cpp": pd.array(any_cpp, dtype="boolean"),
                    "entered_care": pd.array(care, dtype="boolean"),
                    "n_referrals": n_ref.astype("int64"),
                    "exposure_years": np.full(n, 2.0),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def children_block(code, n, deprived, referred=0, in_care=0):
    """``n`` children of one LA, all deprived in ``deprived``; the first ``referred`` have
    one referral (and are children in need), the first ``in_care`` entered care."""
    idx = np.arange(n)
    ref = idx < referred
    return pd.DataFrame(
        {
            "la_code": code,
            "age": 10,
            "sex": "F",
            **{i: pd.array([i in deprived] * n, dtype="boolean") for i in INDICATORS},
            "any_referral": pd.array(ref, dtype="boolean"),
            "any_cin": pd.array(ref, dtype="boolean"),
            "any_cpp": pd.array([False] * n, dtype="boolean"),
            "entered_care": pd.array(idx < in_care, dtype="boolean"),
            "n_referrals": ref.astype("int64"),
            "exposure_years": 2.0,
        }
    )


#: Five local authorities for the disclosure and page tests: E06000004 has 7 children;
#: E06000005 has 500 children of whom 6 are MDH.
PROFILE_CODES = ["E06000001", "E06000002", "E06000003", "E06000004", "E06000005"]
PROFILE_NAMES = [
    "Hartlepool",
    "Middlesbrough",
    "Redcar and Cleveland",
    "Tiny Borough",
    "Darlington",
]
SMALL_LA, FEW_MDH_LA = "E06000004", "E06000005"


def profile_children() -> pd.DataFrame:
    """Random children in three LAs plus the two awkward ones."""
    random = make_children(dict(zip(PROFILE_CODES[:3], [1500, 900, 700])), seed=11)
    few = pd.concat(
        [
            children_block(FEW_MDH_LA, 6, {"employment", "fsm", "housing"}, referred=2),
            children_block(FEW_MDH_LA, 200, {"fsm"}, referred=30, in_care=12),
            children_block(FEW_MDH_LA, 294, set(), referred=25, in_care=3),
        ]
    )
    tiny = children_block(SMALL_LA, 7, {"employment", "education"}, referred=1)
    return pd.concat([random, tiny, few], ignore_index=True)


def profile_areas() -> pd.DataFrame:
    return make_areas(PROFILE_CODES, PROFILE_NAMES)


LOCAL_EXAMPLE = "tests/data/profiles/local_indicators_example.csv"
