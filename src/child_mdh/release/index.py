"""The release of the Child-MDH index: its tables and figures, through disclosure control.

Writes to ``results/release/index/`` (aggregates, each table protected and checked by
:mod:`child_mdh.release.sdc` and entered in the manifest) and the person-level scores to
``results/secure/child_index.parquet``.

One protected base: ``index_by_area.csv`` holds every count of the index by area (children,
in the index, MDH, deprived and censored per indicator) and is protected once; every
statistic in it is a formula of its published counts, and ``indicators_by_area.csv`` and
``decomposition_by_la.csv`` are views of the published table (the same numbers arranged
otherwise, with the same cells withheld). The sensitivity tables (other cut-offs, other
weight sets) publish only counts that the base does not, with their own protection.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

from child_mdh.aggregates.formulas import Formula, apply_formulas
from child_mdh.aggregates.index import tables as it
from child_mdh.contract.vocabulary import DOMAINS, ENGLAND_CODE
from child_mdh.release.sdc import (
    ColumnMargin,
    CountSum,
    RowMargin,
    TableSpec,
    write_release_figure,
    write_release_table,
)
from child_mdh.release.sdc.withheld import emptied_cells
from child_mdh.release.workbook import withheld_through


# ---------------------------------------------------------------- formulas of the tables
def _interval_formulas(
    m: str, n: str, confidence: float, interval: str, lo: float, digits
) -> dict[str, Formula]:
    """The interval of measure ``m`` over the count ``n``: ``design_lower``/``design_upper``
    (symmetric) or ``logit_lower``/``logit_upper`` on the logit scale of (lo, 1)."""
    if interval == "logit":
        args = f"{m}, {n}, {m}_deft, {confidence!r}, {float(lo)!r}"
        return {
            f"{m}_lower": Formula(f"logit_lower({args})", digits),
            f"{m}_upper": Formula(f"logit_upper({args})", digits),
        }
    args = f"{m}, {n}, {m}_deft, {confidence!r}"
    return {
        f"{m}_lower": Formula(f"design_lower({args})", digits),
        f"{m}_upper": Formula(f"design_upper({args})", digits),
    }


def index_formulas(
    weights: Mapping[str, float],
    confidence: float,
    digits: int = it.STAT_DIGITS,
    interval: str = "wald",
    k: float | None = None,
) -> dict[str, Formula]:
    """Every statistic of the index tables as a formula of their published counts.

    H = mdh / index; M0 = sum_i w_i censored_i / index; A = M0 / H = sum_i w_i
    censored_i / mdh (Alkire & Foster 2011); the uncensored and censored headcounts of an
    indicator = deprived_i / index and censored_i / index; the contribution of indicator i
    = w_i censored_i / sum_j w_j censored_j; each interval = the measure -/+ z deft
    sqrt(p (1 - p) / n), or with ``interval="logit"`` the same standard error on the logit
    scale of (0, 1) (A: of (k, 1)) (:mod:`child_mdh.aggregates.formulas`). Computed from the
    protected counts, no statistic says more about a count than the counts themselves.
    """
    indicators = list(weights)
    weighted = " + ".join(f"{float(weights[i])!r} * censored_{i}_n" for i in indicators)
    f: dict[str, Formula] = {
        "H": Formula("mdh_n / index_n", digits),
        "A": Formula(f"({weighted}) / mdh_n", digits),
        "M0": Formula(f"({weighted}) / index_n", digits),
    }
    for i in indicators:
        f[f"uncensored_{i}"] = Formula(f"deprived_{i}_n / index_n", digits)
        f[f"censored_{i}"] = Formula(f"censored_{i}_n / index_n", digits)
        f[f"contribution_{i}"] = Formula(
            f"{float(weights[i])!r} * censored_{i}_n / ({weighted})", digits
        )
    for m in it.measure_names(indicators):
        lo = float(k) if (m == "A" and interval == "logit") else 0.0
        f.update(_interval_formulas(m, it.base_column(m), confidence, interval, lo, digits))
    return f


def indicator_view_formulas(
    confidence: float, digits: int = it.STAT_DIGITS, interval: str = "wald"
) -> dict[str, Formula]:
    """The formulas of :func:`indicator_view`'s statistics (contribution, which rests on
    the other indicators' rows, is checked in the area table)."""
    f = {}
    for label, count in (
        ("uncensored_headcount", "deprived_n"),
        ("censored_headcount", "censored_deprived_n"),
    ):
        f[label] = Formula(f"{count} / index_n", digits)
        f.update(_interval_formulas(label, "index_n", confidence, interval, 0.0, digits))
    return f


DECOMPOSITION_FORMULAS = {
    "population_share": Formula("index_n / england_index_n", it.STAT_DIGITS),
    "contribution_to_M0": Formula("index_n / england_index_n * M0 / england_M0", it.STAT_DIGITS),
}


