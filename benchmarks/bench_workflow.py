"""The whole workflow at several sizes: wall time and peak memory per rule (``make bench``).

    python benchmarks/bench_workflow.py [--sizes 100000 1000000] [--with-8m] [--cores 2]
        [--out benchmarks/results.json] [--work results/bench]

For each number of synthetic children the default configuration runs in its own results
folder (``--work/<n>/``) from a clean start; Snakemake's ``benchmark:`` directive records
every job's wall time and peak resident memory (``results/benchmarks/<rule>.tsv``). The
script then

- sums each rule's jobs (the profile page chunks) into seconds, and into CPU seconds
  (user + system, the ``cpu_time`` of the benchmark file), and takes their peak memory;
  wall seconds depend on what else the machine is doing, CPU seconds much less, so the
  machine's load average is sampled through each run and recorded beside the figures,
- times a bare columnar read (pyarrow, the columns the stage uses) of the derive stage's
  inputs and the index stage's input, and prints each stage's time as a ratio of it (the
  target: within 3 times),
- writes ``--out`` (machine, cores, commit, date and every figure), a plot of time and
  peak memory against size beside it (``scaling.png``), and
- compares with the previous ``--out`` (when there is one) and prints the ratios, so a
  slowdown is seen in the next change.

Peak memory is per job (the largest job is what a machine must hold); the workflow runs
jobs one or two at a time (``--cores``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
import pyarrow.parquet as pq
import yaml

from child_mdh.contract.vocabulary import INDICATORS

REPO = Path(__file__).resolve().parents[1]
#: the contract tables the derive stage reads (every column), and the index stage's columns
DERIVE_READS = (
    "persons",
    "households",
    "pupil_census",
    "census_npd_link",
    "cin_referrals",
    "child_protection_plans",
    "looked_after_episodes",
    "areas",
)
INDEX_READS = ["person_id", "household_id", "la_code", "age", "sex", *INDICATORS]
#: the targets of the scale issue, at 8 million children on 2 cores and 24 GiB
TARGETS = {"pipeline_after_synth_s": 20 * 60, "peak_mb": 12 * 1024, "synth_s": 5 * 60}


def machine() -> dict:
    """Where the figures come from."""
    mem_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "platform": platform.platform(),
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "memory_gib": round(mem_kb / 1024**2, 1),
        "python": platform.python_version(),
    }


def commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def run_size(n: int, work: Path, cores: int) -> dict:
    """Run the default workflow at ``n`` children in ``work/<n>``; return its figures."""
    folder = (work / str(n)).resolve()
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    config["results_dir"] = str(folder / "results")
    config["synthetic"]["children"] = n
    config["synthetic"]["out_dir"] = str(folder / "synthetic")
    config_path = folder / "config.yaml"
    config_path.write_text(yaml.safe_dump(config))
    load = LoadSampler()
    start = time.perf_counter()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "snakemake",
            "-s",
            str(REPO / "Snakefile"),
            "--cores",
            str(cores),
            "--configfile",
            str(config_path),
            "--directory",
            str(folder),
            "-q",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - start
    load_mean = load.stop()
    if proc.returncode != 0:
        raise SystemExit(f"the workflow failed at {n:,} children:\n{proc.stderr[-3000:]}")
    rules = rule_figures(folder / "results" / "benchmarks")
    ratios = read_ratios(folder, rules)
    return {
        "children": n,
        "wall_s": round(wall, 1),
        "load_mean": load_mean,
        "rules": rules,
        "read_ratios": ratios,
    }


class LoadSampler:
    """The machine's 1-minute load average, sampled every 5 s until :meth:`stop`."""

    def __init__(self, every: float = 5.0):
        self.samples: list[float] = []
        self._done = threading.Event()
        self._every = every
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._done.is_set():
            self.samples.append(os.getloadavg()[0])
            self._done.wait(self._every)

    def stop(self) -> float:
        """The mean of the samples (the run's own jobs included)."""
        self._done.set()
        self._thread.join()
        return round(sum(self.samples) / max(len(self.samples), 1), 2)


def rule_figures(bench_dir: Path) -> dict:
    """Seconds and CPU seconds (summed over a rule's jobs) and peak memory (MB, largest job)
    per rule."""
    out = {}
    for tsv in sorted(bench_dir.rglob("*.tsv")):
        rule = tsv.parent.name if tsv.parent != bench_dir else tsv.stem
        row = pd.read_csv(tsv, sep="\t").iloc[0]
        fig = out.setdefault(rule, {"seconds": 0.0, "cpu_s": 0.0, "peak_mb": 0.0, "jobs": 0})
        fig["seconds"] = round(fig["seconds"] + float(row["s"]), 2)
        fig["cpu_s"] = round(fig["cpu_s"] + float(row.get("cpu_time", float("nan"))), 2)
        fig["peak_mb"] = round(max(fig["peak_mb"], float(row["max_rss"])), 1)
        fig["jobs"] += 1
    return out


def _read_seconds(paths: list[Path], columns: list[str] | None = None) -> float:
    start = time.perf_counter()
    for p in paths:
        pq.read_table(p, columns=columns)
    return time.perf_counter() - start


