"""The only way files reach the release folder: checked, written, and listed.

:func:`write_release_table` protects a table (suppression and/or rounding), checks the
result and writes it (CSV, optionally XLSX) only when no check fails; otherwise it
raises :class:`DisclosureError` and writes nothing. :func:`write_release_figure` and
:func:`write_release_text` write figures and pages drawn from checked tables, and record
which tables back them. Every written file is entered in the step's
:class:`~child_mdh.release.sdc.manifest.Manifest`.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable
from pathlib import Path

import pandas as pd

from child_mdh.errors import UserError
from child_mdh.release.sdc.audit import write_audit
from child_mdh.release.sdc.checks import OUTPUT_TYPES, check_table
from child_mdh.release.sdc.config import resolve_config
from child_mdh.release.sdc.manifest import MANIFEST_NAME, Manifest, merge_manifests
from child_mdh.release.sdc.rules import CheckResult, overall_status
from child_mdh.release.sdc.spec import TableSpec
from child_mdh.release.sdc.suppression import protect_table
from child_mdh.release.sdc.text_safety import neutralise_formulas
from child_mdh.release.sdc.withheld import emptied_cells
from child_mdh.release.workbook import spread_withheld, write_workbook

FIGURE_SUFFIXES = {
    ".png": "figure",
    ".svg": "figure",
    ".pdf": "figure",
    ".jpg": "figure",
    ".html": "html",
    ".htm": "html",
}


class DisclosureError(UserError):
    """An output failed a disclosure check and was not written.

    The message names the file, each failing check, and the columns and rows concerned;
    ``results`` holds every check's :class:`~child_mdh.release.sdc.rules.CheckResult`.
    """

    def __init__(self, path: str | Path, results: list[CheckResult], rows: str = ""):
        self.path = Path(path)
        self.results = results
        failed = [r for r in results if r.status == "fail"]
        lines = [f"{path}: not written, it fails disclosure control:"]
        lines += [f"  - {r.name}: {r.message}" for r in failed]
        if rows:
            lines.append(f"  rows concerned: {rows}")
        lines.append(
            "  Fix: aggregate further (wider areas or categories), declare the "
            "table's margins and derived columns so suppression can protect them, "
            "or leave the output inside the secure environment."
        )
        super().__init__("\n".join(lines))


def _describe_rows(df: pd.DataFrame, spec: TableSpec, results: list[CheckResult]) -> str:
    rows = sorted({r for res in results if res.status == "fail" for r, _ in res.cells})[:5]
    if not rows:
        return ""
    keys = [k for k in spec.key_columns if k in df.columns]
    if not keys:
        return ", ".join(f"row {r}" for r in rows)
    frame = df.reset_index(drop=True)
    return "; ".join(
        f"row {r} (" + ", ".join(f"{k}={frame.at[r, k]}" for k in keys) + ")" for r in rows
    )


def _title_from(path: Path) -> str:
    words = path.stem.replace("_", " ")
    return words[:1].upper() + words[1:]


def _disclosure_note(config, rounded: bool) -> str:
    parts = [
        f"Disclosure control: counts below {config.threshold:g} are withheld ([c]), with "
        "further cells withheld where a total would give a withheld count back"
    ]
    if rounded:
        parts.append(f"counts are rounded to the nearest {config.rounding_base:g}")
    parts.append("statistics are computed from the published counts")
    return "; ".join(parts) + "."


def _config_for(manifest: Manifest, config) -> object:
    """The manifest's settings; a different ``config`` would be recorded wrongly."""
    if config is None:
        return manifest.config
    resolved = resolve_config(config)
    if resolved != manifest.config:
        raise ValueError(
            "the disclosure settings differ from the manifest's; create the "
            "Manifest with the settings used (Manifest(..., config=...))"
        )
    return resolved


