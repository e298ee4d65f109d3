"""Linkage bias: who links, inverse probability of linkage weighting, and bounds.

Pure statistics on the census cohort *before* the unlinked rule (every census child in
scope, linked or not: :func:`child_mdh.derive.children.derive_children` with
``unlinked="fsm_missing"``). The index needs free school meals (FSM), which only children
linked to a pupil record have, so the index is computed on linked children; when linkage
depends on deprivation, that is a biased picture of the census population. Method and
sources in ``docs/linkage-bias.md``.

- :func:`linkage_rates`: census children, linked and not, by household characteristics.
- :func:`linkage_model` and :func:`linkage_weights`: a logistic model of the index being
  observed (linked, FSM known) on characteristics every census child has (the four census
  domains as their 16 patterns, age in single years, sex and region or local authority),
  fitted on covariate-pattern cells; weights 1/p-hat for the observed children,
  stabilised by the observed share and trimmed at a percentile (Seaman & White 2013).
- :func:`weighted_index_estimates`: H, A and M0 for England and regions, unweighted and
  weighted, linearisation SEs clustered by household with the weights treated as fixed.
- :func:`weighted_model_estimates`: the odds ratio of MDH for every outcome (logit,
  adjusted for age and sex), unweighted and weighted, sandwich SEs clustered by local
  authority (CR1) with the weights treated as fixed.
- :func:`fit_linkage_model`: the linkage model with its cells, for the SEs of
  :mod:`child_mdh.aggregates.linkage_stacked` that account for its estimation (which the
  release uses for the weighted estimates when the weights are not trimmed).
- :func:`index_bounds`: worst-case (Manski 1989) bounds on H: every indicator that is
  unknown is set to deprived, then to not deprived; and the bounds that ignore the
  census domains of the unobserved children.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as sps

from child_mdh.aggregates.index.alkire_foster import identify, scores
from child_mdh.aggregates.index.inference import af_inference
from child_mdh.contract.vocabulary import DOMAINS, ENGLAND_CODE
from child_mdh.errors import UserError

#: the areas the linkage model may adjust for (fixed effects)
MODEL_AREAS = ("region_code", "la_code")
INDEX_MEASURES = ("H", "A", "M0")
UNKNOWN = "unknown"


class LinkageInputError(UserError):
    """The census cohort cannot be used for the linkage analysis as given."""


def _require(children: pd.DataFrame, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in children.columns]
    if missing:
        raise LinkageInputError(
            f"the census cohort lacks column(s) {', '.join(missing)}: build it with "
            "derive_children(..., unlinked='fsm_missing') so that unlinked children stay in."
        )


def observed_index(children: pd.DataFrame, indicators: Sequence[str]) -> np.ndarray:
    """True where every indicator of the index is known (linked, FSM and domains known)."""
    return children[list(indicators)].notna().all(axis=1).to_numpy()


# ---------------------------------------------------------------------- linkage rates
def _flag_label(values: pd.Series) -> pd.Series:
    v = values.astype("boolean")
    return v.map({True: "deprived", False: "not deprived"}).astype("object").fillna(UNKNOWN)


def linkage_groups(children: pd.DataFrame) -> dict[str, pd.Series]:
    """The household and child characteristics the linkage rates are given by."""
    groups = {"region": children["region_code"].astype("object").fillna(UNKNOWN)}
    for d in DOMAINS:
        groups[d] = _flag_label(children[d])
    groups["n_domains"] = (
        children["n_domains"].astype("Int64").astype("object").where(children["n_domains"].notna())
    ).map(lambda v: UNKNOWN if pd.isna(v) else str(int(v)))
    groups["age"] = children["age"].astype("int64").astype(str).str.zfill(2)
    groups["sex"] = children["sex"].astype("object").fillna(UNKNOWN).astype(str)
    return groups


def linkage_rates(children: pd.DataFrame) -> pd.DataFrame:
    """Census children in scope, linked and not, overall and by each characteristic.

    One long table: ``group_type`` ('all', 'region', each census domain, 'n_domains',
    'age', 'sex'), ``group``, ``children_n``, ``linked_n``, ``unlinked_n``. Each group type
    adds up to the 'all' row. The linkage rate and its Wilson interval are formulas of the
    published counts (the release declares them).
    """
    _require(children, ("linked", "region_code", "age", "sex", "n_domains", *DOMAINS))
    linked = children["linked"].to_numpy(dtype=bool).astype("int64")
    parts = [
        pd.DataFrame(
            {
                "group_type": ["all"],
                "group": ["All"],
                "children_n": [len(children)],
                "linked_n": [int(linked.sum())],
            }
        )
    ]
    for name, labels in linkage_groups(children).items():
        frame = pd.DataFrame({"group": labels.to_numpy(), "children_n": 1, "linked_n": linked})
        agg = frame.groupby("group", sort=True).sum().reset_index()
        agg.insert(0, "group_type", name)
        parts.append(agg)
    out = pd.concat(parts, ignore_index=True)
    out["children_n"] = out["children_n"].astype("int64")
    out["linked_n"] = out["linked_n"].astype("int64")
    out["unlinked_n"] = out["children_n"] - out["linked_n"]
    return out


# ---------------------------------------------------------------------- logistic fits
def fit_logistic_cells(
    X: np.ndarray,
    events: np.ndarray,
    trials: np.ndarray,
    weight: np.ndarray | None = None,
    cluster: np.ndarray | None = None,
    max_iter: int = 100,
    tol: float = 1e-10,
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted logistic regression on covariate-pattern cells by Newton-Raphson.

    Cell c has design row x_c, ``trials`` n_c, ``events`` e_c and weight w_c (each of its
    rows weighs w_c). The estimating equation is sum_c w_c x_c (e_c - n_c mu_c) = 0 (the
    weighted score; with w = 1 the maximum likelihood equations). Returns the coefficients
    and their sandwich covariance B^-1 M B^-1 with B = sum_c w_c n_c mu_c (1 - mu_c) x_c x_c'
    and M = G/(G-1) (N-1)/(N-K) sum_g u_g u_g', u_g the score summed over cluster g (CR1;
    each cell one cluster when ``cluster`` is None: then the heteroskedasticity-robust
    HC1 with cells, not rows, as units, which for w = 1 only rescales the model-based
    variance). The weights are treated as fixed (known), not estimated.
    """
    X = np.asarray(X, dtype="float64")
    e = np.asarray(events, dtype="float64")
    n = np.asarray(trials, dtype="float64")
    w = np.ones(len(n)) if weight is None else np.asarray(weight, dtype="float64")
    beta = np.zeros(X.shape[1])
    for _ in range(max_iter):
        eta = np.clip(X @ beta, -35, 35)
        mu = 1 / (1 + np.exp(-eta))
        score = X.T @ (w * (e - n * mu))
        info = (X * (w * n * mu * (1 - mu))[:, None]).T @ X
        step = np.linalg.lstsq(info, score, rcond=None)[0]
        beta = beta + step
        if np.max(np.abs(step)) < tol:
            break
    eta = np.clip(X @ beta, -35, 35)
    mu = 1 / (1 + np.exp(-eta))
    info = (X * (w * n * mu * (1 - mu))[:, None]).T @ X
    u = X * (w * (e - n * mu))[:, None]
    codes = np.arange(len(n)) if cluster is None else pd.factorize(np.asarray(cluster))[0]
    G = int(codes.max()) + 1 if len(codes) else 0
    ug = np.zeros((G, X.shape[1]))
    np.add.at(ug, codes, u)
    n_rows, k = float(n.sum()), X.shape[1]
    factor = G / max(G - 1, 1) * (n_rows - 1) / max(n_rows - k, 1)
    bread = np.linalg.pinv(info)
    cov = bread @ (factor * ug.T @ ug) @ bread
    return beta, cov


