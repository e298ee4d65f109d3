"""The index by partition: sufficient statistics per part, gathered exactly.

The Alkire-Foster measures and their household-clustered linearised intervals
(:func:`child_mdh.aggregates.index.inference.af_inference`) depend on the children only
through a few sums per group (block):

- the weighted totals t_b (the ``_totals_frame`` columns: rows, n, q, the summed
  censored scores, and every indicator's uncensored and censored headcount);
- for every measure R = Y / X, three sums over the clusters g of the block, about the
  block's own ratio R_b: S0 = sum_g (Y_g - R_b X_g)^2, S1 = sum_g X_g (Y_g - R_b X_g)
  and S2 = sum_g X_g^2;
- the number of clusters with a row in the block, and the number of clusters G.

The linearised variance of R is G / (G - 1) S0 / X^2. Parts p with ratios R_p combine
into the union's ratio R = sum Y / sum X by
S0 = sum_p [S0_p + 2 (R_p - R) S1_p + (R_p - R)^2 S2_p] (and S1 likewise), an identity
that, unlike expanding the square into raw cross-products, loses no precision to
cancellation (the parallel form of the variance update of Chan, Golub and LeVeque 1979).
Each of these sums is a sum over clusters; a household
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
    s0: np.ndarray  # (B, measures): sum_g (Y_g - R_b X_g)^2, R_b the block's ratio
    s1: np.ndarray  # (B, measures): sum_g X_g (Y_g - R_b X_g)
    s2: np.ndarray  # (B, measures): sum_g X_g^2
    n_clusters: np.ndarray  # (B,) clusters with a row in the block
    G: int  # clusters in the part
    k: float


def _pairs(columns: list[str], indicators: list[str]) -> list[tuple[str, int, int]]:
    """(measure, numerator column, denominator column) of every measure."""
    col = {c: i for i, c in enumerate(columns)}
    return [(m, col[y], col[x]) for m, y, x in _measure_specs(indicators)]


def _ratio(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """y / x, 0 where x is 0 (a block with no denominator: every residual is then y)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(x != 0, y / np.where(x != 0, x, 1.0), 0.0)


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
    pairs = _pairs(list(rows.columns), list(prep.indicators))
    cl = _cluster_codes(prep)
    G = int(cl.max()) + 1 if len(cl) else 0
    gcode, keys = _group_codes(prep)
    L = len(keys) if prep.by else 0
    B = 1 + L
    totals = np.zeros((B, m))
    s0, s1, s2 = (np.zeros((B, len(pairs))) for _ in range(3))
    n_clusters = np.zeros(B, dtype=np.int64)
    blocks = [(np.zeros(len(cl), dtype=np.int64), 1, 0)]
    if prep.by:
        blocks.append((gcode, L, 1))
    for code, n_codes, offset in blocks:
        inv, uk = pd.factorize(cl * n_codes + code)
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
            tot = part.sum(axis=0)
            totals[offset + b] = tot
            n_clusters[offset + b] = int((part[:, 0] > 0).sum())
            for j, (_, iy, ix) in enumerate(pairs):
                y, x = part[:, iy], part[:, ix]
                r = y - _ratio(tot[iy], tot[ix]) * x
                s0[offset + b, j] = r @ r
                s1[offset + b, j] = x @ r
                s2[offset + b, j] = x @ x
    return SufficientStats(
        indicators=list(prep.indicators),
        columns=list(rows.columns),
        by=list(prep.by),
        keys=keys.reset_index(drop=True) if prep.by else pd.DataFrame(),
        totals=totals,
        s0=s0,
        s1=s1,
        s2=s2,
        n_clusters=n_clusters,
        G=G,
        k=k,
    )


def _combine(code: np.ndarray, n: int, totals, s0, s1, s2, n_clusters, pairs):
    """Sum the blocks with the same ``code`` (0..n-1), re-centring S0 and S1 on each
    union's ratio."""
    out_totals = np.zeros((n, totals.shape[1]))
    np.add.at(out_totals, code, totals)
    out_n = np.zeros(n, dtype=np.int64)
    np.add.at(out_n, code, n_clusters)
    out = [np.zeros((n, len(pairs))) for _ in range(3)]
    for j, (_, iy, ix) in enumerate(pairs):
        d = (
            _ratio(totals[:, iy], totals[:, ix])
            - _ratio(out_totals[:, iy], out_totals[:, ix])[code]
        )
        np.add.at(out[0][:, j], code, s0[:, j] + 2 * d * s1[:, j] + d * d * s2[:, j])
        np.add.at(out[1][:, j], code, s1[:, j] + d * s2[:, j])
        np.add.at(out[2][:, j], code, s2[:, j])
    return out_totals, out[0], out[1], out[2], out_n


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
    pairs = _pairs(first.columns, first.indicators)
    G = sum(p.G for p in parts)

    def stacked(rows: slice):
        return [
            np.concatenate([getattr(p, a)[rows] for p in parts])
            for a in ("totals", "s0", "s1", "s2", "n_clusters")
        ]

    everyone = _combine(np.zeros(len(parts), dtype=np.int64), 1, *stacked(slice(0, 1)), pairs)
    if not first.by:
        return SufficientStats(
            first.indicators, first.columns, [], pd.DataFrame(), *everyone, G, first.k
        )
    keys = pd.concat([p.keys for p in parts], ignore_index=True)
    gb = keys.groupby(first.by, dropna=False, sort=True, observed=True)
    code = gb.ngroup().to_numpy()
    out_keys = gb.size().reset_index()[first.by].reset_index(drop=True)
    groups = _combine(code, len(out_keys), *stacked(slice(1, None)), pairs)
    merged = [np.concatenate([a, b]) for a, b in zip(everyone, groups, strict=True)]
    return SufficientStats(
        first.indicators, first.columns, list(first.by), out_keys, *merged, G, first.k
    )


def inference_from_stats(
    st: SufficientStats, confidence: float = 0.95, measures: Sequence[str] | None = None
) -> pd.DataFrame:
    """Estimates, linearised SEs and intervals from sufficient statistics: the table
    :func:`child_mdh.aggregates.index.inference.af_inference` returns (method
    ``linearization``), with the same columns, rows and order."""
    pairs = [
        (j, m, iy, ix)
        for j, (m, iy, ix) in enumerate(_pairs(st.columns, st.indicators))
        if measures is None or m in measures
    ]
    G = st.G
    alpha = 1 - confidence
    df_design = max(G - 1, 0)
    tq = stats.t.ppf(1 - alpha / 2, df_design) if df_design > 0 else np.nan
    labels = ["All"] + (_label(st.keys, st.by) if st.by else [])
    frames = []
    n_obs = st.totals[:, st.columns.index("_obs")]
    for j, m, iy, ix in pairs:
        X = st.totals[:, ix]
        with np.errstate(invalid="ignore", divide="ignore"):
            R = st.totals[:, iy] / X
            ss = st.s0[:, j] / (X * X)
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
