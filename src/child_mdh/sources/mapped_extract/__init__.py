"""Mapped extracts: turn a trusted research environment's extract into the contract tables.

A YAML mapping file (``docs/mapped-extracts.md``; a complete example is
``config/examples/guie_mapping.yaml``) says, for each contract table, which extract
files to read, which columns and codes become which contract columns, which rows to
keep, which termly files to stack and which lookup files to join. No code is written
for a new extract.

    from child_mdh.sources.mapped_extract import apply_mapping, check_mapping
    check_mapping("guie_mapping.yaml")                  # every problem at once, no data read
    report = apply_mapping("guie_mapping.yaml", out_dir)  # <table>.parquet + mapping_report.json
    print(report.summary_text())

From the command line: ``python -m child_mdh.sources.mapped_extract MAPPING --out DIR [--extract-dir DIR]``.
"""

from child_mdh.sources.mapped_extract.check import check_mapping
from child_mdh.sources.mapped_extract.columns import (
    ColumnAmbiguousError,
    ColumnNotFoundError,
    resolve_column,
)
from child_mdh.sources.mapped_extract.errors import MappingError, Problem
from child_mdh.sources.mapped_extract.report import FileRows, MappingReport
from child_mdh.sources.mapped_extract.transform import REPORT_NAME, apply_mapping

__all__ = [
    "REPORT_NAME",
    "ColumnAmbiguousError",
    "ColumnNotFoundError",
    "FileRows",
    "MappingError",
    "MappingReport",
    "Problem",
    "apply_mapping",
    "check_mapping",
    "resolve_column",
]
