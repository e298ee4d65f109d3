"""Provenance records what produced a run."""

import hashlib

from child_mdh.release import provenance


def test_file_hash_matches_hashlib(tmp_path):
    f = tmp_path / "x.csv"
    f.write_bytes(b"a,b\n1,2\n" * 1000)
    assert provenance.file_sha256(f, chunk_size=7) == hashlib.sha256(f.read_bytes()).hexdigest()


def test_record_lists_every_input_with_hash_and_versions(tmp_path):
    files = []
    for name in ("b.parquet", "a.csv"):
        p = tmp_path / name
        p.write_text(name)
        files.append(p)
    rec = provenance.provenance_record({"k": 1}, files)
    assert [i["file"] for i in rec["inputs"]] == [
        str(tmp_path / "a.csv"),
        str(tmp_path / "b.parquet"),
    ]
    assert rec["inputs"][0]["sha256"] == hashlib.sha256(b"a.csv").hexdigest()
    assert rec["packages"]["pandas"] is not None
    assert rec["packages"]["child-mdh"] is not None
    assert rec["config"] == {"k": 1}


def test_missing_package_is_recorded_as_none():
    assert provenance.package_versions(("surely-not-installed-pkg",)) == {
        "surely-not-installed-pkg": None
    }
