"""The ``checksums/`` folder SACRO Viewer reads: one SHA-256 per released file.

ACRO's ``Records.write_checksums`` (``acro/record.py``) writes, for every output file,
``checksums/<file name>.txt`` holding the file's SHA-256 hex digest and nothing else (no
newline). SACRO Viewer reads ``checksums/<name>.txt`` for each file listed in the
manifest, with ``name`` as listed (so ``index/x.csv`` is ``checksums/index/x.csv.txt``),
compares it with the digest of the file, and shows 'This file had been modified since
the ACRO runner generated it' when the checksum is missing or differs
(``sacro/models.py`` ``ACROOutputs.annotate``; ``assets/src/scripts/_set-metadata.js``
``setChecksumInfo``).

:func:`write_checksums` writes the folder for every file listed in ``outputs.json``,
including the manifest, the audit report and the checker's summary, so it must run last.
:func:`verify_checksums` lets the release audit check the folder: nothing in it but the
checksums of listed files, each equal to the hash recorded when the file was checked.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from child_mdh.release.sdc.manifest import MANIFEST_NAME, file_digest

CHECKSUMS_DIR = "checksums"
SUFFIX = ".txt"
_HEX = re.compile(r"[0-9a-f]{64}")


def checksum_path(release_dir: str | Path, name: str) -> Path:
    """Where SACRO Viewer looks for the checksum of listed file ``name``."""
    return Path(release_dir) / CHECKSUMS_DIR / (name + SUFFIX)


def listed_files(results: dict) -> dict[str, str | None]:
    """Every file name listed in a manifest's ``results``, with its recorded SHA-256."""
    return {f["name"]: f.get("sha256") for e in results.values() for f in e.get("files", [])}


def write_checksums(release_dir: str | Path) -> list[Path]:
    """Rewrite ``<release_dir>/checksums/`` for every listed file that exists.

    The folder is emptied first, so no checksum outlives its file. Returns the paths
    written.
    """
    release_dir = Path(release_dir)
    results = json.loads((release_dir / MANIFEST_NAME).read_text()).get("results") or {}
    folder = release_dir / CHECKSUMS_DIR
    if folder.exists():
        shutil.rmtree(folder)
    written = []
    for name in sorted(listed_files(results)):
        source = release_dir / name
        if not source.is_file():
            continue
        target = checksum_path(release_dir, name)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(file_digest(source), encoding="utf-8")
        written.append(target)
    return written


def checksum_files(release_dir: str | Path) -> set[str]:
    """Names, relative to ``release_dir``, of the files under ``checksums/``."""
    release_dir = Path(release_dir)
    folder = release_dir / CHECKSUMS_DIR
    if not folder.is_dir():
        return set()
    return {p.relative_to(release_dir).as_posix() for p in folder.rglob("*") if p.is_file()}


def verify_checksums(release_dir: str | Path, results: dict) -> list[tuple[str, str, str]]:
    """Problems with the ``checksums/`` folder, as (kind, file, detail).

    Nothing is checked when the folder is absent (SACRO Viewer then creates it and
    flags every file). Otherwise every file in it must be the checksum of a listed file
    (else 'unlisted'), hold a SHA-256 hex digest equal to the hash recorded in
    ``outputs.json`` (or, for the release machinery, which has none, to the file's own),
    and every listed file present must have one ('checksum').
    """
    release_dir = Path(release_dir)
    present = checksum_files(release_dir)
    if not (release_dir / CHECKSUMS_DIR).is_dir():
        return []
    listed = listed_files(results)
    problems = []
    prefix = CHECKSUMS_DIR + "/"
    expected_paths = {prefix + name + SUFFIX: name for name in listed}
    for rel in sorted(present):
        name = expected_paths.get(rel)
        if name is None:
            problems.append(("unlisted", rel, "not the checksum of a file listed in outputs.json"))
            continue
        text = (release_dir / rel).read_text(encoding="utf-8", errors="replace")
        if not _HEX.fullmatch(text):
            problems.append(("checksum", rel, "does not hold a SHA-256 hex digest alone"))
            continue
        source = release_dir / name
        expected = listed[name] or (file_digest(source) if source.is_file() else None)
        if expected and text != expected:
            problems.append(
                (
                    "checksum",
                    rel,
                    f"differs from the hash of {name} when it was "
                    "checked: SACRO Viewer will say it was "
                    "modified",
                )
            )
    for name in sorted(listed):
        if (release_dir / name).is_file() and prefix + name + SUFFIX not in present:
            problems.append(
                (
                    "checksum",
                    name,
                    f"no {prefix}{name}{SUFFIX}: SACRO Viewer will say the file was modified",
                )
            )
    return problems
