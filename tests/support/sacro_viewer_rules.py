"""What SACRO Viewer requires of a folder it opens, restated from its source.

Source: github.com/AI-SDC/SACRO-Viewer at commit 73690f0 (May 2026). Each function
below follows one piece of that code line by line, so a release that passes them loads
in the viewer without it being installed:

- ``sacro/models.py`` ``find_acro_metadata``: ``outputs.json`` in the folder is used if
  present (otherwise the only JSON file, or the only valid one; with none it writes a
  scaffold of its own);
- ``sacro/models.py`` ``ACROOutputs.__post_init__``: the file must have ``version`` and
  ``results``; every result needs a non-empty ``files`` list and every file a ``name``;
- ``sacro/versioning.py`` ``Version`` and ``check_version`` with ``sacro/settings.py``
  ``ACRO_SUPPORTED_VERSION = "0.4.x"``: ``version`` splits on '.' into a major and minor
  that ``int()`` accepts, compared *as strings* with the supported ones; a lower version
  is refused ('Unsupported ACRO output');
- ``sacro/models.py`` ``ACROOutputs.annotate``: for each file, ``checksums/<name>.txt``
  beside the JSON is read whole and compared with the SHA-256 hex digest of
  ``<folder>/<name>`` (``checksum_valid``); when it exists, ``sdc.cells`` (``sdc`` must
  be a dict) is read as ``{flag: [[x, y], ...]}`` into ``cell_index["x,y"]``;
- ``assets/src/scripts/_output-click.js`` ``outputClick`` and ``_set-metadata.js``:
  ``properties.method``, ``type``, ``timestamp``, ``exception`` and ``status`` are read;
  ``summary`` is split on '; ' with the status first (``setAcroStatus``); ``comments``
  must be a list (``setResearcherComments`` reads ``.length`` and maps it);
- ``assets/src/scripts/_table-builder.js`` ``highlightFailingCells``: a cell key "x,y" is
  parsed with ``parseFloat`` and marks ``tr:nth-child(x + 1) > td:nth-child(y + 2)``, so
  both must be numbers;
- ``sacro/adapters/zipfile.py`` ``create``: approving appends to ``comments`` and zips
  each listed file from ``<folder>/<name>``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

ACRO_SUPPORTED_VERSION = "0.4.x"  # sacro/settings.py


def find_acro_metadata(folder: Path) -> Path:
    """``sacro/models.py`` find_acro_metadata, for a folder holding outputs.json."""
    default = folder / "outputs.json"
    assert default.exists(), "without outputs.json the viewer guesses or scaffolds its own"
    return default


def _version(text: str) -> tuple[str, str]:
    """``sacro/versioning.py`` Version.__init__: major and minor, kept as strings."""
    major, minor, *_ = text.split(".")
    int(major), int(minor)
    return major, minor


def check_version(version: str) -> None:
    """``sacro/versioning.py`` check_version (Version.__gt__ compares the strings)."""
    used, supported = _version(version), _version(ACRO_SUPPORTED_VERSION)
    greater = used[0] > supported[0] or (used[0] == supported[0] and used[1] > supported[1])
    assert greater or used == supported, (
        f"Unsupported ACRO output: viewer supports {ACRO_SUPPORTED_VERSION}, got {version}"
    )


def load(folder: Path) -> dict:
    """Load a folder as SACRO Viewer does; return ``results`` annotated like the viewer's."""
    path = find_acro_metadata(folder)
    raw = json.loads(path.read_text())
    # ACROOutputs.__post_init__: super basic structural validation
    assert "version" in raw and "results" in raw
    for result in raw["results"].values():
        assert "files" in result and len(result["files"]) > 0
        for filedata in result["files"]:
            assert "name" in filedata
    check_version(raw["version"])
    # ACROOutputs.annotate: checksums and cells
    checksums = path.parent / "checksums"
    for _output, metadata in raw["results"].items():
        for filedata in metadata["files"]:
            filedata["checksum_valid"] = False
            cs = checksums / (filedata["name"] + ".txt")
            if not cs.exists():
                continue
            filedata["checksum"] = cs.read_text(encoding="utf8")
            actual = path.parent / filedata["name"]
            if not actual.exists():
                continue
            digest = hashlib.sha256(actual.read_bytes()).hexdigest()
            filedata["checksum_valid"] = digest == filedata["checksum"]
            cell_index: dict[str, list] = {}
            for flag, indices in filedata.get("sdc", {}).get("cells", {}).items():
                for x, y in indices:
                    cell_index.setdefault(f"{x},{y}", []).append(flag)
            filedata["cell_index"] = cell_index
    return raw["results"]


def check_display(results: dict) -> None:
    """The fields the viewer's pages read for each output (see the module docstring)."""
    for uid, m in results.items():
        assert isinstance(m["properties"], dict) and "method" in m["properties"], uid
        assert isinstance(m["type"], str) and isinstance(m["timestamp"], str), uid
        assert isinstance(m["exception"], str), uid
        assert m["status"] in ("pass", "review", "fail"), uid
        assert m["summary"].split("; ")[0] == m["status"], uid
        assert isinstance(m["comments"], list), uid
        assert isinstance(m["outcome"], dict), uid  # written by ACRO for every output
        for f in m["files"]:
            for key in f.get("cell_index", {}):
                x, y = key.split(",")
                float(x), float(y)
