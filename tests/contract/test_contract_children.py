"""The children table's declared schema: both cohorts conform, departures are caught."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from child_mdh.contract.children import (
    AREA_LEVEL_COLUMNS,
    CHILDREN_COLUMNS,
    COLUMN_NAMES,
    ChildrenTableError,
    conform_children,
)


def _table(n: int = 3) -> pd.DataFrame:
    data = {}
    for c in CHILDREN_COLUMNS:
        if c.dtype == "str":
            data[c.name] = pd.Series([f"{c.name}{i}" for i in range(n)], dtype="str")
        elif c.dtype in ("bool", "boolean"):
            data[c.name] = pd.Series([True, False, True][:n], dtype=c.dtype)
        elif c.dtype in ("int64", "Int64"):
            data[c.name] = pd.Series(np.arange(n), dtype=c.dtype)
        else:
            data[c.name] = pd.Series(np.linspace(0, 1, n), dtype=c.dtype)
    return pd.DataFrame(data)


def test_a_conforming_table_passes_and_int64_census_year_becomes_nullable():
    t = _table()
    t["census_year"] = t["census_year"].astype("int64")
    out = conform_children(t, "census")
    assert list(out.columns) == list(COLUMN_NAMES)
    assert str(out["census_year"].dtype) == "Int64"
    assert out["census_year"].tolist() == [0, 1, 2]


def test_the_area_level_columns_may_follow_all_together():
    t = _table()
    for c in AREA_LEVEL_COLUMNS:
        t[c.name] = pd.Series([True] * 3) if c.dtype == "bool" else 0.5
    assert list(conform_children(t, "local-authority").columns)[-1] == "area_matched"
    with pytest.raises(ChildrenTableError, match="declared columns"):
        conform_children(t.drop(columns="area_matched"), "local-authority")


def test_a_missing_unknown_or_moved_column_is_refused():
    with pytest.raises(ChildrenTableError, match=r"missing \['fsm'\]"):
        conform_children(_table().drop(columns="fsm"), "census")
    with pytest.raises(ChildrenTableError, match=r"unknown \['shoe_size'\]"):
        conform_children(_table().assign(shoe_size=1), "census")
    t = _table()
    with pytest.raises(ChildrenTableError, match="order"):
        conform_children(t[[*t.columns[1:], t.columns[0]]], "census")


def test_a_lossy_cast_or_an_empty_required_value_is_refused():
    t = _table()
    t["age"] = [5.5, 6.0, 7.0]
    with pytest.raises(ChildrenTableError, match="age is float64, declared int64"):
        conform_children(t, "census")
    t = _table()
    t["la_code"] = pd.Series(["E1", None, "E3"], dtype="str")
    with pytest.raises(ChildrenTableError, match=r"la_code must not be empty; empty in rows \[1\]"):
        conform_children(t, "census")
