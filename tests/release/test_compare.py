"""Comparing two release folders: run dates and commits ignored, any number noticed."""

from __future__ import annotations

import json

import openpyxl
import pytest

from child_mdh.cli import main
from child_mdh.release.compare import compare_releases


def _release(
    folder, *, value=12, created="2026-01-01T10:00:00+00:00", commit="abc1234", title="Areas"
):
    folder.mkdir(parents=True)
    (folder / "table.csv").write_text(f"area,n\nE1,{value}\n")
    (folder / "outputs.json").write_text(
        json.dumps(
            {
                "created": created,
                "results": {"table.csv": {"files": [{"sha256": commit * 2}]}},
                "seconds": 1.5,
            }
        )
    )
    (folder / "page.html").write_text(
        f"<dd>{created}</dd><dd>child-mdh 0.1.0, commit {commit}</dd><p>{value}</p>"
    )
    book = openpyxl.Workbook()
    book.active.title = title
    book.active.append(["area", "n"])
    book.active.append(["E1", value])
    book.save(folder / "table.xlsx")
    (folder / "checksums").mkdir()
    (folder / "checksums" / "table.csv.txt").write_text(commit)
    return folder


def test_run_dates_commits_and_checksums_are_not_differences(tmp_path):
    a = _release(tmp_path / "a")
    b = _release(tmp_path / "b", created="2027-05-05T11:11:11+00:00", commit="def56789")
    result = compare_releases(a, b)
    assert result.identical, result.summary()
    assert result.same == 4


@pytest.mark.parametrize("changed", ["value", "title"])
def test_a_changed_number_or_sheet_is_a_difference(tmp_path, changed):
    a = _release(tmp_path / "a")
    b = _release(tmp_path / "b", **({"value": 13} if changed == "value" else {"title": "X"}))
    result = compare_releases(a, b)
    assert not result.identical
    expected = {"table.csv", "page.html", "table.xlsx"} if changed == "value" else {"table.xlsx"}
    assert set(result.different) == expected


def test_a_missing_file_is_a_difference_and_the_command_exits_1(tmp_path, capsys):
    a = _release(tmp_path / "a")
    b = _release(tmp_path / "b")
    (b / "page.html").unlink()
    assert compare_releases(a, b).only_a == ["page.html"]
    assert main(["compare-releases", str(a), str(b)]) == 1
    assert "NOT the same release" in capsys.readouterr().out
    assert main(["compare-releases", str(a), str(a)]) == 0
    assert main(["compare-releases", str(a), str(tmp_path / "nowhere")]) == 2
