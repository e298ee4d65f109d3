"""The release audit: re-check every file in the release folder, independently of how it
was written.

It reads the folder and ``outputs.json`` only, and reports a problem when:

- a file in the folder is not listed in ``outputs.json`` (``unlisted``), a listed file is
  missing (``missing_file``) or has changed since it was checked (``changed_file``), or an
  output with status 'fail' is present (``failed_output``);
- a release workbook's table differs from the CSV of the same name
  (``workbook_differs``; the workbook's shorthand [c], [x], [z] reads as an empty cell);
- a CSV or XLSX table has a count column (name ending ``_n``) holding text
  (``text_in_count``), a value from 1 to threshold-1 (``small_count``), or a zero when
  zeros are disclosive and the zero is not flagged structural (``zero_count``);
- for a table whose structure the manifest records: a derived statistic rests on an
  empty or small count (``derived``), a statistic does not follow from the published
  counts by its declared formula (``statistic_not_from_counts``), an empty cell can be recovered from the declared
  margins (``recoverable``), counts are not rounded as declared (``rounding``), or a
  person-level identifier column is present (``identifier``);
- ``outputs.json`` says why a cell is withheld (``reason_disclosed``), or a table carries
  a sum between its count columns that it does not declare (``undeclared_relation``);
- read together, the release tables narrow a withheld count to fewer values than the
  threshold (``narrow_recovery``, ``exact_recovery``), pin a rounded count more tightly
  than its rounding allows (``pinned_rounded_count``), or publish the same count with
  values that cannot both hold (``inconsistent_count``): the release-wide interval
  audit (:mod:`child_mdh.release.sdc.interval_audit`), whose figures ``audit.json`` records.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from child_mdh.files import write_json
from child_mdh.release.sdc.checks import check_table
from child_mdh.release.sdc.checksums import checksum_files, verify_checksums
from child_mdh.release.sdc.config import SDCConfig
from child_mdh.release.sdc.interval_audit import IntervalAudit, audit_release_tables
from child_mdh.release.sdc.manifest import (
    AUDIT_NAME,
    MANIFEST_FORMAT,
    MANIFEST_NAME,
    file_digest,
)
from child_mdh.release.sdc.relations import undeclared_sums
from child_mdh.release.sdc.rules import published_threshold
from child_mdh.release.sdc.spec import COUNT_SUFFIX, PERSON_LEVEL_IDENTIFIERS, TableSpec
from child_mdh.release.sdc.withheld import ACRO_SDC_KEYS, WITHHELD_REASONS
from child_mdh.release.workbook import TABLE_SHEET, is_release_workbook, read_workbook_table

TABLE_SUFFIXES = (".csv", ".xlsx")
#: check_table failures the audit reports, and the problem kind each becomes
#: interval-audit findings and the problem kind each becomes
INTERVAL_KINDS = {
    "exact": "exact_recovery",
    "narrow": "narrow_recovery",
    "pinned": "pinned_rounded_count",
    "inconsistent": "inconsistent_count",
}
_CHECK_KINDS = {
    "derived": "derived",
    "secondary": "recoverable",
    "rounding": "rounding",
    "formulas": "statistic_not_from_counts",
    "person_level_identifiers": "identifier",
    "negative_counts": "negative_count",
}


@dataclass
class Problem:
    """One thing wrong with the release folder: its kind, the file, and the detail."""

    kind: str
    file: str
    detail: str

    def to_dict(self) -> dict:
        """JSON-able form."""
        return asdict(self)


def _read_tables(path: Path) -> dict[str, pd.DataFrame]:
    """The tables of a release file: a CSV's one table; a release workbook's table
    sheet under the CSV's column names, shorthand as empty cells
    (:func:`~child_mdh.release.workbook.read_workbook_table`); every sheet of any other
    workbook."""
    if path.suffix.lower() == ".csv":
        return {"": pd.read_csv(path, keep_default_na=True)}
    if is_release_workbook(path):
        return {TABLE_SHEET: read_workbook_table(path)}
    return pd.read_excel(path, sheet_name=None, engine="openpyxl")


def _workbook_problems(path: Path, name: str, table: pd.DataFrame) -> list[Problem]:
    """A release workbook whose table differs from the CSV beside it (same name)."""
    csv = path.with_suffix(".csv")
    if not csv.is_file():
        return []
    try:
        frame = pd.read_csv(csv)
    except Exception:  # reported when the CSV itself is read
        return []
    if list(frame.columns) != list(table.columns) or len(frame) != len(table):
        return [
            Problem(
                "workbook_differs",
                name,
                f"the table differs in shape or columns from {csv.name}",
            )
        ]
    for col in frame.columns:
        a, b = frame[col], table[col]
        if pd.api.types.is_numeric_dtype(a) and pd.api.types.is_numeric_dtype(b):
            same = np.allclose(
                a.to_numpy(dtype="float64"),
                b.to_numpy(dtype="float64"),
                rtol=0,
                atol=0,
                equal_nan=True,
            )
        else:
            same = a.isna().tolist() == b.isna().tolist() and (
                a.dropna().astype(str).tolist() == b.dropna().astype(str).tolist()
            )
        if not same:
            return [Problem("workbook_differs", name, f"column {col} differs from {csv.name}")]
    return []


def _scan_counts(
    df: pd.DataFrame, name: str, threshold: float, zeros_disclosive: bool, structural: dict
) -> list[Problem]:
    problems = []
    for col in [c for c in df.columns if str(c).endswith(COUNT_SUFFIX)]:
        raw = df[col]
        num = pd.to_numeric(raw, errors="coerce")
        text = num.isna() & raw.notna()
        if text.any():
            ex = raw[text].astype("str").head(3).tolist()
            problems.append(
                Problem(
                    "text_in_count",
                    name,
                    f"column {col} holds text {ex}: suppressed cells must be empty",
                )
            )
        v = num.to_numpy(dtype="float64")
        with np.errstate(invalid="ignore"):
            small = np.flatnonzero((v > 0) & (v < threshold))
        if small.size:
            problems.append(
                Problem(
                    "small_count",
                    name,
                    f"column {col}: {small.size} value(s) above 0 and below "
                    f"{threshold:g} (rows {small[:5].tolist()})",
                )
            )
        if zeros_disclosive:
            zero = v == 0
            flag = structural.get(col, structural.get("*"))
            if flag is not None and flag in df.columns:
                zero &= ~df[flag].fillna(False).astype(bool).to_numpy()
            rows = np.flatnonzero(zero)
            if rows.size:
                problems.append(
                    Problem(
                        "zero_count",
                        name,
                        f"column {col}: {rows.size} zero(s) not flagged "
                        f"structural (rows {rows[:5].tolist()})",
                    )
                )
    ids = [c for c in df.columns if str(c).lower() in PERSON_LEVEL_IDENTIFIERS]
    if ids:
        problems.append(
            Problem("identifier", name, f"person-level identifier column(s) {', '.join(ids)}")
        )
    return problems


def _structure_problems(
    df: pd.DataFrame, name: str, structure: dict, config: SDCConfig
) -> list[Problem]:
    spec = TableSpec.from_structure(structure)
    try:
        results = check_table(
            df,
            spec,
            config,
            output_type="table",
            table=name,
            rounded=bool(structure.get("rounded")),
        )
    except (ValueError, TypeError) as err:
        return [
            Problem("unreadable", name, f"cannot re-check against its recorded structure: {err}")
        ]
    return [
        Problem(_CHECK_KINDS[r.name], name, r.message)
        for r in results
        if r.status == "fail" and r.name in _CHECK_KINDS
    ]


def interval_audit(
    release_dir: str | Path,
    manifest: dict | None = None,
    *,
    min_range: int | None = None,
    seed: int = 0,
) -> IntervalAudit:
    """The release-wide interval audit of a folder
    (:mod:`child_mdh.release.sdc.interval_audit`). ``manifest`` defaults to the folder's
    ``outputs.json``; ``min_range`` (the number of whole values a withheld count's range
    must hold) to the threshold recorded there."""
    release_dir = Path(release_dir)
    if manifest is None:
        manifest = json.loads((release_dir / MANIFEST_NAME).read_text())
    if min_range is None:
        min_range = int((manifest.get("disclosure") or {}).get("threshold", 10))
    return audit_release_tables(release_dir, manifest, min_range=min_range, seed=seed)


def _reason_problems(manifest: dict) -> list[Problem]:
    """A released manifest that says why a cell is withheld (a per-rule count or cell
    list: 'threshold' says 1-9, 'secondary' at least 10) gives counts back beside a
    rounded total; only 'withheld' may be used (:mod:`child_mdh.release.sdc.withheld`)."""
    problems = []
    for uid, entry in (manifest.get("results") or {}).items():
        for f in entry.get("files", []):
            sdc = f.get("sdc") if isinstance(f, dict) else None
            if not isinstance(sdc, dict):
                continue
            summary, cells = sdc.get("summary") or {}, sdc.get("cells") or {}
            told = sorted(
                {
                    k
                    for k in (*WITHHELD_REASONS, *ACRO_SDC_KEYS)
                    if (
                        isinstance(summary.get(k), (int, float))
                        and not isinstance(summary.get(k), bool)
                        and summary.get(k)
                    )
                    or cells.get(k)
                }
            )
            if told:
                problems.append(
                    Problem(
                        "reason_disclosed",
                        f.get("name", uid),
                        f"outputs.json says why cells are empty ({', '.join(told)}); list them "
                        "under 'withheld' only and keep the reasons in the secure area",
                    )
                )
    return problems


def audit_release(  # noqa: C901  (the audit's checks in turn, each reported)
    release_dir: str | Path,
    threshold: int | None = None,
    *,
    zeros_disclosive: bool | None = None,
    ignore: tuple[str, ...] = (AUDIT_NAME,),
    intervals: dict | None = None,
    min_range: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[Problem]:
    """Walk every file under ``release_dir`` and return the problems found (see module doc).

    ``threshold`` and ``zeros_disclosive`` default to the settings recorded in
    ``outputs.json`` (else the ACRO defaults, 10 and True). ``ignore`` lists file names
    (relative to the folder) that are not outputs, such as the audit report itself.
    With ``intervals`` (a dict, filled with the figures) the release-wide interval audit
    runs too (:func:`interval_audit`; ``min_range`` as
    there) and each count it narrows down is a problem. ``progress(message)``, when
    given, is told when the files have been checked and the interval audit starts.
    """
    release_dir = Path(release_dir)
    problems: list[Problem] = []
    manifest_path = release_dir / MANIFEST_NAME
    manifest: dict = {}
    if not manifest_path.exists():
        problems.append(
            Problem(
                "no_manifest",
                MANIFEST_NAME,
                "outputs.json is missing: nothing in this folder is listed",
            )
        )
    else:
        try:
            manifest = json.loads(manifest_path.read_text())
        except json.JSONDecodeError as err:
            problems.append(Problem("bad_manifest", MANIFEST_NAME, f"not valid JSON: {err}"))
        if manifest and manifest.get("format") != MANIFEST_FORMAT:
            problems.append(
                Problem("bad_manifest", MANIFEST_NAME, f"unknown format {manifest.get('format')!r}")
            )
            manifest = {}
    settings = dict(manifest.get("disclosure") or {})
    if threshold is not None:
        settings["threshold"] = threshold
    if zeros_disclosive is not None:
        settings["zeros_disclosive"] = zeros_disclosive
    config = SDCConfig.from_mapping(settings)

    listed: dict[str, tuple[str, dict, dict]] = {}
    for uid, entry in (manifest.get("results") or {}).items():
        if entry.get("status") == "fail":
            problems.append(
                Problem("failed_output", uid, "an output with status fail is in the release folder")
            )
        if entry.get("type") == "manifest":
            continue  # the list itself and this report: no hash, written around the audit
        for f in entry.get("files", []):
            listed[f["name"]] = (uid, entry, f)
    machinery = {
        f["name"]
        for e in (manifest.get("results") or {}).values()
        if e.get("type") == "manifest"
        for f in e.get("files", [])
    }
    # SACRO Viewer's checksums/ folder: release machinery, checked by sdc/checksums.py
    machinery |= checksum_files(release_dir)
    problems += [Problem(*p) for p in verify_checksums(release_dir, manifest.get("results") or {})]

    present = sorted(
        p.relative_to(release_dir).as_posix() for p in release_dir.rglob("*") if p.is_file()
    )
    for name in present:
        if name == MANIFEST_NAME or name in ignore or name in machinery:
            continue
        path = release_dir / name
        if name not in listed:
            problems.append(Problem("unlisted", name, "file is not listed in outputs.json"))
        else:
            expected = listed[name][2].get("sha256")
            if expected and file_digest(path) != expected:
                problems.append(
                    Problem("changed_file", name, "file differs from the version that was checked")
                )
        if path.suffix.lower() in TABLE_SUFFIXES:
            try:
                sheets = _read_tables(path)
            except Exception as err:  # any unreadable table is a problem to report
                problems.append(Problem("unreadable", name, f"cannot read table: {err}"))
                continue
            structure = (listed[name][1].get("structure") or {}) if name in listed else {}
            if TABLE_SHEET in sheets and path.suffix.lower() == ".xlsx":
                problems += _workbook_problems(path, name, sheets[TABLE_SHEET])
            for sheet, df in sheets.items():
                label = f"{name}:{sheet}" if sheet else name
                table_config = config
                if structure.get("threshold") and threshold is None:
                    table_config = SDCConfig.from_mapping(
                        {**config.to_dict(), "threshold": structure["threshold"]}
                    )
                limit = published_threshold(table_config, bool(structure.get("rounded")))
                problems += _scan_counts(
                    df,
                    label,
                    limit,
                    table_config.zeros_disclosive,
                    structure.get("structural_zeros") or {},
                )
                if structure:
                    problems += _structure_problems(df, label, structure, table_config)
    if progress is not None:
        progress(f"audit: {len(present)} files checked")
    for name in sorted(set(listed) - set(present)):
        problems.append(
            Problem(
                "missing_file", name, f"listed by output {listed[name][0]} but not in the folder"
            )
        )
    problems += _reason_problems(manifest)
    for name, (_uid, entry, _) in sorted(listed.items()):
        structure = entry.get("structure")
        if structure and name.lower().endswith(".csv") and (release_dir / name).is_file():
            try:
                frame = pd.read_csv(release_dir / name)
            except Exception:  # already reported as unreadable above
                continue
            for r in undeclared_sums(frame, structure):
                problems.append(
                    Problem(
                        "undeclared_relation",
                        name,
                        f"{r.total} = {' + '.join(r.parts)} on all {r.rows} rows checked, but the "
                        "table does not declare it: declare it (ColumnMargin) so protection and "
                        "the audit know it",
                    )
                )
    if intervals is not None and manifest:
        if progress is not None:
            progress("audit: the intervals of the tables released together")
        report = interval_audit(release_dir, manifest, min_range=min_range)
        intervals.update(report.to_dict())
        problems += [
            Problem(
                INTERVAL_KINDS[f.kind],
                f.file,
                f"row {f.row} {f.column} (published {f.published or 'withheld'}): "
                f"everything released together pins it to [{f.lower:g}, "
                f"{f.upper:g}]",
            )
            for f in report.findings
        ]
        problems += [
            Problem("not_audited", name, f"not audited with the other tables: {why}")
            for name, why in report.not_audited
        ]
    return problems


def write_audit(
    release_dir: str | Path,
    out_path: str | Path | None = None,
    threshold: int | None = None,
    raise_on_problems: bool = False,
    progress: Callable[[str], None] | None = None,
) -> list[Problem]:
    """Run :func:`audit_release` and write ``audit.json`` (problems and status counts).

    With ``raise_on_problems`` a non-empty list raises ``ValueError`` after the report
    is written (so a workflow step fails).
    """
    release_dir = Path(release_dir)
    out_path = Path(out_path) if out_path else release_dir / AUDIT_NAME
    ignore = (AUDIT_NAME,)
    with contextlib.suppress(ValueError):  # the report is written outside the folder
        ignore = (out_path.resolve().relative_to(release_dir.resolve()).as_posix(),)
    intervals: dict = {}
    problems = audit_release(
        release_dir, threshold, ignore=ignore, intervals=intervals, progress=progress
    )
    statuses: dict[str, int] = {}
    manifest_path = release_dir / MANIFEST_NAME
    if manifest_path.exists():
        try:
            for entry in json.loads(manifest_path.read_text()).get("results", {}).values():
                statuses[entry.get("status")] = statuses.get(entry.get("status"), 0) + 1
        except json.JSONDecodeError:
            pass
    report = {
        "audit": "child-mdh release audit",
        "release_dir": str(release_dir),
        "passed": not problems,
        "status_counts": statuses,
        "intervals": intervals,
        "problems": [p.to_dict() for p in problems],
    }
    write_json(report, out_path)
    if problems and raise_on_problems:
        lines = "\n".join(f"  - {p.kind}: {p.file}: {p.detail}" for p in problems[:20])
        raise ValueError(f"release audit found {len(problems)} problem(s):\n{lines}")
    return problems
