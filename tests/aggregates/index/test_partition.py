"""The index by region partition: sufficient statistics gathered from the parts give the
same measures, SEs and intervals as the whole table (to 1e-12)."""

import numpy as np
import pandas as pd
import pytest

from child_mdh.aggregates.index.alkire_foster import DEFAULT_WEIGHTS
from child_mdh.aggregates.index.inference import af_inference
from child_mdh.aggregates.index.partition import (
    af_sufficient_stats,
    gather,
    inference_from_stats,
)
from child_mdh.aggregates.index.tables import age_band

W = dict(DEFAULT_WEIGHTS)
IND = list(W)


def _children(n_households=3000, seed=7):
    """Households of 1-4 children sharing most deprivations, in 12 LAs of 4 regions;
    some FSM missing (excluded from the index, as in the pipeline)."""
    rng = np.random.default_rng(seed)
    size = rng.integers(1, 5, n_households)
    hh = np.repeat(np.arange(n_households), size)
    la_of_hh = rng.integers(0, 12, n_households)
    la = la_of_hh[hh]
    base = rng.random((n_households, len(IND))) < np.array([0.3, 0.25, 0.2, 0.35, 0.2])
    g = base[hh].copy()
    flip = rng.random(g.shape) < 0.1
    g[flip] = ~g[flip]
    df = pd.DataFrame(g, columns=IND)
    for c in IND:
        df[c] = df[c].astype("boolean")
    df.loc[rng.random(len(df)) < 0.03, "fsm"] = pd.NA
    df["household_id"] = [f"H{h:06d}" for h in hh]
    df["la_code"] = [f"E0{la_:07d}" for la_ in la]
    df["region_code"] = [f"E1{la_ % 4:07d}" for la_ in la]
    df["sex"] = rng.choice(["F", "M"], len(df))
    df["age"] = rng.integers(5, 16, len(df))
    df["age_band"] = age_band(df["age"])
    return df


def _parts(df, by):
    cols = [*IND, "household_id", *([by] if by else [])]
    return [
        af_sufficient_stats(part[cols], W, 0.4, cluster="household_id", by=by)
        for _, part in df.groupby("region_code", sort=False)
    ]


def _compare(whole, gathered):
    assert list(whole.columns) == list(gathered.columns)
    assert len(whole) == len(gathered)
    for c in whole.columns:
        a, b = whole[c], gathered[c]
        if pd.api.types.is_float_dtype(a):
            np.testing.assert_allclose(
                b.to_numpy(float), a.to_numpy(float), rtol=1e-12, atol=1e-12, equal_nan=True
            )
        else:
            assert a.astype(str).tolist() == b.astype(str).tolist(), c


@pytest.mark.parametrize("by", [None, "la_code", "region_code", "sex", "age_band"])
def test_gathered_regions_equal_the_whole_table(by):
    df = _children()
    cols = [*IND, "household_id", *([by] if by else [])]
    whole = af_inference(df[cols], W, 0.4, cluster="household_id", by=by)
    gathered = inference_from_stats(gather(_parts(df, by)))
    _compare(whole, gathered)
    # the parts are not a trivial split: every region holds several LAs and households
    assert len(_parts(df, None)) == 4
    assert gathered.attrs["n_clusters_total"] == whole.attrs["n_clusters_total"]


def test_one_region_alone_is_that_region_of_the_whole_table():
    df = _children()
    cols = [*IND, "household_id", "region_code"]
    whole = af_inference(df[cols], W, 0.4, cluster="household_id", by="region_code")
    region = df["region_code"].iloc[0]
    alone = inference_from_stats(
        af_sufficient_stats(
            df.loc[df["region_code"] == region, cols[:-1]], W, 0.4, cluster="household_id"
        )
    )
    # estimates are the region's; the SE's G/(G-1) and t use the region's clusters only,
    # so the England-wide design needs the gathered G: compare the estimates here
    mine = whole[whole["region_code"].astype(str) == region].reset_index(drop=True)
    np.testing.assert_allclose(alone["estimate"], mine["estimate"], rtol=1e-12)
    assert (alone["n"].to_numpy() == mine["n"].to_numpy()).all()


def test_gather_refuses_parts_of_different_settings():
    df = _children(300)
    a = af_sufficient_stats(df[[*IND, "household_id"]], W, 0.4, cluster="household_id")
    b = af_sufficient_stats(df[[*IND, "household_id"]], W, 0.6, cluster="household_id")
    with pytest.raises(ValueError):
        gather([a, b])
