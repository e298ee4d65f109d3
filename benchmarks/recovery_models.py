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
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from child_mdh.studies.model_recovery import (
    POPULATION_PREVALENCE,
    recover_generator_truth,
    synthetic_model_frame,
)

PREVALENCES = {"analysis": "la_mdh_prevalence_centred", "population": POPULATION_PREVALENCE}


def replicate(seed: int, children: int, workdir: Path) -> pd.DataFrame:
    """One synthetic England: the comparisons with the truth for both prevalences."""
    folder = workdir / f"seed_{seed}"
    shutil.rmtree(folder, ignore_errors=True)
    frame, truth = synthetic_model_frame(children, seed, folder)
    out = []
    for label, column in PREVALENCES.items():
        r = recover_generator_truth(frame, truth, prevalence=column)
        r["term"] = r["term"].str.replace(POPULATION_PREVALENCE, "la_mdh_prevalence_centred")
        r.insert(0, "prevalence", label)
        r.insert(0, "seed", seed)
        r["analysis_children"] = len(frame)
        out.append(r)
    shutil.rmtree(folder, ignore_errors=True)
    return pd.concat(out, ignore_index=True)


def summarise(reps: pd.DataFrame) -> pd.DataFrame:
    """Per prevalence, outcome and term: replications, truth, mean bias, Monte Carlo SE
    of the bias, empirical SD, mean SE, their ratio, coverage and mean z."""
    g = reps.groupby(["prevalence", "outcome", "term"], sort=False)
    out = pd.DataFrame(
        {
            "replications": g.size(),
            "truth": g["truth"].first(),
            "mean_bias": g["bias"].mean(),
            "bias_mcse": g["bias"].std(ddof=1) / np.sqrt(g.size()),
            "sd_estimate": g["estimate"].std(ddof=1),
            "mean_std_error": g["std_error"].mean(),
            "coverage": g["covered"].mean(),
            "mean_z": g["z"].mean(),
        }
    )
    out["sd_over_se"] = out["sd_estimate"] / out["mean_std_error"]
    return out.reset_index()


def markdown(summary: pd.DataFrame, prevalence: str = "analysis") -> str:
    s = summary[summary["prevalence"] == prevalence]
    lines = [
        "| outcome | term | truth | mean bias (MC SE) | SD of estimates | mean SE | "
        "coverage of 95% CI |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in s.itertuples():
        lines.append(
            f"| {r.outcome} | `{r.term}` | {r.truth:.2f} | {r.mean_bias:+.3f} "
            f"({r.bias_mcse:.3f}) | {r.sd_estimate:.3f} | {r.mean_std_error:.3f} | "
            f"{r.coverage:.2f} |"
        )
    return "\n".join(lines)


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
    summary = summarise(all_reps)
    print(
        f"\n{a.seeds} seeds of {a.children:,} children "
        f"(analysis cohort {all_reps['analysis_children'].mean():,.0f} on average) in "
        f"{time.perf_counter() - t0:.0f} s\n"
    )
    for prevalence in PREVALENCES:
        print(f"## prevalence: {prevalence}\n")
        print(markdown(summary, prevalence), "\n")
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
