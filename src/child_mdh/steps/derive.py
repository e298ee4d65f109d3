"""Step ``derive_children``: the person-level children table every analysis reads.

Calls :func:`child_mdh.derive.children.derive_children` (the census cohort) or
:func:`child_mdh.derive.children.derive_children_from_la_import` (the local-authority
cohort) and writes the table and its companions to ``results/secure/``.
"""

from __future__ import annotations

import json
from pathlib import Path

from child_mdh.derive.children import derive_children, derive_children_from_la_import
from child_mdh.files import write_json, write_parquet
from child_mdh.steps._runner import SUMMARY, step_logging


def run(smk) -> None:
    """Rule ``derive_children``."""
    with step_logging(smk, "derive_children") as log:
        p = smk.params
        if p.source == "la_returns":
            children, household_domains, linkage, report = derive_children_from_la_import(
                Path(smk.input.tables[0]).parent, p.la_import, p.population, p.outcomes
            )
        else:
            children, household_domains, linkage, report = derive_children(
                Path(smk.input.tables[0]).parent,
                reference_date=p.population["reference_date"],
                qualification_level2=p.domains["qualification_level2"],
                min_age=p.population["min_age"],
                max_age=p.population["max_age"],
                unlinked=p.population["unlinked"],
                fsm_measure=p.population["fsm_measure"],
                follow_up_years=p.outcomes["follow_up_years"],
                prior_contact=p.outcomes["prior_contact"],
                extract_date=p.outcomes["extract_date"],
                end_age=p.outcomes.get("end_age"),
            )
        write_parquet(children, smk.output.children, {"person_level": True})
        write_parquet(household_domains, smk.output.household_domains, {"person_level": False})
        linkage.to_csv(smk.output.linkage, index=False)
        write_json(report, smk.output.report)
        log.info("derivation report:\n%s", json.dumps(report, indent=2, default=str))
        log.info(
            "children table: %s children (report: %s)",
            f"{len(children):,}",
            smk.output.report,
            extra=SUMMARY,
        )
