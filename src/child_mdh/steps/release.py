"""Steps that write release-level records: provenance, synthetic fidelity, the manifest."""

from __future__ import annotations

import json
from pathlib import Path

from child_mdh.release.fidelity import write_synthetic_fidelity
from child_mdh.release.provenance import empty_table_warnings, provenance_record
from child_mdh.release.sdc import Manifest, SDCConfig, write_release_text
from child_mdh.release.sdc.publish import assemble_release, publish_release
from child_mdh.steps._runner import PROGRESS, SUMMARY, step_logging


def provenance(smk) -> None:
    """Rule ``provenance``: record configuration, input hashes, versions and code version."""
    with step_logging(smk, "provenance") as log:
        files = list(smk.input.raw)
        warnings = empty_table_warnings(list(smk.input.validated))
        for warning in warnings:
            log.warning("%s", warning)
        record = provenance_record(dict(smk.params.config), files, warnings)
        release = Path(smk.output.record).parent
        manifest = Manifest(
            release, "provenance", SDCConfig.from_mapping(smk.params.config["disclosure"])
        )
        write_release_text(
            json.dumps(record, indent=2, default=str) + "\n",
            smk.output.record,
            manifest,
            output_type="provenance",
            status="pass",
            method="configuration, SHA-256 hashes of input files, package and code versions",
            comment="no data values: configuration, file hashes and software versions only",
        )
        manifest.write_part(smk.output.manifest)
        log.info("recorded %d input files", len(files), extra=SUMMARY)


def release_manifest(smk) -> None:
    """Rule ``release_manifest``: build the release folder anew from the staged files
    (:func:`child_mdh.release.sdc.publish.assemble_release`), merge the steps' manifests
    into outputs.json, audit the folder, and write the checker's summary page, SACRO
    Viewer's checksums and, in the secure area, why each cell was emptied
    (:func:`child_mdh.release.sdc.publish.publish_release`)."""
    with step_logging(smk, "release_manifest") as log:
        files = assemble_release(list(smk.input.staged), Path(smk.params.release_dir))
        log.info("release folder built from %d staged files", files)
        problems = publish_release(
            list(smk.input.parts),
            Path(smk.params.release_dir),
            smk.output.reasons,
            smk.output.audit,
            progress=lambda message: log.info("%s", message, extra=PROGRESS),
        )
        log.info(
            "release audited: %s -> %s",
            "passed, no problem" if not problems else f"{len(problems)} problem(s)",
            smk.output.audit,
            extra=SUMMARY,
        )


def synthetic_fidelity(smk) -> None:
    """Rule ``synthetic_fidelity``: calibration targets beside achieved values, with a
    figure (:func:`child_mdh.release.fidelity.write_synthetic_fidelity`)."""
    with step_logging(smk, "synthetic_fidelity") as log:
        truth = json.loads(Path(smk.input.truth).read_text())
        release = Path(smk.output.table).parent
        manifest = Manifest(
            release, "synthetic_fidelity", SDCConfig.from_mapping(smk.params.disclosure)
        )
        report = write_synthetic_fidelity(
            Path(smk.input.truth).parent, truth, smk.output.table, smk.output.figure, manifest
        )
        manifest.write_part(smk.output.manifest)
        within = report["within_tolerance"].astype("boolean")
        failed = report.loc[within.eq(False).fillna(False), "target"].tolist()
        if failed:
            log.warning("fidelity targets outside tolerance: %s", ", ".join(failed))
        log.info(
            "%d fidelity targets: %d within tolerance, %d outside, %d not measurable at this size",
            len(report),
            int(within.eq(True).sum()),
            len(failed),
            int(within.isna().sum()),
            extra=SUMMARY,
        )