def _design(frame: pd.DataFrame, categorical: Sequence[str]) -> pd.DataFrame:
    """Intercept plus treatment dummies (first level dropped) of the categorical columns."""
    intercept = pd.DataFrame({"intercept": np.ones(len(frame))}, index=frame.index)
    if not categorical:
        return intercept
    dummies = pd.get_dummies(frame[list(categorical)].astype(str), drop_first=True, dtype=float)
    return pd.concat([intercept, dummies], axis=1)


def _domain_pattern(children: pd.DataFrame) -> pd.Series:
    """Each child's four census domain flags as a pattern such as '1010' ('unknown')."""
    flags = children[list(DOMAINS)].astype("boolean")
    known = flags.notna().all(axis=1)
    pattern = pd.Series("", index=children.index, dtype="object")
    for d in DOMAINS:
        pattern = pattern + flags[d].fillna(False).astype(int).astype(str)
    return pattern.where(known, UNKNOWN)


@dataclass(frozen=True)
class LinkageFit:
    """The linkage model fitted on its covariate-pattern cells.

    ``design`` (cells x terms), ``trials`` and ``events`` (children and observed children
    per cell), ``p_cell`` (p-hat per cell), ``coefficients`` (``term``, ``estimate``,
    ``std_error``); per child: ``cell_of`` (the child's cell, -1 when not modelled),
    ``p_hat`` (NaN when not modelled) and ``observed`` (the index observed).
    """

    design: np.ndarray
    trials: np.ndarray
    events: np.ndarray
    p_cell: np.ndarray
    coefficients: pd.DataFrame
    cell_of: np.ndarray
    p_hat: np.ndarray
    observed: np.ndarray

    @property
    def modelled(self) -> np.ndarray:
        """True for the children with covariates (census domains known)."""
        return self.cell_of >= 0

    @property
    def information(self) -> np.ndarray:
        """The model's Fisher information sum_c n_c p_c (1 - p_c) x_c x_c'."""
        x, p = self.design, self.p_cell
        return (x * (self.trials * p * (1 - p))[:, None]).T @ x


