"""The release of the linkage-bias analysis: who links, weighted estimates, bounds on H.

Writes to ``results/release/linkage/`` (each table protected and checked by
:mod:`child_mdh.release.sdc` and entered in the manifest):

- ``linkage_rates.csv``: census children in scope, linked and not, by region, each census
  domain, number of deprived domains, age and sex; the linkage rate and its Wilson
  interval are formulas of the published counts (local authorities' rates are in
  ``index/linkage_by_la.csv``);
- ``linkage_weighted_estimates.csv``: H, A and M0 for England and regions and the odds
  ratio of MDH for every outcome, unweighted and weighted by the inverse probability of
  the index being observed (the weighted intervals accounting for the estimated linkage
  model where :mod:`child_mdh.aggregates.linkage_stacked` applies: ``variance_ipw``);
- ``linkage_bounds.csv``: worst-case bounds on H for England and regions, as formulas of
  published counts.

Statistics in :mod:`child_mdh.aggregates.linkage`; method in ``docs/linkage-bias.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from child_mdh.aggregates import linkage as lk
from child_mdh.aggregates import linkage_stacked as stacked
from child_mdh.aggregates.formulas import Formula, apply_formulas
from child_mdh.aggregates.index.tables import STAT_DIGITS
from child_mdh.contract.vocabulary import ENGLAND_CODE
from child_mdh.release.sdc import (
    ColumnMargin,
    CountSum,
    RowMargin,
    TableSpec,
    write_release_table,
)

ESTIMATE_COLUMNS = tuple(
    f"{stat}_{label}"
    for label in ("unweighted", "ipw")
    for stat in ("estimate", "std_error", "conf_low", "conf_high")
)


def rate_formulas(confidence: float) -> dict[str, Formula]:
    """The linkage rate and its Wilson interval from the published counts."""
    return {
        "linked_rate": Formula("linked_n / children_n", STAT_DIGITS),
        "linked_rate_lower": Formula(
            f"wilson_lower(linked_n, children_n, {confidence!r})", STAT_DIGITS
        ),
        "linked_rate_upper": Formula(
            f"wilson_upper(linked_n, children_n, {confidence!r})", STAT_DIGITS
        ),
    }


BOUND_FORMULAS = {
    "unknown_n": Formula("children_n - index_n", 0),
    "H_observed": Formula("mdh_n / index_n", STAT_DIGITS),
    "H_lower_bound": Formula("(mdh_n + unknown_sure_mdh_n) / children_n", STAT_DIGITS),
    "H_upper_bound": Formula(
        "(mdh_n + unknown_sure_mdh_n + unknown_possible_mdh_n) / children_n", STAT_DIGITS
    ),
    "H_no_information_lower_bound": Formula("mdh_n / children_n", STAT_DIGITS),
    "H_no_information_upper_bound": Formula(
        "(mdh_n + children_n - index_n) / children_n", STAT_DIGITS
    ),
}

#: The counts of ``linkage_bounds.csv`` that are ``index/index_by_area.csv``'s
#: (population ``index``, dimension ``area``): the children with the index observed and
#: the MDH children among them (its children in scope are ``linkage_rates.csv``'s).
INDEX_REPEATS = {"index_n": "index_n", "mdh_n": "mdh_n"}
#: The counts only ``linkage_bounds.csv`` publishes: the children with an indicator
#: unknown who are MDH whatever it is, and those who would be MDH were it deprived.
BOUND_COUNTS = ("unknown_sure_mdh_n", "unknown_possible_mdh_n")


#: The counts of the index rows of ``linkage_weighted_estimates.csv`` that are the
#: index's (``index/index_by_area.csv``): its column -> the index's column.
ESTIMATE_REPEATS = {"children_n": "index_n", "events_n": "mdh_n"}


def _index_by_area(index_area: pd.DataFrame | None) -> pd.DataFrame | None:
    """``index/index_by_area.csv`` as published, by area code (None without it)."""
    if index_area is None:
        return None
    return index_area.assign(area_code=index_area["area_code"].astype(str)).set_index("area_code")


def _index_views(
    out: pd.DataFrame, i: int, code: str, repeats: Mapping[str, str], where, index
) -> list[CountSum]:
    """Row ``i`` of ``out`` repeats area ``code``'s counts of the index (``repeats``: its
    column -> the index's column): set to the index's published values (``index``,
    :func:`_index_by_area`) and declared views of them where the index publishes the
    area; otherwise left as they are, declared as the index's counts."""
    view = index is not None and code in index.index
    for column, total in repeats.items():
        if view:
            out.iloc[i, out.columns.get_loc(column)] = index.at[code, total]
    return [
        CountSum("index", total, column, where, at={"area": code}, view=view)
        for column, total in repeats.items()
    ]


