"""The simulation workflow: seeds scattered as jobs, gathered into coverage with its
Monte Carlo error; both workflows plan cleanly against the SLURM profile."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import yaml

from paths import REPO

SIMULATION = REPO / "workflow" / "simulation" / "Snakefile"
SLURM = REPO / "workflow" / "profiles" / "slurm"


def _snakemake(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "snakemake", *args, "--directory", str(cwd)],
        capture_output=True,
        text=True,
        check=False,
    )


def _tiny_config(tmp_path, **coverage):
    config = tmp_path / "simulation.yaml"
    settings = {
        "draws": 4,
        "n_children": 3000,
        "truth_draws": 2,
        "truth_n": 5000,
        "seeds_per_job": 3,
        **coverage,
    }
    config.write_text(
        yaml.safe_dump({"results_dir": str(tmp_path / "out"), "index_coverage": settings})
    )
    return config


@pytest.mark.slow
def test_index_coverage_runs_as_jobs_and_reports_monte_carlo_error(tmp_path):
    config = _tiny_config(tmp_path)
    proc = _snakemake(
        "-s", str(SIMULATION), "--cores", "2", "--configfile", str(config), cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = tmp_path / "out" / "index_coverage"
    # 4 draws in batches of 3 seeds: two jobs, seeds 1-3 and 4
    assert sorted(p.name for p in (out / "draws").iterdir()) == ["batch_0.csv", "batch_1.csv"]
    draws = pd.concat(pd.read_csv(p) for p in (out / "draws").iterdir())
    assert sorted(draws["seed"].unique()) == [1, 2, 3, 4]
    summary = pd.read_csv(out / "summary.csv")
    assert (summary["R"] == 4).all()
    c = summary["coverage"]
    assert c.between(0, 1).all()
    np.testing.assert_allclose(summary["coverage_se"], np.sqrt(c * (1 - c) / 4))
    assert "England" in (out / "summary.md").read_text()


@pytest.mark.slow
@pytest.mark.parametrize("snakefile", ["Snakefile", "workflow/simulation/Snakefile"])
def test_workflows_plan_against_the_slurm_profile(tmp_path, snakefile):
    args = ["-s", str(REPO / snakefile), "-n", "--profile", str(SLURM), "--executor", "dryrun"]
    if "simulation" in snakefile:
        args += ["--configfile", str(_tiny_config(tmp_path))]
    proc = _snakemake(*args, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    plan = proc.stdout + proc.stderr
    assert "slurm_partition=your_partition" in plan
    assert "mem_mb=" in plan and "runtime=" in plan


@pytest.mark.slow
def test_the_local_authority_study_holds_their_effects_and_reports_every_authority(tmp_path):
    config = _tiny_config(tmp_path, draws=3, truth_draws=2, truth_n=8000)
    proc = _snakemake(
        "-s",
        str(SIMULATION),
        "--cores",
        "2",
        "index_coverage_la",  # targets before --configfile, which takes several files
        "--configfile",
        str(config),
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = tmp_path / "out" / "index_coverage_la"
    summary = pd.read_csv(out / "summary.csv")
    # the symmetric interval and the logit-scale one, on the same draws
    assert set(summary["design"]) == {
        "linearization/household",
        "linearization-logit/household",
    }
    assert summary["area"].nunique() > 100  # England and (nearly) every authority
    report = (out / "summary.md").read_text()
    assert "local authorities" in report and "linearization-logit/household" in report


def _seed_studies_config(tmp_path):
    config = tmp_path / "seed_studies.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "results_dir": str(tmp_path / "out"),
                "linkage_bias": {"draws": 3, "n_children": 6000, "seeds_per_job": 2},
                "inequality_recovery": {
                    "draws": 3,
                    "n_children": 20000,
                    "n_las": 30,
                    "seeds_per_job": 2,
                },
            }
        )
    )
    return config


@pytest.mark.slow
def test_the_seed_studies_plan_as_batches_against_the_slurm_profile(tmp_path):
    args = ["-s", str(SIMULATION), "-n", "--profile", str(SLURM), "--executor", "dryrun"]
    args += ["linkage_bias", "inequality_recovery"]
    args += ["--configfile", str(_seed_studies_config(tmp_path))]
    proc = _snakemake(*args, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    plan = proc.stdout + proc.stderr
    # 3 draws in batches of 2 seeds: two jobs a study, then its summary
    for study in ("linkage_bias", "inequality_recovery"):
        for batch in (0, 1):
            assert f"{study}/draws/batch_{batch}.csv" in plan
        assert f"{study}/draws/batch_2.csv" not in plan
        assert f"{study}/summary.csv" in plan
    assert "slurm_partition=your_partition" in plan
    assert "mem_mb=" in plan and "runtime=" in plan


SUMMARY_COLUMNS = {
    "draws",
    "truth",
    "bias",
    "bias_mc_se",
    "mean_se",
    "coverage",
    "coverage_mc_se",
}


@pytest.mark.slow
def test_the_seed_studies_run_and_recover_their_truths(tmp_path):
    config = _seed_studies_config(tmp_path)
    proc = _snakemake(
        "-s",
        str(SIMULATION),
        "--cores",
        "2",
        "linkage_bias",
        "inequality_recovery",
        "--configfile",
        str(config),
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = tmp_path / "out"

    ineq = pd.read_csv(out / "inequality_recovery" / "summary.csv").set_index("estimand")
    assert SUMMARY_COLUMNS | {"mean_estimate", "sd_estimate"} <= set(ineq.columns)
    assert {"PAF MDH", "PAF all indicators", "PAF employment", "SII"} <= set(ineq.index)
    assert (ineq["draws"] == 3).all()
    # the truth is exact: the mean of 3 draws is within a few of its Monte Carlo SEs
    # (and of the mean SE / sqrt(3), in case the 3 draws happen to agree)
    tolerance = 4 * np.maximum(ineq["bias_mc_se"], ineq["mean_se"] / np.sqrt(3))
    assert (ineq["bias"].abs() < tolerance).all(), ineq[["bias", "bias_mc_se"]]
    assert "PAF MDH" in (out / "inequality_recovery" / "summary.md").read_text()

    link = pd.read_csv(out / "linkage_bias" / "summary.csv").set_index(["estimator", "measure"])
    assert SUMMARY_COLUMNS | {"bias_realised", "coverage_realised"} <= set(link.columns)
    assert set(link.index.get_level_values(0)) == {"unweighted", "ipw", "ipw_stacked"}
    assert (link["draws"] == 3).all()
    # weighted H unbiased for the realised truth; the unweighted one far below it
    ipw, unw = link.loc[("ipw", "H")], link.loc[("unweighted", "H")]
    assert abs(ipw["bias_realised"]) < 4 * max(ipw["bias_realised_mc_se"], 0.002)
    assert unw["bias_realised"] < -0.01
    # the stacked SE is the fixed-weight SE's at most
    assert link.loc[("ipw_stacked", "H"), "mean_se"] <= ipw["mean_se"]