def robustness_formulas(weights: Mapping[str, float]) -> dict[str, Formula]:
    """H, A and M0 of :func:`robustness_table` from its counts (as :func:`index_formulas`)."""
    f = index_formulas(weights, 0.95)
    return {m: f[m] for m in it.MEASURES}


def weight_set_formulas(indicators: Sequence[str]) -> dict[str, Formula]:
    """H, A and M0 of :func:`weight_set_table` from its counts and weight columns."""
    weighted = " + ".join(f"w_{i} * censored_{i}_n" for i in indicators)
    return {
        "H": Formula("mdh_n / index_n", it.STAT_DIGITS),
        "A": Formula(f"({weighted}) / mdh_n", it.STAT_DIGITS),
        "M0": Formula(f"({weighted}) / index_n", it.STAT_DIGITS),
    }


# ---------------------------------------------------------------- specs, figures, writing
AREA_DIMENSIONS = {"area_code": "area"}


def _count_columns(indicators) -> tuple[str, ...]:
    return (
        "index_n",
        "mdh_n",
        *[f"{p}_{i}_n" for i in indicators for p in ("deprived", "censored")],
    )


def _design_factor_backing(weights) -> dict[str, tuple[str, ...]]:
    """A design factor is withheld with the count its measure is taken over."""
    return {f"{m}_deft": (it.base_column(m),) for m in it.measure_names(list(weights))}


def _specs(weights, confidence, interval="wald", k=None):
    indicators = list(weights)
    counts = _count_columns(indicators)
    formulas = index_formulas(weights, confidence, interval=interval, k=k)
    deft = _design_factor_backing(weights)
    censored = tuple(f"censored_{i}_n" for i in indicators)
    return {
        "area": TableSpec(
            key_columns=("area_level", "area_code"),
            count_columns=counts,
            formulas=formulas,
            derived=deft,
            margins=(RowMargin("area_code", parent="parent_code"),),
            population="index",
            dimensions=AREA_DIMENSIONS,
        ),
        **{
            by: TableSpec(
                key_columns=("group_type", "group"),
                count_columns=counts,
                formulas=formulas,
                derived=deft,
                margins=(RowMargin("group", total="All"),),
                population=f"index by {by}",
            )
            for by in ("sex", "age_band")
        },
        "indicator": TableSpec(
            key_columns=("area_level", "area_code", "indicator"),
            count_columns=("index_n", "deprived_n", "censored_deprived_n"),
            formulas=indicator_view_formulas(confidence, interval=interval),
            derived={"contribution": ("censored_deprived_n",)},
            margins=(RowMargin("area_code", parent="parent_code", within=("indicator",)),),
            population="index by indicator",
            dimensions={"area_code": "area", "indicator": "indicator"},
        ),
        "decomposition": TableSpec(
            key_columns=("area_level", "area_code"),
            count_columns=("index_n", "mdh_n", "england_index_n"),
            formulas=DECOMPOSITION_FORMULAS,
            derived={"M0": ("index_n", "mdh_n")},
            not_counts=("england_M0",),
            margins=(RowMargin("area_code", total=ENGLAND_CODE, columns=("index_n", "mdh_n")),),
            population="index decomposition",
            dimensions=AREA_DIMENSIONS,
        ),
        "robustness": TableSpec(
            key_columns=("area_code", "k"),
            count_columns=("mdh_n", *censored),
            formulas=robustness_formulas(weights),
            margins=(RowMargin("area_code", parent="parent_code", within=("k",)),),
            population="index at other cut-offs",
            dimensions={"area_code": "area", "k": "k"},
        ),
        "weight_sets": TableSpec(
            key_columns=("weight_set", "k"),
            count_columns=("index_n", "mdh_n", *[f"censored_{i}_n" for i in indicators]),
            formulas=weight_set_formulas(indicators),
            not_counts=("k",),
            population="index under other weights",
            dimensions={"weight_set": "weight_set"},
        ),
        # rank correlations over local authorities (areas_compared counts areas, not people)
        "ranks": TableSpec(
            key_columns=("measure", "k_a", "k_b"),
            count_columns=(),
            not_counts=("spearman", "kendall", "areas_compared"),
        ),
        "linkage": TableSpec(
            key_columns=("la_code", "area_level"),
            count_columns=(
                "children_n",
                "linked_n",
                "unlinked_n",
                "linked_with_fsm_n",
                "linked_without_fsm_n",
                "domains_missing_n",
            ),
            formulas={
                "share_linked": Formula("linked_n / children_n", it.STAT_DIGITS),
                "share_linked_lower": Formula(
                    f"wilson_lower(linked_n, children_n, {confidence!r})", it.STAT_DIGITS
                ),
                "share_linked_upper": Formula(
                    f"wilson_upper(linked_n, children_n, {confidence!r})", it.STAT_DIGITS
                ),
            },
            margins=(
                RowMargin("la_code", total=ENGLAND_CODE),
                ColumnMargin(("linked_n", "unlinked_n"), "children_n"),
                ColumnMargin(("linked_with_fsm_n", "linked_without_fsm_n"), "linked_n"),
            ),
            population="children in scope",
            dimensions={"la_code": "area"},
        ),
    }


