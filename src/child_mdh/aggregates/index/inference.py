"""Standard errors and confidence intervals for the Alkire-Foster measures.

Every measure is a ratio of weighted totals R = Y / X over the rows used (missing rows
excluded as in :mod:`child_mdh.aggregates.index.alkire_foster`), with per-row weight w_i:

========================  ===================  ==================
measure                   y_i                  x_i
========================  ===================  ==================
H                         I_i (identified)     1
M0                        c_i(k)               1
A = M0 / H                c_i(k)               I_i
uncensored_<j>  (h_j)     g_ij                 1
censored_<j>    (h_j(k))  g_ij I_i             1
========================  ===================  ==================

Linearisation (Taylor series; Woodruff 1971; the delta method for a ratio, which is
what A needs, since it is M0 / H): the influence of row i is
z_i = w_i (y_i - R x_i) / X. With clusters g = 1..G (e.g. local authorities, or
households: children of one household share its domains), the cluster-robust
(sandwich) variance is

    V(R) = G / (G - 1) * sum_g (z_g - zbar)^2,   z_g = sum_{i in g} z_i,

where zbar = 0 for a ratio estimated on the whole sample. This is the with-replacement
ultimate-cluster estimator used by Stata ``svy`` (vce linearized) and R ``survey``;
G / (G - 1) is the usual small-sample factor. Without clusters every row is its own
cluster (G = n). Intervals are estimate +/- t_{G-1} * SE (design degrees of freedom
G - 1, as Stata ``svy``), clipped to [0, 1].

Transformed intervals (``interval="logit"``, for small groups such as local
authorities): the same linearised SE, but the interval is built on the logit scale and
mapped back, so that it lies inside the measure's range and is asymmetric where the
sampling distribution is skewed (the "logit" method of R ``survey::svyciprop`` and of
Stata ``svy: proportion``; Korn & Graubard 1999, *Analysis of Health Surveys*, s. 5.2).
A measure R in (lo, hi) (H, M0 and the headcounts: (0, 1); A: (k, 1], since every MDH
child has c_i >= k) is mapped to p = (R - lo) / (hi - lo) with SE s = SE(R) / (hi - lo);
the interval is

    expit(logit(p) -/+ t_d * s / (p (1 - p)))      (delta method: d logit(p)/dp = 1/(p(1-p)))

mapped back to lo + (hi - lo) p. The t reference has the group's own degrees of freedom,
d = (clusters in the group with x_g > 0) - 1, that is households with a child in the
index for H, M0 and the headcounts and households with an MDH child for A (the
small-sample reference of Korn & Graubard 1998 for domains; for England and regions
d is in the tens of thousands, so t_d = z). An estimate at the edge of its range
(p = 0 or 1: no MDH child, or every MDH child exactly at k) has SE 0 and no logit; its
interval is the exact Clopper-Pearson one for 0 (or m) successes out of m, m the group's
clusters with x_g > 0: [0, 1 - (alpha/2)^(1/m)] on the p scale (Korn & Graubard 1998,
Survey Methodology 24, 193-201: Clopper-Pearson with the sample size where the design
effect cannot be estimated).

Subgroups (``by``) are estimated as domains of the one design: y and x are set to 0
outside the group, the cluster sums run over all G clusters, and the degrees of freedom
stay G - 1. A group observed in fewer than two clusters has no estimable cluster-robust
SE (NaN): for example local-authority estimates clustered by local authority. The
pipeline clusters by household at every level, England and regions included
(:mod:`child_mdh.aggregates.index.tables`; the reasons are in docs/index-methods.md, section 7).

Interpretation: the data are a census, not a sample; the SEs describe uncertainty about
the process that generated the population (a superpopulation view), treating clusters
as independent draws.

Bootstrap (optional): clusters are resampled with replacement (G draws), B times;
replicate totals are computed from per-cluster totals as a sparse product, so a
replicate costs O(G), not O(rows). SE = standard deviation of the replicates; interval
= percentile interval. Seedable (``seed``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import sparse, stats

from child_mdh.aggregates.index.alkire_foster import (
    IndexInputError,
    Prepared,
    _check_k,
    _totals_frame,
    prepare,
)

METHODS = ("linearization", "bootstrap")
#: intervals of the linearisation: symmetric (``wald``) or on the logit scale (``logit``)
INTERVALS = ("wald", "logit")
_CLUSTER_COL = "__cluster__"
_SW_COL = "__sample_weight__"


def _measure_specs(indicators: list[str]) -> list[tuple[str, str, str]]:
    """(measure, numerator total, denominator total) for every measure."""
    specs = [("H", "_q", "_n"), ("A", "_c", "_q"), ("M0", "_c", "_n")]
    specs += [(f"uncensored_{j}", f"u:{j}", "_n") for j in indicators]
    specs += [(f"censored_{j}", f"c:{j}", "_n") for j in indicators]
    return specs


def _prepare_design(deprivations, weights, by, cluster, sample_weight) -> Prepared:
    df = deprivations
    design = []
    if cluster is not None:
        if isinstance(cluster, str):
            if cluster not in df.columns:
                raise IndexInputError(f"cluster column {cluster!r} is not in the table.")
            values = df[cluster]
        else:
            values = pd.Series(np.asarray(cluster), index=df.index)
            if len(values) != len(df):
                raise IndexInputError(f"cluster has {len(values)} values for {len(df)} rows.")
        if values.isna().any():
            raise IndexInputError(
                f"cluster: {int(values.isna().sum())} row(s) have no cluster. Every row needs "
                "its cluster (e.g. la_code or household_id)."
            )
        df = df.drop(columns=[cluster]) if isinstance(cluster, str) else df
        df = df.assign(**{_CLUSTER_COL: values.to_numpy()})
        design.append(_CLUSTER_COL)
    sw = sample_weight
    if sample_weight is not None and not isinstance(sample_weight, str):
        df = df.assign(**{_SW_COL: np.asarray(sample_weight)})
        sw = _SW_COL
    by_cols = [by] if isinstance(by, str) else list(by or [])
    if isinstance(cluster, str) and cluster in by_cols:
        df = df.assign(**{cluster: deprivations[cluster].to_numpy()})
    return prepare(df, weights, by=by, sample_weight=sw, design_columns=design)


def _group_codes(prep: Prepared) -> tuple[np.ndarray, pd.DataFrame]:
    """Group code per valid row and the table of group keys (sorted)."""
    if not prep.by:
        return np.zeros(len(prep.sample_weight), dtype=np.int64), pd.DataFrame(index=[0])
    gb = prep.groups.groupby(prep.by, dropna=False, sort=True, observed=True)
    codes = gb.ngroup().to_numpy().astype(np.int64)
    keys = gb.size().reset_index()[prep.by]
    return codes, keys


def _cluster_codes(prep: Prepared) -> np.ndarray:
    if _CLUSTER_COL in prep.extra:
        codes, _ = pd.factorize(pd.Series(prep.extra[_CLUSTER_COL]), sort=False)
        return codes.astype(np.int64)
    return np.arange(len(prep.sample_weight), dtype=np.int64)


def _column_sums(codes: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Sum the columns of ``values`` within each code 0..n-1 (bincount per column)."""
    if values.shape[0] == 0:
        return np.zeros((n, values.shape[1]))
    out = np.empty((n, values.shape[1]), order="F")
    for j in range(values.shape[1]):
        out[:, j] = np.bincount(codes, weights=values[:, j], minlength=n)
    return out


