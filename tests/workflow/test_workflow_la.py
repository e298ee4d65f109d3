"""The local-authority route through the whole workflow, on synthetic returns."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from paths import REPO

ROOT = REPO
CONFIG = ROOT / ".test" / "config" / "config_la.yaml"


def _run(workdir: Path, env_salt: str | None, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "CHILD_MDH_SALT"}
    if env_salt:
        env["CHILD_MDH_SALT"] = env_salt
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(ROOT / "Snakefile"),
        "--directory",
        str(workdir),
        "--configfile",
        str(CONFIG),
        "--cores",
        "2",
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=2400, env=env)


@pytest.mark.slow
def test_la_route_runs_and_releases_only_checked_aggregates(tmp_path):
    proc = _run(tmp_path, "synthetic-salt-for-tests-0001")
    assert proc.returncode == 0, proc.stderr[-5000:]
    release = tmp_path / "results" / "release"
    audit = json.loads((release / "audit.json").read_text())
    assert audit["problems"] == []
    accounting = (tmp_path / "results" / "secure" / "contract" / "row_accounting.csv").read_text()
    assert "households" not in accounting  # the LA route validates the five LA tables only
    page = (release / "profiles" / "index.html").read_text()
    assert "synthetic" in page.lower()
    index = (release / "index" / "index_by_area.csv").read_text()
    assert "E10000016" in index
    # the salt never reaches an output
    for path in (tmp_path / "results").rglob("*"):
        if path.is_file() and path.suffix in (".csv", ".json", ".html", ".md"):
            assert "synthetic-salt-for-tests-0001" not in path.read_text(errors="ignore"), path


@pytest.mark.slow
def test_la_route_without_a_salt_stops_with_a_clear_message(tmp_path):
    proc = _run(tmp_path, None)
    assert proc.returncode != 0
    assert "CHILD_MDH_SALT" in proc.stderr + proc.stdout
