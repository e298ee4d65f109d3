"""Peak memory and CPU time of the ``linkage_outputs`` step outside Snakemake.

Runs :func:`child_mdh.steps.linkage.run` on a validated contract folder and a workflow
configuration, writing the staged tables and manifest part to ``--out``, and prints the
CPU seconds, the wall seconds and the peak resident memory of the process
(``getrusage``), with the resident memory at the end of each stage when ``--stages``::

    .venv/bin/python benchmarks/bench_linkage.py \\
        results/bench/1000000/results/secure/contract results/bench/1000000/config.yaml \\
        --out /tmp/linkage-1m
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import yaml

import child_mdh.aggregates.linkage as lk
import child_mdh.aggregates.linkage_stacked as st
import child_mdh.release.linkage as rl
from child_mdh.steps import linkage as step


def _rss_mb() -> float:
    """The current resident memory (MB), from /proc (Linux)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 1e6


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3  # kB on Linux


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("contract", type=Path, help="the validated contract tables folder")
    ap.add_argument("config", type=Path, help="the workflow configuration (config.yaml)")
    ap.add_argument("--out", type=Path, required=True, help="where to stage the tables")
    ap.add_argument("--stages", action="store_true", help="print memory after each stage")
    args = ap.parse_args(argv)

    cfg = yaml.safe_load(args.config.read_text())
    args.out.mkdir(parents=True, exist_ok=True)
    tables = sorted(str(p) for p in args.contract.glob("*.parquet"))
    smk = SimpleNamespace(
        input=SimpleNamespace(tables=tables),
        output=SimpleNamespace(
            manifest=str(args.out / "linkage.json"), staged=str(args.out / "linkage")
        ),
        log=[str(args.out / "linkage_outputs.log")],
        params=SimpleNamespace(
            population=cfg["population"],
            domains=cfg["domains"],
            outcomes=cfg["outcomes"],
            index=cfg["index"],
            models=cfg["models"],
            linkage=cfg["linkage"],
            disclosure=cfg["disclosure"],
            about={},
        ),
        rule="linkage_outputs",
    )
    if args.stages:
        _trace_stages()
    wall = time.perf_counter()
    step.run(smk)
    wall = time.perf_counter() - wall
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime
    print(f"linkage_outputs: {cpu:.1f} CPU s, {wall:.1f} wall s, peak {_peak_mb():,.0f} MB")
    return 0


def _trace_stages() -> None:
    """Wrap the step's stages to print the resident and peak memory after each."""

    def wrap(module, name):
        fn = getattr(module, name)

        def traced(*a, **k):
            t = time.process_time()
            out = fn(*a, **k)
            print(
                f"  {name}: {time.process_time() - t:.1f} CPU s, "
                f"rss {_rss_mb():,.0f} MB, peak {_peak_mb():,.0f} MB",
                file=sys.stderr,
            )
            return out

        setattr(module, name, traced)

    wrap(step, "derive_children")
    for name in (
        "fit_linkage_model",
        "linkage_weights",
        "weighted_index_estimates",
        "weighted_model_estimates",
        "rates_table",
        "bounds_table",
    ):
        wrap(rl if hasattr(rl, name) and name.endswith("_table") else lk, name)
    for name in ("with_stacked_index_se", "with_stacked_model_se"):
        wrap(st, name)


if __name__ == "__main__":
    raise SystemExit(main())
