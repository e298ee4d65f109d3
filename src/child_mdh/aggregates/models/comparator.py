"""A gradient-boosting comparator for the logistic model: population-level checks only.

Question answered: does a flexible model (scikit-learn ``HistGradientBoostingClassifier``)
find structure the additive logistic model misses (non-linearity, interactions between
domains), and is the logistic gradient well calibrated? Not answered, by design: the
risk of any individual child. Predictive models of individual children's social care
risk have performed poorly and are ethically contested in England (methods.md section
5), so this module returns aggregates only: discrimination (AUC), calibration
(intercept, slope, binned observed vs predicted with the counts behind each bin) and an
interaction check. No function here returns or writes a prediction for a child.

Method
    Children are collapsed into covariate-pattern cells (features + local authority).
    Each cell becomes two weighted rows (outcome 1 weighted by its events, outcome 0 by
    its non-events), so the boosting log-loss and the logistic likelihood are the
    row-level ones. Folds are whole local authorities (``GroupKFold``): every
    prediction is for an authority the model did not see, which is the honest test of
    a population-level gradient. The logistic model (additive, categorical features) is
    fitted on the same training folds.

    Calibration: intercept = calibration-in-the-large (logistic model of the outcome with
    logit(prediction) as offset, slope fixed at 1; 0 is ideal); slope = coefficient of
    logit(prediction) in a logistic recalibration model (1 is ideal; below 1 means
    predictions too extreme) (Van Calster et al. 2019, BMC Med 17:230). Binned calibration
    by tenths of predicted risk (weighted by children).

    Interaction check: boosting constrained to no interactions
    (``interaction_cst="no_interactions"``, an additive model) against unconstrained
    boosting, by out-of-fold log-loss; and the additive logistic model against one with
    all pairwise interactions of ``interaction_features`` by a cluster-robust Wald test.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd
import statsmodels.api as sm
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import log_loss, roc_auc_score
from sklearn.model_selection import GroupKFold
from threadpoolctl import threadpool_limits

from child_mdh.aggregates.models.collapse import binary_cells
from child_mdh.aggregates.models.glm import SparseLevelError, fit_binomial, wald_test

DEFAULT_GBM = {
    "max_iter": 200,
    "learning_rate": 0.1,
    "max_leaf_nodes": 15,
    "min_samples_leaf": 20,
    "l2_regularization": 1.0,
}


def _encode(cells: pd.DataFrame, features) -> tuple[np.ndarray, list[bool]]:
    cols, categorical = [], []
    for f in features:
        s = cells[f]
        if pd.api.types.is_bool_dtype(s.dtype) or pd.api.types.is_numeric_dtype(s.dtype):
            cols.append(s.astype(float).to_numpy())
            categorical.append(False)
        else:
            codes, _ = pd.factorize(s, sort=True)
            cols.append(codes.astype(float))
            categorical.append(True)
    return np.column_stack(cols), categorical


def _weighted_rows(x, events, trials):
    """Two weighted rows per cell: (x, 1) weight events and (x, 0) weight non-events."""
    xx = np.vstack([x, x])
    y = np.concatenate([np.ones(len(x)), np.zeros(len(x))])
    w = np.concatenate([events, trials - events])
    keep = w > 0
    return xx[keep], y[keep], w[keep]


def _logit(p):
    p = np.clip(p, 1e-12, 1 - 1e-12)
    return np.log(p / (1 - p))


def _metrics(p, events, trials) -> dict:
    """Aggregate discrimination and calibration of cell-level predictions."""
    _, y, w = _weighted_rows(np.zeros((len(p), 1)), events, trials)
    pp = np.concatenate([p, p])[np.concatenate([events, trials - events]) > 0]
    lp = _logit(p)
    endog = np.column_stack([events, trials - events])
    inter = sm.GLM(endog, np.ones((len(p), 1)), family=sm.families.Binomial(), offset=lp).fit(
        tol=1e-10
    )
    slope = sm.GLM(
        endog, np.column_stack([np.ones(len(p)), lp]), family=sm.families.Binomial()
    ).fit(tol=1e-10)
    return {
        "auc": float(roc_auc_score(y, pp, sample_weight=w)),
        "log_loss": float(log_loss(y, pp, sample_weight=w, labels=[0, 1])),
        "brier": float(np.sum(w * (y - pp) ** 2) / w.sum()),
        "calibration_intercept": float(inter.params[0]),
        "calibration_slope": float(slope.params[1]),
        "children_n": int(trials.sum()),
        "events_n": int(events.sum()),
    }


def _bins_for(predictions: dict, events, trials, bins: int, min_count: int | None) -> int:
    """The largest number of bins, at most ``bins``, for which every bin of every model
    has at least ``min_count`` children, events and non-events (0 if none, 1 < bins)."""
    if not min_count:
        return bins
    for b in range(bins, 1, -1):
        ok = True
        for p in predictions.values():
            keep = ~np.isnan(p)
            t = _binned(p[keep], events[keep], trials[keep], b)
            low = np.minimum(t["events_n"], t["children_n"] - t["events_n"])
            if (t["children_n"] < min_count).any() or (low < min_count).any():
                ok = False
                break
        if ok:
            return b
    return 0


def _binned(p, events, trials, bins: int) -> pd.DataFrame:
    order = np.argsort(p, kind="stable")
    cw = np.cumsum(trials[order])
    mid = (cw - trials[order] / 2) / cw[-1]
    b = np.minimum((mid * bins).astype(int), bins - 1)
    df = pd.DataFrame(
        {
            "bin": b + 1,
            "pred_sum": (p * trials)[order],
            "events": events[order],
            "trials": trials[order],
        }
    )
    g = df.groupby("bin").sum()
    return pd.DataFrame(
        {
            "bin": g.index.to_numpy(),
            "mean_predicted": (g["pred_sum"] / g["trials"]).to_numpy(),
            "observed": (g["events"] / g["trials"]).to_numpy(),
            "children_n": g["trials"].astype(int).to_numpy(),
            "events_n": g["events"].astype(int).to_numpy(),
        }
    )


def compare_with_gbm(
    frame: pd.DataFrame,
    outcome: str,
    features,
    *,
    group: str = "la_code",
    n_splits: int = 5,
    seed: int = 2021,
    gbm_params: dict | None = None,
    bins: int = 10,
    interaction_features=None,
    n_threads: int | None = 1,
    min_bin_count: int | None = None,
) -> dict:
    """Gradient boosting vs the logistic model of ``outcome`` on ``features``, with folds
    by ``group`` (local authority). Returns a dict of aggregate DataFrames only:

    ``metrics`` (AUC, log-loss, Brier, calibration intercept and slope, children_n,
    events_n; per model, pooled over folds and per fold), ``calibration`` (binned observed
    vs predicted per model), ``interactions`` (additive vs unconstrained boosting; additive
    vs pairwise logistic Wald test) and ``notes``.

    ``n_threads`` limits the OpenMP threads of the boosting (1 by default: the cells are
    small, and on shared machines thread contention makes more threads much slower);
    None leaves the library default.

    ``min_bin_count`` (for example the disclosure threshold): calibration uses the
    largest number of bins, at most ``bins``, in which every bin of every model holds at
    least this many children, events and non-events; when even two bins do not, the
    calibration table is empty and a note says so.
    """
    args = (
        frame,
        outcome,
        features,
        group,
        n_splits,
        seed,
        gbm_params,
        bins,
        interaction_features,
        min_bin_count,
    )
    if n_threads is None:
        return _compare(*args)
    with threadpool_limits(limits=n_threads):
        return _compare(*args)


def _compare(
    frame,
    outcome,
    features,
    group,
    n_splits,
    seed,
    gbm_params,
    bins,
    interaction_features,
    min_bin_count=None,
) -> dict:
    features = list(features)
    cells = binary_cells(frame, outcome, features + [group])
    groups = cells[group].to_numpy()
    n_groups = len(pd.unique(groups))
    if n_groups < n_splits:
        raise ValueError(
            f"{n_splits}-fold cross-validation by {group} needs at least {n_splits} "
            f"groups; the data have {n_groups}. Lower n_splits or use a finer group."
        )
    x, categorical = _encode(cells, features)
    ev = cells["events"].to_numpy(float)
    tr = cells["trials"].to_numpy(float)
    params = {**DEFAULT_GBM, **(gbm_params or {})}
    models = {
        "gradient_boosting": dict(params),
        "gradient_boosting_additive": {**params, "interaction_cst": "no_interactions"},
    }
    oof = {name: np.full(len(cells), np.nan) for name in [*models, "logistic"]}
    fold_rows = []
    notes = []
    splitter = GroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    for fold, (train, test) in enumerate(splitter.split(x, groups=groups), start=1):
        xt, yt, wt = _weighted_rows(x[train], ev[train], tr[train])
        for name, kw in models.items():
            gbm = HistGradientBoostingClassifier(
                categorical_features=np.array(categorical),
                random_state=seed,
                early_stopping=False,
                **kw,
            )
            gbm.fit(xt, yt, sample_weight=wt)
            oof[name][test] = gbm.predict_proba(x[test])[:, 1]
        try:
            lf = fit_binomial(
                cells.iloc[train].reset_index(drop=True), features, link="logit", cluster=None
            )
            oof["logistic"][test] = 1 / (
                1 + np.exp(-lf.design_matrix(cells.iloc[test]) @ lf.params.to_numpy())
            )
        except (SparseLevelError, ValueError) as err:
            notes.append(f"fold {fold}: logistic model not estimable ({str(err).splitlines()[0]})")
        for name, p in oof.items():
            if not np.isnan(p[test]).any():
                fold_rows.append(
                    {"model": name, "fold": fold, **_metrics(p[test], ev[test], tr[test])}
                )
    metric_rows, calib = [], []
    used_bins = _bins_for(oof, ev, tr, bins, min_bin_count)
    if used_bins < bins:
        notes.append(
            f"calibration in {used_bins} bins instead of {bins}, so that every bin "
            f"holds at least {min_bin_count} children, events and non-events"
            if used_bins
            else f"no calibration bins: two bins would hold fewer than {min_bin_count} "
            "children, events or non-events"
        )
    for name, p in oof.items():
        ok = ~np.isnan(p)
        metric_rows.append({"model": name, "fold": "pooled", **_metrics(p[ok], ev[ok], tr[ok])})
        if used_bins:
            calib.append(_binned(p[ok], ev[ok], tr[ok], used_bins).assign(model=name))
    metrics = pd.concat([pd.DataFrame(metric_rows), pd.DataFrame(fold_rows)], ignore_index=True)
    pooled = metrics.loc[metrics["fold"] == "pooled"].set_index("model")
    inter_rows = [
        {
            "check": "boosting: unconstrained vs no interactions",
            "measure": "out-of-fold log-loss per child",
            "additive": float(pooled.loc["gradient_boosting_additive", "log_loss"]),
            "with_interactions": float(pooled.loc["gradient_boosting", "log_loss"]),
            "difference": float(
                pooled.loc["gradient_boosting_additive", "log_loss"]
                - pooled.loc["gradient_boosting", "log_loss"]
            ),
            "statistic": np.nan,
            "df": np.nan,
            "p_value": np.nan,
        }
    ]
    inter_feats = list(interaction_features or [])
    if len(inter_feats) >= 2:
        pairs = [f"{a}:{b}" for a, b in combinations(inter_feats, 2)]
        try:
            add = fit_binomial(cells, features, link="logit", cluster=group)
            full = fit_binomial(cells, features + pairs, link="logit", cluster=group)
            cols = [c for c in full.params.index if full.design.term_of(c) in pairs]
            test = wald_test(full, cols)
            inter_rows.append(
                {
                    "check": "logistic: pairwise interactions of "
                    + ", ".join(inter_feats)
                    + " (cluster-robust Wald test)",
                    "measure": "negative log-likelihood (full data)",
                    "additive": -add.llf,
                    "with_interactions": -full.llf,
                    "difference": full.llf - add.llf,
                    "statistic": test["statistic"],
                    "df": test["df"],
                    "p_value": test["p_value"],
                }
            )
        except (SparseLevelError, np.linalg.LinAlgError) as err:
            notes.append(f"pairwise logistic model not estimable ({str(err).splitlines()[0]})")
    calib_cols = ["model", "bin", "mean_predicted", "observed", "children_n", "events_n"]
    return {
        "metrics": metrics,
        "calibration": (
            pd.concat(calib, ignore_index=True)[calib_cols]
            if calib
            else pd.DataFrame(columns=calib_cols)
        ),
        "interactions": pd.DataFrame(inter_rows),
        "notes": notes,
    }