def _check_path(path: Path, manifest: Manifest, uid: str | None) -> Path:
    """Refuse a path outside the release folder or an output already recorded; make
    the folder. Runs before anything is written."""
    manifest.ensure_new(uid or manifest.relative_name(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def write_release_table(
    df: pd.DataFrame,
    path: str | Path,
    spec: TableSpec | None,
    manifest: Manifest,
    output_type: str = "table",
    method: str = "",
    comment: str = "",
    *,
    config=None,
    uid: str | None = None,
    xlsx: bool = False,
    mitigate: bool = True,
    command: str = "",
    backed_by: Iterable[str] = (),
    additive: bool | None = None,
    after_protect=None,
    title: str = "",
    notes: Iterable[str] = (),
    withheld=None,
    not_applicable=None,
) -> dict:
    """Protect, check and write a release table; record it in ``manifest``.

    Steps: :func:`~child_mdh.release.sdc.suppression.protect_table` (skipped with
    ``mitigate=False``, when the table must already be safe as given); then
    :func:`~child_mdh.release.sdc.checks.check_table` on the result. When a check fails,
    :class:`DisclosureError` is raised naming the file, checks, columns and rows, and
    nothing is written. Otherwise the CSV (and, with ``xlsx=True``, an XLSX copy next to
    it) is written, withheld columns left out, suppressed cells empty, and the output is
    entered in the manifest with its status ('review' when a check asks for it; then
    ``comment`` must tell the output checker what to look at). ``output_type`` is
    'table' or 'regression' (give ``TableSpec(residual_df=...)``). Returns the
    manifest entry.

    ``additive`` says whether the table's totals are the sums of their rounded parts
    (recorded for the release-wide audit); by default, whenever this call rounds a table
    with margins. A view of an already protected table (``mitigate=False``) made of
    additive totals passes ``additive=True``.

    ``after_protect``, a function of the protected table, adds what follows from the
    protected numbers but is no formula (labels such as 'higher than England'); its
    result is what is checked and written.

    The XLSX copy is a workbook laid out after the GSS guidance
    (:func:`~child_mdh.release.workbook.write_workbook`): ``title`` heads it (default:
    from the file name), ``method`` and ``notes`` are its notes, the manifest's
    ``about`` fills its cover. Its empty cells show ``[c]`` where disclosure control
    emptied them (the cells this call withholds, or ``withheld`` for a view of a table
    protected elsewhere), ``[z]`` where ``not_applicable`` (a function of the released
    table returning a boolean frame or a mapping column -> boolean Series) says there
    is nothing to give, and ``[x]`` otherwise.
    """
    if output_type not in ("table", "regression"):
        raise ValueError(
            "write_release_table writes 'table' or 'regression' outputs; use "
            "write_release_figure or write_release_text for others"
        )
    spec = spec or TableSpec()
    config = _config_for(manifest, config)
    if df.index.name is not None or isinstance(df.index, pd.MultiIndex):
        raise ValueError(
            f"{path}: the table's index ({df.index.names}) would not be "
            "written; move it into columns with df.reset_index() first"
        )
    path = Path(path)
    if path.suffix.lower() != ".csv":
        raise ValueError(f"{path}: release tables are written as .csv (xlsx=True adds a copy)")
    _check_path(path, manifest, uid)
    label = manifest.relative_name(path)
    if mitigate:
        protected = protect_table(df, spec, config, table=label)
        checked, rounded = protected.checked, protected.rounded
        if after_protect is not None:
            checked = after_protect(checked).reset_index(drop=True)
        released = checked.drop(columns=list(spec.withhold_columns))
        sdc = {"summary": protected.summary(), "cells": protected.cells()}
    else:
        checked = df.reset_index(drop=True)
        released = checked.drop(columns=list(spec.withhold_columns))
        rounded = config.rounds
        sdc = {"summary": {"suppressed": False, "rounded": rounded}, "cells": {}}
    results = check_table(
        checked, spec, config, output_type=output_type, table=label, rounded=rounded
    )
    if mitigate and protected.unresolved:
        # protection gave up: a withheld count the table still gives back, exactly or
        # within a narrow range (the release audit would find it too, later)
        cells = [(int(r), str(c)) for r, c in protected.unresolved]
        shown = ", ".join(f"row {r} {c}" for r, c in cells[:5])
        results.append(
            CheckResult(
                "unresolved",
                "fail",
                f"{len(cells)} withheld count(s) still recoverable or narrowed after "
                f"protection: {shown}",
                cells,
            )
        )
    status = overall_status(results)
    if status == "fail":
        raise DisclosureError(path, results, _describe_rows(checked, spec, results))
    if status == "review" and not comment:
        notes = "; ".join(r.message for r in results if r.status == "review")
        comment = f"automatic checks ask for review: {notes}"
    inert = neutralise_formulas(released)
    inert.to_csv(path, index=False)
    files = [path]
    if xlsx:
        files.append(
            write_workbook(
                inert,
                path.with_suffix(".xlsx"),
                title=title or _title_from(path),
                description=method,
                about=manifest.about,
                notes=[
                    f"Method: {method}" if method else "",
                    _disclosure_note(config, rounded),
                    *notes,
                ],
                withheld=spread_withheld(
                    released, emptied_cells(sdc) if mitigate else withheld, spec.derived
                ),
                not_applicable=not_applicable(released) if not_applicable else None,
                csv_name=path.name,
            )
        )
    structure = spec.structure(checked)
    structure.update(
        {
            "rounded": rounded,
            "rounding_base": config.rounding_base,
            # totals published as the sum of their rounded parts
            "additive": bool(
                (mitigate if additive is None else additive) and rounded and spec.margins
            ),
            "threshold": config.threshold,
            "zeros_disclosive": config.zeros_disclosive,
        }
    )
    return manifest.add(
        files=files,
        status=status,
        output_type=output_type,
        method=method,
        checks=results,
        comment=comment,
        uid=uid,
        sdc=sdc,
        structure=structure,
        backed_by=backed_by,
        command=command,
    )


#: the mark every figure drawn from synthetic data carries (bottom right)
SYNTHETIC_FIGURE_MARK = "SYNTHETIC DATA: describes no real child, household or area"


def mark_synthetic(fig) -> None:
    """Write :data:`SYNTHETIC_FIGURE_MARK` in the bottom right corner of a matplotlib
    figure (kept inside the saved image, tight bounding box included)."""
    fig.text(
        0.995,
        0.005,
        SYNTHETIC_FIGURE_MARK,
        ha="right",
        va="bottom",
        fontsize=7,
        color="#a00000",
        gid="synthetic-mark",
    )


def write_release_figure(
    fig_or_path,
    path: str | Path,
    spec: TableSpec | None,
    manifest: Manifest,
    *,
    backed_by: Iterable[str] = (),
    data: pd.DataFrame | None = None,
    method: str = "",
    comment: str = "",
    output_type: str | None = None,
    config=None,
    uid: str | None = None,
    dpi: int = 150,
    command: str = "",
) -> dict:
    """Write a figure (PNG, SVG, PDF) or HTML page drawn from checked tables.

    ``fig_or_path`` is a matplotlib figure (saved at ``dpi``), a path to a file already
    made (copied), or bytes; a figure object is marked as synthetic
    (:func:`mark_synthetic`) when the manifest says the release is. ``backed_by`` lists the uids of the checked release tables
    the figure shows; ``data``, when given, is the table of plotted values and is
    checked with ``spec`` like a release table (a failure raises
    :class:`DisclosureError`, nothing written). Status: 'pass' when the plotted data
    passed its checks or the figure is backed by checked tables (the merged manifest
    downgrades it to 'review' if a backing table is missing or not 'pass'); otherwise
    'review', since an output checker must look at it.
    """
    path = Path(path)
    output_type = output_type or FIGURE_SUFFIXES.get(path.suffix.lower())
    if output_type not in OUTPUT_TYPES:
        raise ValueError(f"{path}: unknown figure type; pass output_type='figure' or 'html'")
    config = _config_for(manifest, config)
    backed_by = list(backed_by)
    results: list[CheckResult] = []
    if data is not None:
        results = check_table(
            data, spec, config, output_type="table", table=manifest.relative_name(path)
        )
        if overall_status(results) == "fail":
            raise DisclosureError(path, results, _describe_rows(data, spec or TableSpec(), results))
    for uid_b in backed_by:
        if uid_b in manifest.results and manifest.results[uid_b]["status"] != "pass":
            results.append(
                CheckResult(
                    "backing_table",
                    "review",
                    f"backing output {uid_b} has status {manifest.results[uid_b]['status']}",
                )
            )
    if data is None and not backed_by:
        results.append(
            CheckResult(
                "backing_table", "review", "not linked to a checked table: inspect the figure"
            )
        )
    status = overall_status(results) if results else "pass"
    if status == "review" and not comment:
        comment = "; ".join(r.message for r in results if r.status == "review")
    _check_path(path, manifest, uid)
    if hasattr(fig_or_path, "savefig"):
        if manifest.about.synthetic:
            mark_synthetic(fig_or_path)
        fig_or_path.savefig(path, dpi=dpi, bbox_inches="tight")
    elif isinstance(fig_or_path, bytes):
        path.write_bytes(fig_or_path)
    elif isinstance(fig_or_path, (str, Path)):
        source = Path(fig_or_path)
        if not source.is_file():
            raise ValueError(f"{source}: figure file not found")
        if source.resolve() != path.resolve():
            shutil.copyfile(source, path)
    else:
        raise TypeError("fig_or_path must be a matplotlib figure, a file path or bytes")
    return manifest.add(
        files=[path],
        status=status,
        output_type=output_type,
        method=method,
        checks=results,
        comment=comment,
        uid=uid,
        backed_by=backed_by,
        command=command,
    )


def write_release_text(
    text: str,
    path: str | Path,
    manifest: Manifest,
    *,
    output_type: str = "html",
    method: str = "",
    comment: str = "",
    backed_by: Iterable[str] = (),
    status: str | None = None,
    uid: str | None = None,
    command: str = "",
) -> dict:
    """Write a text output (HTML page, provenance JSON, Markdown) and record it.

    No automatic check reads free text, so the status is 'review' unless the caller
    states 'pass' with a ``comment`` giving the reason (for example 'configuration,
    file hashes and versions only; no data values') or the page is ``backed_by``
    checked tables only.
    """
    if output_type not in OUTPUT_TYPES:
        raise ValueError(f"output_type must be one of {', '.join(OUTPUT_TYPES)}")
    backed_by = list(backed_by)
    if status is None:
        status = "pass" if backed_by else "review"
    if status == "pass" and not (comment or backed_by):
        raise ValueError(
            f"{path}: a text output passes only with a comment saying why it "
            "holds nothing disclosive, or with backed_by tables"
        )
    if status == "review" and not comment:
        comment = "free text: an output checker must read it"
    path = _check_path(Path(path), manifest, uid)
    path.write_text(text, encoding="utf-8")
    return manifest.add(
        files=[path],
        status=status,
        output_type=output_type,
        method=method,
        comment=comment,
        uid=uid,
        backed_by=backed_by,
        command=command,
    )


def finalise_release(
    parts: Iterable[str | Path],
    release_dir: str | Path,
    audit_path: str | Path | None = None,
    raise_on_problems: bool = True,
    progress: Callable[[str], None] | None = None,
) -> list:
    """Merge the steps' partial manifests into ``outputs.json`` and audit the folder.

    Writes ``<release_dir>/outputs.json`` (:func:`~child_mdh.release.sdc.manifest.merge_manifests`)
    and the audit report (default ``<release_dir>/audit.json``,
    :func:`~child_mdh.release.sdc.audit.write_audit`); returns the audit's problems, raising
    ``ValueError`` after writing the report when there are any and
    ``raise_on_problems`` is true (so the workflow stops). ``progress(message)`` is told
    where the audit is (:func:`~child_mdh.release.sdc.audit.audit_release`).
    """

    release_dir = Path(release_dir)
    merge_manifests(list(parts), release_dir / MANIFEST_NAME)
    return write_audit(
        release_dir, audit_path, raise_on_problems=raise_on_problems, progress=progress
    )