def estimate_views(
    estimates: pd.DataFrame, index_area: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, tuple[CountSum, ...]]:
    """The index rows of ``estimates`` (:func:`estimates_table`; one per area and measure
    H, A, M0) repeat the area's children with the index observed (``children_n``) and
    its MDH children (``events_n``, unweighted): the counts of ``index_by_area.csv``.
    With ``index_area`` (that table as published) they publish its values, each cell
    declared a view of it (withheld where it withholds them); an area it does not
    publish, or without it, keeps its own counts, declared as the index's. One count,
    one published value (:func:`bounds_views`)."""
    out = estimates.copy()
    index = _index_by_area(index_area)
    sums: list[CountSum] = []
    rows = np.flatnonzero((out["section"] == "index").to_numpy())
    for column in ESTIMATE_REPEATS:
        out[column] = out[column].astype("float64")
    for i in rows:
        code, measure = str(out["area_code"].iat[i]), str(out["measure"].iat[i])
        where = {"section": ("index",), "area_code": (code,), "measure": (measure,)}
        sums += _index_views(out, i, code, ESTIMATE_REPEATS, where, index)
    return out, tuple(sums)


def _rates_group(code: str) -> str:
    """The group of ``linkage_rates.csv``'s region rows that counts an area's children in
    scope: the region's own row, England's the 'All' row."""
    return "All" if code == ENGLAND_CODE else code


def bounds_views(
    bounds: pd.DataFrame, rates: pd.DataFrame, index_area: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, tuple[CountSum, ...]]:
    """``bounds`` (:func:`bounds_table`, exact counts) with the counts other tables
    publish replaced by their published values, each declared a view of it: the
    children in scope from ``rates`` (``linkage_rates.csv`` as written, its region rows
    and 'All' for England) and, with ``index_area`` (``index/index_by_area.csv`` as
    written), the children with the index observed and the MDH children. An area the
    index does not publish keeps its own counts, declared as the index's.

    One count, one published value: rounded again here, each area's children in scope
    would be the sum of two decompositions rounded apart (linked + not linked in
    ``linkage_rates.csv``, index observed + unknown here) and read together they narrow
    one another (on the GUiE-shaped test release, the North East's linked children,
    published 445, came out at 441-447, narrower than rounding allows). The children
    with an indicator unknown are ``children_n - index_n`` of the published values
    (a formula, :data:`BOUND_FORMULAS`); only the two counts no other file publishes
    (:data:`BOUND_COUNTS`) are rounded here."""
    out = bounds.drop(columns=["unknown_n"], errors="ignore").copy()
    region = rates[rates["group_type"].astype(str) == "region"]
    children = dict(zip(region["group"].astype(str), region["children_n"]))
    index = _index_by_area(index_area)
    sums: list[CountSum] = []
    out["children_n"] = out["children_n"].astype("float64")
    for column in INDEX_REPEATS:
        out[column] = out[column].astype("float64")
    for i, code in enumerate(out["area_code"].astype(str)):
        where = {"area_code": (code,)}
        group = _rates_group(code)
        if group in children:
            out.iloc[i, out.columns.get_loc("children_n")] = children[group]
        sums.append(
            CountSum(
                "linkage rates",
                "children_n",
                "children_n",
                where,
                at={"group_type": "region", "group": group},
                view=group in children,
            )
        )
        sums += _index_views(out, i, code, INDEX_REPEATS, where, index)
    return out, tuple(sums)


def table_specs(
    confidence: float, residual_df: float | None, bounds_sums=()
) -> dict[str, TableSpec]:
    """The disclosure declaration of every linkage table (``bounds_sums``: the counts of
    ``linkage_bounds.csv`` that are other tables' counts, :func:`bounds_views`)."""
    return {
        "rates": TableSpec(
            key_columns=("group_type", "group"),
            count_columns=("children_n", "linked_n", "unlinked_n"),
            formulas=rate_formulas(confidence),
            margins=(
                RowMargin("group", total="All", within=("group_type",), same_total=True),
                ColumnMargin(("linked_n", "unlinked_n"), "children_n"),
            ),
            population="linkage rates",
        ),
        "estimates": TableSpec(
            key_columns=("section", "area_code", "measure"),
            count_columns=("children_n", "events_n"),
            derived=dict.fromkeys(ESTIMATE_COLUMNS, ("children_n", "events_n")),
            residual_df=residual_df,
            dimensions={"area_code": "area"},
        ),
        "bounds": TableSpec(
            key_columns=("area_level", "area_code"),
            count_columns=("children_n", *INDEX_REPEATS, *BOUND_COUNTS),
            formulas=BOUND_FORMULAS,
            margins=(RowMargin("area_code", total=ENGLAND_CODE, columns=BOUND_COUNTS),),
            population="linkage bounds",
            dimensions={"area_code": "area"},
            sums=bounds_sums,
        ),
    }


