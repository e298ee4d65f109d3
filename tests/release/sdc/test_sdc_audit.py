"""The release audit catches each class of problem, and passes a safe folder."""

import json

import pandas as pd
import pytest

from child_mdh.release.sdc import (
    Manifest,
    audit_release,
    write_audit,
    write_release_table,
    write_release_text,
)

from sdc_tables import LA_SPEC, la_table

SPEC = LA_SPEC


@pytest.fixture
def safe_release(tmp_path):
    release = tmp_path / "release"
    m = Manifest(release, step="profiles")
    write_release_table(la_table(), release / "profiles" / "cin.csv", SPEC, m, xlsx=True)
    write_release_text(
        "{}",
        release / "provenance.json",
        m,
        output_type="provenance",
        status="pass",
        comment="versions and hashes only",
    )
    m.write()
    return release


def kinds(problems):
    return sorted({p.kind for p in problems})


def test_a_safe_folder_passes(safe_release):
    assert audit_release(safe_release) == []
    problems = write_audit(safe_release)
    report = json.loads((safe_release / "audit.json").read_text())
    assert problems == [] and report["passed"] is True
    assert report["status_counts"] == {"pass": 4}  # two outputs, the list, the audit
    listed = {
        f
        for e in json.loads((safe_release / "outputs.json").read_text())["outputs"].values()
        for f in e["files"]
    }
    present = {
        p.relative_to(safe_release).as_posix() for p in safe_release.rglob("*") if p.is_file()
    }
    assert present == listed
    assert audit_release(safe_release) == []  # audit.json itself is not an output


def test_unlisted_file(safe_release):
    (safe_release / "profiles" / "extra.csv").write_text("la_code,cin_n\nA,25\n")
    problems = audit_release(safe_release)
    assert kinds(problems) == ["unlisted"]
    assert problems[0].file == "profiles/extra.csv"


def test_small_count_in_an_unlisted_table_is_caught_too(safe_release):
    (safe_release / "sneaky.csv").write_text("la_code,cin_n\nA,3\nB,0\n")
    assert kinds(audit_release(safe_release)) == ["small_count", "unlisted", "zero_count"]


def test_edited_table_with_a_small_count(safe_release):
    path = safe_release / "profiles" / "cin.csv"
    df = pd.read_csv(path)
    df.loc[1, "cin_n"] = 4
    df.to_csv(path, index=False)
    problems = audit_release(safe_release)
    # the file changed after it was checked, holds a 4, and B's rate is now empty next
    # to a published count while D's suppressed count is recoverable: England - A - B - C
    assert "changed_file" in kinds(problems)
    assert "small_count" in kinds(problems)
    assert "recoverable" in kinds(problems)


def test_recoverable_cell_from_the_margin(safe_release):
    path = safe_release / "profiles" / "cin.csv"
    df = pd.read_csv(path)
    df.loc[3, "cin_n"] = 12  # D published again: B = 71 - 25 - 30 - 12
    df.to_csv(path, index=False)
    problems = audit_release(safe_release)
    assert "recoverable" in kinds(problems)
    assert "small_count" not in kinds(problems)
    assert any("row 1 cin_n" in p.detail for p in problems if p.kind == "recoverable")


def test_derived_statistic_on_a_suppressed_count(safe_release):
    path = safe_release / "profiles" / "cin.csv"
    df = pd.read_csv(path)
    df.loc[1, "rate_per_10000"] = 50.0  # 50 per 10,000 of 800 children gives B = 4
    df.to_csv(path, index=False)
    assert "derived" in kinds(audit_release(safe_release))


def test_text_marker_and_xlsx_sheets(safe_release):
    pd.DataFrame({"la_code": ["A"], "cin_n": ["<10"]}).to_excel(
        safe_release / "marker.xlsx", index=False
    )
    problems = audit_release(safe_release)
    assert kinds(problems) == ["text_in_count", "unlisted"]


def test_missing_and_failed_outputs(safe_release):
    (safe_release / "profiles" / "cin.xlsx").unlink()
    manifest = json.loads((safe_release / "outputs.json").read_text())
    manifest["results"]["provenance.json"]["status"] = "fail"
    (safe_release / "outputs.json").write_text(json.dumps(manifest))
    assert kinds(audit_release(safe_release)) == ["failed_output", "missing_file"]


def test_no_manifest(tmp_path):
    (tmp_path / "t.csv").write_text("a_n\n25\n")
    assert kinds(audit_release(tmp_path)) == ["no_manifest", "unlisted"]


def test_threshold_argument_overrides_the_recorded_setting(safe_release):
    # counts 25, 30, 71 are published; a stricter threshold of 30 flags 25
    problems = audit_release(safe_release, threshold=30)
    assert "small_count" in kinds(problems)


def test_write_audit_can_stop_a_run(safe_release):
    (safe_release / "stray.txt").write_text("hello")
    with pytest.raises(ValueError, match="1 problem"):
        write_audit(safe_release, raise_on_problems=True)
    assert json.loads((safe_release / "audit.json").read_text())["passed"] is False
