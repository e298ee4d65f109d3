"""Study summaries as Markdown tables (the summaries' ``summary.md``)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def markdown_table(frame: pd.DataFrame, columns: list[str]) -> str:
    """``columns`` of ``frame`` as a Markdown table: text and whole numbers as they are,
    every other number to four decimals."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in frame[columns].itertuples(index=False):
        cells = [str(v) if isinstance(v, str | int | np.integer) else f"{v:.4f}" for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