def rates_table(children: pd.DataFrame) -> pd.DataFrame:
    """:func:`child_mdh.aggregates.linkage.linkage_rates` with each characteristic's own
    'All' row (so each adds up within its group type)."""
    rates = lk.linkage_rates(children)
    total = rates[rates["group_type"] == "all"]
    parts = []
    for group_type, part in rates[rates["group_type"] != "all"].groupby("group_type", sort=False):
        parts += [total.assign(group_type=group_type), part]
    return pd.concat(parts, ignore_index=True)


def estimates_table(index_est: pd.DataFrame, model_est: pd.DataFrame) -> pd.DataFrame:
    """The weighted and unweighted index and model estimates as one table.

    Index rows: ``section`` 'index', ``area_code`` England or a region, ``measure`` H, A or
    M0, ``children_n`` the children with the index observed, ``events_n`` the MDH children
    among them (unweighted). Model
    rows: ``section`` 'model', England, ``measure`` 'odds ratio of MDH: <outcome>', the
    odds ratio and its interval (the standard error is of the log odds ratio),
    ``children_n`` and ``events_n`` of the model. ``variance_ipw``: the variance of the
    weighted estimates (:data:`child_mdh.aggregates.linkage_stacked.VARIANCE_STACKED` or
    ``VARIANCE_FIXED``; fixed where the input has no such column).

    The index rows' unweighted columns are left empty: the unweighted H, A and M0 of the
    same children are ``index/index_by_area.csv``'s, published there from its protected
    counts. Published here from the exact counts, to 4 decimals, they would give those
    counts back (an unweighted H of 0.2273 beside children 90 and MDH children 20,
    rounded, fits only 20 of 88; M0 / A is H again; the SE of a proportion of few
    children pins its denominator), which is what rounding the counts withholds.
    """
    index = index_est.rename(columns={"index_n": "children_n"}).assign(section="index")
    h = index[index["measure"] == "H"]
    mdh = dict(zip(h["area_code"], np.rint(h["estimate_unweighted"] * h["children_n"])))
    index["events_n"] = index["area_code"].map(mdh)
    if "variance_ipw" not in index.columns:
        index["variance_ipw"] = stacked.VARIANCE_FIXED
    model = model_est.assign(
        section="model",
        area_code=ENGLAND_CODE,
        measure="odds ratio of MDH: " + model_est["outcome"],
    )
    if "variance_ipw" not in model.columns:
        model["variance_ipw"] = stacked.VARIANCE_FIXED
    for label in ("unweighted", "ipw"):
        model[f"estimate_{label}"] = model[f"odds_ratio_{label}"]
    columns = [
        "section",
        "area_code",
        "measure",
        "children_n",
        "events_n",
        *ESTIMATE_COLUMNS,
        "variance_ipw",
    ]
    unweighted = [c for c in ESTIMATE_COLUMNS if c.endswith("_unweighted")]
    index[unweighted] = np.nan
    out = pd.concat([index[columns], model[columns]], ignore_index=True)
    out["events_n"] = out["events_n"].astype("Int64")
    for c in ESTIMATE_COLUMNS:
        out[c] = out[c].round(STAT_DIGITS)
    return out


def bounds_table(children: pd.DataFrame, weights: Mapping[str, float], k: float) -> pd.DataFrame:
    """The exact counts behind the bounds on H for England and every region
    (:func:`child_mdh.aggregates.linkage.index_bounds`); :func:`bounds_views` makes the
    release table of them."""
    return lk.index_bounds(children, weights, k)


