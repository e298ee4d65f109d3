"""Fixtures for the mapped-extract tests: tiny extracts and mapping files written to tmp_path."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest


class ExtractBuilder:
    """Writes extract files and a mapping file into one folder."""

    def __init__(self, root: Path):
        self.root = root

    def file(self, name: str, text: str) -> Path:
        """Write a CSV (or any text) file, dedenting ``text``."""
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    def mapping(self, text: str, name: str = "mapping.yaml") -> Path:
        """Write the mapping file; ``text`` is dedented so tests can indent it."""
        return self.file(name, text)

    def mapping_for(self, table: str, block: str, name: str = "mapping.yaml") -> Path:
        """Write a full mapping where ``table`` is ``block`` and every other table empty."""
        return self.file(name, only(table, block))

    @staticmethod
    def line_of(path: Path, needle: str, occurrence: int = 1) -> int:
        """Line number of the ``occurrence``-th line of ``path`` containing ``needle``."""
        return line_of(path, needle, occurrence)


@pytest.fixture
def extract(tmp_path) -> ExtractBuilder:
    return ExtractBuilder(tmp_path)


#: The seven tables a single-table test does not care about, written empty.
OTHER_TABLES_EMPTY = {
    name: f"  {name}: empty\n"
    for name in (
        "areas",
        "households",
        "persons",
        "pupil_census",
        "census_npd_link",
        "cin_referrals",
        "child_protection_plans",
        "looked_after_episodes",
    )
}


def only(table: str, block: str) -> str:
    """A full mapping where ``table`` is mapped by ``block`` and the other tables are empty.

    ``block`` starts with the table name at column 0 (``"areas:\\n  files: a.csv ..."``);
    it is placed under ``tables:``.
    """
    lines = ["mapping_version: 1", "tables:"]
    for name, empty in OTHER_TABLES_EMPTY.items():
        if name == table:
            lines.append(textwrap.indent(textwrap.dedent(block).strip("\n"), "  "))
        else:
            lines.append(empty.rstrip("\n"))
    return "\n".join(lines) + "\n"


def line_of(path: Path, needle: str, occurrence: int = 1) -> int:
    """The 1-based line number of the ``occurrence``-th line of ``path`` containing ``needle``."""
    seen = 0
    for i, line in enumerate(path.read_text().splitlines(), start=1):
        if needle in line:
            seen += 1
            if seen == occurrence:
                return i
    raise AssertionError(f"{needle!r} not found in {path}")
