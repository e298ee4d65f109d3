"""Step ``inequality_outputs``: deprivation profiles, attributable fractions and inequality
gradients, released through disclosure control by
:func:`child_mdh.release.models.inequality.inequality_outputs`."""

from __future__ import annotations

from pathlib import Path

from child_mdh.release.models.inequality import FOLDER, inequality_outputs
from child_mdh.steps._runner import SUMMARY, step_logging
from child_mdh.steps.models import model_step_inputs, profile_counts
from child_mdh.validation.folder import read_validated_table


def run(smk) -> None:
    """Rule ``inequality_outputs``."""
    with step_logging(smk, "inequality_outputs") as log:
        children, child_index, settings, release, manifest = model_step_inputs(smk, "inequality")
        areas = read_validated_table(Path(smk.input.areas).parent, "areas")
        written = inequality_outputs(
            children,
            settings,
            release,
            manifest,
            child_index=child_index,
            areas=areas,
            log=log,
            profile_counts=profile_counts(smk),
        )
        manifest.write_part(smk.output.manifest)
        log.info("inequality outputs written: %s", ", ".join(written.values()))
        log.info(
            "%d profile, attributable-fraction and gradient tables staged for release/%s/",
            len(written),
            FOLDER,
            extra=SUMMARY,
        )
