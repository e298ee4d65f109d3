"""The output manifest: one list of every released file, for the output checker.

The format follows ACRO's ``results.json`` (AI-SDC, ``acro/record.py``
``Records.finalise_json``): a ``version`` and ``results``, which maps an output's
``uid`` to its ``status`` (pass / review / fail), ``type``, ``properties.method``,
``files`` (each with its ``name`` and ``sdc`` block), ``outcome``, ``command``,
``summary``, ``timestamp``, ``comments`` and ``exception``, so that SACRO Viewer loads
the folder (see ``docs/disclosure-control.md``). child-mdh adds, per output, the
``checks`` run with their results, the table ``structure`` the release audit re-checks,
``backed_by`` (the checked tables a figure or page is drawn from), and, per file, its
size and SHA-256 hash so the audit can tell that a file has not changed since it was
checked.

Workflow steps run in parallel, so each writes a partial manifest
(:meth:`Manifest.write_part`, one file per step, kept outside the release folder) and
one final step merges them into ``outputs.json`` (:func:`merge_manifests`). The parts
record why each cell was emptied; the merged list says only that cells are withheld
(:mod:`~child_mdh.release.sdc.withheld`).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from pathlib import Path

import child_mdh
from child_mdh.files import write_json
from child_mdh.release.sdc.config import SDCConfig, resolve_config
from child_mdh.release.sdc.rules import STATUSES, CheckResult
from child_mdh.release.sdc.withheld import released_sdc, withheld_count
from child_mdh.release.workbook import About

MANIFEST_FORMAT = "child-mdh outputs v2 (after ACRO results.json)"
#: The ACRO release whose results.json layout outputs.json follows (tag v0.4.12:
#: ``acro/record.py`` finalise_json, ``acro/acro_tables.py`` get_table_sdc). SACRO Viewer
#: refuses a ``version`` whose major.minor is below its ACRO_SUPPORTED_VERSION, "0.4.x"
#: (``sacro/settings.py``, ``sacro/versioning.py`` check_version).
ACRO_FORMAT_VERSION = "0.4.12"
MANIFEST_NAME = "outputs.json"
AUDIT_NAME = "audit.json"
CHECKER_SUMMARY_NAME = "checker_summary.html"


def file_digest(path: str | Path, chunk_size: int = 1 << 20) -> str:
    """SHA-256 hex digest of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def status_summary(status: str, sdc_summary: dict | None, checks: list[dict]) -> str:
    """ACRO-style one-line summary: 'pass; 3 cells withheld; counts rounded; ...'.

    The status comes first, then '; '-separated notes, as SACRO Viewer splits it
    (``assets/src/scripts/_set-metadata.js``, ``setAcroStatus``). Emptied cells are
    counted without the rule that emptied them (:mod:`~child_mdh.release.sdc.withheld`).
    """
    parts = [status]
    n = withheld_count(sdc_summary)
    if n:
        parts.append(f"{n} cells withheld")
    if (sdc_summary or {}).get("rounded"):
        parts.append("counts rounded")
    for c in checks:
        if c["status"] != "pass":
            parts.append(f"{c['name']}: {c['status']}")
    return "; ".join(parts)


