"""The index by partition: sufficient statistics per part, gathered exactly.

The Alkire-Foster measures and their household-clustered linearised intervals
(:func:`child_mdh.aggregates.index.inference.af_inference`) depend on the children only
through a few sums per group (block):

- the weighted totals t_b (the ``_totals_frame`` columns: rows, n, q, the summed
  censored scores, and every indicator's uncensored and censored headcount);
- the cross-products of the per-cluster totals, C_b = sum_g t_gb t_gb' (m x m);
- the number of clusters with a row in the block, and the number of clusters G.

The linearised variance of a ratio R = Y / X is G / (G - 1) sum_g (Y_g - R X_g)^2 / X^2,
and sum_g (Y_g - R X_g)^2 = C_yy - 2 R C_xy + R^2 C_xx, so every measure, its SE and its
interval follow from these sums. Each of them is a sum over clusters; a household
(the cluster) lies in one local authority and one region, so the statistics of parts
split by region (or LA) add up to those of England, and the statistics of a group (sex,
age band, LA) add up over the parts that hold it. A job per region can therefore compute
its :class:`SufficientStats` and a last job gather England's, the regions' and every
LA's measures and intervals exactly (:func:`gather`, :func:`inference_from_stats`), the
same numbers as the whole-table computation up to floating-point rounding (tested to
1e-12 in ``tests/aggregates/index/test_partition.py``).

``docs/scale.md`` (Partitioning) describes the path for the workflow.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from child_mdh.aggregates.index.alkire_foster import _check_k, _totals_frame
from child_mdh.aggregates.index.inference import (
    _cluster_codes,
    _group_codes,
    _label,
    _measure_specs,
    _prepare_design,
)

__all__ = ["SufficientStats", "af_sufficient_stats", "gather", "inference_from_stats"]


@dataclass
class SufficientStats:
    """The sums the measures and their clustered intervals need, per block.

    Block 0 is every child of the part ('All'); blocks 1.. are the groups of ``by``
    (their key values in ``keys``, one row per block after the first).
    """

    indicators: list[str]
    columns: list[str]  # the totals' columns (``_totals_frame``)
    by: list[str]
    keys: pd.DataFrame  # (B - 1) rows of group keys
    totals: np.ndarray  # (B, m)
    cross: np.ndarray  # (B, m, m): sum over clusters of t_g t_g'
    n_clusters: np.ndarray  # (B,) clusters with a row in the block
    G: int  # clusters in the part
    k: float


def af_sufficient_stats(
    deprivations: pd.DataFrame,
    weights: Mapping[str, float],
    k: float,
    cluster: str,
    by: str | Sequence[str] | None = None,
) -> SufficientStats:
    """The sufficient statistics of one part (for example one region's children).

    Inputs as :func:`child_mdh.aggregates.index.inference.af_inference` (indicator
    columns, ``by`` columns and the ``cluster`` column). Clusters must not cross parts
    (households do not cross regions) for :func:`gather` to be exact.
    """
    k = _check_k(k)
    prep = _prepare_design(deprivations, weights, by, cluster, None)
    rows, _, _ = _totals_frame(prep, k)
    T = rows.to_numpy()
    m = T.shape[1]
    cl = _cluster_codes(prep)
    G = int(cl.max()) + 1 if len(cl) else 0
    gcode, keys = _group_codes(prep)
    L = len(keys) if prep.by else 0
    B = 1 + L
    totals = np.zeros((B, m))
    cross = np.zeros((B, m, m))
    n_clusters = np.zeros(B, dtype=np.int64)
    blocks = [(np.zeros(len(cl), dtype=np.int64), 1, 0)]
    if prep.by:
        blocks.append((gcode, L, 1))
    for code, n_codes, offset in blocks:
        key = cl * n_codes + code
        inv, uk = pd.factorize(key)
        agg = np.empty((len(uk), m))
        for j in range(m):
            agg[:, j] = np.bincount(inv, weights=T[:, j], minlength=len(uk))
        block = np.asarray(uk, dtype=np.int64) % n_codes
        order = np.argsort(block, kind="stable")
        block, agg = block[order], agg[order]
        starts = np.searchsorted(block, np.arange(n_codes))
        ends = np.searchsorted(block, np.arange(n_codes), side="right")
        for b in range(n_codes):
            part = agg[starts[b] : ends[b]]
            totals[offset + b] = part.sum(axis=0)
            cross[offset + b] = part.T @ part
            n_clusters[offset + b] = int((part[:, 0] > 0).sum())
    return SufficientStats(
        indicators=list(prep.indicators),
        columns=list(rows.columns),
        by=list(prep.by),
        keys=keys.reset_index(drop=True) if prep.by else pd.DataFrame(),
        totals=totals,
        cross=cross,
        n_clusters=n_clusters,
        G=G,
        k=k,
    )


def gather(parts: Iterable[SufficientStats]) -> SufficientStats:
    """The statistics of the union of disjoint parts (clusters never shared between parts).

    'All' is the sum over the parts; each group's sums add over the parts that hold it;
    the groups come out sorted by their keys, as :func:`af_inference` sorts them.
    """
    parts = list(parts)
    if not parts:
        raise ValueError("gather needs at least one part")
    first = parts[0]
    for p in parts[1:]:
        if p.columns != first.columns or p.by != first.by or p.k != first.k:
            raise ValueError("parts computed with different indicators, groups or cut-off")
    totals0 = np.sum([p.totals[0] for p in parts], axis=0)
    cross0 = np.sum([p.cross[0] for p in parts], axis=0)
    n0 = int(sum(int(p.n_clusters[0]) for p in parts))
    G = sum(p.G for p in parts)
    if not first.by:
        return SufficientStats(
            first.indicators,
            first.columns,
            [],
            pd.DataFrame(),
            totals0[None, :],
            cross0[None, :, :],
            np.array([n0]),
            G,
            first.k,
        )
    keys = pd.concat([p.keys for p in parts], ignore_index=True)
    gb = keys.groupby(first.by, dropna=False, sort=True, observed=True)
    code = gb.ngroup().to_numpy()
    out_keys = gb.size().reset_index()[first.by]
    L = len(out_keys)
    m = len(first.columns)
    totals = np.zeros((L, m))
    cross = np.zeros((L, m, m))
    n_clusters = np.zeros(L, dtype=np.int64)
    tot_all = np.concatenate([p.totals[1:] for p in parts])
    cross_all = np.concatenate([p.cross[1:] for p in parts])
    ncl_all = np.concatenate([p.n_clusters[1:] for p in parts])
    np.add.at(totals, code, tot_all)
    np.add.at(cross, code, cross_all)
    np.add.at(n_clusters, code, ncl_all)
    return SufficientStats(
        first.indicators,
        first.columns,
        list(first.by),
        out_keys.reset_index(drop=True),
        np.vstack([totals0[None, :], totals]),
        np.concatenate([cross0[None, :, :], cross]),
        np.concatenate([[n0], n_clusters]),
        G,
        first.k,
    )


def inference_from_stats(
    st: SufficientStats, confidence: float = 0.95, measures: Sequence[str] | None = None
) -> pd.DataFrame:
    """Estimates, linearised SEs and intervals from sufficient statistics: the table
    :func:`child_mdh.aggregates.index.inference.af_inference` returns (method
    ``linearization``), with the same columns, rows and order."""
    specs = _measure_specs(st.indicators)
    if measures is not None:
        specs = [s for s in specs if s[0] in measures]
    col = {c: i for i, c in enumerate(st.columns)}
    G = st.G
    alpha = 1 - confidence
    df_design = max(G - 1, 0)
    tq = stats.t.ppf(1 - alpha / 2, df_design) if df_design > 0 else np.nan
    labels = ["All"] + (_label(st.keys, st.by) if st.by else [])
    n_obs = st.totals[:, col["_obs"]]
    frames = []
    for m, y, x in specs:
        iy, ix = col[y], col[x]
        X = st.totals[:, ix]
        with np.errstate(invalid="ignore", divide="ignore"):
            R = st.totals[:, iy] / X
            ss = st.cross[:, iy, iy] - 2 * R * st.cross[:, iy, ix] + R * R * st.cross[:, ix, ix]
            ss = np.maximum(ss, 0.0) / (X * X)
        v = G / (G - 1) * ss if G > 1 else np.full(len(X), np.nan)
        ok = (st.n_clusters >= 2) & np.isfinite(R)
        se = np.where(ok, np.sqrt(v), np.nan)
        frame = pd.DataFrame(
            {
                "measure": m,
                "group": labels,
                "estimate": R,
                "se": se,
                "lower": np.clip(R - tq * se, 0.0, 1.0),
                "upper": np.clip(R + tq * se, 0.0, 1.0),
                "n": n_obs.astype("int64"),
                "n_clusters": st.n_clusters.astype("int64"),
                "df": float(df_design),
                "method": "linearization",
            }
        )
        if st.by:
            key_rows = pd.concat(
                [pd.DataFrame({c: [pd.NA] for c in st.by}), st.keys], ignore_index=True
            )
            for c in reversed(st.by):
                frame.insert(2, c, key_rows[c].to_numpy())
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True)
    out.attrs.update(
        {
            "k": float(st.k),
            "confidence": confidence,
            "n_clusters_total": G,
            "method": "linearization",
        }
    )
    return out