def read_ratios(folder: Path, rules: dict) -> dict:
    """Each stage's time over a bare columnar read of what it reads."""
    contract = folder / "results" / "secure" / "contract"
    derive_read = _read_seconds([contract / f"{t}.parquet" for t in DERIVE_READS])
    children = folder / "results" / "secure" / "children.parquet"
    index_read = _read_seconds([children], INDEX_READS)
    return {
        "derive_children": {
            "read_s": round(derive_read, 3),
            "ratio": round(rules["derive_children"]["seconds"] / derive_read, 1),
        },
        "index_outputs": {
            "read_s": round(index_read, 3),
            "ratio": round(rules["index_outputs"]["seconds"] / index_read, 1),
        },
    }


def summary_lines(result: dict) -> list[str]:
    lines = []
    for size in result["sizes"]:
        rules = size["rules"]
        after_synth = sum(
            f["seconds"] for r, f in rules.items() if r not in ("synth", "synthetic_fidelity")
        )
        peak = max(f["peak_mb"] for f in rules.values())
        wall = f"{size['wall_s']:7.1f} s" if size.get("wall_s") else "not timed (job by job)"
        cpu_after = sum(
            f.get("cpu_s", 0.0)
            for r, f in rules.items()
            if r not in ("synth", "synthetic_fidelity")
        )
        load = f", mean load {size['load_mean']}" if size.get("load_mean") is not None else ""
        lines.append(
            f"{size['children']:>10,} children: wall {wall}, after synthesis "
            f"{after_synth:7.1f} s (summed job time; {cpu_after:7.1f} CPU s), largest job "
            f"{peak / 1024:5.2f} GiB{load}"
        )
        for rule, f in sorted(rules.items(), key=lambda kv: -kv[1]["seconds"]):
            cpu = f"  {f['cpu_s']:8.1f} CPU s" if "cpu_s" in f else ""
            lines.append(
                f"    {rule:<20} {f['seconds']:8.1f} s{cpu}  {f['peak_mb']:8.0f} MB"
                + (f"  ({f['jobs']} jobs)" if f["jobs"] > 1 else "")
            )
        for stage, r in size["read_ratios"].items():
            lines.append(f"    {stage} = {r['ratio']} x a bare columnar read ({r['read_s']} s)")
    return lines


def compare(previous: dict, current: dict) -> list[str]:
    """Ratios of this run's figures to the previous run's, size by size."""
    before = {s["children"]: s for s in previous.get("sizes", [])}
    lines = [f"compared with {previous.get('commit', '?')} ({previous.get('date', '?')}):"]
    for size in current["sizes"]:
        old = before.get(size["children"])
        if old is None:
            continue
        wall = (
            f" wall x{size['wall_s'] / old['wall_s']:.2f}"
            if size.get("wall_s") and old.get("wall_s")
            else ""
        )
        lines.append(f"  {size['children']:,} children:{wall}")
        for rule, f in size["rules"].items():
            o = old["rules"].get(rule)
            if o and o["seconds"] > 0 and o["peak_mb"] > 0:
                cpu = (
                    f"  CPU x{f['cpu_s'] / o['cpu_s']:.2f}"
                    if o.get("cpu_s") and f.get("cpu_s") == f.get("cpu_s")
                    else ""
                )
                lines.append(
                    f"    {rule:<20} time x{f['seconds'] / o['seconds']:.2f}{cpu}  "
                    f"memory x{f['peak_mb'] / o['peak_mb']:.2f}"
                )
    return lines


def plot(result: dict, path: Path) -> None:
    # the time of a size run job by job (no wall time recorded) is the sum of its jobs
    def seconds(size: dict) -> float:
        return size.get("wall_s") or sum(f["seconds"] for f in size["rules"].values())

    sizes = [s["children"] for s in result["sizes"]]
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.5))
    a.plot(sizes, [seconds(s) for s in result["sizes"]], marker="o")
    a.set_xscale("log")
    a.set_yscale("log")
    a.set_xlabel("children")
    a.set_ylabel("wall time (s)")
    a.set_title("whole workflow")
    b.plot(
        sizes,
        [max(f["peak_mb"] for f in s["rules"].values()) / 1024 for s in result["sizes"]],
        marker="o",
    )
    b.set_xscale("log")
    b.set_xlabel("children")
    b.set_ylabel("largest job (GiB)")
    b.set_title("peak memory")
    fig.suptitle(f"{result['machine']['cpu_count']} cores, commit {result['commit']}")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    p.add_argument("--with-8m", action="store_true", help="add 8,000,000 children")
    p.add_argument("--cores", type=int, default=2)
    p.add_argument("--out", default=str(REPO / "benchmarks" / "results.json"))
    p.add_argument("--work", default=str(REPO / "results" / "bench"))
    a = p.parse_args(argv)
    sizes = sorted(set(a.sizes) | ({8_000_000} if a.with_8m else set()))
    out = Path(a.out)
    previous = json.loads(out.read_text()) if out.exists() else None
    result = {
        "machine": machine(),
        "cores": a.cores,
        "commit": commit(),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "sizes": [],
    }
    for n in sizes:
        print(f"running the workflow at {n:,} children ...", flush=True)
        result["sizes"].append(run_size(n, Path(a.work), a.cores))
        print("\n".join(summary_lines({"sizes": result["sizes"][-1:]})), flush=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    plot(result, out.with_name("scaling.png"))
    print(f"written {out} and {out.with_name('scaling.png')}")
    if previous:
        print("\n".join(compare(previous, result)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