def fit_linkage_model(
    children: pd.DataFrame,
    indicators: Sequence[str],
    area: str = "region_code",
    terms: Sequence[str] = ("pattern", "age", "sex", "area"),
) -> LinkageFit:
    """The logistic model of the index being observed (:func:`linkage_model`), with its
    cells kept for the variance of the weighted estimates
    (:mod:`child_mdh.aggregates.linkage_stacked`). ``terms``: the covariates among
    'pattern' (of the census domains), 'age', 'sex' and 'area' (all by default; fewer
    only for checks, e.g. none for an intercept-only model)."""
    if area not in MODEL_AREAS:
        raise LinkageInputError(f"linkage model area {area!r}: choose one of {MODEL_AREAS}.")
    _require(children, ("age", "sex", area, *DOMAINS, *indicators))
    cell_keys = ["pattern", "age", "sex", "area"]
    keys = pd.DataFrame(
        {
            "pattern": _domain_pattern(children).to_numpy(),
            "age": children["age"].astype("int64").to_numpy(),
            "sex": children["sex"].astype("object").fillna(UNKNOWN).to_numpy(),
            "area": children[area].astype("object").fillna(UNKNOWN).to_numpy(),
            "observed": observed_index(children, indicators).astype("int64"),
        }
    )
    usable = (keys["pattern"] != UNKNOWN).to_numpy()
    grouped = keys.loc[usable].groupby(cell_keys, sort=True)
    cells = grouped["observed"].agg(["sum", "size"]).reset_index()
    cell_of = np.full(len(keys), -1, dtype=np.int64)
    cell_of[usable] = grouped.ngroup().to_numpy()
    X = _design(cells, tuple(t for t in cell_keys if t in terms))
    x = X.to_numpy()
    beta, cov = fit_logistic_cells(x, cells["sum"], cells["size"])
    p_cell = 1 / (1 + np.exp(-np.clip(x @ beta, -35, 35)))
    p_hat = np.where(usable, p_cell[np.maximum(cell_of, 0)], np.nan)
    return LinkageFit(
        design=x,
        trials=cells["size"].to_numpy(dtype="float64"),
        events=cells["sum"].to_numpy(dtype="float64"),
        p_cell=p_cell,
        coefficients=pd.DataFrame(
            {"term": X.columns, "estimate": beta, "std_error": np.sqrt(np.diag(cov))}
        ),
        cell_of=cell_of,
        p_hat=p_hat,
        observed=keys["observed"].to_numpy().astype(bool),
    )


def linkage_model(
    children: pd.DataFrame, indicators: Sequence[str], area: str = "region_code"
) -> tuple[np.ndarray, pd.DataFrame]:
    """P(index observed | census characteristics) for every census child.

    Logistic model of ``observed`` (linked to a pupil record and every indicator known)
    on the 16 patterns of the four census domains (saturated in the domains), age in
    single years, sex and ``area`` (region_code or la_code) as fixed effects, fitted on
    the covariate-pattern cells (so its cost does not grow with the number of children).
    Children whose census domains are unknown have no covariates: p-hat is NaN for them.
    Returns p-hat per child and the coefficients (``term``, ``estimate``, ``std_error``);
    :func:`fit_linkage_model` keeps the cells too.
    """
    fit = fit_linkage_model(children, indicators, area)
    return fit.p_hat, fit.coefficients


