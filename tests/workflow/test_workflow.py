"""The whole workflow, end to end, on the tiny configuration in .test/config/."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from paths import REPO

ROOT = REPO
TINY_CONFIG = ROOT / ".test" / "config" / "config.yaml"
PERSON_LEVEL_COLUMNS = {"person_id", "pupil_id", "household_id", "child_id"}


def _snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(ROOT / "Snakefile"),
        "--directory",
        str(workdir),
        "--configfile",
        str(TINY_CONFIG),
        "--cores",
        "2",
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=2400)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("workflow")
    proc = _snakemake(workdir)
    assert proc.returncode == 0, proc.stderr[-5000:]
    return workdir


@pytest.mark.slow
def test_release_files_are_all_in_the_manifest(tiny_run):
    release = tiny_run / "results" / "release"
    manifest = json.loads((release / "outputs.json").read_text())
    listed = {f for entry in manifest["outputs"].values() for f in entry["files"]}
    present = {str(p.relative_to(release)) for p in release.rglob("*") if p.is_file()}
    # checksums/ is SACRO Viewer's layout: one checksums/<name>.txt per listed file
    checksums = {p for p in present if p.startswith("checksums/")}
    assert checksums == {f"checksums/{f}.txt" for f in listed}
    present -= checksums
    assert present <= listed, f"release files missing from outputs.json: {sorted(present - listed)}"
    assert {"provenance.json", "outputs.json", "checker_summary.html"} <= present
    # the reasons for empty cells stay in the secure area
    assert (tiny_run / "results" / "secure" / "disclosure_reasons.json").is_file()


@pytest.mark.slow
def test_no_person_level_column_in_release(tiny_run):
    release = tiny_run / "results" / "release"
    for path in release.rglob("*.csv"):
        columns = set(pd.read_csv(path, nrows=0).columns)
        assert not columns & PERSON_LEVEL_COLUMNS, f"{path} has person-level columns"


@pytest.mark.slow
def test_release_as_a_whole_gives_nothing_back(tiny_run):
    # the release-wide interval audit ran in the build and found nothing
    audit = json.loads((tiny_run / "results" / "release" / "audit.json").read_text())
    figures = audit["intervals"]
    assert figures["passed"] and figures["withheld_counts"] > 0
    assert (
        figures["exact_recoveries"],
        figures["narrow_recoveries"],
        figures["pinned_rounded_counts"],
    ) == (0, 0, 0)


@pytest.mark.slow
def test_every_sum_between_published_counts_is_declared(tiny_run):
    from child_mdh.release.sdc.relations import undeclared_sums

    release = tiny_run / "results" / "release"
    manifest = json.loads((release / "outputs.json").read_text())
    found = {}
    for entry in manifest["results"].values():
        structure = entry.get("structure")
        for f in entry.get("files", []) if structure else []:
            if f["name"].endswith(".csv"):
                relations = undeclared_sums(pd.read_csv(release / f["name"]), structure)
                if relations:
                    found[f["name"]] = relations
    assert found == {}


@pytest.mark.slow
def test_release_audit_passes(tiny_run):
    from child_mdh.release.sdc import audit_release

    release = tiny_run / "results" / "release"
    audit = json.loads((release / "audit.json").read_text())
    assert audit["problems"] == []
    # re-walk the folder independently of the run: every file listed, no small count
    # unsuppressed, no suppressed cell recoverable from a declared margin
    assert audit_release(release, threshold=10) == []


@pytest.mark.slow
def test_release_audit_catches_a_tampered_file(tiny_run, tmp_path):
    import shutil

    from child_mdh.release.sdc import audit_release

    copy = tmp_path / "release"
    shutil.copytree(tiny_run / "results" / "release", copy)
    table = copy / "index" / "index_by_area.csv"
    df = pd.read_csv(table)
    df.loc[df["area_level"] == "la", "mdh_n"] = 3  # small counts slipped into a release file
    df.to_csv(table, index=False)
    (copy / "stray.csv").write_text("a_n\n4\n")  # and a file nobody listed
    problems = [
        p.to_dict() if hasattr(p, "to_dict") else p for p in audit_release(copy, threshold=10)
    ]
    text = json.dumps(problems)
    assert "stray.csv" in text and "index_by_area.csv" in text


@pytest.mark.slow
def test_provenance_records_inputs_and_config(tiny_run):
    prov = json.loads((tiny_run / "results" / "release" / "provenance.json").read_text())
    assert prov["config"]["synthetic"]["children"] == 3000
    assert len(prov["inputs"]) == 8
    assert all(len(i["sha256"]) == 64 for i in prov["inputs"])


@pytest.mark.slow
def test_rerun_has_nothing_to_do(tiny_run):
    proc = _snakemake(tiny_run, "--dry-run")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Nothing to be done" in proc.stdout + proc.stderr


@pytest.mark.slow
def test_workflow_lints_clean(tmp_path):
    proc = _snakemake(tmp_path, "--lint")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


@pytest.mark.slow
def test_snakemake_report_builds(tiny_run):
    report = tiny_run / "results" / "report.html"
    proc = _snakemake(tiny_run, "--report", str(report))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert report.stat().st_size > 10_000
    # the report reaches every local-area profile page: each authority's page, England's
    # and the index, under one category
    text = report.read_text()
    shown = set(re.findall(r'"filename": "profiles/areas/([A-Z][0-9]{8})\.html"', text))
    released = {
        p.stem for p in (tiny_run / "results" / "release" / "profiles" / "areas").glob("*.html")
    }
    assert released and shown == released
    assert '"page": "local authority"' in text and '"page": "England"' in text
    assert '"page": "index of every profile"' in text
    assert "Local authority pages" in text
