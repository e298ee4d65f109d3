"""Coverage of the Child-MDH index's intervals on repeated synthetic Englands.

The synthetic England (:func:`child_mdh.sources.synthetic.generate`) is a draw from a known
data-generating process, so the default index (equal weights, k = 0.4, children aged
5-15, linked, ``fsm_at_reference``) has a population value: the expectation of H, A, M0
and the indicator headcounts over that process.

1. **Truth** (:func:`truth_from_draws`): independent draws of many children go through
   the pipeline; the truth is the mean of their estimates and its own standard error is
   the standard deviation between them over sqrt(draws). Several draws are used rather
   than one very large one because the generator draws its local-authority effects (FSM,
   linkage) afresh with every seed: that part of one draw's error does not shrink with
   the number of children, and averaging over seeds removes it (``docs/index-methods.md``,
   "Coverage on the synthetic data").
2. **Repeated draws** (:func:`draw_estimates`, one seed each): ``generate ->
   validate_folder -> derive_children -> af_inference`` for England and every region,
   with linearisation intervals clustered by household (the pipeline's choice at every
   level) and, for comparison, by local authority; optionally the cluster bootstrap
   (percentile intervals) with the same two clusterings.
3. **Summary** (:func:`summarise`): for every design, area and measure, coverage of the
   95% interval with its binomial (Monte Carlo) standard error, bias, mean SE, empirical
   SD of the estimates and their ratio.

The draws run as jobs of the simulation workflow (``workflow/simulation/``, one job per
seed, locally or on a cluster) or in a process pool (``benchmarks/coverage_index.py``).
"""

from __future__ import annotations

import multiprocessing as mp
import shutil
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from child_mdh.aggregates.index.alkire_foster import DEFAULT_K, DEFAULT_WEIGHTS
from child_mdh.aggregates.index.inference import af_inference
from child_mdh.contract.vocabulary import ENGLAND_CODE
from child_mdh.sources.synthetic.areas import load_la_counts
from child_mdh.studies.synthetic_children import synthetic_children

CONFIDENCE = 0.95


#: Validation treats dates after this as "in the future". The synthetic extract date is
#: census day + 5 years (21 March 2026 for Census 2021), so it must lie after that.
VALIDATION_DATE = "2026-11-01"


CENSUS_YEAR = 2021


#: (method, cluster column) of the designs estimated on every draw: linearisation clustered
#: by local authority (for comparison) and by household (the pipeline's choice at every level).
LINEAR_DESIGNS = (("linearization", "la_code"), ("linearization", "household_id"))


#: the cluster bootstrap (percentile intervals), on the first ``--boot-draws`` draws.
BOOT_DESIGNS = (("bootstrap", "la_code"), ("bootstrap", "household_id"))


#: the designs of the local-authority study: linearisation clustered by household, with
#: the symmetric interval (the pipeline's default) and the logit-scale one
#: (:func:`child_mdh.aggregates.index.inference.af_inference` ``interval="logit"``)
LA_DESIGNS = (("linearization", "household_id"), ("linearization", "household_id", "logit"))
CLUSTER_LABELS = {"la_code": "la", "household_id": "household"}


#: the measures: H, A, M0 and each indicator's uncensored and censored headcount.
MEASURES = (
    ["H", "A", "M0"]
    + [f"uncensored_{i}" for i in DEFAULT_WEIGHTS]
    + [f"censored_{i}" for i in DEFAULT_WEIGHTS]
)


#: Seeds of the truth draws start here (far from the repeated draws' seeds 1..R).
TRUTH_SEED_BASE = 1_000_000


#: Regions shown in the printed and documented table (all regions are kept in the files).
SHOWN_REGIONS = ("E12000007", "E12000001")  # London (33 LAs), North East (12 LAs)


