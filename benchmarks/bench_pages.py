"""The local authority profile pages of a finished run, timed in CPU and wall seconds.

    .venv/bin/python benchmarks/bench_pages.py [RESULTS_DIR] [--config CONFIG]
        [--png | --no-png] [--out OUT_DIR] [--profile FILE]

RESULTS_DIR (default ``results``) is a run's results folder with the staged profile
tables (``secure/staged/profile_tables``, from ``snakemake --until profile_tables``; the
number of children does not change the cost of a page). Builds every local
authority's page, CSV, XLSX and (with ``--png``, or ``profiles.png`` of CONFIG) four PNG
figures the way rule ``profile_pages`` does, in one process, into OUT_DIR (default: a
temporary folder, removed), and prints the CPU (user + system of this process) and wall
seconds: reading the tables, in all, per page, and per half (one of the rule's two
jobs). ``--profile FILE`` writes a cProfile of the pages to FILE.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import yaml

from child_mdh.release.profiles.build import build_profiles, la_chunks, profile_la_codes
from child_mdh.release.sdc import Manifest, SDCConfig
from child_mdh.steps.profiles import PROFILES_DIR, TABLES_DIR, _page_options, _staged_tables


def _clock() -> tuple[float, float]:
    return time.process_time(), time.perf_counter()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="?", default="results")
    parser.add_argument("--config", default="config/config.yaml")
    parser.add_argument("--png", action=argparse.BooleanOptionalAction, default=None)
    parser.add_argument("--out", default=None)
    parser.add_argument("--profile", default=None)
    args = parser.parse_args(argv)

    config = yaml.safe_load(Path(args.config).read_text())
    profiles = dict(config["profiles"])
    if args.png is not None:
        profiles["png"] = args.png
    secure = Path(args.results) / "secure"
    staged = secure / "staged"
    smk = SimpleNamespace(
        input=SimpleNamespace(
            tables=str(staged / "profile_tables"),
            tables_manifest=str(secure / "manifest_parts" / "profile_tables.json"),
            provenance=str(staged / "provenance" / "provenance.json"),
            derive_report=str(secure / "derive_report.json"),
        ),
        params=SimpleNamespace(
            profiles=profiles,
            disclosure=config["disclosure"],
            is_synthetic=config.get("input", {}).get("source", "synthetic") == "synthetic",
            extra_caveats=[],
            about={},
        ),
    )

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(args.out) if args.out else Path(tmp)
        c0, w0 = _clock()
        tables = _staged_tables(smk)
        codes = profile_la_codes(tables)
        options = _page_options(smk)
        c1, w1 = _clock()
        halves = la_chunks(codes, 2)
        profiler = cProfile.Profile() if args.profile else None
        times = []
        for item, chunk in enumerate(halves, start=1):
            out_dir = root / f"{item}-of-2" / PROFILES_DIR
            out_dir.mkdir(parents=True, exist_ok=True)
            manifest = Manifest(
                out_dir.parent,
                f"profile_pages_{item}",
                SDCConfig.from_mapping(config["disclosure"]),
            )
            start = _clock()
            if profiler is not None:
                profiler.enable()
            build_profiles(
                tables,
                chunk,
                out_dir,
                manifest,
                tables_dir=out_dir / TABLES_DIR,
                local_indicators=profiles["local_indicators"],
                **options,
            )
            if profiler is not None:
                profiler.disable()
            manifest.write_part(root / f"profile_pages_{item}.json")
            end = _clock()
            times.append((len(chunk), end[0] - start[0], end[1] - start[1]))
        c2, w2 = _clock()
        if profiler is not None:
            profiler.dump_stats(args.profile)

    n = len(codes)
    result = {
        "pages": n,
        "png": bool(profiles["png"]),
        "xlsx": bool(profiles["xlsx"]),
        "read_tables_cpu_s": round(c1 - c0, 2),
        "read_tables_wall_s": round(w1 - w0, 2),
        "pages_cpu_s": round(c2 - c1, 2),
        "pages_wall_s": round(w2 - w1, 2),
        "cpu_s_per_page": round((c2 - c1) / n, 4),
        "wall_s_per_page": round((w2 - w1) / n, 4),
        "halves": [{"pages": k, "cpu_s": round(c, 2), "wall_s": round(w, 2)} for k, c, w in times],
    }
    json.dump(result, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