class Manifest:
    """Entries for the outputs one step writes to the release folder.

    ``release_dir`` is the release folder (file names are recorded relative to it),
    ``step`` the name of the workflow step, ``config`` the disclosure settings used
    (recorded so the merged manifest can confirm every step used the same), ``about``
    what the workbooks' cover sheets say of the release (source, period, synthetic or
    not; a :class:`~child_mdh.release.workbook.About` or a mapping of its fields).
    """

    def __init__(self, release_dir: str | Path, step: str = "", config=None, about=None):
        self.release_dir = Path(release_dir)
        self.step = step
        self.config: SDCConfig = resolve_config(config)
        self.about: About = about if isinstance(about, About) else About.from_mapping(about)
        self.results: dict[str, dict] = {}

    # -- names -------------------------------------------------------------------------
    def relative_name(self, path: str | Path) -> str:
        """``path`` relative to the release folder, with '/' separators.

        Raises ``ValueError`` when the path is outside the release folder.
        """
        p = Path(path)
        base = self.release_dir.resolve()
        full = (p if p.is_absolute() else Path.cwd() / p).resolve()
        try:
            return full.relative_to(base).as_posix()
        except ValueError:
            raise ValueError(
                f"{path}: release files must be written inside the release folder "
                f"{self.release_dir}"
            ) from None

    # -- entries -----------------------------------------------------------------------
    def ensure_new(self, uid: str) -> None:
        """Raise ``ValueError`` when output ``uid`` is already recorded."""
        if uid in self.results:
            raise ValueError(f"output {uid} is already in this manifest; give a distinct uid")

    def add(
        self,
        *,
        files: Iterable[str | Path],
        status: str,
        output_type: str,
        method: str = "",
        checks: Iterable[CheckResult | dict] = (),
        comment: str = "",
        uid: str | None = None,
        sdc: dict | None = None,
        structure: dict | None = None,
        backed_by: Iterable[str] = (),
        command: str = "",
        properties: dict | None = None,
        exception: str = "",
    ) -> dict:
        """Record one output (one or more files already written) and return its entry.

        ``uid`` defaults to the first file's name relative to the release folder. ``sdc`` is the
        ACRO-style ``{"summary": ..., "cells": ...}`` of the suppression applied (the
        same for every file of the output), with each emptied cell under the rule that
        emptied it: this stays in the step's (secure) part, and the merged
        ``outputs.json`` lists the cells as withheld only. A non-pass status needs a
        ``comment`` for the output checker.
        """
        if status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}, got {status!r}")
        files = [Path(f) for f in files]
        if not files:
            raise ValueError("an output needs at least one file")
        names = [self.relative_name(f) for f in files]
        for f in files:
            if not f.exists():
                raise ValueError(f"{f}: not found; write the file before recording it")
        uid = uid or names[0]
        self.ensure_new(uid)
        if status != "pass" and not comment:
            raise ValueError(
                f"output {uid} has status {status}: add a comment telling the "
                "output checker what to look at"
            )
        check_dicts = [c.to_dict() if isinstance(c, CheckResult) else dict(c) for c in checks]
        sdc = sdc or {}
        entry = {
            "uid": uid,
            "status": status,
            "type": output_type,
            "properties": {"method": method, "step": self.step, **(properties or {})},
            "files": [
                {"name": n, "bytes": f.stat().st_size, "sha256": file_digest(f), "sdc": sdc}
                for n, f in zip(names, files)
            ],
            "outcome": {},
            "checks": check_dicts,
            "structure": structure,
            "backed_by": list(backed_by),
            "command": command,
            "summary": status_summary(status, sdc.get("summary"), check_dicts),
            "timestamp": _now(),
            "comments": [comment] if comment else [],
            "exception": exception,
        }
        self.results[uid] = entry
        return entry

    def get(self, uid: str) -> dict:
        """The entry of output ``uid``."""
        return self.results[uid]

    # -- files -------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """The manifest as a JSON-able dict."""
        return {
            "format": MANIFEST_FORMAT,
            "version": ACRO_FORMAT_VERSION,
            "child_mdh_version": child_mdh.__version__,
            "step": self.step,
            "created": _now(),
            "disclosure": self.config.to_dict(),
            "results": self.results,
        }

    def write_part(self, path: str | Path) -> Path:
        """Write this step's partial manifest (merged later by :func:`merge_manifests`).

        Keep parts outside the release folder (for example
        ``results/secure/manifest_parts/<step>.json``): every file in the release folder
        must itself be a listed output.
        """
        return write_json(self.to_dict(), path)

    def write(self, path: str | Path | None = None) -> Path:
        """Write this manifest alone as the release's ``outputs.json`` (listing the audit
        report but no checker summary, which only the release step writes)."""
        return merge_manifests([self], path or self.release_dir / MANIFEST_NAME, summary_name=None)

    @classmethod
    def read(cls, path: str | Path, release_dir: str | Path | None = None) -> Manifest:
        """Load a partial (or merged) manifest written by this module."""
        data = json.loads(Path(path).read_text())
        if data.get("format") != MANIFEST_FORMAT:
            raise ValueError(
                f"{path}: not a child-mdh output manifest (format {data.get('format')!r})"
            )
        m = cls(release_dir or Path(path).parent, data.get("step", ""), data.get("disclosure"))
        m.results = dict(data.get("results") or {})
        return m


def _manifest_entry(name: str, method: str, comment: str) -> dict:
    """Entry for a file of the release machinery itself (no hash: it lists itself or is
    written after the list)."""
    return {
        "uid": name,
        "status": "pass",
        "type": "manifest",
        "properties": {"method": method, "step": "release"},
        "files": [{"name": name, "bytes": None, "sha256": None, "sdc": {}}],
        "outcome": {},
        "checks": [],
        "structure": None,
        "backed_by": [],
        "command": "",
        "summary": "pass",
        "timestamp": _now(),
        "comments": [comment],
        "exception": "",
    }


def load_parts(parts: Iterable[str | Path | Manifest]) -> list[tuple[str, dict]]:
    """Each partial manifest (a path or a :class:`Manifest`) as (name, content)."""
    loaded: list[tuple[str, dict]] = []
    for p in parts:
        if isinstance(p, Manifest):
            loaded.append((p.step or "manifest", p.to_dict()))
            continue
        data = json.loads(Path(p).read_text())
        if data.get("format") != MANIFEST_FORMAT:
            raise ValueError(f"{p}: not a child-mdh output manifest")
        loaded.append((str(p), data))
    return loaded


def _csv_columns(path: Path) -> list[str] | None:
    """The header of a CSV file, or None when there is no such file."""
    if path.suffix.lower() != ".csv" or not path.is_file():
        return None
    with open(path, newline="", encoding="utf-8") as handle:
        return next(csv.reader(handle), [])


