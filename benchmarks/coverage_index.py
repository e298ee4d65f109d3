"""Coverage of the Child-MDH index's confidence intervals on repeated synthetic Englands.

    .venv/bin/python benchmarks/coverage_index.py [--draws 500] [--n 20000]
        [--truth-draws 40] [--truth-n 150000] [--boot-draws 100] [--n-boot 499]
        [--workers 2] [--out results/benchmarks/coverage_index]

The synthetic England (:func:`child_mdh.sources.synthetic.generate`) is a draw from a known
data-generating process, so the default index (equal weights, k = 0.4, children aged
5-15, linked, ``fsm_at_reference``) has a population value: the expectation of H, A, M0
and the indicator headcounts over that process.

1. **Truth.** ``--truth-draws`` independent draws of ``--truth-n`` children each go
   through the pipeline below; the truth is the mean of their estimates and its own
   standard error is the standard deviation between them over sqrt(draws). Several
   draws are used rather than one very large one because the generator draws its
   local-authority effects (FSM, linkage) afresh with every seed: that part of one
   draw's error does not shrink with the number of children, and averaging over seeds
   removes it (see ``docs/index-methods.md``, "Coverage on the synthetic data").
2. **Repeated draws.** ``--draws`` draws of ``--n`` children (seeds 1, 2, ...), each
   through ``generate -> validate_folder -> derive_children -> af_inference``, for
   England and every region, with linearisation intervals clustered by household (the
   pipeline's choice at every level) and, for comparison, by local authority; the first
   ``--boot-draws`` draws also get the cluster bootstrap (percentile intervals) with
   the same two clusterings.
3. **Summary.** For every design, area and measure: coverage of the 95% interval with
   its binomial standard error, bias (mean estimate - truth), mean SE, empirical SD of
   the estimates and their ratio.

Writes ``truth.json``, ``truth_draws.csv``, ``draws.csv.gz``, ``summary.csv`` and
``summary.md`` into ``--out`` (git-ignored ``results/`` by default) and prints progress
and the summary table. Draws run in ``--workers`` processes.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from child_mdh.aggregates.index.alkire_foster import DEFAULT_K, DEFAULT_WEIGHTS
from child_mdh.studies.synthetic_coverage import (
    CENSUS_YEAR,
    TRUTH_SEED_BASE,
    report_text,
    run_draws,
    summarise,
    truth_from_draws,
)


def code_version() -> dict:
    """The git commit of the code and whether the package has uncommitted changes (read
    only; empty when git is not available), recorded with the results."""
    root = Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "src/child_mdh"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split("\n")
    except (OSError, subprocess.CalledProcessError):
        return {}
    return {"commit": head, "uncommitted": sorted(line[3:] for line in dirty if line.strip())}


def coverage_study(
    n_draws: int,
    n_children: int,
    truth_draws: int,
    truth_n: int,
    boot_draws: int = 0,
    n_boot: int = 499,
    workers: int = 1,
    out_dir: Path | None = None,
    progress: bool = True,
) -> dict:
    """Run the whole study; returns ``{"truth", "truth_draws", "draws", "summary", "seconds"}``.

    Truth seeds are ``TRUTH_SEED_BASE + 1 ..``; draw seeds ``1 .. n_draws``; the first
    ``boot_draws`` draws also get the bootstrap. When ``out_dir`` is given, the truth is
    read from ``out_dir/truth.json`` if it was computed with the same truth settings, and
    every result is written there.
    """
    t0 = time.perf_counter()
    out_dir = Path(out_dir) if out_dir else None
    cache = out_dir / "truth.json" if out_dir else None
    key = {
        "truth_draws": truth_draws,
        "truth_n": truth_n,
        "seed_base": TRUTH_SEED_BASE,
        "census_year": CENSUS_YEAR,
        "k": DEFAULT_K,
        "weights": DEFAULT_WEIGHTS,
    }
    truth_runs = None
    if (
        cache is not None
        and cache.exists()
        and json.loads(cache.read_text()).get("settings") == key
    ):
        truth = pd.DataFrame(json.loads(cache.read_text())["values"])
        if progress:
            print(f"truth read from {cache}", flush=True)
    else:
        if progress:
            print(f"truth: {truth_draws} draws of {truth_n:,} children", flush=True)
        seeds = [TRUTH_SEED_BASE + i for i in range(1, truth_draws + 1)]
        truth_runs = run_draws(
            truth_n, seeds, workers=workers, label="truth draw", progress=progress
        )
        truth = truth_from_draws(truth_runs)
    t_truth = time.perf_counter() - t0
    if progress:
        print(
            f"repeated draws: {n_draws} of {n_children:,} children "
            f"({boot_draws} with the bootstrap, B = {n_boot})",
            flush=True,
        )
    seeds = list(range(1, n_draws + 1))
    draws = run_draws(
        n_children,
        seeds,
        boot_seeds=seeds[:boot_draws],
        n_boot=n_boot,
        workers=workers,
        progress=progress,
    )
    summary = summarise(draws, truth)
    seconds = {
        "truth": t_truth,
        "draws": time.perf_counter() - t0 - t_truth,
        "total": time.perf_counter() - t0,
    }
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        if truth_runs is not None:
            cache.write_text(
                json.dumps({"settings": key, "values": truth.to_dict("records")}, indent=1)
            )
            truth_runs.to_csv(out_dir / "truth_draws.csv", index=False)
        draws.to_csv(out_dir / "draws.csv.gz", index=False)
        summary.to_csv(out_dir / "summary.csv", index=False)
        settings = {
            "draws": n_draws,
            "n_children": n_children,
            "boot_draws": boot_draws,
            "n_boot": n_boot,
            "workers": workers,
            **key,
            "seconds": seconds,
            "code": code_version(),
        }
        (out_dir / "summary.md").write_text(
            "```json\n"
            + json.dumps(settings, indent=1)
            + "\n```\n\n"
            + report_text(summary, truth)
            + "\n"
        )
    return {
        "truth": truth,
        "truth_draws": truth_runs,
        "draws": draws,
        "summary": summary,
        "seconds": seconds,
    }


def main(argv=None) -> None:
    """Command line: run the study and print the summary."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--draws", type=int, default=500, help="repeated draws (R)")
    p.add_argument("--n", type=int, default=20_000, help="children per draw (aged 0-17)")
    p.add_argument("--truth-draws", type=int, default=40)
    p.add_argument("--truth-n", type=int, default=150_000, help="children per truth draw")
    p.add_argument("--boot-draws", type=int, default=100, help="draws that get the bootstrap")
    p.add_argument("--n-boot", type=int, default=499, help="bootstrap replicates")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--out", default="results/benchmarks/coverage_index")
    a = p.parse_args(argv)
    res = coverage_study(
        a.draws, a.n, a.truth_draws, a.truth_n, a.boot_draws, a.n_boot, a.workers, Path(a.out)
    )
    print()
    print(report_text(res["summary"], res["truth"]))
    print("\nseconds: " + ", ".join(f"{k} {v:.0f}" for k, v in res["seconds"].items()))
    print(f"written to {a.out}")


if __name__ == "__main__":
    sys.exit(main())