def linkage_weights(
    p_hat: np.ndarray,
    observed: np.ndarray,
    stabilised: bool = True,
    trim_percentile: float | None = None,
) -> tuple[np.ndarray, dict]:
    """Inverse probability weights of the observed children (0 for the others).

    w = 1 / p-hat, times the observed share of the modelled children when ``stabilised``
    (which leaves every ratio estimate and every weighted regression coefficient
    unchanged; the weights then average about 1); then capped at the
    ``trim_percentile``-th percentile of the observed children's weights (None: no
    trimming). Returns the weights and a summary (mean, max, share trimmed, effective
    sample size (sum w)^2 / sum w^2).
    """
    observed = np.asarray(observed, dtype=bool)
    modelled = np.isfinite(p_hat)
    use = observed & modelled
    w = np.zeros(len(p_hat))
    w[use] = 1 / p_hat[use]
    if stabilised and use.any():
        w[use] *= use.sum() / modelled.sum()
    cap = None
    if trim_percentile is not None and use.any():
        cap = float(np.percentile(w[use], trim_percentile))
        trimmed = use & (w > cap)
        w[trimmed] = cap
    else:
        trimmed = np.zeros(len(w), dtype=bool)
    wu = w[use]
    summary = {
        "children_modelled": int(modelled.sum()),
        "children_weighted": int(use.sum()),
        "stabilised": bool(stabilised),
        "trim_percentile": trim_percentile,
        "trim_cap": cap,
        "share_trimmed": float(trimmed.sum() / use.sum()) if use.any() else None,
        "mean_weight": float(wu.mean()) if use.any() else None,
        "max_weight": float(wu.max()) if use.any() else None,
        "effective_sample_size": float(wu.sum() ** 2 / (wu**2).sum()) if use.any() else None,
    }
    return w, summary


