"""The Growing Up in England 2011 preset, end to end at a small size.

Runs config/examples/guie_2011.yaml with 20,000 children in a temporary folder and checks
the fidelity report's 2011 targets (FSM in January 2011 by phase, the 31 March 2011
stocks, referrals in 2010-11) and the shape of the analysis (census 2011, ages 10-17,
ever-FSM over the school census years, follow-up to 31 March 2015 or the 18th birthday).
"""

import json
import subprocess
import sys

import pandas as pd
import pytest
import yaml

from paths import REPO

PRESET = REPO / "config" / "examples" / "guie_2011.yaml"
CHILDREN = 20_000
#: target -> published value, for the rows the preset must show
TARGETS_2011 = {
    "fsm_rate_primary_2011-01-20": (0.192, "SFR 12/2011"),
    "fsm_rate_secondary_2011-01-20": (0.159, "SFR 12/2011"),
    "referrals_per_10000_per_year": (557.1, "SFR 26/2011"),
    "cin_per_10000_at_31_march_2011": (346.2, "SFR 26/2011"),
    "cpp_per_10000_at_31_march_2011": (37.8, "SFR 26/2011"),
    "cla_per_10000_at_31_march_2011": (59.0, "SFR 21/2011"),
}


@pytest.fixture(scope="module")
def guie_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("guie")
    config = yaml.safe_load(PRESET.read_text())
    config["synthetic"]["children"] = CHILDREN
    path = workdir / "guie_2011.yaml"
    path.write_text(yaml.safe_dump(config))
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(REPO / "Snakefile"),
        "--directory",
        str(workdir),
        "--configfile",
        str(path),
        "--cores",
        "2",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    assert proc.returncode == 0, proc.stderr[-5000:]
    return workdir / config["results_dir"]


@pytest.mark.slow
def test_the_fidelity_report_meets_the_2011_targets(guie_run):
    report = pd.read_csv(guie_run / "release" / "synthetic_fidelity.csv").set_index("target")
    for target, (value, publication) in TARGETS_2011.items():
        row = report.loc[target]
        assert row["target_value"] == pytest.approx(value, rel=1e-3), target
        assert publication in row["source"], target
        assert "published" in row["note"], target
        assert bool(row["within_tolerance"]), (target, row["achieved"])
    # the school census years 2001/02 to 2014/15, one FSM row each (2011 by phase)
    fsm = [t for t in report.index if t.startswith("fsm_rate_")]
    years = sorted({t.rsplit("_", 1)[1][:4] for t in fsm})
    assert years == [str(y) for y in range(2002, 2016)]
    measured = report[report["within_tolerance"].notna()]
    failed = measured[~measured["within_tolerance"].astype(bool)]
    assert failed.empty, failed[["target_value", "achieved", "tolerance_low", "tolerance_high"]]


@pytest.mark.slow
def test_the_analysis_has_the_guie_shape(guie_run):
    report = json.loads((guie_run / "secure" / "derive_report.json").read_text())
    assert report["census_year"] == 2011 and report["reference_date"] == "2011-03-27"
    assert report["extract_date"] == "2015-03-31"
    assert report["population"]["fsm_measure"] == "ever_fsm_all"
    outcomes = report["outcomes"]
    assert outcomes["end_age"] == 18 and outcomes["follow_up_shortened_at_extract_date"]
    children = pd.read_parquet(guie_run / "secure" / "children.parquet")
    assert children["age"].between(10, 17).all() and set(children["age"]) == set(range(10, 18))
    linked = children[children["linked"]]
    # the follow-up ends at 31 March 2015 or about the 18th birthday
    assert linked["exposure_years"].max() <= 5 * 1466 / 1827 + 1e-9
    older = linked[linked["age"] == 17]["exposure_years"]
    assert older.max() < 1.0
