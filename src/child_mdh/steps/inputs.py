"""Steps that produce the validated contract tables: synthetic generation and validation."""

from __future__ import annotations

from pathlib import Path

from child_mdh.sources.la_returns.import_config import import_la_from_config
from child_mdh.sources.synthetic import generate
from child_mdh.sources.synthetic.la_formats import write_la_formats
from child_mdh.steps._runner import SUMMARY, step_logging
from child_mdh.validation.folder import validate_folder


def synth(smk) -> None:
    """Rule ``synth``: write the synthetic England (tables, truth.json, DATA_CARD.md)."""
    with step_logging(smk, "synth") as log:
        summary = generate(
            n_children=int(smk.params.children),
            seed=int(smk.params.seed),
            out_dir=Path(smk.output.truth).parent,
            census_year=int(smk.params.census_year),
            **dict(smk.params.options),
        )
        for table, rows in summary["rows"].items():
            log.info("%s: %s rows", table, f"{rows:,}")
        rows = summary["rows"]
        log.info(
            "synthetic England: %s persons in %s households, %s areas -> %s",
            f"{rows.get('persons', 0):,}",
            f"{rows.get('households', 0):,}",
            f"{rows.get('areas', 0):,}",
            Path(smk.output.truth).parent,
            extra=SUMMARY,
        )


def validate_inputs(smk) -> None:
    """Rule ``validate_inputs``: check the input folder against the contract."""
    with step_logging(smk, "validate_inputs") as log:
        out_dir = Path(smk.output.accounting).parent
        report = validate_folder(
            Path(smk.params.folder),
            out_dir=out_dir,
            quarantine_dir=Path(smk.params.quarantine),
            policy=smk.params.policy,
            reference_date=smk.params.reference_date,
            tables=list(smk.params.tables),
            unmatched_pupils=smk.params.unmatched_pupils,
            max_loss_share=smk.params.max_loss_share,
        )
        log.info("%s", report.summary_text())
        log.info("%s", report.one_line(), extra=SUMMARY)


def la_formats(smk) -> None:
    """Rule ``la_formats``: one LA's returns in its own formats, from the synthetic England."""
    with step_logging(smk, "la_formats") as log:
        written = write_la_formats(
            Path(smk.input.tables[0]).parent, smk.params.la_code, Path(smk.output[0])
        )
        log.info("wrote %s returns: %s", smk.params.la_code, written["rows"], extra=SUMMARY)


def import_la(smk) -> None:
    """Rule ``import_la``: an LA's returns into contract tables (salt from the environment)."""
    with step_logging(smk, "import_la") as log:
        report = import_la_from_config(dict(smk.params.la_import))
        log.info("%s", report.summary_text())
        log.info("LA returns imported (details in the log file)", extra=SUMMARY)