def linkage_outputs(
    children: pd.DataFrame,
    index_settings: Mapping,
    linkage_settings: Mapping,
    outcomes,
    cluster: str,
    release_dir: Path,
    manifest,
    index_area: pd.DataFrame | None = None,
) -> dict:
    """Fit the linkage model, weight, and write every linkage table; returns the
    manifest uids, the weights' summary and the variance of the weighted intervals
    (``variance_ipw``). ``index_area``: ``index/index_by_area.csv`` as published, whose
    counts ``linkage_bounds.csv`` repeats (:func:`bounds_views`)."""
    w = dict(index_settings["weights"])
    k = float(index_settings["k"])
    conf = float(index_settings["confidence"])
    fit = lk.fit_linkage_model(children, list(w), area=linkage_settings["model_area"])
    weight, summary = lk.linkage_weights(
        fit.p_hat,
        fit.observed,
        stabilised=bool(linkage_settings["stabilised"]),
        trim_percentile=linkage_settings["trim_percentile"],
    )
    index_est = lk.weighted_index_estimates(children, weight, w, k, conf)
    index_est = stacked.with_stacked_index_se(index_est, children, fit, weight, w, k, conf)
    model_est = lk.weighted_model_estimates(children, weight, w, k, outcomes, cluster, conf)
    model_est = stacked.with_stacked_model_se(model_est, children, fit, weight, w, k, cluster, conf)
    residual_df = float(model_est["residual_df"].min()) if len(model_est) else None
    specs = table_specs(conf, residual_df)
    out = Path(release_dir) / "linkage"
    model_area = linkage_settings["model_area"].replace("_code", "")
    trim = linkage_settings["trim_percentile"]
    weighting = (
        "weights 1/p-hat for the children with the index observed (linked, FSM known), "
        "p-hat from a logistic model of the index being observed on the 16 patterns of "
        f"the four census domains, age in single years, sex and {model_area} (fixed "
        "effects), fitted on every census child in scope with domains known; "
        + ("stabilised by the observed share; " if linkage_settings["stabilised"] else "")
        + (f"trimmed at the {trim}th percentile" if trim is not None else "not trimmed")
    )
    written = {}

    def write(key, df, name, what, **kwargs):
        df = apply_formulas(df, specs[key].formulas)  # recomputed from the protected counts
        entry = write_release_table(df, out / name, specs[key], manifest, method=what, **kwargs)
        written[key] = entry["uid"]

    write(
        "rates",
        rates_table(children),
        "linkage_rates.csv",
        "census children of the analysis ages, linked to a pupil record or not, by "
        "region, each census domain (deprived, not deprived, unknown), number of deprived "
        f"domains, age and sex; linkage rate with its {int(conf * 100)}% Wilson interval "
        "from the published counts",
        xlsx=True,
        title="Children linked to a pupil record, by household and child characteristics",
    )
    estimates, sums = estimate_views(estimates_table(index_est, model_est), index_area)
    specs["estimates"] = replace(specs["estimates"], sums=sums)
    write(
        "estimates",
        estimates,
        "linkage_weighted_estimates.csv",
        f"H, A, M0 (weights {w}, k={k}) for England and regions and the odds ratio of "
        "MDH per outcome (logit, adjusted for age and sex, errors clustered by "
        f"{cluster}), weighted by the inverse probability of the index being observed "
        f"({weighting}) and, for the odds ratios, unweighted (the unweighted index is "
        "index/index_by_area.csv's, from its protected counts). "
        f"{int(conf * 100)}% intervals by linearisation "
        "(index, clustered by household) and the sandwich (models); variance_ipw says "
        "whether the weighted intervals account for the estimated linkage model (stacked "
        "estimating equations) or treat the weights as fixed; the standard errors of the "
        "odds ratios are of the log odds ratio; the index rows' children and MDH children "
        "are index/index_by_area.csv's, as published there",
        output_type="regression",
        xlsx=True,
        title="The index and models, unweighted and weighted for linkage",
    )
    rates = pd.read_csv(out / "linkage_rates.csv", dtype={"group_type": "str", "group": "str"})
    bounds, sums = bounds_views(bounds_table(children, w, k), rates, index_area)
    specs["bounds"] = replace(specs["bounds"], sums=sums)
    write(
        "bounds",
        bounds,
        "linkage_bounds.csv",
        "worst-case bounds on H for every census child in scope: each unknown indicator "
        "(FSM of a child not linked, a domain of a household with domains missing) set "
        "to not deprived (lower) and to deprived (upper); and the bounds that use nothing "
        "of the children without the index (none of them MDH, all of them MDH); "
        "H_observed is H of the children with the index. The children in scope are "
        "linkage_rates.csv's and the children with the index and the MDH children "
        "index/index_by_area.csv's, as published there; unknown_n is their difference",
        xlsx=True,
        title="Bounds on H for the children not linked",
    )
    variance = index_est["variance_ipw"].iloc[0] if len(index_est) else stacked.VARIANCE_FIXED
    return {"uids": written, "weights": summary, "variance_ipw": variance}
