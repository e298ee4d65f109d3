"""Coverage of the index intervals under repeated sampling from a known population.

:func:`simulate_clustered_deprivations` builds a finite population of clustered,
correlated deprivations; :func:`coverage_study` draws two-stage samples from it and
records how often the intervals of
:func:`child_mdh.aggregates.index.inference.af_inference` cover the population's H, A
and M0 (``docs/index-methods.md``, section 7).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from child_mdh.aggregates.index.alkire_foster import (
    DEFAULT_INDICATORS,
    DEFAULT_K,
    DEFAULT_WEIGHTS,
    IndexInputError,
    alkire_foster,
)
from child_mdh.aggregates.index.inference import af_inference


def simulate_clustered_deprivations(
    n_clusters: int = 1000,
    mean_cluster_size: int = 400,
    seed=0,
    indicators: Sequence[str] = DEFAULT_INDICATORS,
    prevalence: Sequence[float] | None = None,
    cluster_sd: float = 0.5,
    person_sd: float = 1.0,
) -> pd.DataFrame:
    """A finite population of clustered, correlated 0/1 deprivations (for checking SEs).

    Model (a latent-threshold model): g_ij = 1[a_j + u_c + v_i + e_ij > 0] with cluster
    effect u_c ~ N(0, cluster_sd^2) shared by all indicators and children of the cluster,
    child effect v_i ~ N(0, person_sd^2) shared across indicators (so deprivations
    co-occur), and e_ij ~ N(0, 1). a_j is set so that the marginal prevalence of
    indicator j is ``prevalence[j]`` (default 0.35, 0.25, 0.3, 0.2, 0.2). Cluster sizes
    are lognormal around ``mean_cluster_size`` (at least 20). Returns the indicators and
    a ``cluster`` column.
    """
    rng = np.random.default_rng(seed)
    indicators = list(indicators)
    if prevalence is None:
        prevalence = [0.35, 0.25, 0.3, 0.2, 0.2, 0.2, 0.2, 0.2][: len(indicators)]
    if len(prevalence) != len(indicators):
        raise IndexInputError("give one prevalence per indicator.")
    sizes = np.maximum(
        20, np.round(mean_cluster_size * rng.lognormal(-0.125, 0.5, n_clusters))
    ).astype(np.int64)
    cluster = np.repeat(np.arange(n_clusters), sizes)
    n = len(cluster)
    u = rng.normal(0, cluster_sd, n_clusters)[cluster]
    v = rng.normal(0, person_sd, n)
    total_sd = np.sqrt(cluster_sd**2 + person_sd**2 + 1.0)
    data = {}
    for name, p in zip(indicators, prevalence):
        a = stats.norm.ppf(p) * total_sd
        data[name] = (a + u + v + rng.normal(0, 1, n) > 0).astype(np.int8)
    data["cluster"] = cluster
    return pd.DataFrame(data)


def _sample_two_stage(
    pop_cluster_start: np.ndarray, pop_sizes: np.ndarray, n_clusters: int, per_cluster: int, rng
) -> tuple[np.ndarray, np.ndarray]:
    """Row positions of a two-stage sample and their sampling weights N_c / m_c."""
    chosen = rng.choice(len(pop_sizes), size=n_clusters, replace=False)
    sizes = pop_sizes[chosen]
    starts = pop_cluster_start[chosen]
    total = int(sizes.sum())
    owner = np.repeat(np.arange(n_clusters), sizes)
    offset = np.arange(total) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    pos = np.repeat(starts, sizes) + offset
    order = np.lexsort((rng.random(total), owner))
    rank = np.empty(total, dtype=np.int64)
    rank[order] = np.arange(total) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    m = np.minimum(per_cluster, sizes)
    keep = rank < m[owner]
    weight = (sizes / m)[owner]
    return pos[keep], weight[keep]


def coverage_study(
    n_reps: int,
    n: int,
    n_clusters: int = 40,
    population: pd.DataFrame | None = None,
    weights: Mapping[str, float] | None = None,
    k: float = DEFAULT_K,
    confidence: float = 0.95,
    method: str = "linearization",
    n_boot: int = 199,
    seed=0,
) -> pd.DataFrame:
    """Coverage of the confidence intervals for H, A and M0 under repeated sampling.

    A finite clustered population (``population``, default
    :func:`simulate_clustered_deprivations` with 1,000 clusters) has known H, A, M0.
    Each replication draws ``n_clusters`` clusters without replacement and then about
    ``n / n_clusters`` children by simple random sampling within each (weights N_c/m_c),
    computes :func:`af_inference` clustered by cluster, and records whether each interval
    covers the population value. Returns, per measure: ``true_value``, ``coverage``,
    ``mean_estimate``, ``bias``, ``sd_estimate`` (empirical SE), ``mean_se``,
    ``se_ratio`` (mean_se / sd_estimate), ``n_reps``, ``n``, ``n_clusters``.
    """
    rng = np.random.default_rng(seed)
    pop = (
        simulate_clustered_deprivations(seed=rng.integers(2**31))
        if population is None
        else population
    )
    if "cluster" not in pop.columns:
        raise IndexInputError("population needs a 'cluster' column.")
    pop = pop.sort_values("cluster", kind="stable").reset_index(drop=True)
    ind_cols = [c for c in pop.columns if c != "cluster"]
    weights = (
        dict(weights)
        if weights is not None
        else (
            DEFAULT_WEIGHTS
            if set(ind_cols) == set(DEFAULT_WEIGHTS)
            else dict.fromkeys(ind_cols, 1.0)
        )
    )
    truth = alkire_foster(pop[ind_cols], weights, k)
    true = {"H": truth.H, "A": truth.A, "M0": truth.M0}
    ccodes, _ = pd.factorize(pop["cluster"], sort=False)
    sizes = np.bincount(ccodes)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    per_cluster = max(1, n // n_clusters)
    g_all = pop[ind_cols]
    records = {m: {"est": [], "se": [], "cover": []} for m in true}
    for _ in range(n_reps):
        pos, w = _sample_two_stage(starts, sizes, n_clusters, per_cluster, rng)
        sample = g_all.iloc[pos].reset_index(drop=True)
        sample["cluster"] = ccodes[pos]
        res = af_inference(
            sample,
            weights,
            k,
            cluster="cluster",
            sample_weight=w,
            confidence=confidence,
            method=method,
            n_boot=n_boot,
            seed=rng.integers(2**31),
            measures=list(true),
        )
        for row in res.itertuples(index=False):
            rec = records[row.measure]
            rec["est"].append(row.estimate)
            rec["se"].append(row.se)
            rec["cover"].append(bool(row.lower <= true[row.measure] <= row.upper))
    out = []
    for m, rec in records.items():
        est = np.asarray(rec["est"], dtype=float)
        se = np.asarray(rec["se"], dtype=float)
        sd = float(np.nanstd(est, ddof=1))
        out.append(
            {
                "measure": m,
                "true_value": true[m],
                "coverage": float(np.mean(rec["cover"])),
                "mean_estimate": float(np.nanmean(est)),
                "bias": float(np.nanmean(est) - true[m]),
                "sd_estimate": sd,
                "mean_se": float(np.nanmean(se)),
                "se_ratio": float(np.nanmean(se) / sd),
                "n_reps": n_reps,
                "n": n,
                "n_clusters": n_clusters,
                "method": method,
            }
        )
    return pd.DataFrame(out)