def _label(keys: pd.DataFrame, by: list[str]) -> list[str]:
    if not by:
        return ["All"]
    return [
        " / ".join("NA" if pd.isna(v) else str(v) for v in row)
        for row in keys[by].itertuples(index=False)
    ]


def af_inference(
    deprivations: pd.DataFrame,
    weights: Mapping[str, float],
    k: float,
    cluster=None,
    by=None,
    sample_weight=None,
    confidence: float = 0.95,
    method: str = "linearization",
    n_boot: int = 999,
    seed=None,
    measures: Sequence[str] | None = None,
    interval: str = "wald",
) -> pd.DataFrame:
    """Estimates, standard errors and confidence intervals for H, A, M0 and headcounts.

    Method: linearisation (Taylor / delta method for ratios of weighted totals) with a
    cluster-robust sandwich variance and the G/(G-1) factor, or a cluster bootstrap;
    details in the module docstring. Inputs as :func:`child_mdh.aggregates.index.alkire_foster.alkire_foster`,
    plus ``cluster`` (column name or array; None = independent rows). ``interval``
    (linearisation only): ``wald``, estimate -/+ t(G-1) SE, or ``logit``, the interval on
    the logit scale of the measure's range with the group's own degrees of freedom (module
    docstring); the bootstrap's interval is always the percentile one.

    Returns a DataFrame with one row per measure and group (overall rows have ``group``
    'All'): ``measure``, ``group``, the ``by`` columns, ``estimate``, ``se``, ``lower``,
    ``upper``, ``n`` (rows used), ``n_clusters`` (clusters with rows in the group),
    ``df`` (t degrees of freedom, linearisation) and ``method``.
    """
    if method not in METHODS:
        raise IndexInputError(f"method={method!r}: choose linearization or bootstrap.")
    if interval not in INTERVALS:
        raise IndexInputError(f"interval={interval!r}: choose wald or logit.")
    if not (0 < confidence < 1):
        raise IndexInputError(f"confidence={confidence}: give a level between 0 and 1, e.g. 0.95.")
    k = _check_k(k)
    prep = _prepare_design(deprivations, weights, by, cluster, sample_weight)
    rows, _, _ = _totals_frame(prep, k)
    specs = _measure_specs(prep.indicators)
    if measures is not None:
        unknown = set(measures) - {s[0] for s in specs}
        if unknown:
            raise IndexInputError(
                f"unknown measure(s) {sorted(unknown)}; choose from {[s[0] for s in specs]}."
            )
        specs = [s for s in specs if s[0] in measures]
    T = rows.to_numpy()  # (n, m), Fortran order: no copy
    col = {c: i for i, c in enumerate(rows.columns)}

    cl = _cluster_codes(prep)
    G = int(cl.max()) + 1 if len(cl) else 0
    gcode, keys = _group_codes(prep)
    L = len(keys)
    # blocks: block 0 = everyone; blocks 1..L = groups (only when by is given)
    blocks = [np.zeros(len(cl), dtype=np.int64)] + ([gcode + 1] if prep.by else [])
    n_blocks = 1 + (L if prep.by else 0)

    # per (cluster, block) totals, as sparse rows keyed by cluster
    key_parts, tot_parts = [], []
    for bi, b in enumerate(blocks):
        if bi == 0 and _CLUSTER_COL not in prep.extra:
            # independent rows: every row is its own cluster, nothing to add up
            uk, agg = cl * n_blocks, T
        elif bi == 0:
            # everyone: the cluster codes 0..G-1 are the keys
            uk, agg = np.arange(G, dtype=np.int64) * n_blocks, _column_sums(cl, T, G)
        else:
            key = cl * n_blocks + b
            inv, uk = pd.factorize(key)
            agg = _column_sums(inv, T, len(uk))
        key_parts.append(np.asarray(uk, dtype=np.int64))
        tot_parts.append(agg)
    keys_all = np.concatenate(key_parts)
    # stacked straight into column-major order (the parts are column-major already; a
    # vstack then a copy to column-major cost two strided passes over every total)
    tot_all = np.empty((sum(len(p) for p in tot_parts), T.shape[1]), order="F")
    start = 0
    for part in tot_parts:
        tot_all[start : start + len(part)] = part
        start += len(part)
    k_cluster = keys_all // n_blocks
    k_block = keys_all % n_blocks

    block_tot = _column_sums(k_block, tot_all, n_blocks)
    n_obs = block_tot[:, col["_obs"]]
    n_clusters_block = np.bincount(
        k_block, weights=(tot_all[:, col["_obs"]] > 0).astype(float), minlength=n_blocks
    )

    with np.errstate(invalid="ignore", divide="ignore"):
        est = {m: block_tot[:, col[y]] / block_tot[:, col[x]] for m, y, x in specs}

    alpha = 1 - confidence
    df_design = max(G - 1, 0)
    if method == "linearization":
        se = {}
        for m, y, x in specs:
            X = block_tot[:, col[x]]
            R = est[m]
            with np.errstate(invalid="ignore", divide="ignore"):
                z = (tot_all[:, col[y]] - R[k_block] * tot_all[:, col[x]]) / X[k_block]
            z = np.where(np.isfinite(z), z, 0.0)
            ss = np.bincount(k_block, weights=z * z, minlength=n_blocks)
            v = G / (G - 1) * ss if G > 1 else np.full(n_blocks, np.nan)
            ok = (n_clusters_block >= 2) & np.isfinite(R)
            se[m] = np.where(ok, np.sqrt(v), np.nan)
        lower, upper, df_out = _linear_intervals(
            interval, specs, est, se, col, tot_all, k_block, n_blocks, alpha, df_design, k
        )
    else:
        se, lower, upper = _bootstrap(
            specs,
            col,
            tot_all,
            k_cluster,
            k_block,
            G,
            n_blocks,
            T.shape[1],
            n_boot,
            seed,
            alpha,
            n_clusters_block,
        )
        df_out = np.nan

    labels = ["All"] + (_label(keys, prep.by) if prep.by else [])
    out_rows = []
    for m, _, _ in specs:
        frame = pd.DataFrame(
            {
                "measure": m,
                "group": labels,
                "estimate": est[m],
                "se": se[m],
                "lower": np.clip(lower[m], 0.0, 1.0),
                "upper": np.clip(upper[m], 0.0, 1.0),
                "n": n_obs.astype("int64"),
                "n_clusters": n_clusters_block.astype("int64"),
                "df": df_out[m] if isinstance(df_out, dict) else df_out,
                "method": method,
            }
        )
        if prep.by:
            key_rows = pd.concat(
                [pd.DataFrame({c: [pd.NA] for c in prep.by}), keys], ignore_index=True
            )
            for c in reversed(prep.by):
                frame.insert(2, c, key_rows[c].to_numpy())
        out_rows.append(frame)
    out = pd.concat(out_rows, ignore_index=True)
    out.attrs.update(
        {
            "k": float(k),
            "confidence": confidence,
            "n_clusters_total": G,
            "n_missing": prep.n_missing,
            "method": method,
        }
    )
    return out


