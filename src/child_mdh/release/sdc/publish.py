"""The release step: the one writer of the release folder.

Every stage writes its protected files to a staged folder of its own in the secure area
(``results/secure/staged/<stage>/``, a Snakemake ``directory()`` output laid out as the
release is). :func:`assemble_release` builds the release folder anew from those staged
folders, so a file an earlier run wrote and this run did not cannot stay behind; then
:func:`publish_release` runs, in order:

1. :func:`~child_mdh.release.sdc.release.finalise_release`: merge the steps' partial manifests
   into ``outputs.json`` (emptied cells listed as withheld, without their reasons) and
   audit the folder (``audit.json``);
2. :func:`~child_mdh.release.sdc.withheld.write_disclosure_reasons`: why each cell was emptied,
   written to the secure area (``results/secure/disclosure_reasons.json``), never to the
   release folder;
3. :func:`~child_mdh.release.sdc.checker_summary.write_checker_summary`:
   ``checker_summary.html`` for the output checker;
4. :func:`~child_mdh.release.sdc.checksums.write_checksums`: the ``checksums/`` folder SACRO
   Viewer reads (ACRO ``Records.finalise`` likewise writes checksums last), covering
   every listed file including the three above.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable
from pathlib import Path

from child_mdh.errors import ChildMdhError
from child_mdh.release.sdc.checker_summary import write_checker_summary
from child_mdh.release.sdc.checksums import CHECKSUMS_DIR, write_checksums
from child_mdh.release.sdc.manifest import load_parts
from child_mdh.release.sdc.release import finalise_release
from child_mdh.release.sdc.withheld import check_secure_path, write_disclosure_reasons

#: the marker Snakemake writes into a directory() output: not part of any release
SNAKEMAKE_MARKER = ".snakemake_timestamp"


class ReleaseAssemblyError(ChildMdhError, ValueError):
    """Two stages staged the same release file."""


def assemble_release(staged: Iterable[str | Path], release_dir: str | Path) -> int:
    """Build ``release_dir`` anew from the stages' staged folders; return the file count.

    Each staged folder holds release files at their paths in the release (``index/...``,
    ``profiles/areas/...``); a staged file (not a folder) goes to the top of the release. The release folder is emptied first and filled with exactly
    these files, so its content is the declared outputs of this run and nothing else.
    Two stages staging the same path is an error (one of them would overwrite the other).
    """
    release_dir = Path(release_dir)
    files: dict[Path, Path] = {}
    for entry in map(Path, staged):
        # a staged folder, or one staged file at the top of the release
        root = entry if entry.is_dir() else entry.parent
        paths = sorted(p for p in root.rglob("*") if p.is_file()) if entry.is_dir() else [entry]
        for path in paths:
            name = path.relative_to(root)
            if name.name == SNAKEMAKE_MARKER:
                continue
            if name in files:
                raise ReleaseAssemblyError(
                    f"{name.as_posix()}: staged by both {files[name]} and {root}; "
                    "each release file must come from one stage"
                )
            files[name] = root
    if release_dir.exists():
        shutil.rmtree(release_dir)
    for name, root in files.items():
        target = release_dir / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / name, target)
    return len(files)


def publish_release(
    parts: Iterable[str | Path],
    release_dir: str | Path,
    reasons_path: str | Path,
    audit_path: str | Path | None = None,
    raise_on_problems: bool = True,
    progress: Callable[[str], None] | None = None,
) -> list:
    """Merge, audit and document the release folder; return the audit's problems.

    ``reasons_path`` must lie outside ``release_dir``. Every file is written even when
    the audit finds problems (the summary page then lists them); afterwards a
    ``ValueError`` is raised when there are problems and ``raise_on_problems`` is true,
    so the workflow stops. ``progress(message)``, when given, is told where it is (a
    handful of messages).
    """
    parts = list(parts)
    release_dir = Path(release_dir)
    loaded = load_parts(parts)
    check_secure_path(reasons_path, release_dir)  # before anything is written
    # checksums of an earlier run would be audited against this run's files
    shutil.rmtree(release_dir / CHECKSUMS_DIR, ignore_errors=True)
    if progress is not None:
        progress(f"merging {len(parts)} manifests and auditing the release folder")
    problems = finalise_release(
        parts, release_dir, audit_path, raise_on_problems=False, progress=progress
    )
    if progress is not None:
        progress("the checker's summary and the checksums")
    write_disclosure_reasons(loaded, reasons_path, release_dir)
    summary = write_checker_summary(release_dir, audit_path)
    write_checksums(release_dir)
    if problems and raise_on_problems:
        lines = "\n".join(f"  - {p.kind}: {p.file}: {p.detail}" for p in problems[:20])
        raise ValueError(
            f"release audit found {len(problems)} problem(s) (see {summary}):\n{lines}"
        )
    return problems
