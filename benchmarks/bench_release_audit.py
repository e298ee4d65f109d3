"""The release-wide disclosure audit of a finished run, timed, and the accuracy that
protection costs.

    .venv/bin/python benchmarks/bench_release_audit.py [RESULTS_DIR] [--config CONFIG]

RESULTS_DIR (default ``results``) is a finished run's results folder. Prints:

1. the release-wide interval audit (:func:`child_mdh.release.sdc.interval_audit.interval_audit`)
   of ``RESULTS_DIR/release``: its figures and wall time;
2. the accuracy cost of protection: every statistic published in ``index_by_area.csv``
   and ``area_statistics.csv`` against the same statistic computed from the exact
   (unprotected) counts of ``RESULTS_DIR/secure/children.parquet``, on the rows where it
   is published: the largest and the median absolute change, in the statistic's units;
3. the time to protect one table of 301 areas x 6 counts (threshold, secondary
   suppression, rounding, and the repair of narrow ranges), as the unit tests' table.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import pandas as pd
import yaml

from child_mdh.aggregates.index import tables as it
from child_mdh.aggregates.profiles.statistics import profile_statistics
from child_mdh.release.sdc import protect_table
from child_mdh.release.sdc.audit import interval_audit
from child_mdh.validation.folder import read_validated_table

INDEX_STATS = ["H", "A", "M0", "H_lower", "H_upper", "M0_lower", "M0_upper"]
PROFILE_STATS = [
    "mdh_pct",
    "mdh_pct_lower_95",
    "mdh_pct_upper_95",
    "H",
    "M0",
    "referral_all_rate",
    "cin_all_rate",
    "cpp_all_rate",
    "care_all_rate",
    "referral_rate_ratio",
]


def _changes(published: pd.DataFrame, exact: pd.DataFrame, key: str, columns) -> list:
    merged = published.set_index(key)[columns].join(exact.set_index(key)[columns], rsuffix="_exact")
    rows = []
    for c in columns:
        shown = merged[c].notna() & merged[f"{c}_exact"].notna()
        diff = (merged.loc[shown, c] - merged.loc[shown, f"{c}_exact"]).abs()
        if len(diff):
            rows.append((c, int(shown.sum()), float(diff.max()), float(diff.median())))
    return rows


def _protection_time() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "release" / "sdc"))
    # a test module's table builder, importable once its folder is on the path
    from test_sdc_suppression_minimal import many_areas  # noqa: PLC0415

    df, spec = many_areas(300, seed=3)
    start = time.perf_counter()
    protect_table(df, spec)
    print(f"protecting 301 x 6 cells: {time.perf_counter() - start:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="?", default="results")
    parser.add_argument("--config", default="config/config.yaml")
    args = parser.parse_args()
    _protection_time()
    results = Path(args.results)
    release = results / "release"

    start = time.perf_counter()
    report = interval_audit(release)
    seconds = time.perf_counter() - start
    figures = report.to_dict()
    figures.pop("findings")
    print(f"interval audit of {release}: {seconds:.1f} s")
    print(json.dumps(figures, indent=1))

    config = yaml.safe_load(Path(args.config).read_text())
    weights, k = config["index"]["weights"], float(config["index"]["k"])
    children = pd.read_parquet(results / "secure" / "children.parquet")
    exact_area = it.area_index_table(children, weights, k, float(config["index"]["confidence"]))
    published = pd.read_csv(release / "index" / "index_by_area.csv", dtype={"area_code": "str"})
    print(
        "\naccuracy cost, index_by_area.csv (statistic, rows published, largest and "
        "median absolute change):"
    )
    for row in _changes(published, exact_area, "area_code", INDEX_STATS):
        print(f"  {row[0]:<22} {row[1]:>5}  {row[2]:.4f}  {row[3]:.4f}")

    areas = read_validated_table(results / "secure" / "contract", "areas")
    exact = profile_statistics(children, areas, weights, k)["area_statistics"]
    published = pd.read_csv(
        release / "profiles" / "tables" / "area_statistics.csv", dtype={"la_code": "str"}
    )
    print("\naccuracy cost, area_statistics.csv:")
    for row in _changes(published, exact, "la_code", PROFILE_STATS):
        print(f"  {row[0]:<22} {row[1]:>5}  {row[2]:.4f}  {row[3]:.4f}")


if __name__ == "__main__":
    main()
