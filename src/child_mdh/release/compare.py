"""Compare two release folders: are they the same release, apart from when and by which
checkout they were made?

A reviewer reproducing a published release (on the synthetic data, say) should get the
same numbers, tables and pages; what legitimately differs is the run's date, its duration,
the commit it ran from and the timestamps that workbooks and manifests carry. This module
says which files differ in anything else.

- CSV, Markdown, PNG and other files: byte for byte;
- XLSX: the value of every cell of every sheet (the workbook's own creation time is not
  compared);
- HTML: the text, with ISO timestamps, commit strings and the audit's duration masked;
- JSON: the parsed content, with ISO timestamps, durations (``seconds``), the
  checkout's state (``commit``, ``git_dirty``) and listed files' ``sha256`` and
  ``bytes`` masked (the files themselves are compared);
- ``checksums/``: not compared (the SHA-256 of files compared above).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl

ISO_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[+-]\d{2}:\d{2}|Z)?")
COMMIT = re.compile(r"commit [0-9a-f]{7,40}( \(with uncommitted changes\))?")
#: JSON keys whose values describe the run, not its results (a listed file's ``sha256``
#: and ``bytes`` are masked because the file itself is compared)
RUN_KEYS = frozenset({"seconds", "git_dirty", "commit", "git_commit", "sha256", "bytes"})
#: "(... 8.78 s)": how long the audit took, in the checker's summary page
DURATION = re.compile(r"\b\d+(?:\.\d+)? s\)")
SKIPPED_FOLDERS = ("checksums",)


@dataclass
class Comparison:
    """The files only in ``a``, only in ``b``, and in both but different."""

    only_a: list[str] = field(default_factory=list)
    only_b: list[str] = field(default_factory=list)
    different: list[str] = field(default_factory=list)
    same: int = 0

    @property
    def identical(self) -> bool:
        return not (self.only_a or self.only_b or self.different)

    def summary(self) -> str:
        lines = [f"{self.same} files the same"]
        for label, files in (
            ("only in the first", self.only_a),
            ("only in the second", self.only_b),
            ("different", self.different),
        ):
            if files:
                lines.append(
                    f"{len(files)} {label}: "
                    + ", ".join(files[:20])
                    + (" ..." if len(files) > 20 else "")
                )
        lines.append("the same release" if self.identical else "NOT the same release")
        return "\n".join(lines)


def _files(folder: Path) -> set[str]:
    return {
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and p.relative_to(folder).parts[0] not in SKIPPED_FOLDERS
    }


def _mask_text(text: str) -> str:
    text = ISO_TIMESTAMP.sub("<time>", text)
    return DURATION.sub("<seconds> s)", COMMIT.sub("commit <commit>", text))


def _mask_json(value):
    if isinstance(value, dict):
        return {k: "<run>" if k in RUN_KEYS else _mask_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_json(v) for v in value]
    if isinstance(value, str):
        return _mask_text(value)
    return value


def _workbook_cells(path: Path) -> dict[str, list[tuple]]:
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        return {
            sheet.title: [tuple(row) for row in sheet.iter_rows(values_only=True)]
            for sheet in book.worksheets
        }
    finally:
        book.close()


def same_file(a: Path, b: Path) -> bool:
    """Whether two release files hold the same release content (rules in the module
    docstring)."""
    suffix = a.suffix.lower()
    if suffix == ".xlsx":
        return _workbook_cells(a) == _workbook_cells(b)
    if suffix == ".json":
        return _mask_json(json.loads(a.read_text())) == _mask_json(json.loads(b.read_text()))
    if suffix in (".html", ".htm"):
        return _mask_text(a.read_text()) == _mask_text(b.read_text())
    return a.read_bytes() == b.read_bytes()


def compare_releases(a: Path, b: Path) -> Comparison:
    """Compare release folders ``a`` and ``b`` file by file."""
    a, b = Path(a), Path(b)
    files_a, files_b = _files(a), _files(b)
    result = Comparison(only_a=sorted(files_a - files_b), only_b=sorted(files_b - files_a))
    for name in sorted(files_a & files_b):
        if same_file(a / name, b / name):
            result.same += 1
        else:
            result.different.append(name)
    return result
