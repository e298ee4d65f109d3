"""Step ``index_outputs``: the Child-MDH index, released through disclosure control.

Writes the person-level scores to ``results/secure/child_index.parquet`` and calls
:func:`child_mdh.release.index.index_outputs` and
:func:`child_mdh.release.index.write_linkage_report` for ``results/release/index/``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from child_mdh.aggregates.index.tables import child_index
from child_mdh.files import write_parquet
from child_mdh.release.index import index_outputs, write_linkage_report
from child_mdh.release.sdc import Manifest, SDCConfig
from child_mdh.steps._runner import SUMMARY, step_logging


def _regions(areas_path) -> dict[str, str]:
    """Local authority -> region code, from the contract's areas table."""
    areas = pd.read_parquet(areas_path, columns=["la_code", "region_code"])
    return dict(zip(areas["la_code"].astype(str), areas["region_code"].astype(str)))


def run(smk) -> None:
    """Rule ``index_outputs``."""
    with step_logging(smk, "index_outputs") as log:
        children = pd.read_parquet(smk.input.children)
        settings = dict(smk.params.index)
        write_parquet(
            child_index(children, settings["weights"], float(settings["k"])),
            smk.output.child_index,
            {"person_level": True},
        )
        release = Path(smk.output.staged)  # laid out as results/release/
        manifest = Manifest(
            release,
            "index",
            SDCConfig.from_mapping(smk.params.disclosure),
            about=dict(smk.params.about),
        )
        written = index_outputs(children, settings, release, manifest)
        written["linkage"] = write_linkage_report(
            pd.read_csv(smk.input.linkage, dtype={"la_code": "str"}),
            release,
            manifest,
            dict(settings["weights"]),
            float(settings["confidence"]),
            regions=_regions(smk.input.areas),
        )
        manifest.write_part(smk.output.manifest)
        log.info("index tables written: %s", ", ".join(written.values()))
        log.info(
            "%d index tables and figures staged for release/index/", len(written), extra=SUMMARY
        )