def released_entry(entry: dict, release_dir: str | Path) -> dict:
    """A copy of a step's entry as it is released.

    Each file's ``sdc`` lists withheld cells without their reasons
    (:func:`~child_mdh.release.sdc.withheld.released_sdc`, columns numbered from the output's
    CSV header), the summary line is rebuilt from it, and every field ACRO writes is
    present with ACRO's type (``outcome`` a dict, ``comments`` a list, ``exception`` a
    string).
    """
    out = json.loads(json.dumps(entry))
    columns = None
    for f in out.get("files", []):
        columns = columns or _csv_columns(Path(release_dir) / f["name"])
    for f in out.get("files", []):
        f["sdc"] = released_sdc(f.get("sdc"), columns)
    first = out["files"][0]["sdc"] if out.get("files") else {}
    out["summary"] = status_summary(out["status"], first.get("summary"), out.get("checks") or [])
    out["properties"] = dict(out.get("properties") or {})
    out.setdefault("outcome", {})
    out["comments"] = list(out.get("comments") or [])
    out["exception"] = out.get("exception") or ""
    out.setdefault("command", "")
    return out


def merge_manifests(  # noqa: C901  (the merge's checks in turn, each reported)
    parts: Iterable[str | Path | Manifest],
    out_path: str | Path,
    audit_name: str | None = AUDIT_NAME,
    summary_name: str | None = CHECKER_SUMMARY_NAME,
) -> Path:
    """Merge partial manifests into one ``outputs.json`` and return its path.

    Every part must use the same disclosure settings; a uid or a file listed twice is an
    error. Entries are released by :func:`released_entry`: emptied cells are listed as
    withheld, without the rule that emptied them. An output ``backed_by`` a uid that is
    missing, or whose status is not pass, is set to 'review' with a comment saying why.
    The manifest lists itself, the audit report (``audit_name``) and the checker's
    summary page (``summary_name``), both written next to it afterwards, as outputs of
    type 'manifest', so every file of the release folder is listed. ``outputs`` is a
    compact index (uid -> status, type, file names) of the full ``results``.
    """
    loaded = load_parts(parts)
    release_dir = Path(out_path).parent
    configs = {json.dumps(d.get("disclosure"), sort_keys=True) for _, d in loaded}
    if len(configs) > 1:
        detail = "; ".join(f"{name}: {d.get('disclosure')}" for name, d in loaded)
        raise ValueError(
            f"partial manifests used different disclosure settings ({detail}); "
            "rerun the steps with one configuration"
        )
    results: dict[str, dict] = {}
    owner: dict[str, str] = {}
    file_owner: dict[str, str] = {}
    steps = []
    for name, data in loaded:
        steps.append(data.get("step") or name)
        for uid, entry in (data.get("results") or {}).items():
            if uid in results:
                raise ValueError(f"output {uid} is listed by two steps ({owner[uid]} and {name})")
            for f in entry.get("files", []):
                if f["name"] in file_owner:
                    raise ValueError(
                        f"file {f['name']} is listed by outputs {file_owner[f['name']]} and {uid}"
                    )
                file_owner[f["name"]] = uid
            results[uid] = released_entry(entry, release_dir)
            owner[uid] = name
    for entry in results.values():
        for backing in entry.get("backed_by") or []:
            problem = None
            if backing not in results:
                problem = f"backing output {backing} is not in the manifest"
            elif results[backing]["status"] != "pass":
                problem = f"backing output {backing} has status {results[backing]['status']}"
            if problem and entry["status"] == "pass":
                entry["status"] = "review"
                rest = entry["summary"].removeprefix("pass").removeprefix("; ")
                entry["summary"] = "review" + (f"; {rest}" if rest else "")
            if problem:
                entry["comments"].append(problem)
    out_name = Path(out_path).name
    own = [
        (
            out_name,
            "list of every released output and its disclosure checks",
            "this list; it holds no data values",
        )
    ]
    if audit_name:
        own.append(
            (
                audit_name,
                "re-check of every file in the release folder",
                "the audit report; it holds file names and problems, no data values",
            )
        )
    if summary_name:
        own.append(
            (
                summary_name,
                "summary page of this list and the audit for the output checker",
                "a summary of this list and of the audit report; "
                "it holds file names, statuses and checks, no data values",
            )
        )
    for name, method, comment in own:
        if name in file_owner:
            raise ValueError(f"file {name} is reserved for the release machinery")
        results.setdefault(name, _manifest_entry(name, method, comment))
    counts = {s: sum(1 for e in results.values() if e["status"] == s) for s in STATUSES}
    disclosure = json.loads(next(iter(configs))) if configs else SDCConfig().to_dict()
    merged = {
        "format": MANIFEST_FORMAT,
        "version": ACRO_FORMAT_VERSION,
        "child_mdh_version": child_mdh.__version__,
        "created": _now(),
        "steps": steps,
        "disclosure": disclosure,
        "status_counts": counts,
        "outputs": {
            uid: {
                "status": e["status"],
                "type": e["type"],
                "files": [f["name"] for f in e["files"]],
            }
            for uid, e in sorted(results.items())
        },
        "results": dict(sorted(results.items())),
    }
    return write_json(merged, out_path)
