"""Time the synthetic England generator and measure its peak memory.

    python benchmarks/bench_synth.py 100000 1000000 [--seed 1] [--out /tmp/bench_synth]
    python benchmarks/bench_synth.py 100000 --fidelity

Each size runs in a fresh child process, so the peak resident set size (``ru_maxrss`` of
that process, Linux kilobytes) belongs to that size alone. Prints wall time, peak memory,
rows per table and the size on disk of the written folder.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import shutil
import time
from pathlib import Path


def _run(n: int, seed: int, out: str, fidelity: bool, queue) -> None:
    # imported in the measured child process only, so the parent's memory stays out of
    # the figure
    from child_mdh.sources.synthetic import generate  # noqa: PLC0415

    start = time.perf_counter()
    summary = generate(n, seed, Path(out))
    seconds = time.perf_counter() - start
    result = {"n": n, "seconds": seconds, "rows": summary["rows"]}
    if fidelity:
        from child_mdh.sources.synthetic.fidelity import fidelity_report  # noqa: PLC0415

        start = time.perf_counter()
        report = fidelity_report(Path(out), json.loads((Path(out) / "truth.json").read_text()))
        result["fidelity_seconds"] = time.perf_counter() - start
        result["fidelity_within"] = int(report["within_tolerance"].fillna(False).sum())
        result["fidelity_measured"] = int(report["within_tolerance"].notna().sum())
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["disk_mb"] = sum(f.stat().st_size for f in Path(out).iterdir()) / 2**20
    queue.put(result)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="+", type=int, help="numbers of children")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", default="/tmp/bench_synth")
    parser.add_argument("--fidelity", action="store_true", help="also time the fidelity report")
    parser.add_argument("--keep", action="store_true", help="keep the generated folders")
    args = parser.parse_args(argv)
    ctx = mp.get_context("spawn")
    for n in args.sizes:
        out = f"{args.out}/n{n}"
        queue = ctx.Queue()
        proc = ctx.Process(target=_run, args=(n, args.seed, out, args.fidelity, queue))
        proc.start()
        result = queue.get()
        proc.join()
        rows = ", ".join(f"{k} {v:,}" for k, v in result["rows"].items())
        line = (
            f"N={n:,}: {result['seconds']:.1f} s, peak RSS {result['peak_rss_mb']:.0f} MB, "
            f"{result['disk_mb']:.1f} MB on disk"
        )
        if args.fidelity:
            line += (
                f"; fidelity {result['fidelity_seconds']:.1f} s, "
                f"{result['fidelity_within']}/{result['fidelity_measured']} measured targets within"
            )
        print(line)
        print(f"  rows: {rows}")
        if not args.keep:
            shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
