"""Step ``index_outputs``: the Child-MDH index tables and figures, through disclosure control.

Writes to ``results/release/index/`` (aggregates, each table protected and checked by
:mod:`child_mdh.sdc` and entered in the manifest) and the person-level scores to
``results/secure/child_index.parquet``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from child_mdh import index_tables as it
from child_mdh.steps._runner import step_logging

STAT_COLUMNS = {m: [m, f"{m}_lower", f"{m}_upper"] for m in it.MEASURES}


def _specs():
    from child_mdh.sdc import RowMargin, TableSpec

    area_counts = ("children_n", "index_n", "mdh_n", "indicator_missing_n")
    measure_backing = {
        **{c: ("index_n", "mdh_n") for c in STAT_COLUMNS["H"] + STAT_COLUMNS["M0"]},
        **{c: ("mdh_n",) for c in STAT_COLUMNS["A"]},
    }
    return {
        "area": TableSpec(
            key_columns=("area_level", "area_code"), derived=measure_backing,
            margins=(RowMargin("area_code", parent="parent_code", columns=area_counts),)),
        "group": TableSpec(
            key_columns=("group_type", "group"), derived=measure_backing,
            margins=(RowMargin("group", total="All", columns=area_counts),)),
        "indicator": TableSpec(
            key_columns=("area_level", "area_code", "indicator"),
            derived={
                **{c: ("index_n", "deprived_n") for c in (
                    "uncensored_headcount", "uncensored_headcount_lower", "uncensored_headcount_upper")},
                **{c: ("index_n", "censored_deprived_n") for c in (
                    "censored_headcount", "censored_headcount_lower", "censored_headcount_upper")},
                "contribution": ("censored_deprived_n",),
            },
            margins=(RowMargin("area_code", parent="parent_code", within=("indicator",),
                               columns=("index_n", "deprived_n", "censored_deprived_n")),)),
        "decomposition": TableSpec(
            key_columns=("area_level", "area_code"),
            derived={"population_share": ("index_n",), "M0": ("index_n", "mdh_n"),
                     "contribution_to_M0": ("index_n", "mdh_n")},
            margins=(RowMargin("area_code", total=it.ENGLAND_CODE, columns=("index_n", "mdh_n")),)),
        "robustness": TableSpec(
            key_columns=("area_code", "k"),
            derived={"H": ("index_n", "mdh_n"), "A": ("mdh_n",), "M0": ("index_n", "mdh_n")},
            margins=(RowMargin("area_code", parent="parent_code", within=("k",)),)),
        "weight_sets": TableSpec(
            key_columns=("weight_set", "k"),
            derived={"H": ("index_n", "mdh_n"), "A": ("mdh_n",), "M0": ("index_n", "mdh_n")}),
        "ranks": TableSpec(key_columns=("measure", "k_a", "k_b"), count_columns=()),
        "linkage": TableSpec(
            key_columns=("la_code", "area_level"), derived={"share_linked": ("children_n", "linked_n")},
            margins=(RowMargin("la_code", total=it.ENGLAND_CODE),)),
    }


def _contribution_figure(indicators: pd.DataFrame):
    import matplotlib.pyplot as plt

    eng = indicators[indicators["area_level"] == "england"]
    fig, ax = plt.subplots(figsize=(6, 3.2))
    ax.barh(eng["indicator"], eng["contribution"], color="#0072B2")
    ax.set_xlabel("Contribution to M0 (share)")
    ax.set_title("England: what drives the Child-MDH index")
    ax.invert_yaxis()
    fig.tight_layout()
    return fig


def _robustness_figure(robust: pd.DataFrame):
    import matplotlib.pyplot as plt

    eng = robust[robust["area_code"] == it.ENGLAND_CODE].sort_values("k")
    fig, ax = plt.subplots(figsize=(6, 3.2))
    ax.plot(eng["k"], eng["H"], marker="o", color="#0072B2", label="H (incidence)")
    ax.plot(eng["k"], eng["M0"], marker="s", color="#D55E00", label="M0 (adjusted headcount)")
    ax.set_xlabel("cut-off k (share of weighted indicators)")
    ax.set_ylabel("value")
    ax.set_title("England: the index over every cut-off")
    ax.legend(frameon=False)
    fig.tight_layout()
    return fig


def write_linkage_report(linkage: pd.DataFrame, release_dir: Path, manifest) -> str:
    """Children in scope, linked and unlinked to a pupil record, by LA and for England,
    through disclosure control; returns the manifest uid."""
    from child_mdh.sdc import write_release_table

    entry = write_release_table(
        linkage.round(4), Path(release_dir) / "index" / "linkage_by_la.csv", _specs()["linkage"],
        manifest, xlsx=True,
        method="children of the analysis ages in census households, linked to a pupil record "
               "or not, with FSM known or not, and with household domains missing, by LA")
    return entry["uid"]


def index_outputs(children: pd.DataFrame, settings: dict, release_dir: Path, manifest) -> dict:
    """Compute and write every index table and figure; returns the manifest uids."""
    import matplotlib

    matplotlib.use("Agg")
    from child_mdh.sdc import write_release_figure, write_release_table

    w, k, conf = dict(settings["weights"]), float(settings["k"]), float(settings["confidence"])
    ks = sorted(set(float(x) for x in settings["k_values"]) | {k})
    threshold = manifest.config.threshold
    specs = _specs()
    out = Path(release_dir) / "index"
    method = (f"Alkire-Foster counting measures, weights {w}, cut-off k={k}; "
              f"{int(conf * 100)}% intervals by linearisation, clustered by household")
    written = {}
    tables = {
        "area": (it.area_index_table(children, w, k, conf), "index_by_area.csv",
                 "H, A and M0 with intervals for England, regions and local authorities"),
        "sex": (None, "index_by_sex.csv", "H, A and M0 by sex, with the England total"),
        "age_band": (None, "index_by_age_band.csv", "H, A and M0 by age band, with the England total"),
        "indicator": (it.indicator_table(children, w, k, conf), "indicators_by_area.csv",
                      "uncensored and censored headcounts and contributions per indicator"),
        "decomposition": (it.decomposition_table(children, w, k), "decomposition_by_la.csv",
                          "subgroup decomposition of England's M0 by local authority"),
        "robustness": (it.robustness_table(children, w, ks), "robustness_over_k.csv",
                       "H, A and M0 at every cut-off k, England and regions"),
        "weight_sets": (it.weight_set_table(children, settings["weight_sets"], k),
                        "weight_sets.csv", "England H, A and M0 under each alternative weight set"),
        "ranks": (it.rank_robustness_table(children, w, ks, threshold),
                  "la_rank_robustness.csv",
                  "rank correlations of local authorities' M0 and H between cut-offs"),
    }
    groups = it.group_index_table(children, w, k, conf)
    for by in ("sex", "age_band"):
        part = groups[groups["group_type"].isin(["all", by])].reset_index(drop=True)
        tables[by] = (part, tables[by][1], tables[by][2])
    for key, (df, name, what) in tables.items():
        spec = specs["group"] if key in ("sex", "age_band") else specs[key]
        # statistics to 4 decimal places: enough for any use, and no back-calculation of
        # exact counts from a ratio with rounded denominators
        entry = write_release_table(df.round(4), out / name, spec, manifest, method=f"{what}. {method}",
                                    xlsx=key in ("area", "indicator"))
        written[key] = entry["uid"]
    write_release_figure(_contribution_figure(tables["indicator"][0]),
                         out / "contributions_england.png", None, manifest,
                         backed_by=[written["indicator"]],
                         method="England's censored headcount contributions to M0")
    write_release_figure(_robustness_figure(tables["robustness"][0]),
                         out / "robustness_over_k.png", None, manifest,
                         backed_by=[written["robustness"]],
                         method="England's H and M0 at every cut-off k")
    return written


def run(smk) -> None:
    """Rule ``index_outputs``."""
    from child_mdh.io import write_parquet
    from child_mdh.sdc import Manifest, SDCConfig

    with step_logging(smk, "index_outputs") as log:
        children = pd.read_parquet(smk.input.children)
        settings = dict(smk.params.index)
        write_parquet(it.child_index(children, settings["weights"], float(settings["k"])),
                      smk.output.child_index, {"person_level": True})
        release = Path(smk.params.release_dir)
        manifest = Manifest(release, "index", SDCConfig.from_mapping(smk.params.disclosure))
        written = index_outputs(children, settings, release, manifest)
        written["linkage"] = write_linkage_report(pd.read_csv(smk.input.linkage,
                                                              dtype={"la_code": "str"}),
                                                  release, manifest)
        manifest.write_part(smk.output.manifest)
        log.info("index tables written: %s", ", ".join(written.values()))
