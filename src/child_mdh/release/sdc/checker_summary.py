"""A one-page summary of the release for the output checker (``checker_summary.html``).

It restates ``outputs.json`` and ``audit.json`` for a reader without a JSON viewer:
the audit result and its problems, then every output with its files, status, the checks
run and their results, and what to look at for any output needing review. Like the
review of SACRO Viewer (AI-SDC) it is a view of the manifest, not a separate record:
the JSON files stay authoritative.

The page is self-contained (inline styles, no script, a Content-Security-Policy that
forbids loading anything) and holds no data values: names, statuses, check messages and
numbers of withheld cells only, never the rule that emptied a cell. It is listed in
``outputs.json`` as release machinery (type 'manifest'), so the audit does not report it.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from child_mdh.release.sdc.manifest import AUDIT_NAME, CHECKER_SUMMARY_NAME, MANIFEST_NAME
from child_mdh.release.sdc.rules import STATUSES
from child_mdh.release.sdc.withheld import withheld_count

#: The run's provenance record in the release folder (its ``warnings`` are shown first).
PROVENANCE_NAME = "provenance.json"


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("child_mdh.release.sdc", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _output_rows(results: dict) -> list[dict]:
    """One row per output, review first, then by uid."""
    rows = []
    for uid, entry in results.items():
        files = entry.get("files") or []
        sdc = (files[0].get("sdc") or {}) if files else {}
        checks = entry.get("checks") or []
        comments = list(dict.fromkeys(entry.get("comments") or []))
        rows.append(
            {
                "uid": uid,
                "files": [f.get("name", "") for f in files],
                "status": entry.get("status", ""),
                "type": entry.get("type", ""),
                "method": (entry.get("properties") or {}).get("method", ""),
                "checks": [
                    {
                        "name": c.get("name", ""),
                        "status": c.get("status", ""),
                        "message": c.get("message", ""),
                    }
                    for c in checks
                ],
                "withheld": withheld_count(sdc.get("summary")) if sdc else 0,
                "rounded": bool((sdc.get("summary") or {}).get("rounded")),
                "comments": comments,
                # checks not passed whose message no comment already gives
                "to_look_at": [
                    c
                    for c in checks
                    if c.get("status") != "pass"
                    and not any(c.get("message", "") in m for m in comments)
                ],
                "exception": entry.get("exception") or "",
            }
        )
    order = {s: i for i, s in enumerate(("fail", "review", "pass"))}
    return sorted(rows, key=lambda r: (order.get(r["status"], -1), r["uid"]))


def render_checker_summary(
    manifest: dict, audit: dict | None, warnings: list[str] | None = None
) -> str:
    """The page's HTML from the merged manifest and the audit report (None: not found);
    ``warnings`` (from the run's provenance record, e.g. an empty social care table) are
    shown first, in a box."""
    results = manifest.get("results") or {}
    rows = _output_rows(results)
    counts = {s: sum(1 for r in rows if r["status"] == s) for s in STATUSES}
    return (
        _environment()
        .get_template("checker_summary.html")
        .render(
            manifest=manifest,
            audit=audit,
            rows=rows,
            counts=counts,
            n_files=sum(len(r["files"]) for r in rows),
            review=[r for r in rows if r["status"] != "pass"],
            disclosure=manifest.get("disclosure") or {},
            warnings=list(warnings or []),
        )
    )


def write_checker_summary(
    release_dir: str | Path,
    audit_path: str | Path | None = None,
    out_path: str | Path | None = None,
) -> Path:
    """Write ``checker_summary.html`` from ``outputs.json`` and ``audit.json``.

    ``audit_path`` defaults to ``<release_dir>/audit.json`` and ``out_path`` to
    ``<release_dir>/checker_summary.html``. Returns the path written.
    """
    release_dir = Path(release_dir)
    manifest = json.loads((release_dir / MANIFEST_NAME).read_text())
    audit_file = Path(audit_path) if audit_path else release_dir / AUDIT_NAME
    audit = json.loads(audit_file.read_text()) if audit_file.is_file() else None
    out = Path(out_path) if out_path else release_dir / CHECKER_SUMMARY_NAME
    provenance = release_dir / PROVENANCE_NAME
    warnings = (
        json.loads(provenance.read_text()).get("warnings", []) if provenance.is_file() else []
    )
    out.write_text(render_checker_summary(manifest, audit, warnings), encoding="utf-8")
    return out
