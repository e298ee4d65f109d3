"""Sums between count columns that a release table carries but does not declare."""

import pandas as pd

from child_mdh.release.sdc import ColumnMargin, TableSpec
from child_mdh.release.sdc.relations import undeclared_sums


def _linkage():
    # children = linked + unlinked on every row; linked = with_fsm + without_fsm
    linked = [15, 30, 45, 60, 75, 90]
    unlinked = [5, 10, 0, 20, 25, 10]
    with_fsm = [10, 20, 40, 50, 60, 80]
    return pd.DataFrame(
        {
            "la_code": list("ABCDEF"),
            "children_n": [a + b for a, b in zip(linked, unlinked)],
            "linked_n": linked,
            "unlinked_n": unlinked,
            "with_fsm_n": with_fsm,
            "without_fsm_n": [a - b for a, b in zip(linked, with_fsm)],
        }
    )


def _structure(spec, df, rounded=False):
    return {**spec.structure(df), "rounded": rounded, "rounding_base": 5, "additive": False}


def test_undeclared_sums_are_found():
    df = _linkage()
    found = {
        (r.total, frozenset(r.parts))
        for r in undeclared_sums(df, _structure(TableSpec(key_columns=("la_code",)), df))
    }
    assert ("children_n", frozenset({"linked_n", "unlinked_n"})) in found
    assert ("linked_n", frozenset({"with_fsm_n", "without_fsm_n"})) in found


def test_declared_sums_are_not_reported():
    df = _linkage()
    spec = TableSpec(
        key_columns=("la_code",),
        margins=(
            ColumnMargin(("linked_n", "unlinked_n"), "children_n"),
            ColumnMargin(("with_fsm_n", "without_fsm_n"), "linked_n"),
        ),
    )
    # children = unlinked + with_fsm + without_fsm follows from the two declared sums
    assert undeclared_sums(df, _structure(spec, df)) == []


def test_rounded_values_match_within_their_rounding():
    df = _linkage()
    df["children_n"] = df["children_n"] + [2, -2, 1, 0, -1, 2]  # independently rounded
    found = undeclared_sums(df, _structure(TableSpec(key_columns=("la_code",)), df, True))
    assert ("children_n", ("linked_n", "unlinked_n")) in {(r.total, r.parts) for r in found}
    exact = undeclared_sums(df, _structure(TableSpec(key_columns=("la_code",)), df, False))
    assert ("children_n", ("linked_n", "unlinked_n")) not in {(r.total, r.parts) for r in exact}
