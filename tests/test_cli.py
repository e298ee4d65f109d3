"""The command line: each sub-command reaches its library function."""

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from child_mdh import cli
from child_mdh.contract.children import children_markdown
from child_mdh.contract.tables import contract_markdown

from paths import REPO

ROOT = REPO


def test_contract_docs_prints_the_contract(capsys):
    assert cli.main(["contract-docs"]) == 0
    out = capsys.readouterr().out
    assert contract_markdown().strip() in out
    assert children_markdown() in out


def test_synth_then_validate_round_trip(tmp_path, capsys):
    out = tmp_path / "synth"
    assert cli.main(["synth", "--children", "1000", "--seed", "3", "--out", str(out)]) == 0
    assert (out / "truth.json").exists()
    assert (
        cli.main(
            [
                "validate",
                str(out),
                "--out",
                str(tmp_path / "valid"),
                "--reference-date",
                "2026-06-01",
            ]
        )
        == 0
    )
    accounting = pd.read_csv(tmp_path / "valid" / "row_accounting.csv")
    assert (
        accounting["rows_read"] == accounting["rows_used"] + accounting["rows_quarantined"]
    ).all()


def test_validate_reports_a_missing_table_and_exits_2(tmp_path, capsys):
    assert cli.main(["validate", str(tmp_path), "--out", str(tmp_path / "v")]) == 2
    assert "areas" in capsys.readouterr().err


def test_map_extract_check_on_the_example_mapping(capsys):
    mapping = ROOT / "config" / "examples" / "guie_mapping.yaml"
    extract = ROOT / "tests" / "data" / "extract" / "guie"
    if not extract.exists():
        pytest.skip("example extract not present")
    assert cli.main(["map-extract", str(mapping), "--extract-dir", str(extract), "--check"]) == 0


@pytest.mark.slow
def test_console_script_is_installed():
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "child-mdh"), "--help"], capture_output=True, text=True
    )
    assert proc.returncode == 0 and "synth" in proc.stdout
