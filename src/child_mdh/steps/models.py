"""Step ``model_outputs``: the models of social care contact, released through disclosure
control by :func:`child_mdh.release.models.outputs.model_outputs`."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from child_mdh.release.models.outputs import model_outputs
from child_mdh.release.models.repeats import published_england_counts
from child_mdh.release.profiles.build import TABLE_FILES, TABLES_DIR
from child_mdh.release.sdc import Manifest, SDCConfig
from child_mdh.steps._runner import PROGRESS, SUMMARY, step_logging

#: The local profiles' table of every area, where the profile tables' staged folder
#: holds it (laid out as results/release/).
AREA_STATISTICS = Path("profiles") / TABLES_DIR / TABLE_FILES["area_statistics"]


def model_step_inputs(smk, stage: str):
    """What a rule fitting models on the children reads: the children table, the index
    step's identification (``person_id``, ``la_code``, ``mdh``), the settings mapping
    (``models``, ``index``, ``outcomes``), its staged release folder and the ``stage``'s
    manifest with the rule's disclosure settings."""
    children = pd.read_parquet(smk.input.children)
    child_index = pd.read_parquet(smk.input.child_index, columns=["person_id", "la_code", "mdh"])
    params = smk.params
    settings = {
        "models": dict(params.models),
        "index": dict(params.index),
        "outcomes": dict(getattr(params, "outcomes", None) or {}),
    }
    release = Path(smk.output.staged)  # laid out as results/release/
    manifest = Manifest(
        release,
        stage,
        SDCConfig.from_mapping(params.disclosure),
        about=dict(getattr(params, "about", None) or {}),
    )
    return children, child_index, settings, release, manifest


def profile_counts(smk) -> dict[str, float] | None:
    """England's counts as the local profiles publish them, from the profile tables'
    staged folder (input ``profile_tables``), or None when the rule has no such input."""
    folder = getattr(smk.input, "profile_tables", None)
    if not folder:
        return None
    return published_england_counts(Path(folder) / AREA_STATISTICS)


def run(smk) -> None:
    """Rule ``model_outputs``."""
    with step_logging(smk, "model_outputs") as log:
        children, child_index, settings, release, manifest = model_step_inputs(smk, "models")
        # synthetic runs only: the generator's truth, which the summary compares with
        truth_file = getattr(smk.input, "truth", None)
        truth = json.loads(Path(truth_file).read_text()) if truth_file else None
        written = model_outputs(
            children,
            settings,
            release,
            manifest,
            child_index=child_index,
            log=log,
            truth=truth,
            progress=lambda message: log.info("%s", message, extra=PROGRESS),
            profile_counts=profile_counts(smk),
        )
        manifest.write_part(smk.output.manifest)
        log.info("model outputs written: %s", ", ".join(written.values()))
        log.info("%d model outputs staged for release/models/", len(written), extra=SUMMARY)
