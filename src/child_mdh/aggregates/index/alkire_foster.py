"""Alkire-Foster counting measures: identification, H, A, M0 and their breakdowns.

Notation (Alkire & Foster 2011, "Counting and multidimensional poverty measurement",
J Public Econ 95(7-8): 476-487; Alkire, Foster, Seth, Santos, Roche & Ballon 2015,
"Multidimensional Poverty Measurement and Analysis", OUP, chapter 5):

- d indicators, deprivation g_ij in {0, 1}, weights w_j >= 0 normalised to sum to 1;
- deprivation score c_i = sum_j w_j g_ij; person i is identified when c_i >= k,
  0 < k <= 1 (here: c_i >= k - TOLERANCE, so a score equal to k up to floating-point
  rounding counts, e.g. 0.1 + 0.2 against k = 0.3);
- censored score c_i(k) = c_i if identified else 0; censored g_ij(k) likewise;
- H = q / n, A = sum_i c_i(k) / q, M0 = H * A = mean of c_i(k);
- uncensored headcount h_j = mean g_ij, censored headcount h_j(k) = mean g_ij(k);
  M0 = sum_j w_j h_j(k); contribution of j = w_j h_j(k) / M0 (sums to 1);
- subgroups l with shares n_l / n: M0 = sum_l (n_l / n) M0_l;
- with sample weights every mean is a weighted mean (n and q are weighted totals).

Missing data (OPHI practice; methods.md section 6): a row with any indicator missing is
excluded from every measure and counted (``n_missing``); it is never read as 'not
deprived'. To score such rows on fewer indicators, pass a weight set without the
missing indicator (:func:`over_weight_sets` does this per set).

A = NaN when q = 0 (no one identified) and contributions are NaN when M0 = 0.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
import pandas as pd
from scipy import stats

from child_mdh.contract.vocabulary import INDICATORS
from child_mdh.errors import UserError

#: Scores within this distance below k still count as reaching k (floating point only:
#: genuine differences between scores are multiples of the weights, far larger).
TOLERANCE = 1e-9

DEFAULT_INDICATORS: tuple[str, ...] = INDICATORS
#: Child-MDH default: equal weights over the four census domains and FSM, k = 2/5.
DEFAULT_WEIGHTS: dict[str, float] = dict.fromkeys(DEFAULT_INDICATORS, 0.2)
DEFAULT_K = 0.4
#: Alternative weight sets reported for robustness.
ALTERNATIVE_WEIGHT_SETS: dict[str, dict[str, float]] = {
    "equal_five": dict(DEFAULT_WEIGHTS),
    "census_four": {"employment": 0.25, "education": 0.25, "health": 0.25, "housing": 0.25},
    "fsm_half": {
        "employment": 0.125,
        "education": 0.125,
        "health": 0.125,
        "housing": 0.125,
        "fsm": 0.5,
    },
}


class IndexInputError(UserError):
    """Input to the index is unusable; the message says which column and how to fix it."""


# ---------------------------------------------------------------------------------
# preparation


def normalise_weights(weights: Mapping[str, float]) -> pd.Series:
    """Weights as a Series summing to 1 (errors for negative, missing or all-zero weights)."""
    if not weights:
        raise IndexInputError("weights are empty: give a weight for every indicator.")
    w = pd.Series(dict(weights), dtype="float64")
    if w.isna().any() or not np.isfinite(w.to_numpy()).all():
        raise IndexInputError(f"weights must be finite numbers; got {dict(weights)}.")
    if (w < 0).any():
        neg = ", ".join(w.index[w < 0])
        raise IndexInputError(f"weights must not be negative (indicator(s): {neg}).")
    total = w.sum()
    if total <= 0:
        raise IndexInputError("weights sum to zero: give at least one positive weight.")
    return w / total


def _as_list(by) -> list[str]:
    if by is None:
        return []
    return [by] if isinstance(by, str) else list(by)


@dataclass
class Prepared:
    """Indicator matrix and design columns with the missing rows taken out."""

    indicators: list[str]
    weights: np.ndarray
    g: np.ndarray  # (n_valid, d) float64 of 0/1
    sample_weight: np.ndarray  # (n_valid,)
    groups: pd.DataFrame | None  # by columns of the valid rows
    by: list[str]
    valid: np.ndarray  # bool over the input rows
    n_missing: int
    n_missing_weighted: float
    missing_groups: pd.DataFrame | None  # by columns of the excluded rows
    extra: dict = field(default_factory=dict)

    @property
    def scores(self) -> np.ndarray:
        return self.g @ self.weights


def _indicator_values(df: pd.DataFrame, col: str) -> np.ndarray:
    s = df[col]
    if s.dtype == bool:
        return s.to_numpy(dtype="float64")
    if str(s.dtype) == "boolean":
        return s.to_numpy(dtype="float64", na_value=np.nan)
    try:
        v = pd.to_numeric(s, errors="raise").astype("float64").to_numpy()
    except (TypeError, ValueError):
        v = None
    if v is None or not np.isin(v[~np.isnan(v)], (0.0, 1.0)).all():
        num = pd.to_numeric(s, errors="coerce")
        bad = s.notna() & ~num.isin([0, 1])
        ex = ", ".join(f"row {i}: {val!r}" for i, val in s[bad].head(5).items())
        raise IndexInputError(
            f"indicator {col}: {int(bad.sum())} value(s) are not 0/1 or true/false ({ex}). "
            "Code deprivation as 1 (deprived), 0 (not deprived) or empty (missing)."
        )
    return v


def prepare(
    deprivations: pd.DataFrame,
    weights: Mapping[str, float],
    by=None,
    sample_weight=None,
    design_columns: Sequence[str] = (),
) -> Prepared:
    """Check and split the input: indicators, groups, sample weights, missing rows.

    Every column of ``deprivations`` must be an indicator with a weight, a ``by`` column,
    the ``sample_weight`` column (when given by name) or one of ``design_columns``.
    Rows with any missing indicator are excluded and counted.
    """
    if not isinstance(deprivations, pd.DataFrame):
        raise IndexInputError("deprivations must be a pandas DataFrame.")
    w = normalise_weights(weights)
    by_cols = _as_list(by)
    sw_col = sample_weight if isinstance(sample_weight, str) else None
    reserved = set(by_cols) | set(design_columns) | ({sw_col} if sw_col else set())
    for c in reserved:
        if c not in deprivations.columns:
            raise IndexInputError(
                f"column {c!r} (a by, sample weight or design column) is not in the "
                f"deprivations table (columns: {', '.join(map(str, deprivations.columns))})."
            )
    indicators = list(w.index)
    missing = [i for i in indicators if i not in deprivations.columns]
    if missing:
        raise IndexInputError(
            f"indicator(s) {', '.join(missing)} have a weight but no column in the "
            f"deprivations table (columns: {', '.join(map(str, deprivations.columns))})."
        )
    unweighted = [c for c in deprivations.columns if c not in indicators and c not in reserved]
    if unweighted:
        raise IndexInputError(
            f"column(s) {', '.join(map(str, unweighted))} have no weight. Give each indicator "
            "a weight, pass grouping columns as by=, or select only the indicator and "
            "grouping columns."
        )
    overlap = set(indicators) & reserved
    if overlap:
        raise IndexInputError(
            f"column(s) {', '.join(overlap)} cannot be both an indicator and a "
            "by/sample-weight/design column."
        )

    n_rows = len(deprivations)
    g = (
        np.column_stack([_indicator_values(deprivations, c) for c in indicators])
        if n_rows
        else np.zeros((0, len(indicators)))
    )
    if sample_weight is None:
        sw = np.ones(n_rows)
    else:
        raw = deprivations[sw_col] if sw_col else sample_weight
        sw = pd.to_numeric(pd.Series(np.asarray(raw)), errors="coerce").to_numpy(dtype="float64")
        if len(sw) != n_rows:
            raise IndexInputError(f"sample_weight has {len(sw)} values for {n_rows} rows.")
        if np.isnan(sw).any() or (sw < 0).any() or not np.isfinite(sw).all():
            raise IndexInputError(
                "sample_weight must be finite, non-negative numbers with no gaps "
                f"({int((np.isnan(sw) | (sw < 0)).sum())} bad value(s))."
            )
    valid = ~np.isnan(g).any(axis=1)
    groups = deprivations.loc[valid, by_cols].reset_index(drop=True) if by_cols else None
    missing_groups = deprivations.loc[~valid, by_cols].reset_index(drop=True) if by_cols else None
    extra = {c: deprivations[c].to_numpy()[valid] for c in design_columns}
    return Prepared(
        indicators=indicators,
        weights=w.to_numpy(),
        g=g[valid],
        sample_weight=sw[valid],
        groups=groups,
        by=by_cols,
        valid=valid,
        n_missing=int((~valid).sum()),
        n_missing_weighted=float(sw[~valid].sum()),
        missing_groups=missing_groups,
        extra=extra,
    )


# ---------------------------------------------------------------------------------
# scores and identification


def scores(deprivations: pd.DataFrame, weights: Mapping[str, float]) -> pd.Series:
    """Deprivation score c_i = sum_j w_j g_ij for every row (weights normalised to 1).

    NaN where any indicator is missing (Alkire & Foster 2011, section 4.1). Columns other
    than the weighted indicators are ignored here.
    """
    w = normalise_weights(weights)
    missing = [i for i in w.index if i not in deprivations.columns]
    if missing:
        raise IndexInputError(f"indicator(s) {', '.join(missing)} have a weight but no column.")
    g = (
        np.column_stack([_indicator_values(deprivations, c) for c in w.index])
        if len(deprivations)
        else np.zeros((0, len(w)))
    )
    return pd.Series(g @ w.to_numpy(), index=deprivations.index, name="score")


def _check_k(k: float) -> float:
    k = float(k)
    if not (0 < k <= 1 + TOLERANCE):
        raise IndexInputError(f"k = {k}: the poverty cut-off must be in (0, 1].")
    return k


def identify(scores: pd.Series, k: float) -> pd.Series:
    """Identification: ``scores >= k - TOLERANCE`` (nullable boolean; NA where the score is).

    The dual cut-off's second step (Alkire & Foster 2011, eq. 2): union approach at k =
    the smallest weight, intersection at k = 1.
    """
    k = _check_k(k)
    s = pd.Series(scores, dtype="float64")
    out = pd.array(s.to_numpy() >= k - TOLERANCE, dtype="boolean")
    out[s.isna().to_numpy()] = pd.NA
    return pd.Series(out, index=s.index, name="identified")


def _identified(c: np.ndarray, k: float) -> np.ndarray:
    return c >= k - TOLERANCE


# ---------------------------------------------------------------------------------
# measures


@dataclass
class AFResult:
    """Alkire-Foster measures at one cut-off and weight set."""

    k: float
    weights: pd.Series
    n: float
    q: float
    H: float
    A: float
    M0: float
    n_obs: int
    n_missing: int
    uncensored_headcount: pd.Series
    censored_headcount: pd.Series
    contribution: pd.Series
    groups: pd.DataFrame | None = None

    def summary(self) -> dict:
        """The headline figures as a plain dict."""
        return {
            "k": self.k,
            "n": self.n,
            "q": self.q,
            "H": self.H,
            "A": self.A,
            "M0": self.M0,
            "n_obs": self.n_obs,
            "n_missing": self.n_missing,
        }


def _totals_frame(prep: Prepared, k: float) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Row-level weighted contributions to every total the measures need."""
    c = prep.scores
    ident = _identified(c, k)
    sw = prep.sample_weight
    names = (
        ["_obs", "_n", "_q", "_c"]
        + [f"u:{j}" for j in prep.indicators]
        + [f"c:{j}" for j in prep.indicators]
    )
    d = len(prep.indicators)
    out = np.empty((len(sw), 4 + 2 * d), order="F")  # columns contiguous
    out[:, 0] = 1.0
    out[:, 1] = sw
    out[:, 2] = sw * ident
    out[:, 3] = out[:, 2] * c
    out[:, 4 : 4 + d] = prep.g * sw[:, None]
    out[:, 4 + d :] = out[:, 4 : 4 + d] * ident[:, None]
    return pd.DataFrame(out, columns=names, copy=False), c, ident


