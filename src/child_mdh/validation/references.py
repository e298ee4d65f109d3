"""Checks between tables: every reference must point at a usable row of its parent.

Tables are checked in contract order (``contract.TABLE_ORDER``), so a parent table is
final before its children are checked. A reference to a key the parent does not have is
an orphan (check ``reference``). A reference to a parent row that was itself quarantined
is a cascade (check ``parent_quarantined``, reason "parent household quarantined"): the
child row is quarantined too, because the analysis could not place it (a person without
a usable household has no household deprivation). Cascades run down the whole chain:
area -> household -> person -> census-NPD link.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from child_mdh.validation.issues import Issue, plural
from child_mdh.validation.rows import TableData, cell_text

#: Singular noun for a row of each parent table, used in messages.
ROW_NOUN = {
    "areas": "area",
    "households": "household",
    "persons": "person",
    "pupil_census": "pupil",
}


def check_references(data: TableData, parents: dict[str, TableData]) -> list[Issue]:
    """Quarantine rows whose references have no usable parent row; return the issues.

    ``parents`` maps table names to already-checked tables. A reference whose parent
    table was not read, or has structural problems, is not checked (that problem is
    reported on its own).
    """
    issues: list[Issue] = []
    for col in data.table.columns:
        if not col.references or col.name not in data.values:
            continue
        parent_name, parent_col = col.references
        parent = parents.get(parent_name)
        if parent is None or parent.structural or parent_col not in parent.values:
            continue
        keys = data.values[col.name]
        present = keys.notna().to_numpy()
        parent_keys = parent.values[parent_col]
        orphan = present & ~key_isin(keys, parent_keys[parent.usable()])
        if not orphan.any():
            continue
        cascade = orphan & key_isin(keys, parent_keys[~parent.usable()])
        missing = orphan & ~cascade
        noun = ROW_NOUN.get(parent_name, parent_name)
        where = parent.file or parent_name
        if missing.any():
            issues.append(data.issue(
                col.name, "reference", "row", missing,
                f"{plural(int(missing.sum()), 'row')} referring to a {parent_col} that is not in "
                f"{where}",
                f"add the missing {noun} rows to {where}, or correct {col.name}"))
            data.flags.add(missing, "reference",
                           f"{col.name} not in {parent_name}: " + cell_text(keys, missing))
        if cascade.any():
            issues.append(data.issue(
                col.name, "parent_quarantined", "row", cascade,
                f"{plural(int(cascade.sum()), 'row')} belonging to a {noun} that was quarantined",
                f"correct the quarantined {noun} rows in {where} (see their reasons); these rows "
                "then pass too"))
            data.flags.add(cascade, "parent_quarantined",
                           f"parent {noun} quarantined: " + cell_text(keys, cascade))
    return issues



def key_isin(values: pd.Series, keys: pd.Series) -> np.ndarray:
    """Mask of ``values`` found among ``keys`` (missing values are never found).

    Text keys are matched with Arrow's hash-based ``is_in``: pandas' own ``isin`` on
    Arrow strings converts the key set value by value, too slow for millions of keys.
    """
    keys = keys.dropna()
    if not len(keys) or not len(values):
        return np.zeros(len(values), dtype=bool)
    if values.dtype == "str" and keys.dtype == "str":
        va = pa.array(values.array)
        ka = pa.array(keys.array)
        if isinstance(ka, pa.ChunkedArray):
            ka = ka.combine_chunks()
        found = pc.is_in(va, value_set=ka.cast(va.type))
        found = np.asarray(found.to_numpy(zero_copy_only=False), dtype=bool)
        return found & values.notna().to_numpy()
    return values.isin(keys.unique()).to_numpy(dtype=bool, na_value=False)
