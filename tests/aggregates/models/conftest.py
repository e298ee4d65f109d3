"""Simulated row-level data with categorical covariates and local-authority clusters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def simulate_rows(n: int = 20_000, n_las: int = 25, seed: int = 1) -> pd.DataFrame:
    """Rows from a known model: count (0-3), sex, age band, LA with random effect.

    ``y`` binary from a cloglog model, ``count`` overdispersed Poisson with exposure
    ``exposure`` (5 years, or 2.5 for a quarter of rows).
    """
    rng = np.random.default_rng(seed)
    las = np.array([f"E{i:08d}" for i in range(n_las)])
    la = rng.integers(0, n_las, n)
    u = rng.normal(0, 0.3, n_las)
    df = pd.DataFrame(
        {
            "count": rng.choice([0, 1, 2, 3], n, p=[0.45, 0.3, 0.17, 0.08]),
            "sex": rng.choice(["F", "M"], n),
            "age_band": rng.choice(["0-4", "5-10", "11-17"], n),
            "la_code": las[la],
        }
    )
    df["mdh"] = df["count"] >= 2
    eta = (
        -2.5
        + 0.6 * (df["count"] == 1)
        + 0.9 * (df["count"] == 2)
        + 1.2 * (df["count"] == 3)
        + 0.1 * (df["sex"] == "M")
        + 0.3 * (df["age_band"] == "0-4")
        + u[la]
    )
    df["y"] = rng.random(n) < 1 - np.exp(-np.exp(eta))
    df["exposure"] = np.where(rng.random(n) < 0.25, 2.5, 5.0)
    df["n_events"] = rng.poisson(df["exposure"] * np.exp(eta - 1) * rng.gamma(2, 0.5, n))
    return df


@pytest.fixture(scope="session")
def rows() -> pd.DataFrame:
    return simulate_rows()
