"""Parameter recovery over many synthetic Englands: bias, precision and interval coverage.

    .venv/bin/python benchmarks/recovery_models.py [--seeds 40] [--first-seed 1]
        [--children 100000] [--out recovery_models.csv] [--workdir /tmp/recovery]

For each seed, ``child_mdh.sources.synthetic.generate`` writes a synthetic England of ``--children``
children aged 0-17 (about 61% of them are in the default analysis cohort: aged 5-15 and
linked to the pupil database); the tables go through validation, the derive step and the
index, and the generator's model is fitted for each outcome: cloglog with
local-authority fixed effects on the domains, any domain, free school meals, employment
x health, sex, age, MDH and MDH x the local authority's centred MDH prevalence
(:func:`child_mdh.studies.model_recovery.recover_generator_truth`). The interaction is fitted
twice: with the prevalence the analysis computes from its own children
(``analysis``) and with the prevalence the generator used, among all children aged
0-17 (``population``). Per term and outcome the script prints the mean bias, the
empirical SD of the estimates against the mean standard error, and the coverage of the
95% intervals, as a Markdown table (docs/models.md, section 9), and writes every
replication to ``--out``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd
from threadpoolctl import threadpool_limits

from child_mdh.studies.model_recovery import (
    PREVALENCES,
    recovery_markdown,
    replicate,
    summarise_replications,
)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=40)
    p.add_argument("--first-seed", type=int, default=1)
    p.add_argument("--children", type=int, default=100_000)
    p.add_argument("--out", default="recovery_models.csv")
    p.add_argument("--workdir", default="/tmp/child_mdh_recovery")
    a = p.parse_args(argv)
    workdir = Path(a.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    reps = []
    t0 = time.perf_counter()
    with threadpool_limits(limits=1):
        for seed in range(a.first_seed, a.first_seed + a.seeds):
            t = time.perf_counter()
            reps.append(replicate(seed, a.children, workdir))
            reps[-1].to_csv(
                a.out, index=False, mode="a" if len(reps) > 1 else "w", header=len(reps) == 1
            )
            print(f"seed {seed}: {time.perf_counter() - t:.1f} s", flush=True)
    all_reps = pd.concat(reps, ignore_index=True)
    summary = summarise_replications(all_reps)
    print(
        f"\n{a.seeds} seeds of {a.children:,} children "
        f"(analysis cohort {all_reps['analysis_children'].mean():,.0f} on average) in "
        f"{time.perf_counter() - t0:.0f} s\n"
    )
    for prevalence in PREVALENCES:
        print(f"## prevalence: {prevalence}\n")
        print(recovery_markdown(summary, prevalence), "\n")
    inter = summary[summary["term"].str.contains(":la_mdh")]
    print(
        inter[
            ["prevalence", "outcome", "mean_bias", "bias_mcse", "sd_over_se", "coverage", "mean_z"]
        ]
        .round(3)
        .to_string(index=False)
    )


if __name__ == "__main__":
    main()
