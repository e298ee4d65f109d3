"""Area-level fallback: the LSOA's census share of households deprived in >= k dimensions."""

import numpy as np
import pandas as pd
import pytest

from child_mdh.sources.la_returns import AREA_LEVEL_CAVEAT, LAReturnError, area_level_domains
from child_mdh.sources.la_returns.local_domains import LSOA_COUNT_COLUMNS, read_lsoa_counts

from paths import shared_fixture


def _counts(rows: dict) -> pd.DataFrame:
    return pd.DataFrame(
        [{"lsoa_code": k, **dict(zip(LSOA_COUNT_COLUMNS, v))} for k, v in rows.items()]
    )


def test_shares_by_hand():
    counts = _counts(
        {
            "E01000001": [10, 20, 30, 30, 10],
            "E01000002": [5, 0, 0, 0, 0],
            "E01000003": [0, 0, 0, 0, 0],
        }
    )
    kids = pd.DataFrame(
        {
            "pupil_id": ["c1", "c2", "c3", "c4", "c5"],
            "lsoa_code": ["E01000001", "E01000002", "E01000003", "E01999999", " e01000001 "],
        }
    )
    out = area_level_domains(kids, counts).set_index("pupil_id")
    # E01000001: N = 10+20+30+30+10 = 100; >=1: 90/100, >=2: 70/100, >=3: 40/100, >=4: 10/100;
    # mean = (1*20 + 2*30 + 3*30 + 4*10) / 100 = 2.1
    got = (
        out.loc[
            "c1",
            [
                "area_share_deprived_ge1",
                "area_share_deprived_ge2",
                "area_share_deprived_ge3",
                "area_share_deprived_ge4",
                "area_mean_dimensions",
            ],
        ]
        .astype(float)
        .to_numpy()
    )
    np.testing.assert_allclose(got, [0.9, 0.7, 0.4, 0.1, 2.1])
    assert out.loc["c1", "area_households_n"] == 100
    # E01000002: 5 households, none deprived
    assert out.loc["c2", "area_share_deprived_ge1"] == 0.0
    # no households, or LSOA not in the counts: missing, not zero
    assert np.isnan(out.loc["c3", "area_share_deprived_ge1"]) and not out.loc["c3", "area_matched"]
    assert np.isnan(out.loc["c4", "area_share_deprived_ge1"]) and not out.loc["c4", "area_matched"]
    # codes are matched whatever their case and spaces
    assert out.loc["c5", "area_share_deprived_ge2"] == pytest.approx(0.7)
    assert out.attrs["caveat"] == AREA_LEVEL_CAVEAT
    assert "not the child's household" in AREA_LEVEL_CAVEAT


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"households_2_dimensions": "-1"}, "whole numbers, 0 or more"),
        ({"households_2_dimensions": "3.5"}, "whole numbers, 0 or more"),
        ({"households_2_dimensions": "many"}, "row 2: 'many'"),
        ({"lsoa_code": "E01000002"}, "listed once"),
    ],
)
def test_bad_counts_explained(bad, message):
    counts = _counts({"E01000001": [1, 2, 3, 4, 5], "E01000002": [1, 1, 1, 1, 1]}).astype(str)
    for col, value in bad.items():
        counts.loc[0, col] = value
    with pytest.raises(LAReturnError, match=message):
        area_level_domains(pd.DataFrame({"lsoa_code": ["E01000001"]}), counts)


def test_missing_count_column_explained():
    counts = _counts({"E01000001": [1, 2, 3, 4, 5]}).drop(columns="households_4_dimensions")
    with pytest.raises(LAReturnError, match="households_4_dimensions missing"):
        area_level_domains(pd.DataFrame({"lsoa_code": ["E01000001"]}), counts)


def test_published_england_share_recovered_from_lsoa_counts():
    CENSUS = shared_fixture("census")
    # ONS TS011, England 2021: 48.43% of households not deprived in any dimension, so the
    # household-weighted mean of the LSOA shares deprived in >= 1 dimension is 51.57%
    counts = read_lsoa_counts(CENSUS / "lsoa_household_deprivation_2021.csv.gz")
    assert len(counts) == 33755
    out = area_level_domains(counts[["lsoa_code"]], counts)
    w = out["area_households_n"].astype(float)
    share = (out["area_share_deprived_ge1"] * w).sum() / w.sum()
    assert share == pytest.approx(1 - 0.4843, abs=0.0001)
    assert w.sum() == 23_435_995