def _contribution_figure(area: pd.DataFrame, indicators):
    eng = area[area["area_level"] == "england"].iloc[0]
    values = [eng[f"contribution_{i}"] for i in indicators]
    fig, ax = plt.subplots(figsize=(6, 3.2))
    ax.barh(list(indicators), values, color="#0072B2")
    ax.set_xlabel("Contribution to M0 (share)")
    ax.set_title("England: what drives the Child-MDH index")
    ax.invert_yaxis()
    fig.tight_layout()
    return fig


def _robustness_figure(robust: pd.DataFrame, area: pd.DataFrame, k: float):
    eng = robust[robust["area_code"] == ENGLAND_CODE][["k", "H", "M0"]]
    main = area[area["area_level"] == "england"][["H", "M0"]].assign(k=k)
    eng = pd.concat([eng, main], ignore_index=True).sort_values("k")
    fig, ax = plt.subplots(figsize=(6, 3.2))
    ax.plot(eng["k"], eng["H"], marker="o", color="#0072B2", label="H (incidence)")
    ax.plot(eng["k"], eng["M0"], marker="s", color="#D55E00", label="M0 (adjusted headcount)")
    ax.set_xlabel("cut-off k (share of weighted indicators)")
    ax.set_ylabel("value")
    ax.set_title("England: the index over every cut-off")
    ax.legend(frameon=False)
    fig.tight_layout()
    return fig


def _england_has_no_parent(table: pd.DataFrame) -> dict:
    """England's parent area code: not applicable ([z] in the workbook)."""
    return {"parent_code": table["area_level"] == "england"}


def _published(path: Path, keys) -> pd.DataFrame:
    """A release table as written (the protected numbers the views are made of)."""
    return pd.read_csv(path, dtype=dict.fromkeys(keys, "str"))


#: The group types of ``linkage/linkage_rates.csv``, each with its own 'All' row
#: (:func:`child_mdh.release.linkage.rates_table`).
LINKAGE_RATE_GROUPS = ("all", "region", *DOMAINS, "n_domains", "age", "sex")
LINKAGE_COUNTS = ("children_n", "linked_n", "unlinked_n")


def linkage_sums(
    la_codes: Sequence[str], regions: Mapping[str, str] | None = None
) -> tuple[CountSum, ...]:
    """The counts of ``linkage/linkage_rates.csv`` (population ``linkage rates``, the same
    census children in scope) that are cells or sums of ``linkage_by_la.csv``: England's
    children, linked and unlinked are every group type's 'All' row, and, with
    ``regions`` (local authority -> region code, covering every authority in
    ``la_codes``), a region's are the sums of its authorities' rows. Without a region
    for every authority no region sum is declared (a sum missing an authority would be
    false)."""
    out = [
        CountSum(
            "linkage rates",
            c,
            c,
            {"la_code": (ENGLAND_CODE,)},
            at={"group_type": group_type, "group": "All"},
        )
        for group_type in LINKAGE_RATE_GROUPS
        for c in LINKAGE_COUNTS
    ]
    las = [str(la) for la in la_codes if str(la) != ENGLAND_CODE]
    if regions is not None and all(la in regions for la in las):
        members: dict[str, list[str]] = {}
        for la in las:
            members.setdefault(str(regions[la]), []).append(la)
        out += [
            CountSum(
                "linkage rates",
                c,
                c,
                {"la_code": tuple(sorted(in_region))},
                at={"group_type": "region", "group": region},
            )
            for region, in_region in sorted(members.items())
            for c in LINKAGE_COUNTS
        ]
    return tuple(out)


def write_linkage_report(
    linkage: pd.DataFrame,
    release_dir: Path,
    manifest,
    weights,
    confidence,
    regions: Mapping[str, str] | None = None,
) -> str:
    """Children in scope, linked and unlinked to a pupil record, by LA and for England,
    through disclosure control; returns the manifest uid. ``regions`` (local authority
    -> region code) lets the table declare its sums to the regions of
    ``linkage/linkage_rates.csv`` (:func:`linkage_sums`)."""
    # children kept in the index are index_by_area.csv's index population: not again here
    spec = replace(
        _specs(weights, confidence)["linkage"],
        sums=linkage_sums(linkage["la_code"].astype(str), regions),
    )
    entry = write_release_table(
        apply_formulas(linkage.drop(columns="kept_n", errors="ignore"), spec.formulas),
        Path(release_dir) / "index" / "linkage_by_la.csv",
        spec,
        manifest,
        xlsx=True,
        title="Children linked to a pupil record, by local authority",
        method="children of the analysis ages in census households, linked to a pupil record "
        "or not, with FSM known or not, and with household domains missing, by LA; "
        f"share linked and its {int(confidence * 100)}% Wilson interval from the published "
        "counts",
    )
    return entry["uid"]


