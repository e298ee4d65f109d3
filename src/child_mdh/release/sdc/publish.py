"""The release step: everything written once all outputs are in the release folder.

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
from collections.abc import Iterable
from pathlib import Path

from child_mdh.release.sdc.checker_summary import write_checker_summary
from child_mdh.release.sdc.checksums import CHECKSUMS_DIR, write_checksums
from child_mdh.release.sdc.manifest import load_parts
from child_mdh.release.sdc.release import finalise_release
from child_mdh.release.sdc.withheld import check_secure_path, write_disclosure_reasons


def publish_release(
    parts: Iterable[str | Path],
    release_dir: str | Path,
    reasons_path: str | Path,
    audit_path: str | Path | None = None,
    raise_on_problems: bool = True,
) -> list:
    """Merge, audit and document the release folder; return the audit's problems.

    ``reasons_path`` must lie outside ``release_dir``. Every file is written even when
    the audit finds problems (the summary page then lists them); afterwards a
    ``ValueError`` is raised when there are problems and ``raise_on_problems`` is true,
    so the workflow stops.
    """
    parts = list(parts)
    release_dir = Path(release_dir)
    loaded = load_parts(parts)
    check_secure_path(reasons_path, release_dir)  # before anything is written
    # checksums of an earlier run would be audited against this run's files
    shutil.rmtree(release_dir / CHECKSUMS_DIR, ignore_errors=True)
    problems = finalise_release(parts, release_dir, audit_path, raise_on_problems=False)
    write_disclosure_reasons(loaded, reasons_path, release_dir)
    summary = write_checker_summary(release_dir, audit_path)
    write_checksums(release_dir)
    if problems and raise_on_problems:
        lines = "\n".join(f"  - {p.kind}: {p.file}: {p.detail}" for p in problems[:20])
        raise ValueError(
            f"release audit found {len(problems)} problem(s) (see {summary}):\n{lines}"
        )
    return problems
