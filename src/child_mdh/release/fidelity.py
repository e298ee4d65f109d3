"""The release of the synthetic data's fidelity report: calibration targets from
published figures beside the values the synthetic data achieve, with a figure.

The figures are aggregates of synthetic data (no real person), still written through
disclosure control like every release file.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from child_mdh.release.sdc import TableSpec, write_release_figure, write_release_table
from child_mdh.sources.synthetic.fidelity import (
    fidelity_figure,
    fidelity_report,
    rounded_for_release,
)

#: shares, rates and correlations of synthetic people, to three figures
FIDELITY_SPEC = TableSpec(
    key_columns=("target",),
    not_counts=("target_value", "achieved", "tolerance_low", "tolerance_high"),
)


def write_synthetic_fidelity(
    synthetic_dir: Path, truth: dict, table_path: Path, figure_path: Path, manifest
) -> pd.DataFrame:
    """Compute the fidelity report of the synthetic tables in ``synthetic_dir`` and write
    its table and figure through disclosure control; returns the report."""
    report = fidelity_report(Path(synthetic_dir), truth)
    entry = write_release_table(
        rounded_for_release(report),
        table_path,
        FIDELITY_SPEC,
        manifest,
        method="calibration targets from published figures beside values achieved by the "
        "synthetic data",
        comment="synthetic data: generated from published aggregates and a documented model",
    )
    figure_path = Path(figure_path)
    tmp = figure_path.with_name(".tmp_" + figure_path.name)
    fidelity_figure(report, tmp)
    write_release_figure(
        tmp,
        figure_path,
        None,
        manifest,
        backed_by=[entry["uid"]],
        method="targets and achieved values of the fidelity table",
    )
    tmp.unlink()
    return report
