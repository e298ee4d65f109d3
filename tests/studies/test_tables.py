"""The studies' Markdown summaries."""

import numpy as np
import pandas as pd

from child_mdh.studies.tables import markdown_table


def test_text_and_counts_as_they_are_other_numbers_to_four_decimals():
    frame = pd.DataFrame(
        {"measure": ["H", "A"], "draws": np.array([200, 199]), "bias": [-0.00012, 0.5], "x": [1, 2]}
    )
    assert markdown_table(frame, ["measure", "draws", "bias"]).splitlines() == [
        "| measure | draws | bias |",
        "|---|---|---|",
        "| H | 200 | -0.0001 |",
        "| A | 199 | 0.5000 |",
    ]
