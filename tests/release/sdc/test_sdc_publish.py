"""The release step: outputs.json, audit, checker summary, checksums, secure reasons."""

import json

import matplotlib

matplotlib.use("Agg")
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from child_mdh.release.profiles.selfcontained import external_references
from child_mdh.release.provenance import empty_table_warnings, provenance_record
from child_mdh.release.sdc import (
    Manifest,
    audit_release,
    write_release_figure,
    write_release_table,
    write_release_text,
)
from child_mdh.release.sdc.checksums import checksum_path
from child_mdh.release.sdc.manifest import file_digest
from child_mdh.release.sdc.publish import publish_release

from sdc_tables import LA_SPEC, la_table


def _parts(tmp_path):
    release = tmp_path / "release"
    m = Manifest(release, step="profiles")
    table = write_release_table(
        la_table(), release / "profiles" / "cin.csv", LA_SPEC, m, xlsx=True, method="CIN by LA"
    )
    write_release_figure(
        b"\x89PNG\r\n\x1a\n",
        release / "profiles" / "cin.png",
        None,
        m,
        backed_by=[table["uid"]],
        method="bar chart of CIN",
    )
    write_release_text(
        "<p>notes</p>",
        release / "notes.html",
        m,
        method="notes",
        comment="free text written by the analyst: <read it>",
    )
    parts = [m.write_part(tmp_path / "secure" / "manifest_parts" / "profiles.json")]
    return release, parts


@pytest.fixture
def published(tmp_path):
    release, parts = _parts(tmp_path)
    reasons = tmp_path / "secure" / "disclosure_reasons.json"
    assert publish_release(parts, release, reasons) == []
    return release, reasons


def test_publish_writes_the_release_machinery_and_the_secure_reasons(published):
    release, reasons = published
    manifest = json.loads((release / "outputs.json").read_text())
    assert {"outputs.json", "audit.json", "checker_summary.html"} <= set(manifest["results"])
    assert json.loads((release / "audit.json").read_text())["passed"] is True
    by_reason = json.loads(reasons.read_text())["outputs"]["profiles/cin.csv"]["cells"]
    assert by_reason["threshold"] == [[1, "cin_n"]]
    # every listed file has its checksum, as ACRO writes it: the hex digest, no newline
    listed = [f["name"] for e in manifest["results"].values() for f in e["files"]]
    for name in listed:
        assert checksum_path(release, name).read_text() == file_digest(release / name)
    # and the folder passes the audit as received, checksums and summary page included
    assert audit_release(release) == []


def test_checker_summary_is_self_contained_and_says_what_to_check(published):
    release, _ = published
    page = (release / "checker_summary.html").read_text()
    assert external_references(page) == []
    assert "Audit passed" in page
    for name in ("profiles/cin.csv", "profiles/cin.xlsx", "profiles/cin.png", "notes.html"):
        assert name in page
    # the review reason is shown (escaped), and the checks run with their results
    assert "free text written by the analyst: &lt;read it&gt;" in page
    assert "secondary: pass" in page and "threshold: pass" in page
    assert "Outputs needing review (1)" in page


def test_audit_problems_reach_the_summary_and_stop_the_release(tmp_path):
    release, parts = _parts(tmp_path)
    (release / "stray.csv").write_text("la_code,cin_n\nA,3\n")
    reasons = tmp_path / "secure" / "disclosure_reasons.json"
    with pytest.raises(ValueError, match="problem"):
        publish_release(parts, release, reasons)
    page = (release / "checker_summary.html").read_text()
    assert "problem(s)" in page and "stray.csv" in page and "small_count" in page
    assert reasons.exists()


def test_reasons_inside_the_release_folder_are_refused_before_writing(tmp_path):
    release, parts = _parts(tmp_path)
    with pytest.raises(ValueError, match="secure area"):
        publish_release(parts, release, release / "reasons.json")
    assert not (release / "outputs.json").exists()


def test_audit_checks_the_checksums_folder(published):
    release, _ = published
    checksum_path(release, "profiles/cin.csv").write_text("0" * 64)
    (release / "checksums" / "hidden.csv").write_text("la_code,cin_n\nA,3\n")
    checksum_path(release, "notes.html").unlink()
    found = {(p.kind, p.file) for p in audit_release(release)}
    assert found == {
        ("checksum", "checksums/profiles/cin.csv.txt"),
        ("unlisted", "checksums/hidden.csv"),
        ("checksum", "notes.html"),
    }


def test_the_release_is_built_anew_from_the_staged_folders(tmp_path):
    from child_mdh.release.sdc.publish import ReleaseAssemblyError, assemble_release

    index, pages, single = tmp_path / "s" / "index", tmp_path / "s" / "pages", tmp_path / "p"
    (index / "index").mkdir(parents=True)
    (index / "index" / "by_area.csv").write_text("a,n\n")
    (index / ".snakemake_timestamp").write_text("")
    (pages / "profiles" / "areas").mkdir(parents=True)
    (pages / "profiles" / "areas" / "E1.html").write_text("<p>")
    single.mkdir()
    (single / "provenance.json").write_text("{}")
    release = tmp_path / "release"
    (release / "models").mkdir(parents=True)
    (release / "models" / "comparator.csv").write_text("from an earlier run\n")
    n = assemble_release([index, pages, single / "provenance.json"], release)
    files = sorted(p.relative_to(release).as_posix() for p in release.rglob("*") if p.is_file())
    assert n == 3
    assert files == ["index/by_area.csv", "profiles/areas/E1.html", "provenance.json"]
    (pages / "index").mkdir()
    (pages / "index" / "by_area.csv").write_text("a,n\n")
    with pytest.raises(ReleaseAssemblyError, match="index/by_area.csv: staged by both"):
        assemble_release([index, pages], release)


def test_an_empty_social_care_table_is_said_first_on_the_checker_summary(tmp_path):
    secure = tmp_path / "secure" / "contract"
    secure.mkdir(parents=True)
    pq.write_table(
        pa.table({"pupil_id": pa.array([], pa.string())}), secure / "cin_referrals.parquet"
    )
    pq.write_table(pa.table({"pupil_id": ["U1"]}), secure / "looked_after_episodes.parquet")
    pq.write_table(
        pa.table({"pupil_id": pa.array([], pa.string())}), secure / "pupil_census.parquet"
    )
    warnings = empty_table_warnings(sorted(secure.glob("*.parquet")))
    assert len(warnings) == 1 and "cin_referrals table is EMPTY" in warnings[0]
    record = provenance_record({}, [], warnings)
    assert record["warnings"] == warnings
    assert "warnings" not in provenance_record({}, [], [])  # a clean run's record unchanged
    release, parts = _parts(tmp_path)
    (release / "provenance.json").write_text(json.dumps(record))
    publish_release(parts, release, tmp_path / "secure" / "reasons.json", raise_on_problems=False)
    page = (release / "checker_summary.html").read_text()
    assert page.index("cin_referrals table is EMPTY") < page.index("Audit of the release folder")