def _measures(tot: pd.DataFrame, indicators: list[str], w: np.ndarray) -> pd.DataFrame:
    """Measures from totals (one row per group): n, q, H, A, M0 and indicator breakdowns."""
    n = tot["_n"].to_numpy()
    q = tot["_q"].to_numpy()
    csum = tot["_c"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        H = np.where(n > 0, q / np.where(n > 0, n, 1), np.nan)
        A = np.where(q > 0, csum / np.where(q > 0, q, 1), np.nan)
        M0 = np.where(n > 0, csum / np.where(n > 0, n, 1), np.nan)
        out = {
            "n_obs": tot["_obs"].to_numpy().astype("int64"),
            "n": n,
            "q": q,
            "H": H,
            "A": A,
            "M0": M0,
        }
        for name in indicators:
            out[f"uncensored_{name}"] = tot[f"u:{name}"].to_numpy() / np.where(n > 0, n, np.nan)
        for name in indicators:
            out[f"censored_{name}"] = tot[f"c:{name}"].to_numpy() / np.where(n > 0, n, np.nan)
        for j, name in enumerate(indicators):
            out[f"contribution_{name}"] = np.where(
                M0 > 0, w[j] * out[f"censored_{name}"] / np.where(M0 > 0, M0, 1), np.nan
            )
    return pd.DataFrame(out, index=tot.index)


def _result_from_prepared(prep: Prepared, k: float) -> AFResult:
    k = _check_k(k)
    rows, _, _ = _totals_frame(prep, k)
    total = rows.sum().to_frame().T
    m = _measures(total, prep.indicators, prep.weights).iloc[0]
    ind = prep.indicators
    res = AFResult(
        k=k,
        weights=pd.Series(prep.weights, index=ind, name="weight"),
        n=float(m["n"]),
        q=float(m["q"]),
        H=float(m["H"]),
        A=float(m["A"]),
        M0=float(m["M0"]),
        n_obs=int(m["n_obs"]),
        n_missing=prep.n_missing,
        uncensored_headcount=pd.Series(
            [m[f"uncensored_{i}"] for i in ind],
            index=ind,
            name="uncensored_headcount",
            dtype="float64",
        ),
        censored_headcount=pd.Series(
            [m[f"censored_{i}"] for i in ind], index=ind, name="censored_headcount", dtype="float64"
        ),
        contribution=pd.Series(
            [m[f"contribution_{i}"] for i in ind], index=ind, name="contribution", dtype="float64"
        ),
    )
    if prep.by:
        res.groups = _group_measures(prep, rows, res)
    return res


def _group_measures(prep: Prepared, rows: pd.DataFrame, overall: AFResult) -> pd.DataFrame:
    keyed = pd.concat([prep.groups, rows], axis=1)
    tot = keyed.groupby(prep.by, dropna=False, sort=True, observed=True).sum()
    g = _measures(tot, prep.indicators, prep.weights)
    g.insert(0, "n_missing", 0)
    if prep.n_missing:
        miss = prep.missing_groups.groupby(prep.by, dropna=False, observed=True).size()
        g = g.reindex(g.index.union(miss.index))
        g["n_missing"] = miss.reindex(g.index).fillna(0).astype("int64")
        g["n_obs"] = g["n_obs"].fillna(0).astype("int64")
        g[["n", "q"]] = g[["n", "q"]].fillna(0.0)
    g["n_missing"] = g["n_missing"].astype("int64")
    with np.errstate(invalid="ignore", divide="ignore"):
        g["population_share"] = g["n"] / overall.n if overall.n > 0 else np.nan
        g["absolute_contribution"] = g["population_share"] * g["M0"].fillna(0.0)
        g["contribution_to_M0"] = (
            g["absolute_contribution"] / overall.M0 if overall.M0 > 0 else np.nan
        )
    first = [
        "n_obs",
        "n_missing",
        "n",
        "q",
        "H",
        "A",
        "M0",
        "population_share",
        "contribution_to_M0",
        "absolute_contribution",
    ]
    g = g[first + [c for c in g.columns if c not in first]]
    return g.reset_index()


def alkire_foster(
    deprivations: pd.DataFrame, weights: Mapping[str, float], k: float, by=None, sample_weight=None
) -> AFResult:
    """Alkire-Foster adjusted headcount ratio M0 with H, A and their breakdowns.

    Method: Alkire & Foster 2011 (J Public Econ 95(7-8)) dual cut-off counting approach;
    formulas in the module docstring and methods.md section 2. Subgroup decomposition
    and indicator contributions as in Alkire et al. 2015 (OUP), chapter 5.

    Parameters
    ----------
    deprivations
        Indicator columns (0/1, booleans, or empty for missing) plus any ``by`` columns
        and the ``sample_weight`` column. Every other column is an error.
    weights
        Indicator -> weight (>= 0), normalised to sum to 1.
    k
        Poverty cut-off in (0, 1]: identified when score >= k (within TOLERANCE).
    by
        Column name(s) for the subgroup decomposition (``result.groups``).
    sample_weight
        Column name or array of non-negative weights; means become weighted means and
        ``n``, ``q`` weighted totals (``n_obs`` stays the row count).
    """
    prep = prepare(deprivations, weights, by=by, sample_weight=sample_weight)
    return _result_from_prepared(prep, k)


def _result_table(res: AFResult, by: list[str]) -> pd.DataFrame:
    """An AFResult as rows: the whole population (level 'all') then each group."""
    ind = list(res.weights.index)
    top = {
        "level": "all",
        "k": res.k,
        "n_obs": res.n_obs,
        "n_missing": res.n_missing,
        "n": res.n,
        "q": res.q,
        "H": res.H,
        "A": res.A,
        "M0": res.M0,
    }
    for i in ind:
        top[f"uncensored_{i}"] = res.uncensored_headcount[i]
    for i in ind:
        top[f"censored_{i}"] = res.censored_headcount[i]
    for i in ind:
        top[f"contribution_{i}"] = res.contribution[i]
    out = pd.DataFrame([top])
    if res.groups is None:
        return out
    g = res.groups.copy()
    g["level"] = "group"
    g["k"] = res.k
    cols = (
        ["level", "k", *by]
        + [c for c in out.columns if c not in ("level", "k")]
        + ["population_share", "contribution_to_M0", "absolute_contribution"]
    )
    return pd.concat([out, g[cols]], ignore_index=True)


def robustness_over_k(
    deprivations: pd.DataFrame,
    weights: Mapping[str, float],
    ks: Sequence[float],
    by=None,
    sample_weight=None,
) -> pd.DataFrame:
    """H, A, M0, censored headcounts and contributions at every cut-off in ``ks``.

    OPHI robustness practice (Alkire et al. 2015, chapter 8): the measures over a range
    of k. One row per k (``level`` = 'all') plus, with ``by``, one row per group and k
    (``level`` = 'group'). Scores are computed once.
    """
    prep = prepare(deprivations, weights, by=by, sample_weight=sample_weight)
    parts = [_result_table(_result_from_prepared(prep, k), prep.by) for k in ks]
    out = pd.concat(parts, ignore_index=True)
    lead = ["level", "k", *prep.by]
    return out[lead + [c for c in out.columns if c not in lead]]


def over_weight_sets(
    deprivations: pd.DataFrame,
    weight_sets: Mapping[str, Mapping[str, float]],
    k,
    by=None,
    sample_weight=None,
) -> pd.DataFrame:
    """The measures under each named weight set (OPHI robustness to weights).

    Each set is applied to its own indicators only (other indicator columns are set
    aside), so a set without FSM keeps children whose FSM is missing. ``k`` is one
    cut-off for all sets or a mapping set name -> cut-off. One row per set
    (``level`` = 'all') plus group rows with ``by``.
    """
    by_cols = _as_list(by)
    sw_cols = [sample_weight] if isinstance(sample_weight, str) else []
    parts = []
    for name, ws in weight_sets.items():
        kk = k[name] if isinstance(k, Mapping) else k
        cols = list(dict.fromkeys([*ws, *by_cols, *sw_cols]))
        res = alkire_foster(deprivations[cols], ws, kk, by=by, sample_weight=sample_weight)
        top = _result_table(res, by_cols)
        top.insert(0, "weight_set", name)
        parts.append(top)
    out = pd.concat(parts, ignore_index=True)
    lead = ["weight_set", "level", "k", *by_cols]
    return out[lead + [c for c in out.columns if c not in lead]]


@dataclass
class RankRobustness:
    """How local-area rankings change with k.

    ``values``: long table (area, k, measure, value, rank; rank 1 = highest value);
    ``ranks``: wide table of ranks, one column per (measure, k);
    ``correlations``: Spearman and Kendall (tau-b) rank correlations between every pair
    of cut-offs, per measure; ``robust_pairs``: per measure, the share of area pairs
    whose strict ordering is the same at every k (pairwise robustness, Alkire et al.
    2015, section 8.2).
    """

    values: pd.DataFrame
    ranks: pd.DataFrame
    correlations: pd.DataFrame
    robust_pairs: pd.DataFrame


def la_rank_dominance(
    deprivations: pd.DataFrame,
    weights: Mapping[str, float],
    ks: Sequence[float],
    la: str = "la_code",
    measures: Sequence[str] = ("M0", "H"),
    sample_weight=None,
) -> RankRobustness:
    """Robustness of local-area rankings by M0 and H to the cut-off k.

    For every k in ``ks`` the areas (``la`` column) are ranked by each measure (1 =
    most disadvantaged; ties share the lowest rank). Rankings at each pair of cut-offs
    are compared by Spearman's rho and Kendall's tau-b (``scipy.stats``), and every pair
    of areas is checked for an ordering that holds at all k (Alkire et al. 2015, OUP,
    chapter 8: robustness of comparisons).
    """
    ks = list(ks)
    if len(ks) < 2:
        raise IndexInputError("la_rank_dominance needs at least two values of k to compare.")
    for m in measures:
        if m not in ("M0", "H", "A"):
            raise IndexInputError(f"measure {m!r}: choose from M0, H, A.")
    prep = prepare(deprivations, weights, by=la, sample_weight=sample_weight)
    table = {}
    for k in ks:
        g = _result_from_prepared(prep, k).groups.set_index(la)
        for m in measures:
            table[(m, k)] = g[m]
    wide = pd.DataFrame(table)
    long_parts = []
    ranks = {}
    for (m, k), col in wide.items():
        r = col.rank(ascending=False, method="min")
        ranks[(m, k)] = r
        long_parts.append(
            pd.DataFrame(
                {la: col.index, "k": k, "measure": m, "value": col.to_numpy(), "rank": r.to_numpy()}
            )
        )
    values = pd.concat(long_parts, ignore_index=True)
    rank_wide = pd.DataFrame(ranks)
    rank_wide.columns = [f"{m}_rank_k{k:g}" for m, k in rank_wide.columns]
    corr_rows, robust_rows = [], []
    for m in measures:
        mat = np.column_stack([wide[(m, k)].to_numpy() for k in ks])
        ok = ~np.isnan(mat).any(axis=1)
        mat = mat[ok]
        for a, b in combinations(range(len(ks)), 2):
            rho = stats.spearmanr(mat[:, a], mat[:, b]).statistic if len(mat) > 2 else np.nan
            tau = stats.kendalltau(mat[:, a], mat[:, b]).statistic if len(mat) > 2 else np.nan
            corr_rows.append(
                {
                    "measure": m,
                    "k_a": ks[a],
                    "k_b": ks[b],
                    "spearman": rho,
                    "kendall": tau,
                    "n_areas": len(mat),
                }
            )
        diff = np.sign(mat[:, None, :] - mat[None, :, :])
        iu = np.triu_indices(len(mat), 1)
        d = diff[iu]  # (pairs, K)
        robust = (np.abs(d.sum(axis=1)) == len(ks)) if len(d) else np.zeros(0, bool)
        robust_rows.append(
            {
                "measure": m,
                "n_pairs": len(d),
                "robust_pairs_n": int(robust.sum()),
                "robust_share": float(robust.mean()) if len(d) else np.nan,
            }
        )
    return RankRobustness(
        values=values,
        ranks=rank_wide.reset_index().rename(columns={"index": la}),
        correlations=pd.DataFrame(corr_rows),
        robust_pairs=pd.DataFrame(robust_rows),
    )