def _linear_intervals(
    interval, specs, est, se, col, tot_all, k_block, n_blocks, alpha, df_design, k
):
    """The linearisation's intervals (``wald`` or ``logit``, module docstring): lower,
    upper and degrees of freedom (one number for ``wald``, per measure and block for
    ``logit``)."""
    if interval == "wald":
        tq = stats.t.ppf(1 - alpha / 2, df_design) if df_design > 0 else np.nan
        lower = {m: est[m] - tq * se[m] for m in est}
        upper = {m: est[m] + tq * se[m] for m in est}
        return lower, upper, float(df_design)
    lower, upper, df_out = {}, {}, {}
    for m, _, x in specs:
        m_clusters = np.bincount(
            k_block, weights=(tot_all[:, col[x]] > 0).astype(float), minlength=n_blocks
        )
        lo = k if m == "A" else 0.0
        lower[m], upper[m] = logit_interval(est[m], se[m], m_clusters, alpha, lo=lo, hi=1.0)
        df_out[m] = np.maximum(m_clusters - 1, 0).astype(float)
    return lower, upper, df_out


def logit_interval(estimate, se, clusters, alpha: float, lo: float = 0.0, hi: float = 1.0):
    """The logit-scale interval of a measure in (``lo``, ``hi``) with standard error
    ``se`` from ``clusters`` clusters, t reference with ``clusters - 1`` degrees of
    freedom; at the edge of the range the Clopper-Pearson interval for 0 (or all) of
    ``clusters`` (method and sources in the module docstring). Arrays in, (lower, upper)
    out; NaN where the SE is NaN or there are fewer than two clusters."""
    r = np.asarray(estimate, dtype=float)
    s = np.asarray(se, dtype=float)
    m = np.asarray(clusters, dtype=float) * np.ones_like(r)
    width = hi - lo
    if width <= 0:  # k = 1: A is 1 by definition, its interval the point
        return np.where(np.isfinite(s), r, np.nan), np.where(np.isfinite(s), r, np.nan)
    p = (r - lo) / width
    edge_tol = 1e-12
    at_low, at_high = p <= edge_tol, p >= 1 - edge_tol
    interior = ~(at_low | at_high) & (s > 0)
    dof = np.where(m >= 2, m - 1, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        tq = stats.t.ppf(1 - alpha / 2, dof)
        half = tq * (s / width) / (p * (1 - p))
        centre = np.log(p) - np.log1p(-p)
        pl = np.where(interior, 1 / (1 + np.exp(-(centre - half))), p)
        pu = np.where(interior, 1 / (1 + np.exp(-(centre + half))), p)
        edge = 1 - (alpha / 2) ** (1 / m)  # Clopper-Pearson bound for 0 of m
    pl = np.where(at_high, 1 - edge, np.where(at_low, 0.0, pl))
    pu = np.where(at_low, edge, np.where(at_high, 1.0, pu))
    bad = ~np.isfinite(s) | (m < 2) | ~np.isfinite(r)
    lower = np.where(bad, np.nan, lo + width * pl)
    upper = np.where(bad, np.nan, lo + width * pu)
    return lower, upper


def _bootstrap(
    specs, col, tot_all, k_cluster, k_block, G, n_blocks, m, n_boot, seed, alpha, n_clusters_block
):
    """Cluster bootstrap from per-cluster totals (sparse G x (blocks*m) matrix)."""
    if n_boot < 2:
        raise IndexInputError("n_boot must be at least 2 (999 is usual).")
    rng = np.random.default_rng(seed)
    rows = np.repeat(k_cluster, m)
    cols = (k_block[:, None] * m + np.arange(m)[None, :]).ravel()
    S = sparse.csr_matrix((tot_all.ravel(), (rows, cols)), shape=(G, n_blocks * m))
    St = S.T.tocsr()
    chunk = max(1, min(n_boot, 2_000_000 // max(G, 1)))
    reps = []
    done = 0
    while done < n_boot:
        b = min(chunk, n_boot - done)
        draws = rng.integers(0, G, size=(b, G))
        flat = (draws + (np.arange(b) * G)[:, None]).ravel()
        counts = np.bincount(flat, minlength=b * G).reshape(b, G).astype(float)
        reps.append(np.asarray(St @ counts.T).T.reshape(b, n_blocks, m))
        done += b
    R = np.concatenate(reps)  # (B, blocks, m)
    se, lower, upper = {}, {}, {}
    for name, y, x in specs:
        with np.errstate(invalid="ignore", divide="ignore"):
            r = R[:, :, col[y]] / R[:, :, col[x]]
        r = np.where(np.isfinite(r), r, np.nan)
        valid = (~np.isnan(r)).sum(axis=0)
        ok = (valid >= 2) & (n_clusters_block >= 2)
        with np.errstate(invalid="ignore"):
            sd = (
                np.nanstd(np.where(ok[None, :], r, np.nan), axis=0, ddof=1)
                if ok.any()
                else np.full(n_blocks, np.nan)
            )
            lo = np.full(n_blocks, np.nan)
            hi = np.full(n_blocks, np.nan)
            if ok.any():
                q = np.nanquantile(r[:, ok], [alpha / 2, 1 - alpha / 2], axis=0)
                lo[ok], hi[ok] = q[0], q[1]
        se[name] = np.where(ok, sd, np.nan)
        lower[name], upper[name] = lo, hi
    return se, lower, upper
