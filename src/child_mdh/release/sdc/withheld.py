"""What the release says about an empty cell: that it is withheld, never why.

Suppression records, per emptied cell, the rule that emptied it (threshold, dominance,
secondary, derived; :func:`~child_mdh.release.sdc.suppression.protect_table`). Published next to
a rounded total, 'threshold' would tell a reader that both parts of a split are 1-9, so
the released ``outputs.json`` lists the emptied cells of a file under one key of its own,
``withheld``, with one count, and gives no rule. The reasons stay in the secure area
(:func:`write_disclosure_reasons`, ``results/secure/disclosure_reasons.json``) for the
researcher.

ACRO's ``sdc`` block has fixed per-rule keys (ACRO v0.4, ``acro/acro_tables.py``
``get_table_sdc``: ``suppressed``, ``negative``, ``missing``, ``threshold``,
``p-ratio``, ``nk-rule``, ``all-values-are-same``). They are kept, so tools written for
ACRO find them, but always 0 and empty, and an ``sdc.comment`` says why.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from pathlib import Path

from child_mdh.files import write_json
from child_mdh.release.sdc.suppression import REASONS

#: ACRO's per-rule keys of ``sdc.summary`` and ``sdc.cells`` (ACRO v0.4 get_table_sdc).
ACRO_SDC_KEYS = ("negative", "missing", "threshold", "p-ratio", "nk-rule", "all-values-are-same")
#: The key under which the released manifest lists emptied cells and their number.
WITHHELD_KEY = "withheld"
#: Reasons that mean disclosure control emptied the cell ('missing': empty in the input).
WITHHELD_REASONS = tuple(r for r in REASONS if r != "missing")
SDC_COMMENT = (
    "Cells emptied by disclosure control are listed under 'withheld', without saying "
    "which rule emptied them; ACRO's per-rule counts are 0 on purpose. Cells are [row, column]: "
    "row counts the file's data rows from 0, column counts from the second CSV column, "
    "as ACRO counts after the row labels (so SACRO Viewer marks the right cell)."
)
REASONS_NAME = "disclosure_reasons.json"
REASONS_FORMAT = "child-mdh disclosure reasons v1"


def emptied_cells(sdc: dict | None) -> list[list]:
    """Every cell of an ``sdc`` block emptied by disclosure control, in row order.

    Reads the reason-keyed cells of a step's manifest (threshold, dominance, secondary,
    derived) and an existing ``withheld`` list; cells empty in the input ('missing') are
    not withheld.
    """
    cells = (sdc or {}).get("cells") or {}
    found = {
        (int(r), c) for key in (*WITHHELD_REASONS, WITHHELD_KEY) for r, c in cells.get(key) or []
    }
    return [[r, c] for r, c in sorted(found, key=lambda rc: (rc[0], str(rc[1])))]


def withheld_count(summary: dict | None) -> int:
    """Number of withheld cells from an ``sdc.summary`` (reason-keyed or released)."""
    summary = summary or {}
    if WITHHELD_KEY in summary:
        return int(summary[WITHHELD_KEY])
    return int(sum(int(summary.get(r) or 0) for r in WITHHELD_REASONS))


def viewer_cells(cells: Iterable[Sequence], columns: Sequence[str] | None) -> list[list]:
    """``[row, column name]`` cells as ``[row, column]`` counted the way ACRO counts.

    ACRO writes a table's row labels as the first CSV column and numbers cells from the
    column after it; SACRO Viewer adds 2 to that number to find the table cell
    (``assets/src/scripts/_table-builder.js``, ``highlightFailingCells``). Our CSVs have
    no index, so a cell in CSV column ``p`` (from 0) is recorded as ``p - 1``. A cell in
    a column the file does not hold (a withheld column) is left out; with ``columns``
    unknown the names are kept.
    """
    if columns is None:
        return [[int(r), c] for r, c in cells]
    position = {str(c): i - 1 for i, c in enumerate(columns)}
    return sorted(
        [int(r), position[c] if isinstance(c, str) else int(c)]
        for r, c in cells
        if not isinstance(c, str) or c in position
    )


def released_sdc(sdc: dict | None, columns: Sequence[str] | None = None) -> dict:
    """The ``sdc`` block of a file as released: withheld cells and their count only.

    ``columns`` are the file's CSV columns in order (see :func:`viewer_cells`). An empty
    ``sdc`` (a figure, a page) stays empty.
    """
    if not sdc:
        return {}
    cells = viewer_cells(emptied_cells(sdc), columns)
    summary: dict = {"suppressed": bool(cells)}
    summary.update(dict.fromkeys(ACRO_SDC_KEYS, 0))
    summary[WITHHELD_KEY] = len(cells)
    if "rounded" in (sdc.get("summary") or {}):
        summary["rounded"] = bool(sdc["summary"]["rounded"])
    out_cells: dict = {key: [] for key in ACRO_SDC_KEYS}
    out_cells[WITHHELD_KEY] = cells
    return {"summary": summary, "cells": out_cells, "comment": SDC_COMMENT}


def disclosure_reasons(loaded: Iterable[tuple[str, dict]]) -> dict:
    """Why each cell was emptied, per output and file, from the steps' manifests.

    ``loaded`` pairs a part's name with its content (as read by
    :func:`~child_mdh.release.sdc.manifest.load_parts`). Cells are ``[row, column name]``.
    """
    outputs: dict[str, dict] = {}
    for _, data in loaded:
        for uid, entry in (data.get("results") or {}).items():
            files = [f for f in entry.get("files", []) if (f.get("sdc") or {}).get("cells")]
            if not files:
                continue
            sdc = files[0]["sdc"]
            outputs[uid] = {
                "files": [f["name"] for f in files],
                "summary": {r: int((sdc.get("summary") or {}).get(r) or 0) for r in REASONS},
                "cells": {
                    r: [list(c) for c in (sdc.get("cells") or {}).get(r) or []] for r in REASONS
                },
            }
    return {
        "format": REASONS_FORMAT,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "note": "Secure environment only, never for export: why each cell of a released "
        "table is empty. The release lists these cells as 'withheld' without a "
        "reason, because a reason next to a rounded total can disclose a small "
        "count.",
        "reasons": {
            "threshold": "a count below the threshold (or a disclosive zero)",
            "dominance": "a magnitude cell failing the nk, p-ratio or contributor rule",
            "secondary": "emptied so that a declared margin gives no emptied cell back",
            "derived": "a statistic computed from a count that was emptied",
            "missing": "empty in the input (not withheld)",
        },
        "outputs": dict(sorted(outputs.items())),
    }


def check_secure_path(path: str | Path, release_dir: str | Path) -> Path:
    """``path`` as a Path; ``ValueError`` when it lies inside ``release_dir``."""
    path = Path(path)
    try:
        path.resolve().relative_to(Path(release_dir).resolve())
    except ValueError:
        return path
    raise ValueError(
        f"{path}: the disclosure reasons must stay in the secure area, "
        f"outside the release folder {release_dir}"
    )


def write_disclosure_reasons(
    loaded: Iterable[tuple[str, dict]], path: str | Path, release_dir: str | Path | None = None
) -> Path:
    """Write :func:`disclosure_reasons` to ``path``, which must be outside ``release_dir``."""
    if release_dir is not None:
        path = check_secure_path(path, release_dir)
    return write_json(disclosure_reasons(loaded), path)
