"""``child-mdh audit DIR``: the release audit re-run on a folder as the checker received it.

The output checker (or anyone given the folder) re-runs the whole audit
(:func:`~child_mdh.release.sdc.audit.audit_release`; with ``--report``,
:func:`~child_mdh.release.sdc.audit.write_audit`) from the folder alone, and reads a one-screen
summary: the outputs and their statuses, the outputs needing review and why, the audit
recorded at release, and the problems found now. Exit status: 0 clean, 1 problems
found, 2 a user error (no such folder, no ``outputs.json``), reported in one line
without a traceback.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

from child_mdh.errors import UserError
from child_mdh.release.sdc.audit import audit_release, write_audit
from child_mdh.release.sdc.manifest import AUDIT_NAME, MANIFEST_NAME
from child_mdh.release.sdc.rules import STATUSES

MAX_REVIEW_LINES = 8
MAX_PROBLEM_LINES = 12


class UsageError(UserError):
    """The folder cannot be audited at all (exit status 2)."""


def _short(text: str, width: int = 110) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 3] + "..."


def _read_json(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def check_folder(folder: Path) -> None:
    """Raise :class:`UsageError` unless ``folder`` is a folder holding outputs.json."""
    if not folder.exists():
        raise UsageError(f"{folder}: no such folder")
    if not folder.is_dir():
        raise UsageError(
            f"{folder}: not a folder; give the release folder that holds {MANIFEST_NAME}"
        )
    if not (folder / MANIFEST_NAME).is_file():
        raise UsageError(
            f"{folder}: no {MANIFEST_NAME} here, so this is not a child-mdh "
            "release folder (the list of outputs must come with the files)"
        )


def interval_line(figures: dict) -> str:
    """One line of the release-wide interval audit's figures."""
    return (
        f"read together (linear programming over every table): "
        f"{figures.get('distinct_counts', 0)} counts, {figures.get('withheld_counts', 0)} "
        f"withheld, {figures.get('rounded_counts', 0)} rounded; exact recoveries "
        f"{figures.get('exact_recoveries', 0)}, narrow {figures.get('narrow_recoveries', 0)}, "
        f"pinned rounded counts {figures.get('pinned_rounded_counts', 0)}"
    )


def summary_lines(folder: Path, problems: list, figures: dict | None = None) -> list[str]:
    """The one-screen summary of a folder, the interval audit's ``figures`` and the
    problems the audit found."""
    manifest = _read_json(folder / MANIFEST_NAME) or {}
    results = manifest.get("results") if isinstance(manifest.get("results"), dict) else {}
    lines = [f"child-mdh release audit of {folder}"]
    if manifest:
        lines.append(
            f"{MANIFEST_NAME}: {manifest.get('format', 'unknown format')}, created "
            f"{manifest.get('created', '?')}, child-mdh "
            f"{manifest.get('child_mdh_version', '?')}"
        )
    n_files = sum(len(e.get("files") or []) for e in results.values())
    statuses = Counter(e.get("status") for e in results.values())
    lines.append(
        f"{len(results)} outputs in {n_files} files: "
        + ", ".join(f"{statuses.get(s, 0)} {s}" for s in STATUSES)
    )
    types = Counter(e.get("type") for e in results.values())
    if types:
        lines.append("by type: " + ", ".join(f"{t} {n}" for t, n in sorted(types.items(), key=str)))
    review = sorted(uid for uid, e in results.items() if e.get("status") != "pass")
    if review:
        lines.append(f"not pass ({len(review)}), the comments say what to look at:")
        for uid in review[:MAX_REVIEW_LINES]:
            entry = results[uid]
            note = "; ".join(entry.get("comments") or []) or "no comment"
            lines.append("  - " + _short(f"{entry.get('status')}: {uid}: {note}"))
        if len(review) > MAX_REVIEW_LINES:
            lines.append(
                f"  ... and {len(review) - MAX_REVIEW_LINES} more "
                "(checker_summary.html lists them all)"
            )
    recorded = _read_json(folder / AUDIT_NAME)
    if recorded is not None:
        verdict = (
            "passed"
            if recorded.get("passed")
            else (f"{len(recorded.get('problems') or [])} problem(s)")
        )
        lines.append(f"{AUDIT_NAME} written at release: {verdict}")
    if figures:
        lines.append(interval_line(figures))
    if not problems:
        lines.append("audit now: PASSED, no problems found")
        return lines
    kinds = Counter(p.kind for p in problems)
    lines.append(
        f"audit now: FAILED, {len(problems)} problem(s): "
        + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
    )
    for p in problems[:MAX_PROBLEM_LINES]:
        lines.append("  - " + _short(f"{p.kind}: {p.file}: {p.detail}"))
    if len(problems) > MAX_PROBLEM_LINES:
        lines.append(
            f"  ... and {len(problems) - MAX_PROBLEM_LINES} more "
            "(write them all with --report FILE)"
        )
    return lines


def run_audit(folder: Path, threshold: int | None = None, report: Path | None = None) -> int:
    """Audit ``folder``, print the summary and return the exit status (0, 1 or 2)."""
    try:
        if threshold is not None and threshold < 1:
            raise UsageError(f"--threshold must be at least 1, got {threshold}")
        check_folder(folder)
        figures: dict = {}
        if report is not None:
            problems = write_audit(folder, report, threshold=threshold)
            figures = (_read_json(Path(report)) or {}).get("intervals") or {}
        else:
            problems = audit_release(folder, threshold, intervals=figures)
    except UsageError as err:
        print(f"child-mdh audit: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        print(
            f"child-mdh audit: cannot read or write {err.filename or folder}: "
            f"{err.strerror or err}",
            file=sys.stderr,
        )
        return 2
    print("\n".join(summary_lines(folder, problems, figures)))
    if report is not None:
        print(f"report written to {report}")
    return 1 if problems else 0
