"""``child-mdh audit DIR``: exit 0 clean, 1 problems, 2 user error, never a traceback."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from child_mdh import cli
from child_mdh.release.sdc import Manifest, write_release_table, write_release_text
from child_mdh.release.sdc.publish import publish_release

from sdc_tables import LA_SPEC, la_table


@pytest.fixture
def received(tmp_path):
    """A published release folder, as the output checker receives it."""
    release = tmp_path / "release"
    m = Manifest(release, step="profiles")
    write_release_table(la_table(), release / "profiles" / "cin.csv", LA_SPEC, m)
    write_release_text("<p>notes</p>", release / "notes.html", m, comment="free text: read it")
    part = m.write_part(tmp_path / "secure" / "parts" / "profiles.json")
    publish_release([part], release, tmp_path / "secure" / "disclosure_reasons.json")
    return release


def _snapshot(folder: Path) -> dict:
    return {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_a_clean_folder_exits_0_and_is_left_as_received(received, capsys):
    before = _snapshot(received)
    assert cli.main(["audit", str(received)]) == 0
    out = capsys.readouterr().out
    assert "5 outputs in 5 files: 4 pass, 1 review, 0 fail" in out
    assert "review: notes.html: free text: read it" in out
    assert "audit.json written at release: passed" in out
    assert "audit now: PASSED" in out
    assert len(out.splitlines()) <= 24  # one screen
    assert _snapshot(received) == before


def test_problems_exit_1_and_are_listed(received, capsys):
    (received / "profiles" / "cin.csv").write_text("la_code,cin_n\nA,3\n")
    (received / "extra.csv").write_text("la_code,cin_n\nA,40\n")
    assert cli.main(["audit", str(received)]) == 1
    out = capsys.readouterr().out
    assert "audit now: FAILED" in out
    for text in (
        "changed_file: profiles/cin.csv",
        "small_count: profiles/cin.csv",
        "unlisted: extra.csv",
    ):
        assert text in out


def test_report_option_writes_the_full_audit(received, tmp_path, capsys):
    (received / "extra.csv").write_text("la_code,cin_n\nA,40\n")
    report = tmp_path / "checker" / "audit.json"
    report.parent.mkdir()
    assert cli.main(["audit", str(received), "--report", str(report)]) == 1
    data = json.loads(report.read_text())
    assert data["passed"] is False and data["problems"][0]["kind"] == "unlisted"
    assert f"report written to {report}" in capsys.readouterr().out


@pytest.mark.parametrize("case", ["missing", "no_manifest", "a_file", "bad_threshold"])
def test_user_errors_exit_2_with_one_clear_line(tmp_path, capsys, case):
    folder = tmp_path / "release"
    args = ["audit", str(folder)]
    if case == "no_manifest":
        folder.mkdir()
        (folder / "table.csv").write_text("a_n\n20\n")
    elif case == "a_file":
        folder.write_text("not a folder")
    elif case == "bad_threshold":
        folder.mkdir()
        (folder / "outputs.json").write_text("{}")
        args += ["--threshold", "0"]
    assert cli.main(args) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    expected = {
        "missing": "no such folder",
        "no_manifest": "no outputs.json here",
        "a_file": "not a folder",
        "bad_threshold": "--threshold must be at least 1",
    }
    assert captured.err.startswith("child-mdh audit: ")
    assert expected[case] in captured.err and len(captured.err.splitlines()) == 1


@pytest.mark.slow
def test_console_script_exit_codes_without_traceback(received, tmp_path):
    exe = str(Path(sys.executable).parent / "child-mdh")
    ok = subprocess.run([exe, "audit", str(received)], capture_output=True, text=True)
    missing = subprocess.run(
        [exe, "audit", str(tmp_path / "nowhere")], capture_output=True, text=True
    )
    assert ok.returncode == 0 and "PASSED" in ok.stdout
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    assert "no such folder" in missing.stderr