def children_for_draw(
    n_children: int, seed: int, work_dir: Path | None = None, la_effects_seed: int | None = None
) -> pd.DataFrame:
    """The index input of one synthetic England: the pipeline's path, default options.

    Method: :func:`child_mdh.sources.synthetic.generate` (``n_children`` aged 0-17, ``seed``, Census
    2021) -> :func:`child_mdh.validation.folder.validate_folder` (policy 'stop': synthetic tables
    must be clean) -> :func:`child_mdh.derive.children.derive_children` with its defaults
    (ages 5-15, unlinked children excluded, ``fsm_at_reference``). Returns the five
    default indicators with ``la_code``, ``region_code`` and ``household_id``; the files
    are written to a temporary folder that is removed afterwards. ``la_effects_seed``
    holds the local authorities' effects fixed across seeds (the local-authority study).
    """
    root = Path(tempfile.mkdtemp(prefix=f"coverage_{seed}_", dir=work_dir))
    options = {} if la_effects_seed is None else {"la_effects_seed": int(la_effects_seed)}
    try:
        children, _ = synthetic_children(
            n_children,
            seed,
            root,
            generate_options={"census_year": CENSUS_YEAR, **options},
            validation_date=VALIDATION_DATE,
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return children[list(DEFAULT_WEIGHTS) + ["la_code", "region_code", "household_id"]]


def design_label(method: str, cluster: str, interval: str = "wald") -> str:
    """'linearization/la', 'bootstrap/household', 'linearization-logit/household', ...:
    the design's name in the results (the interval is named when it is not ``wald``)."""
    name = method if interval == "wald" else f"{method}-{interval}"
    return f"{name}/{CLUSTER_LABELS.get(cluster, cluster)}"


def estimate_designs(
    children: pd.DataFrame,
    designs=LINEAR_DESIGNS,
    n_boot: int = 499,
    seed=None,
    by: str = "region_code",
) -> pd.DataFrame:
    """Estimates and 95% intervals for England and every region (``by="la_code"``: every
    local authority), one block per design.

    Method: :func:`child_mdh.aggregates.index.inference.af_inference` with ``by`` (England
    is its 'All' row), the design's method and ``cluster`` column, default weights and k.
    ``designs`` holds (method, cluster column) pairs, or triples with the linearisation's
    ``interval`` (``wald``, ``logit``) third. Returns long rows: ``design``,
    ``area`` (E92000001, a region or local authority code), ``measure``, ``estimate``,
    ``se``, ``lower``, ``upper``, ``n``, ``n_clusters``.
    """
    parts = []
    for method, cluster, *rest in designs:
        interval = rest[0] if rest else "wald"
        X = children[list(dict.fromkeys([*DEFAULT_WEIGHTS, by, cluster]))]
        inf = af_inference(
            X,
            DEFAULT_WEIGHTS,
            DEFAULT_K,
            cluster=cluster,
            by=by,
            confidence=CONFIDENCE,
            method=method,
            n_boot=n_boot,
            seed=seed,
            measures=MEASURES,
            interval=interval,
        )
        area = inf[by].astype("object").where(inf["group"] != "All", ENGLAND_CODE)
        parts.append(
            pd.DataFrame(
                {
                    "design": design_label(method, cluster, interval),
                    "area": area.astype(str),
                    "measure": inf["measure"],
                    "estimate": inf["estimate"],
                    "se": inf["se"],
                    "lower": inf["lower"],
                    "upper": inf["upper"],
                    "n": inf["n"],
                    "n_clusters": inf["n_clusters"],
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def draw_estimates(
    n_children: int,
    seed: int,
    bootstrap: bool = False,
    n_boot: int = 499,
    *,
    by: str = "region_code",
    la_effects_seed: int | None = None,
) -> pd.DataFrame:
    """One draw's estimates and intervals: :func:`estimate_designs` on
    :func:`children_for_draw`, long rows with a ``seed`` column. By region: linearisation
    clustered by local authority and by household (and the bootstrap designs when asked);
    by local authority (``by="la_code"``): clustered by household only, since a local
    authority is one cluster of itself."""
    children = children_for_draw(n_children, seed, la_effects_seed=la_effects_seed)
    if by == "la_code":
        designs = LA_DESIGNS
    else:
        designs = LINEAR_DESIGNS + (BOOT_DESIGNS if bootstrap else ())
    frame = estimate_designs(children, designs, n_boot=n_boot, seed=seed, by=by)
    frame.insert(0, "seed", seed)
    return frame


def _one_draw(task: tuple) -> pd.DataFrame:
    """Process-pool worker: :func:`draw_estimates` of one task tuple."""
    return draw_estimates(*task)


def run_draws(
    n_children: int,
    seeds,
    boot_seeds=(),
    n_boot: int = 499,
    workers: int = 1,
    label: str = "draw",
    progress: bool = True,
) -> pd.DataFrame:
    """Every draw's estimates and intervals (:func:`estimate_designs` on
    :func:`children_for_draw`), one draw per seed, in ``workers`` spawned processes; the
    draws whose seed is in ``boot_seeds`` also get the bootstrap designs. Long rows with
    a ``seed`` column."""
    boot = set(boot_seeds)
    tasks = [(int(n_children), int(s), s in boot, n_boot) for s in seeds]
    results, start = [], time.perf_counter()

    def report(i):
        if progress and (i == len(tasks) or i % max(1, len(tasks) // 20) == 0):
            el = time.perf_counter() - start
            print(f"  {label}s: {i}/{len(tasks)} done, {el:.0f} s elapsed", flush=True)

    if workers <= 1:
        for i, t in enumerate(tasks, 1):
            results.append(_one_draw(t))
            report(i)
    else:
        with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn")) as ex:
            for i, r in enumerate(ex.map(_one_draw, tasks), 1):
                results.append(r)
                report(i)
    return pd.concat(results, ignore_index=True)


def truth_from_draws(truth_draws: pd.DataFrame) -> pd.DataFrame:
    """The population value per area and measure: the mean over the truth draws.

    ``truth_se`` = SD between truth draws / sqrt(draws) (the truth's own error, which
    includes the local-authority effects the generator redraws with every seed);
    ``truth_draw_sd`` the SD between them, and ``truth_la_se`` the mean LA-clustered SE
    of one truth draw (for comparison with ``truth_draw_sd``).
    """
    # every design of a draw has the same estimate: take the first design's rows
    est = truth_draws[truth_draws["design"] == truth_draws["design"].iloc[0]]
    g = est.groupby(["area", "measure"], sort=True)
    out = pd.DataFrame(
        {
            "truth": g["estimate"].mean(),
            "truth_draws": g["estimate"].size(),
            "truth_draw_sd": g["estimate"].std(ddof=1),
            "truth_la_se": g["se"].mean(),
        }
    )
    hh = truth_draws[truth_draws["design"] == design_label(*LINEAR_DESIGNS[1])]
    out["truth_household_se"] = hh.groupby(["area", "measure"], sort=True)["se"].mean()
    if est["design"].iloc[0] != design_label(*LINEAR_DESIGNS[0]):
        out["truth_la_se"] = np.nan  # no local-authority clustering in this study
    out["truth_se"] = out["truth_draw_sd"] / np.sqrt(out["truth_draws"])
    out["truth_index_n"] = g["n"].mean()
    return out.reset_index()


def summarise(
    draws: pd.DataFrame, truth: pd.DataFrame, confidence: float = CONFIDENCE
) -> pd.DataFrame:
    """Coverage, bias and SE calibration per design, area and measure.

    For R draws with estimates x_r, standard errors s_r and intervals [l_r, u_r] and the
    truth T: ``coverage`` = share of r with l_r <= T <= u_r, ``coverage_se`` =
    sqrt(c (1 - c) / R) (binomial); ``bias`` = mean(x) - T, ``bias_se`` = SD(x)/sqrt(R);
    ``sd_estimate`` = SD(x) (ddof 1); ``mean_se`` = mean(s); ``se_ratio`` =
    mean_se / sd_estimate. ``coverage_if_se_ratio`` = 2 Phi(z se_ratio) - 1 (z the normal
    quantile), the coverage a normal interval with that SE ratio has, and
    ``coverage_if_truth_error`` = 2 Phi(z / sqrt(1 + truth_se^2 / sd^2)) - 1, the expected
    coverage of exact intervals judged against a truth with error ``truth_se``.
    """
    d = draws.merge(
        truth[["area", "measure", "truth", "truth_se"]],
        on=["area", "measure"],
        how="left",
        validate="many_to_one",
    )
    d = d[np.isfinite(d["se"])]
    d = d.assign(covers=(d["lower"] <= d["truth"]) & (d["truth"] <= d["upper"]))
    g = d.groupby(["design", "area", "measure"], sort=False)
    out = pd.DataFrame(
        {
            "R": g.size(),
            "index_n": g["n"].mean(),
            "n_clusters": g["n_clusters"].mean(),
            "truth": g["truth"].first(),
            "truth_se": g["truth_se"].first(),
            "coverage": g["covers"].mean(),
            "mean_estimate": g["estimate"].mean(),
            "sd_estimate": g["estimate"].std(ddof=1),
            "mean_se": g["se"].mean(),
        }
    )
    z = stats.norm.ppf(1 - (1 - confidence) / 2)
    out["coverage_se"] = np.sqrt(out["coverage"] * (1 - out["coverage"]) / out["R"])
    out["bias"] = out["mean_estimate"] - out["truth"]
    out["bias_se"] = out["sd_estimate"] / np.sqrt(out["R"])
    out["se_ratio"] = out["mean_se"] / out["sd_estimate"]
    out["coverage_if_se_ratio"] = 2 * stats.norm.cdf(z * out["se_ratio"]) - 1
    out["coverage_if_truth_error"] = (
        2 * stats.norm.cdf(z / np.sqrt(1 + (out["truth_se"] / out["sd_estimate"]) ** 2)) - 1
    )
    cols = [
        "R",
        "index_n",
        "n_clusters",
        "truth",
        "truth_se",
        "coverage",
        "coverage_se",
        "bias",
        "bias_se",
        "sd_estimate",
        "mean_se",
        "se_ratio",
        "coverage_if_se_ratio",
        "coverage_if_truth_error",
    ]
    return out[cols].reset_index()


def _region_names() -> dict[str, str]:
    la = load_la_counts(CENSUS_YEAR)
    return {ENGLAND_CODE: "England", **dict(zip(la["region_code"], la["region_name"]))}


def _design_order(summary: pd.DataFrame) -> list[str]:
    all_designs = [design_label(*d) for d in LINEAR_DESIGNS + BOOT_DESIGNS]
    return [d for d in all_designs if d in set(summary["design"])]


def area_table(summary: pd.DataFrame, area: str = ENGLAND_CODE, measures=MEASURES) -> str:
    """One area's results as a Markdown table: a row per measure with the truth, bias and
    SD of the estimates (linearisation draws), then per design the coverage with the
    mean SE / SD of estimates in brackets."""
    s = summary[summary["area"] == area].set_index(["design", "measure"])
    designs = _design_order(summary)
    base = design_label(*LINEAR_DESIGNS[0])
    head = (
        "| measure | truth | bias | SD of estimates | "
        + " | ".join(f"coverage, {d} (SE/SD)" for d in designs)
        + " |"
    )
    lines = [head, "|" + "---|" * (4 + len(designs))]
    for m in measures:
        b = s.loc[(base, m)]
        cells = [
            m.replace("_", " "),
            f"{b['truth']:.4f}",
            f"{b['bias']:+.4f}",
            f"{b['sd_estimate']:.4f}",
        ]
        cells += [
            f"{s.loc[(d, m), 'coverage']:.3f} ({s.loc[(d, m), 'se_ratio']:.2f})" for d in designs
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def region_table(summary: pd.DataFrame, measures=("H", "M0")) -> str:
    """England and every region as a Markdown table: LAs, children in the index, and per
    measure the coverage and mean SE / SD of the two linearisation designs."""
    names = _region_names()
    la, hh = (design_label(*d) for d in LINEAR_DESIGNS)
    s = summary.set_index(["design", "area", "measure"])
    areas = [ENGLAND_CODE] + sorted(a for a in summary["area"].unique() if a != ENGLAND_CODE)
    head = (
        "| area | LAs | children in index (mean) | "
        + " | ".join(f"{m} coverage, LA / household | {m} SE/SD, LA / household" for m in measures)
        + " |"
    )
    lines = [head, "|" + "---|" * (3 + 2 * len(measures))]
    for a in areas:
        first = s.loc[(la, a, measures[0])]
        cells = [names.get(a, a), f"{first['n_clusters']:.0f}", f"{first['index_n']:,.0f}"]
        for m in measures:
            r_la, r_hh = s.loc[(la, a, m)], s.loc[(hh, a, m)]
            cells += [
                f"{r_la['coverage']:.3f} / {r_hh['coverage']:.3f}",
                f"{r_la['se_ratio']:.2f} / {r_hh['se_ratio']:.2f}",
            ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def report_text(summary: pd.DataFrame, truth: pd.DataFrame) -> str:
    """The printed report: England and two regions by measure, then every region."""
    names = _region_names()
    R = summary.groupby("design")["R"].max().to_dict()
    out = ["draws per design: " + ", ".join(f"{d} {R[d]}" for d in _design_order(summary))]
    for area in (ENGLAND_CODE, *SHOWN_REGIONS):
        t = truth[(truth["area"] == area) & (truth["measure"] == "H")].iloc[0]
        out += [
            "",
            f"{names.get(area, area)} (truth from {t['truth_draws']:.0f} draws; "
            f"SE of the truth for H {t['truth_se']:.5f})",
            area_table(summary, area),
        ]
    out += ["", "England and regions, H and M0", region_table(summary)]
    return "\n".join(out)


def la_report_text(summary: pd.DataFrame, measures=("H", "A", "M0")) -> str:
    """The local-authority study in words and one table: over the local authorities,
    the coverage of their 95% intervals (mean, spread against the binomial spread a
    correct interval would give, the share below 0.90) by measure, interval (design) and
    size third (thirds of the authorities by their mean number of children in the index)."""
    la = summary[summary["area"] != ENGLAND_CODE].copy()
    R = int(la["R"].max())
    mc = float(np.sqrt(CONFIDENCE * (1 - CONFIDENCE) / R))
    sizes = la.groupby("area")["index_n"].mean()
    third = pd.qcut(sizes, 3, labels=["smallest", "middle", "largest"])
    la["size_third"] = la["area"].map(third)
    lines = [
        f"{la['area'].nunique()} local authorities, {R} draws each; a correct 95% interval "
        f"covers in 0.950 of draws, with Monte Carlo SD {mc:.3f} per authority. Children "
        "in the index per authority, mean by third: "
        + ", ".join(f"{k} {sizes[third == k].mean():.0f}" for k in third.cat.categories)
        + ".",
        "",
        "| measure | interval | authorities' children (mean) | mean coverage | SD across "
        "authorities | authorities below 0.90 | median of mean SE / SD of estimates | coverage: "
        "smallest, middle, largest third |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for m in measures:
        for design in la["design"].unique():
            t = la[(la["measure"] == m) & (la["design"] == design)]
            thirds = t.groupby("size_third", observed=True)["coverage"].mean()
            lines.append(
                f"| {m} | {design} | {t['index_n'].mean():.0f} | {t['coverage'].mean():.3f} | "
                f"{t['coverage'].std(ddof=1):.3f} | {(t['coverage'] < 0.90).mean():.2f} | "
                f"{t['se_ratio'].median():.2f} | "
                + ", ".join(
                    f"{thirds.get(k, np.nan):.3f}" for k in ("smallest", "middle", "largest")
                )
                + " |"
            )
    return "\n".join(lines)