# ---------------------------------------------------------------------- weighted index
def weighted_index_estimates(
    children: pd.DataFrame,
    weight: np.ndarray,
    index_weights: Mapping[str, float],
    k: float,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """H, A and M0 for England and every region, unweighted and weighted by ``weight``.

    :func:`child_mdh.aggregates.index.inference.af_inference` on the children with the
    index observed, clustered by household, with ``sample_weight`` = 1 and = ``weight``.
    Linearisation treats the weights as fixed: it ignores the estimation of p-hat, which
    for inverse probability weights with a correctly specified model makes the SE
    conservative (Lunceford & Davidian 2004). Returns ``area_code``, ``measure``, and
    ``estimate``, ``std_error``, ``conf_low``, ``conf_high`` with the suffix
    ``_unweighted`` and ``_ipw``, and ``index_n`` (children with the index observed).
    """
    indicators = list(index_weights)
    obs = observed_index(children, indicators) & (np.asarray(weight) > 0)
    frame = children.loc[obs, [*indicators, "household_id", "region_code"]].reset_index(drop=True)
    frame["region_code"] = frame["region_code"].astype("object").fillna(UNKNOWN)
    w = np.asarray(weight, dtype="float64")[obs]
    out = None
    for label, sw in (("unweighted", None), ("ipw", w)):
        est = af_inference(
            frame,
            index_weights,
            k,
            cluster="household_id",
            by="region_code",
            sample_weight=sw,
            confidence=confidence,
            measures=list(INDEX_MEASURES),
        )
        est["area_code"] = np.where(est["group"] == "All", ENGLAND_CODE, est["region_code"])
        part = est[["area_code", "measure", "estimate", "se", "lower", "upper", "n"]].rename(
            columns={
                "estimate": f"estimate_{label}",
                "se": f"std_error_{label}",
                "lower": f"conf_low_{label}",
                "upper": f"conf_high_{label}",
                "n": "index_n",
            }
        )
        out = part if out is None else out.merge(part, on=["area_code", "measure", "index_n"])
    out.insert(0, "area_level", np.where(out["area_code"] == ENGLAND_CODE, "england", "region"))
    return out.reset_index(drop=True)


def index_bounds(
    children: pd.DataFrame, index_weights: Mapping[str, float], k: float
) -> pd.DataFrame:
    """Worst-case bounds on H for every census child in scope (England and regions).

    Each unknown indicator (FSM of an unlinked child; a domain of a household with
    domains missing) is set to not deprived, then to deprived: a child is surely MDH
    when identified in the first case, possibly MDH when only in the second (the
    identification rule is monotone in the indicators). Counts: ``children_n`` (in
    scope), ``index_n`` (every indicator known), ``unknown_n`` (= children_n - index_n),
    ``mdh_n`` (MDH among index_n), ``unknown_sure_mdh_n`` and ``unknown_possible_mdh_n``
    (among unknown_n). The release computes H_lower_bound = (mdh + sure) / children and
    H_upper_bound = (mdh + sure + possible) / children, and the bounds that use nothing of the
    unobserved children (mdh / children and (mdh + unknown) / children).
    """
    indicators = list(index_weights)
    deps = children[indicators]
    known = deps.notna().all(axis=1).to_numpy()
    low = identify(scores(deps.astype("float64").fillna(0.0), index_weights), k).to_numpy()
    high = identify(scores(deps.astype("float64").fillna(1.0), index_weights), k).to_numpy()
    counts = pd.DataFrame(
        {
            "area_code": children["region_code"].astype("object").fillna(UNKNOWN).to_numpy(),
            "children_n": 1,
            "index_n": known.astype("int64"),
            "unknown_n": (~known).astype("int64"),
            "mdh_n": (known & low).astype("int64"),
            "unknown_sure_mdh_n": (~known & low).astype("int64"),
            "unknown_possible_mdh_n": (~known & high & ~low).astype("int64"),
        }
    )
    regions = counts.groupby("area_code", sort=True).sum().reset_index()
    regions.insert(0, "area_level", "region")
    total = counts.drop(columns="area_code").sum().to_frame().T
    total.insert(0, "area_code", ENGLAND_CODE)
    total.insert(0, "area_level", "england")
    out = pd.concat([total, regions], ignore_index=True)
    for c in out.columns[2:]:
        out[c] = out[c].astype("int64")
    return out


# ---------------------------------------------------------------------- weighted models
def weighted_model_estimates(
    children: pd.DataFrame,
    weight: np.ndarray,
    index_weights: Mapping[str, float],
    k: float,
    outcomes: Sequence[str],
    cluster: str = "la_code",
    confidence: float = 0.95,
) -> pd.DataFrame:
    """The odds ratio of MDH for every outcome, unweighted and weighted by ``weight``.

    Logistic regression of the outcome on MDH (the index at ``k``), age in single years
    and sex, on the children with the index and the outcome observed, fitted on cells by
    :func:`fit_logistic_cells`, errors clustered by ``cluster`` (CR1), the weights treated
    as fixed. Returns ``outcome``, ``estimate``, ``std_error`` (of the log odds ratio),
    ``conf_low``, ``conf_high`` (of the odds ratio) with suffixes ``_unweighted`` and
    ``_ipw``, ``children_n``, ``events_n`` and ``residual_df`` (children - parameters).
    """
    indicators = list(index_weights)
    z = sps.norm.ppf(1 - (1 - confidence) / 2)
    obs = observed_index(children, indicators) & (np.asarray(weight) > 0)
    base = children.loc[obs].reset_index(drop=True)
    w_all = np.asarray(weight, dtype="float64")[obs]
    mdh = identify(scores(base[indicators].astype("float64"), index_weights), k).to_numpy()
    rows = []
    for outcome in outcomes:
        y = base[outcome].astype("boolean")
        keep = y.notna().to_numpy()
        frame = pd.DataFrame(
            {
                "mdh": mdh[keep].astype(int),
                "age": base.loc[keep, "age"].astype("int64").to_numpy(),
                "sex": base.loc[keep, "sex"].astype("object").fillna(UNKNOWN).to_numpy(),
                "cluster": base.loc[keep, cluster].astype("object").fillna(UNKNOWN).to_numpy(),
                "w": w_all[keep],
                "y": y[keep].astype(int).to_numpy(),
            }
        )
        row = {
            "outcome": outcome,
            "children_n": int(keep.sum()),
            "events_n": int(frame["y"].sum()),
        }
        for label, weighted in (("unweighted", False), ("ipw", True)):
            keys = ["mdh", "age", "sex", "cluster"] + (["w"] if weighted else [])
            cells = frame.groupby(keys, sort=True)["y"].agg(["sum", "size"]).reset_index()
            X = _design(cells, ("age", "sex"))
            X.insert(1, "mdh", cells["mdh"].astype(float))
            beta, cov = fit_logistic_cells(
                X.to_numpy(),
                cells["sum"],
                cells["size"],
                weight=cells["w"] if weighted else None,
                cluster=cells["cluster"],
            )
            b, se = float(beta[1]), float(np.sqrt(cov[1, 1]))
            row[f"estimate_{label}"] = b
            row[f"std_error_{label}"] = se
            row[f"odds_ratio_{label}"] = float(np.exp(b))
            row[f"conf_low_{label}"] = float(np.exp(b - z * se))
            row[f"conf_high_{label}"] = float(np.exp(b + z * se))
            row["residual_df"] = int(keep.sum()) - X.shape[1]
        rows.append(row)
    return pd.DataFrame(rows)
