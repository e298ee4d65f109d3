"""Standard errors of the linkage-weighted estimates that account for the estimated
linkage model (stacked estimating equations).

The inverse probability weights w_i = 1/p_i come from the logistic linkage model
(:func:`child_mdh.aggregates.linkage.fit_linkage_model`), whose coefficients alpha are
estimated. Treating the weights as known (the linearisation of
:func:`child_mdh.aggregates.linkage.weighted_index_estimates`) ignores that; for a
correctly specified model it overstates the variance (Lunceford & Davidian 2004,
section 3.2; Seaman & White 2013). Here each estimate's estimating equation is stacked
with the model's score equations and the variance is the sandwich of the stack.

**The index** (:func:`stacked_index_inference`). H, A and M0 of a domain d (England, or a
region) are ratios theta_d = sum_i R_i a_i / p_i over sum_i R_i b_i / p_i over the
children i of d (:data:`RATIOS`; R_i the index observed). With
psi_i = 1{i in d} R_i (a_i - theta_d b_i) / p_i and the model's score
S_i = (R_i - p_i) x_i for *every* modelled child (the model is fitted once on all of
England), the influence of child i is

    phi_i = psi_i + (R_i - p_i) x_i' I^-1 D_d,
    D_d = sum_i d psi_i / d alpha = -sum_{i in d} R_i (a_i - theta_d b_i) (1 - p_i) / p_i x_i,
    I = sum_i p_i (1 - p_i) x_i x_i'

(theta-hat - theta ~ (sum_i psi_i + D_d' (alpha-hat - alpha)) / T_d, T_d = sum_{i in d}
R_i b_i / p_i, and alpha-hat - alpha ~ I^-1 sum_i S_i). Children outside d contribute
through the model's score only. The variance is clustered by household, as the
release's linearisation: V = G / (G - 1) sum_g (sum_{i in g} phi_i)^2 / T_d^2 over the G
households with a modelled child, interval theta-hat -/+ t_{G-1} SE clipped to [0, 1]
(the design degrees of freedom of :func:`child_mdh.aggregates.index.inference.af_inference`).
``se_fixed`` is the same formula with phi_i = psi_i (the weights known): it is the
release's fixed-weight linearisation SE, up to G counting households with a modelled
child rather than with the index observed.

An intercept-only model (x_i = 1, p_i = p-hat for every child) gives
D_d = -(1 - p-hat) sum_{i in d} R_i (a_i - theta_d b_i) / p-hat = -(1 - p-hat) sum_i psi_i,
which is 0 at theta-hat (the ratio's own estimating equation): the correction vanishes
and the stacked SE is the fixed-weight SE exactly. The same holds for a domain d whose
children all share one design row x_i (a region, under a model with region effects only):
D_d = -(1 - p_d) x_d sum_i psi_i = 0.

The weights must be 1/p_i times a constant (stabilised or not, not trimmed): the ratio
estimates and their SEs do not depend on the constant. Trimming caps the weights at a
percentile, which is not a smooth function of alpha; the release then keeps the
fixed-weight SE.

**The weighted logistic models** (:func:`stacked_logistic_se`): beta solves
sum_i w_i (y_i - mu_i) z_i = 0; stacked with the model's scores, the influence of child
i on beta is A^-1 (w_i (y_i - mu_i) z_i + D_beta I^-1 S_i) with
A = sum_i w_i mu_i (1 - mu_i) z_i z_i' and
D_beta = -sum_i w_i (1 - p_i) (y_i - mu_i) z_i x_i', clustered with the CR1 factor of
:func:`child_mdh.aggregates.linkage.fit_logistic_cells`.

Method and validation in ``docs/linkage-bias.md``, sections 2 and 4.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from child_mdh.aggregates.index.alkire_foster import identify, scores
from child_mdh.aggregates.linkage import UNKNOWN, LinkageFit, _design, fit_logistic_cells
from child_mdh.contract.vocabulary import ENGLAND_CODE

#: each measure as a ratio sum(w a) / sum(w b) of the children's censored score c and
#: MDH flag m: H = sum w m / sum w, A = sum w c / sum w m, M0 = sum w c / sum w
RATIOS = {"H": ("mdh", "one"), "A": ("censored", "mdh"), "M0": ("censored", "one")}
#: the ``variance_ipw`` labels of the release
VARIANCE_STACKED = "linkage model estimated"
VARIANCE_FIXED = "weights fixed"


def _index_values(
    children: pd.DataFrame, index_weights: Mapping[str, float], k: float
) -> dict[str, np.ndarray]:
    c = scores(children[list(index_weights)], index_weights)
    m = identify(c, k).to_numpy(bool, na_value=False).astype(float)
    return {
        "one": np.ones(len(children)),
        "mdh": m,
        "censored": np.nan_to_num(c.to_numpy(float)) * m,
    }


def stacked_index_inference(
    children: pd.DataFrame,
    fit: LinkageFit,
    index_weights: Mapping[str, float],
    k: float,
    by: str | None = "region_code",
    cluster: str = "household_id",
    confidence: float = 0.95,
    measures: Sequence[str] = tuple(RATIOS),
) -> pd.DataFrame:
    """H, A and M0 weighted by 1/p-hat for England and every ``by`` group, with the SE
    that accounts for the estimated linkage model (module docstring).

    ``fit`` is :func:`child_mdh.aggregates.linkage.fit_linkage_model` on ``children``.
    Returns ``area_level``, ``area_code``, ``measure``, ``estimate``, ``se_fixed``,
    ``se_stacked``, ``conf_low`` and ``conf_high`` (of the stacked SE), ``index_n``
    (children with the index observed), ``n_clusters`` (G) and ``df`` (G - 1).
    """
    use = fit.modelled
    kids = children.loc[use]
    cell_of = fit.cell_of[use]
    r = fit.observed[use].astype(float)
    p = fit.p_cell[cell_of]
    x = fit.design
    values = _index_values(kids, index_weights, k)
    household = pd.factorize(kids[cluster])[0]
    G = int(household.max()) + 1 if len(household) else 0
    factor = G / (G - 1) if G > 1 else np.nan
    tq = float(stats.t.ppf(1 - (1 - confidence) / 2, G - 1)) if G > 1 else np.nan
    info_inv = np.linalg.pinv(fit.information)
    domains = [("england", ENGLAND_CODE, np.ones(len(kids), dtype=bool))]
    if by is not None:
        area = kids[by].astype("object").fillna(UNKNOWN).to_numpy()
        domains += [("region", a, area == a) for a in sorted(set(area))]
    rows = []
    for level, code, inside in domains:
        ri = r * inside
        for measure in measures:
            a_name, b_name = RATIOS[measure]
            a, b = values[a_name] * ri, values[b_name] * ri
            denom = float(np.sum(b / p))
            theta = float(np.sum(a / p)) / denom if denom > 0 else np.nan
            se = {"se_fixed": np.nan, "se_stacked": np.nan}
            if denom > 0:  # A of a domain without an MDH child has no estimate
                resid = a - theta * b  # zero outside the domain and without the index
                psi = resid / p
                d = -np.bincount(cell_of, weights=resid * (1 - p) / p, minlength=len(x)) @ x
                phi = psi + (x @ (info_inv @ d))[cell_of] * (r - p)
                for label, f in (("se_fixed", psi), ("se_stacked", phi)):
                    total = np.bincount(household, weights=f, minlength=G)
                    se[label] = float(np.sqrt(factor * np.sum(total**2)) / denom)
            rows.append(
                {
                    "area_level": level,
                    "area_code": code,
                    "measure": measure,
                    "estimate": theta,
                    **se,
                    "conf_low": float(np.clip(theta - tq * se["se_stacked"], 0, 1)),
                    "conf_high": float(np.clip(theta + tq * se["se_stacked"], 0, 1)),
                    "index_n": int(ri.sum()),
                    "n_clusters": G,
                    "df": G - 1,
                }
            )
    return pd.DataFrame(rows)


def weights_are_inverse_p(fit: LinkageFit, weight: np.ndarray, rtol: float = 1e-9) -> bool:
    """True when the weights of the observed, modelled children are 1/p-hat times one
    constant (stabilised or not, no weight capped): the weights of the stacked
    equations."""
    use = fit.observed & fit.modelled
    if not use.any():
        return False
    scaled = np.asarray(weight, dtype="float64")[use] * fit.p_hat[use]
    return bool(np.all(scaled > 0) and np.ptp(scaled) <= rtol * float(np.mean(scaled)))


def with_stacked_index_se(
    index_est: pd.DataFrame,
    children: pd.DataFrame,
    fit: LinkageFit,
    weight: np.ndarray,
    index_weights: Mapping[str, float],
    k: float,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """:func:`child_mdh.aggregates.linkage.weighted_index_estimates` with the weighted
    estimates' ``std_error_ipw``, ``conf_low_ipw`` and ``conf_high_ipw`` from
    :func:`stacked_index_inference`, and ``variance_ipw`` saying which variance they are
    (:data:`VARIANCE_STACKED`; :data:`VARIANCE_FIXED`, the table unchanged, when the
    weights are not 1/p-hat times a constant, i.e. trimmed)."""
    out = index_est.copy()
    if not weights_are_inverse_p(fit, weight):
        return out.assign(variance_ipw=VARIANCE_FIXED)
    stacked = stacked_index_inference(children, fit, index_weights, k, confidence=confidence)
    merged = out[["area_code", "measure", "estimate_ipw", "index_n"]].merge(
        stacked.rename(columns={"index_n": "index_n_stacked"}),
        on=["area_code", "measure"],
        how="left",
        validate="one_to_one",
    )
    if not (merged["index_n"] == merged["index_n_stacked"]).all() or not np.allclose(
        merged["estimate"], merged["estimate_ipw"], rtol=1e-9, atol=1e-12, equal_nan=True
    ):
        raise ValueError("the stacked equations do not reproduce the weighted estimates")
    # where the linearisation has no SE (a domain in fewer than two households, or
    # without an estimate), neither does the table
    keep = out["std_error_ipw"].notna().to_numpy()
    out["std_error_ipw"] = np.where(keep, merged["se_stacked"], np.nan)
    out["conf_low_ipw"] = np.where(keep, merged["conf_low"], np.nan)
    out["conf_high_ipw"] = np.where(keep, merged["conf_high"], np.nan)
    out["variance_ipw"] = VARIANCE_STACKED
    return out


def stacked_logistic_se(
    children: pd.DataFrame,
    fit: LinkageFit,
    weight: np.ndarray,
    index_weights: Mapping[str, float],
    k: float,
    outcome: str,
    cluster: str = "la_code",
) -> dict:
    """The weighted logistic model of ``outcome`` on MDH, age in single years and sex
    (:func:`child_mdh.aggregates.linkage.weighted_model_estimates`) with the SE of the
    log odds ratio of MDH that accounts for the estimated linkage model (module
    docstring), and the same SE with the weights fixed.

    The weights must be 1/p-hat times a constant (:func:`weights_are_inverse_p`). The
    children are grouped by (MDH, age, sex, cluster, linkage cell), within which the
    weight and the design row are constant. Clustered by ``cluster`` over the clusters
    with a modelled child, with the CR1 factor G/(G-1) (N-1)/(N-K) of
    :func:`child_mdh.aggregates.linkage.fit_logistic_cells` (N children in the outcome
    model, K its coefficients). Returns ``estimate`` (log odds ratio), ``se_fixed``,
    ``se_stacked``, ``n_clusters``.
    """
    use = fit.modelled
    kids = children.loc[use]
    cell = fit.cell_of[use]
    r = fit.observed[use]
    w = np.asarray(weight, dtype="float64")[use]
    p_cell, x = fit.p_cell, fit.design
    clusters = pd.Series(kids[cluster].astype("object").fillna(UNKNOWN).to_numpy())
    codes, _ = pd.factorize(clusters)
    G = int(codes.max()) + 1 if len(codes) else 0
    mdh = _index_values(kids, index_weights, k)["mdh"]
    y = kids[outcome].astype("boolean")
    keep = r & y.notna().to_numpy() & (w > 0)
    frame = pd.DataFrame(
        {
            "mdh": mdh[keep].astype(int),
            "age": kids["age"].astype("int64").to_numpy()[keep],
            "sex": kids["sex"].astype("object").fillna(UNKNOWN).to_numpy()[keep],
            "g": codes[keep],
            "cell": cell[keep],
            "w": w[keep],
            "y": y[keep].astype(int).to_numpy(),
        }
    )
    groups = (
        frame.groupby(["mdh", "age", "sex", "g", "cell"], sort=True)
        .agg(w=("w", "first"), e=("y", "sum"), n=("y", "size"))
        .reset_index()
    )
    Z = _design(groups, ("age", "sex"))
    Z.insert(1, "mdh", groups["mdh"].astype(float))
    z = Z.to_numpy()
    gw, e, n = groups["w"].to_numpy(), groups["e"].to_numpy(float), groups["n"].to_numpy(float)
    beta, _ = fit_logistic_cells(z, e, n, weight=gw)
    mu = 1 / (1 + np.exp(-np.clip(z @ beta, -35, 35)))
    resid = gw * (e - n * mu)
    bread = np.linalg.pinv((z * (gw * n * mu * (1 - mu))[:, None]).T @ z)
    u_fixed = np.zeros((G, z.shape[1]))
    np.add.at(u_fixed, groups["g"].to_numpy(), z * resid[:, None])
    # D_beta = -sum_i w_i (1 - p_i) (y_i - mu_i) z_i x_i', summed by linkage cell
    gcell = groups["cell"].to_numpy()
    by_cell = np.zeros((len(p_cell), z.shape[1]))
    np.add.at(by_cell, gcell, z * (resid * (1 - p_cell[gcell]))[:, None])
    d_beta = -by_cell.T @ x
    # the model's scores (R_i - p_i) x_i of every modelled child, by (cluster, cell)
    pairs = pd.DataFrame({"g": codes, "cell": cell, "s": r.astype(float) - p_cell[cell]})
    pairs = pairs.groupby(["g", "cell"], sort=False)["s"].sum().reset_index()
    effect = x @ (np.linalg.pinv(fit.information) @ d_beta.T)  # cells x K
    u_stacked = u_fixed.copy()
    np.add.at(
        u_stacked,
        pairs["g"].to_numpy(),
        effect[pairs["cell"].to_numpy()] * pairs["s"].to_numpy()[:, None],
    )
    n_rows, n_coef = float(n.sum()), z.shape[1]
    factor = G / max(G - 1, 1) * (n_rows - 1) / max(n_rows - n_coef, 1)
    se = {}
    for label, u in (("se_fixed", u_fixed), ("se_stacked", u_stacked)):
        cov = bread @ (factor * u.T @ u) @ bread
        se[label] = float(np.sqrt(cov[1, 1]))
    return {"estimate": float(beta[1]), **se, "n_clusters": G}


def with_stacked_model_se(
    model_est: pd.DataFrame,
    children: pd.DataFrame,
    fit: LinkageFit,
    weight: np.ndarray,
    index_weights: Mapping[str, float],
    k: float,
    cluster: str = "la_code",
    confidence: float = 0.95,
) -> pd.DataFrame:
    """:func:`child_mdh.aggregates.linkage.weighted_model_estimates` with the weighted
    odds ratios' ``std_error_ipw`` (of the log odds ratio), ``conf_low_ipw`` and
    ``conf_high_ipw`` from :func:`stacked_logistic_se` (normal interval, as the table's),
    and ``variance_ipw`` per row (:data:`VARIANCE_FIXED`, the row unchanged, when the
    weights are trimmed or the stacked fit does not reproduce the coefficient)."""
    out = model_est.copy()
    if not len(out) or not weights_are_inverse_p(fit, weight):
        return out.assign(variance_ipw=VARIANCE_FIXED)
    zq = float(stats.norm.ppf(1 - (1 - confidence) / 2))
    out["variance_ipw"] = VARIANCE_FIXED
    for i, outcome in enumerate(out["outcome"]):
        s = stacked_logistic_se(children, fit, weight, index_weights, k, outcome, cluster)
        b = out["estimate_ipw"].iloc[i]
        # a model that did not converge to the same coefficient (separation, say) keeps
        # the fixed-weight SE, and the row says so
        if not (np.isfinite(s["se_stacked"]) and np.isclose(s["estimate"], b, rtol=1e-6)):
            continue
        row = out.index[i]
        out.loc[row, "std_error_ipw"] = s["se_stacked"]
        out.loc[row, "conf_low_ipw"] = float(np.exp(b - zq * s["se_stacked"]))
        out.loc[row, "conf_high_ipw"] = float(np.exp(b + zq * s["se_stacked"]))
        out.loc[row, "variance_ipw"] = VARIANCE_STACKED
    return out
