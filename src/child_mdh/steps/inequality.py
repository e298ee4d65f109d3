"""Step ``inequality_outputs``: deprivation profiles, attributable fractions and inequality
gradients, released through disclosure control by
:func:`child_mdh.release.models.inequality.inequality_outputs`."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from child_mdh.release.models.inequality import FOLDER, inequality_outputs
from child_mdh.release.sdc import Manifest, SDCConfig
from child_mdh.steps._runner import SUMMARY, step_logging
from child_mdh.validation.folder import read_validated_table


def run(smk) -> None:
    """Rule ``inequality_outputs``."""
    with step_logging(smk, "inequality_outputs") as log:
        children = pd.read_parquet(smk.input.children)
        child_index = pd.read_parquet(
            smk.input.child_index, columns=["person_id", "la_code", "mdh"]
        )
        areas = read_validated_table(Path(smk.input.areas).parent, "areas")
        params = smk.params
        settings = {
            "models": dict(params.models),
            "index": dict(params.index),
            "outcomes": dict(getattr(params, "outcomes", None) or {}),
        }
        release = Path(smk.output.staged)  # laid out as results/release/
        manifest = Manifest(
            release,
            "inequality",
            SDCConfig.from_mapping(params.disclosure),
            about=dict(getattr(params, "about", None) or {}),
        )
        written = inequality_outputs(
            children, settings, release, manifest, child_index=child_index, areas=areas, log=log
        )
        manifest.write_part(smk.output.manifest)
        log.info("inequality outputs written: %s", ", ".join(written.values()))
        log.info(
            "%d profile, attributable-fraction and gradient tables staged for release/%s/",
            len(written),
            FOLDER,
            extra=SUMMARY,
        )
