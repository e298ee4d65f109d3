"""Design matrices and covariate-pattern cells."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from child_mdh.aggregates.models.collapse import (
    binary_cells,
    collapse,
    count_cells,
    distinct_rows,
)
from child_mdh.aggregates.models.design import Design, independent_columns


def test_treatment_coding_names_and_values():
    f = pd.DataFrame(
        {"count": [0, 1, 2, 2], "sex": ["F", "M", "M", "F"], "mdh": [False, False, True, True]}
    )
    d = Design.from_frame(f, ["count", "sex", "mdh"])
    assert d.columns == ["Intercept", "count[T.1]", "count[T.2]", "sex[T.M]", "mdh[T.True]"]
    x = d.matrix(f)
    expected = np.array(
        [
            [1, 0, 0, 0, 0],
            [1, 1, 0, 1, 0],
            [1, 0, 1, 1, 1],
            [1, 0, 1, 0, 1],
        ],
        dtype=float,
    )
    assert np.array_equal(x, expected)


def test_interactions_reference_override_and_numeric_columns():
    f = pd.DataFrame(
        {"mdh": [False, True, True], "prev": [0.5, -0.25, 0.1], "sex": ["F", "M", "F"]}
    )
    d = Design.from_frame(f, ["mdh", "prev", "mdh:prev", "sex"], reference={"sex": "M"})
    assert d.columns == ["Intercept", "mdh[T.True]", "prev", "mdh[T.True]:prev", "sex[T.F]"]
    x = d.matrix(f)
    # mdh:prev = mdh * prev -> 0, -0.25, 0.1 ; sex F vs reference M -> 1, 0, 1
    assert np.allclose(x[:, 3], [0.0, -0.25, 0.1])
    assert np.allclose(x[:, 4], [1, 0, 1])


def test_unseen_level_is_refused_with_its_name():
    d = Design.from_frame(pd.DataFrame({"count": [0, 1]}), ["count"])
    with pytest.raises(ValueError, match="count.*\\[2\\]"):
        d.matrix(pd.DataFrame({"count": [0, 2]}))


def test_fixed_effect_block_comes_first_so_area_constants_are_omitted():
    f = pd.DataFrame(
        {
            "la": ["a", "a", "b", "b", "c", "c"],
            "prev": [0.1, 0.1, -0.2, -0.2, 0.3, 0.3],
            "x": [0, 1, 0, 1, 1, 0],
        }
    )
    d = Design.from_frame(f, ["prev", "x"], fixed_effects="la")
    assert d.columns == ["Intercept", "la[T.b]", "la[T.c]", "prev", "x[T.1]"]
    keep = independent_columns(d.matrix(f))
    # prev is constant within la: a combination of the intercept and la dummies
    assert keep.tolist() == [True, True, True, False, True]


def test_independent_columns_keeps_the_first_of_a_collinear_set():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=50), rng.normal(size=50)
    x = np.column_stack([np.ones(50), a, b, a + 2 * b, rng.normal(size=50)])
    assert independent_columns(x).tolist() == [True, True, True, False, True]


def test_collapse_sums_by_hand():
    f = pd.DataFrame(
        {
            "la": ["x", "x", "y", "y", "y", "x"],
            "sex": ["F", "F", "F", "M", "M", "M"],
            "y": [True, False, True, True, False, False],
            "e": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        }
    )
    c = collapse(f, ["la", "sex"], {"events": "y", "expo": "e"})
    # cells: (x,F): rows 0,1 ; (x,M): row 5 ; (y,F): row 2 ; (y,M): rows 3,4
    assert c[["la", "sex"]].values.tolist() == [["x", "F"], ["x", "M"], ["y", "F"], ["y", "M"]]
    assert c["rows"].tolist() == [2, 1, 1, 2]
    assert c["events"].tolist() == [1, 0, 1, 1]
    assert c["expo"].tolist() == [3.0, 6.0, 3.0, 9.0]


def test_collapse_drops_and_counts_missing_values():
    f = pd.DataFrame(
        {
            "la": ["x", None, "y", "y"],
            "y": pd.array([True, False, None, True], dtype="boolean"),
        }
    )
    c = binary_cells(f, "y", ["la"])
    assert c["trials"].tolist() == [1, 1] and c["events"].tolist() == [1, 1]
    info = c.attrs["collapse"]
    assert info["rows_in"] == 4 and info["rows_used"] == 2
    assert info["rows_dropped_missing"] == {"la": 1, "y": 1}


def test_collapse_matches_pandas_groupby(rows):
    keys = ["count", "sex", "age_band", "la_code"]
    c = count_cells(rows, "n_events", "exposure", keys)
    g = (
        rows.groupby(keys)
        .agg(rows=("y", "size"), events=("n_events", "sum"), exposure=("exposure", "sum"))
        .reset_index()
    )
    merged = c.merge(g, on=keys, suffixes=("", "_pd"))
    assert len(merged) == len(c) == len(g)
    assert (merged["rows"] == merged["rows_pd"]).all()
    assert np.allclose(merged["events"], merged["events_pd"])
    assert np.allclose(merged["exposure"], merged["exposure_pd"])


def test_binary_outcome_must_be_binary():
    f = pd.DataFrame({"la": ["x", "y"], "y": [0, 2]})
    with pytest.raises(ValueError, match="true/false.*2"):
        binary_cells(f, "y", ["la"])


def test_missing_key_column_is_named():
    with pytest.raises(KeyError, match="age"):
        binary_cells(pd.DataFrame({"y": [True]}), "y", ["age"])


def test_distinct_rows_frequency():
    f = pd.DataFrame({"a": [1, 1, 2, 1], "b": [0, 0, 0, 1]})
    d = distinct_rows(f, ["a", "b"])
    assert d.values.tolist() == [[1, 0, 2], [1, 1, 1], [2, 0, 1]]
