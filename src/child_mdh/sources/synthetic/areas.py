"""England's local authorities and their household deprivation counts (packaged ONS data).

Source: ONS Census 2011 QS119EW and Census 2021 TS011, households by number of deprivation
dimensions, summed to upper-tier local authorities (see ``data/PROVENANCE.md``; Open
Government Licence v3.0). These counts cover all households. Households with dependent
children differ (fewer pensioner households deprived in health and education), and no split
for them is published, so the generator shifts every LA's distribution by one common
constant on the cumulative-logit scale (:func:`shift_count_distribution`), solved so that the
national share of children in households deprived in at least one dimension matches the
closest published figure (41.8%, 2011 Census, Welsh birth cohort).
"""

from __future__ import annotations

from importlib import resources

import numpy as np
import pandas as pd
from scipy.optimize import brentq

from child_mdh.contract import tables as contract
from child_mdh.sources.synthetic import calibration
from child_mdh.sources.synthetic.sampling import expit, logit

COUNT_COLUMNS = tuple(f"households_{c}_dimensions" for c in range(5))
SOURCE_TABLE = {2011: "ONS Census 2011 QS119EW", 2021: "ONS Census 2021 TS011"}


def _data_path(name: str):
    return resources.files("child_mdh.sources.synthetic").joinpath("data", name)


def load_la_counts(census_year: int) -> pd.DataFrame:
    """The packaged LA table for a census year: codes, names, regions and the 0-4 counts."""
    if census_year not in contract.CENSUS_DAY:
        raise ValueError(
            f"census_year must be one of {sorted(contract.CENSUS_DAY)}, got {census_year!r}"
        )
    with _data_path(f"la_household_deprivation_{census_year}.csv").open("rb") as fh:
        df = pd.read_csv(
            fh,
            dtype={"la_code": "str", "la_name": "str", "region_code": "str", "region_name": "str"},
        )
    for col in COUNT_COLUMNS:
        df[col] = df[col].astype("int64")
    return df.sort_values("la_code").reset_index(drop=True)


def load_lsoa_counts(census_year: int) -> pd.DataFrame:
    """The packaged LSOA table for a census year (lsoa_code, la_code, 0-4 counts)."""
    name = f"lsoa_household_deprivation_{census_year}.csv.gz"
    path = _data_path(name)
    if not path.is_file():
        raise FileNotFoundError(
            f"the packaged file child_mdh/sources/synthetic/data/{name} is missing; reinstall child-mdh "
            "from a full clone, or generate with lsoa=False"
        )
    with path.open("rb") as fh:
        df = pd.read_csv(fh, compression="gzip", dtype={"lsoa_code": "str", "la_code": "str"})
    return df.sort_values(["la_code", "lsoa_code"]).reset_index(drop=True)


def areas_table(la: pd.DataFrame) -> pd.DataFrame:
    """The contract ``areas`` table from the LA counts table."""
    return contract.conform(la[["la_code", "la_name", "region_code", "region_name"]], "areas")


def count_shares(la: pd.DataFrame) -> np.ndarray:
    """Each LA's share of households deprived in 0..4 dimensions, shape (n_LA, 5)."""
    counts = la[list(COUNT_COLUMNS)].to_numpy(dtype=float)
    return counts / counts.sum(axis=1, keepdims=True)


def shift_count_distribution(shares: np.ndarray, delta: float) -> np.ndarray:
    """Shift count distributions by ``delta`` on the cumulative-logit scale.

    With S_c = P(count >= c), c = 1..4, the shifted S'_c = expit(logit(S_c) + delta): a
    proportional-odds shift, the same for every threshold and every LA, so LA rankings and
    spread are kept. Zero shares stay zero.
    """
    shares = np.atleast_2d(np.asarray(shares, dtype=float))
    surv = np.cumsum(shares[:, ::-1], axis=1)[:, ::-1][:, 1:]  # P(C >= 1..4)
    surv = np.clip(surv, 0.0, 1.0)
    inside = (surv > 0) & (surv < 1)
    shifted = np.where(inside, expit(logit(np.where(inside, surv, 0.5)) + delta), surv)
    upper = np.concatenate([np.ones((len(shares), 1)), shifted], axis=1)
    lower = np.concatenate([shifted, np.zeros((len(shares), 1))], axis=1)
    return np.clip(upper - lower, 0.0, 1.0)


def mean_children_by_count(params: dict) -> np.ndarray:
    """Expected dependent children per household for each deprivation count 0..4."""
    hh = params["households"]
    type_given_count = np.asarray(hh["type_given_count"], dtype=float)
    sizes = np.arange(1, 6)
    mean_by_type = np.array(
        [
            np.dot(sizes, hh["children_given_type"][t])
            for t in ("couple", "lone_parent", "multigenerational")
        ]
    )
    return type_given_count @ mean_by_type


def children_share_ge1(la: pd.DataFrame, delta: float, params: dict) -> float:
    """Share of children in households with >= 1 deprived dimension after shift ``delta``.

    Households are allocated to LAs in proportion to the LA's households, so the national
    share is the household-weighted mean over LAs of the child-weighted share.
    """
    weights = la[list(COUNT_COLUMNS)].to_numpy(dtype=float).sum(axis=1)
    p = shift_count_distribution(count_shares(la), delta)
    kids = p * mean_children_by_count(params)[None, :]
    return float((weights * kids[:, 1:].sum(axis=1)).sum() / (weights * kids.sum(axis=1)).sum())


def solve_child_shift(params: dict) -> float:
    """The common cumulative-logit shift for households with dependent children.

    Solved on the 2011 LA counts so that the national share of children in households
    deprived in >= 1 dimension is 41.8% (Welsh birth cohort, 2011 Census; the closest
    published figure). The same shift is used for 2021 (documented assumption).
    """
    la2011 = load_la_counts(2011)
    target = calibration.CHILDREN_GE1_DOMAIN_2011.value
    return float(
        brentq(lambda d: children_share_ge1(la2011, d, params) - target, -6.0, 6.0, xtol=1e-12)
    )