def index_outputs(children: pd.DataFrame, settings: dict, release_dir: Path, manifest) -> dict:
    """Compute and write every index table and figure; returns the manifest uids."""
    w, k, conf = dict(settings["weights"]), float(settings["k"]), float(settings["confidence"])
    indicators = list(w)
    other_ks = sorted({float(x) for x in settings["k_values"]} - {k})
    threshold = manifest.config.threshold
    interval = str(settings.get("interval", "wald"))
    specs = _specs(w, conf, interval, k)
    out = Path(release_dir) / "index"
    shape = (
        "the measure -/+ z deft sqrt(p(1-p)/n)"
        if interval == "wald"
        else "z deft sqrt(p(1-p)/n) on the logit scale of (0, 1) (A: of (k, 1)), "
        "Clopper-Pearson at 0 and 1"
    )
    method = (
        f"Alkire-Foster counting measures, weights {w}, cut-off k={k}; every statistic "
        "computed from the published (protected) counts; "
        f"{int(conf * 100)}% intervals by linearisation, clustered by household, as "
        f"{shape} with the published design factor"
    )
    written = {}
    entries = {}
    children = it.with_cluster_codes(children)

    def write(key, df, name, what, spec=None, **kwargs):
        entry = write_release_table(
            df, out / name, spec or specs[key], manifest, method=f"{what}. {method}", **kwargs
        )
        written[key] = entry["uid"]
        entries[key] = entry

    write(
        "area",
        it.area_index_table(children, w, k, conf, interval),
        "index_by_area.csv",
        "counts, H, A, M0, headcounts and contributions with intervals for England, "
        "regions and local authorities: the protected base of the index tables",
        xlsx=True,
        title="The Child-MDH index by area: England, regions and local authorities",
        not_applicable=_england_has_no_parent,
    )
    area = _published(out / "index_by_area.csv", ("area_level", "area_code", "parent_code"))
    groups = it.group_index_table(children, w, k, conf, interval)
    for by, name in (("sex", "index_by_sex.csv"), ("age_band", "index_by_age_band.csv")):
        part = groups[groups["group_type"].isin(["all", by])].reset_index(drop=True)
        write(by, part, name, f"the index by {by.replace('_', ' ')}, with the England total")

    def by_indicator(table):
        return it.indicator_view(table, indicators)

    write(
        "indicator",
        by_indicator(area),
        "indicators_by_area.csv",
        "the per-indicator columns of index_by_area.csv arranged one row per indicator "
        "(the same published numbers)",
        xlsx=True,
        mitigate=False,
        additive=True,
        title="The Child-MDH index by area and indicator",
        withheld=withheld_through(
            by_indicator, area, emptied_cells(entries["area"]["files"][0]["sdc"])
        ),
        not_applicable=_england_has_no_parent,
    )
    write(
        "decomposition",
        it.decomposition_view(area),
        "decomposition_by_la.csv",
        "subgroup decomposition of England's M0 by local authority, from the numbers "
        "published in index_by_area.csv",
        mitigate=False,
        additive=True,
    )
    robust = it.robustness_table(children, w, other_ks, area=area)
    write(
        "robustness",
        robust,
        "robustness_over_k.csv",
        f"England and regions at the other cut-offs {other_ks} (k={k} is in "
        "index_by_area.csv); index_n as published there",
    )
    write(
        "weight_sets",
        it.weight_set_table(children, settings["weight_sets"], k),
        "weight_sets.csv",
        "England under each alternative weight set",
    )
    write(
        "ranks",
        it.rank_robustness_table(children, w, sorted({*other_ks, k}), threshold),
        "la_rank_robustness.csv",
        "rank correlations of local authorities' M0 and H between cut-offs",
    )
    robust_published = _published(out / "robustness_over_k.csv", ("area_code", "parent_code"))
    write_release_figure(
        _contribution_figure(area, indicators),
        out / "contributions_england.png",
        None,
        manifest,
        backed_by=[written["area"]],
        method="England's censored headcount contributions to M0",
    )
    write_release_figure(
        _robustness_figure(robust_published, area, k),
        out / "robustness_over_k.png",
        None,
        manifest,
        backed_by=[written["robustness"], written["area"]],
        method="England's H and M0 at every cut-off k",
    )
    return written
