"""Step ``linkage_outputs``: who links, the index and models weighted for linkage, and
bounds on H, released through disclosure control.

Builds the census cohort with every child in scope, linked or not
(:func:`child_mdh.derive.children.derive_children` with ``unlinked="fsm_missing"`` and the
run's other settings: the children table of the run may have left the unlinked children
out) and calls :func:`child_mdh.release.linkage.linkage_outputs` for
``results/release/linkage/``, with the index's published table of areas (whose counts
the bounds on H repeat).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from child_mdh.derive.children import derive_children
from child_mdh.release.linkage import linkage_outputs
from child_mdh.release.sdc import Manifest, SDCConfig
from child_mdh.steps._runner import SUMMARY, step_logging

#: The index's table of areas in its staged release folder, whose counts
#: ``linkage_bounds.csv`` publishes as they are published there.
INDEX_BY_AREA = Path("index") / "index_by_area.csv"


def published_index_area(smk) -> pd.DataFrame | None:
    """``index/index_by_area.csv`` as the index stage publishes it (protected), or None
    when the rule is given no index tables. Raises ``FileNotFoundError`` when the index
    tables are given without it (the bounds would round the index's counts again)."""
    folder = getattr(smk.input, "index_tables", None)
    if not folder:
        return None
    path = Path(folder) / INDEX_BY_AREA
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: the index stage's table of areas is missing from its staged "
            "tables; re-run the rule index_outputs (snakemake --forcerun index_outputs)"
        )
    return pd.read_csv(path, dtype={"area_code": "str", "parent_code": "str"})


def run(smk) -> None:
    """Rule ``linkage_outputs``."""
    with step_logging(smk, "linkage_outputs") as log:
        p = smk.params
        census, _, _, _ = derive_children(
            Path(smk.input.tables[0]).parent,
            reference_date=p.population["reference_date"],
            qualification_level2=p.domains["qualification_level2"],
            min_age=p.population["min_age"],
            max_age=p.population["max_age"],
            unlinked="fsm_missing",
            fsm_measure=p.population["fsm_measure"],
            follow_up_years=p.outcomes["follow_up_years"],
            prior_contact=p.outcomes["prior_contact"],
            extract_date=p.outcomes["extract_date"],
        )
        log.info("census children in scope: %s", f"{len(census):,}")
        release = Path(smk.output.staged)  # laid out as results/release/
        manifest = Manifest(
            release,
            "linkage",
            SDCConfig.from_mapping(p.disclosure),
            about=dict(p.about),
        )
        result = linkage_outputs(
            census,
            dict(p.index),
            dict(p.linkage),
            list(p.models["outcomes"]),
            p.models["cluster"],
            release,
            manifest,
            index_area=published_index_area(smk),
        )
        manifest.write_part(smk.output.manifest)
        log.info("linkage weights:\n%s", json.dumps(result["weights"], indent=2))
        log.info("variance of the weighted intervals: %s", result["variance_ipw"])
        log.info(
            "%d linkage tables staged for release/linkage/",
            len(result["uids"]),
            extra=SUMMARY,
        )
