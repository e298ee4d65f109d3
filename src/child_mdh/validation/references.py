"""Checks between tables: every reference must point at a usable row of its parent.

Tables are checked in contract order (``contract.TABLE_ORDER``), so a parent table is
final before its children are checked. A reference to a key the parent does not have is
an orphan (check ``reference``). A reference to a parent row that was itself quarantined
is a cascade (check ``parent_quarantined``, reason "parent household quarantined"): the
child row is quarantined too, because the analysis could not place it (a person without
a usable household has no household deprivation). Cascades run down the whole chain:
area -> household -> person -> census-NPD link.

Unmatched pupils (``unmatched_pupils="keep"``): a local authority's social care returns
hold children who are not in its school census (under-fives, pupils of independent
schools or of schools in other areas, children without a UPN). For that input the
references of ``cin_referrals``, ``child_protection_plans`` and ``looked_after_episodes``
to ``pupil_census`` may be relaxed: such rows are kept, and counted as a note (check
``unmatched_pupil``) in the issues and in the row accounting, instead of being
quarantined. Every other reference is checked as usual.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from child_mdh.validation.issues import CHECK_LABELS, Issue, plural
from child_mdh.validation.rows import TableData, cell_text

#: Singular noun for a row of each parent table, used in messages.
ROW_NOUN = {
    "areas": "area",
    "households": "household",
    "persons": "person",
    "pupil_census": "pupil",
}


#: Policies for social care rows whose pupil is not in pupil_census.
UNMATCHED_PUPIL_POLICIES = ("quarantine", "keep")
#: The reference that ``unmatched_pupils="keep"`` relaxes, and the tables whose rows it
#: relaxes it for (``census_npd_link`` keeps the strict check).
PUPIL_REFERENCE = ("pupil_census", "pupil_id")
SOCIAL_CARE_TABLES = ("cin_referrals", "child_protection_plans", "looked_after_episodes")


def check_references(
    data: TableData, parents: dict[str, TableData], unmatched_pupils: str = "quarantine"
) -> list[Issue]:
    """Quarantine rows whose references have no usable parent row; return the issues.

    ``parents`` maps table names to already-checked tables. A reference whose parent
    table was not read, or has structural problems, is not checked (that problem is
    reported on its own). With ``unmatched_pupils="keep"``, rows whose ``pupil_id`` has
    no usable ``pupil_census`` row are kept and noted instead (module docstring).
    """
    if unmatched_pupils not in UNMATCHED_PUPIL_POLICIES:
        raise ValueError(
            f"unmatched_pupils must be one of "
            f"{', '.join(UNMATCHED_PUPIL_POLICIES)}, not {unmatched_pupils!r}"
        )
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
        if (
            unmatched_pupils == "keep"
            and col.references == PUPIL_REFERENCE
            and data.name in SOCIAL_CARE_TABLES
        ):
            issues.append(
                _kept_unmatched(
                    data,
                    col.name,
                    keys,
                    orphan,
                    key_isin(keys, parent_keys[~parent.usable()]),
                    parent.file or parent_name,
                )
            )
            continue
        cascade = orphan & key_isin(keys, parent_keys[~parent.usable()])
        missing = orphan & ~cascade
        noun = ROW_NOUN.get(parent_name, parent_name)
        where = parent.file or parent_name
        if missing.any():
            issues.append(
                data.issue(
                    col.name,
                    "reference",
                    "row",
                    missing,
                    f"{plural(int(missing.sum()), 'row')} referring to a {parent_col} that is not in "
                    f"{where}",
                    f"add the missing {noun} rows to {where}, or correct {col.name}",
                )
            )
            data.flags.add(
                missing,
                "reference",
                f"{col.name} not in {parent_name}: " + cell_text(keys, missing),
            )
        if cascade.any():
            issues.append(
                data.issue(
                    col.name,
                    "parent_quarantined",
                    "row",
                    cascade,
                    f"{plural(int(cascade.sum()), 'row')} belonging to a {noun} that was quarantined",
                    f"correct the quarantined {noun} rows in {where} (see their reasons); these rows "
                    "then pass too",
                )
            )
            data.flags.add(
                cascade,
                "parent_quarantined",
                f"parent {noun} quarantined: " + cell_text(keys, cascade),
            )
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


def _kept_unmatched(
    data: TableData,
    column: str,
    keys: pd.Series,
    orphan: np.ndarray,
    in_quarantine: np.ndarray,
    where: str,
) -> Issue:
    """Note (not quarantine) rows whose pupil has no usable pupil_census row."""
    n = int(orphan.sum())
    n_pupils = int(keys[orphan].nunique())
    n_quarantined = int((orphan & in_quarantine).sum())
    also = (
        f" ({plural(n_quarantined, 'row')} of them belong to pupils whose pupil_census "
        "rows were quarantined)"
        if n_quarantined
        else ""
    )
    data.kept[CHECK_LABELS["unmatched_pupil"]] = (
        data.kept.get(CHECK_LABELS["unmatched_pupil"], 0) + n
    )
    return data.issue(
        column,
        "unmatched_pupil",
        "note",
        orphan,
        f"{plural(n, 'row')} of {plural(n_pupils, 'child', 'children')} whose {column} is not "
        f"in {where}{also}: kept (unmatched_pupils='keep'; social care returns include "
        "children who are not on the school roll, such as under-fives or pupils of other "
        "areas' or independent schools)",
        "nothing to fix if these children are not on the roll of the schools in "
        "pupil_census; otherwise check their UPNs",
    )
