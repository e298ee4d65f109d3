"""Controlled rounding of breakdowns that share one total: worked by hand, its
invariants over random breakdowns, and what the release audit makes of it (independent
rounding of two breakdowns of one count pins their parts; controlled rounding does not).
"""

import numpy as np
import pandas as pd
import pytest

from child_mdh.release.sdc import RowMargin, SDCConfig, TableSpec
from child_mdh.release.sdc.audit import interval_audit
from child_mdh.release.sdc.controlled_rounding import round_parts
from child_mdh.release.sdc.interval_audit import audit_frame
from child_mdh.release.sdc.margins import build_equations
from child_mdh.release.sdc.spec import ColumnMargin, margin_from_dict
from child_mdh.release.sdc.suppression import protect_table

from sdc_tables import audit_structure as _structure
from sdc_tables import release_listing as _release


def test_round_parts_by_hand():
    # 12, 13, 27 (total 52, nearest 50): down to 10, 10, 25 (45); one part goes up, the
    # one with the largest remainder (13: 3)
    assert round_parts(np.array([12, 13, 27]), 50, 5).tolist() == [10, 15, 25]
    # a multiple of the base is never moved: 10 and 23 to 35 moves 23 up
    assert round_parts(np.array([10, 23]), 35, 5).tolist() == [10, 25]
    # equal remainders: the earlier part goes up
    assert round_parts(np.array([12, 12]), 25, 5).tolist() == [15, 10]


def test_round_parts_refuses_a_total_out_of_reach():
    with pytest.raises(ValueError, match="between the sums of the parts rounded down and up"):
        round_parts(np.array([12, 13]), 40, 5)


def test_round_parts_invariants_over_random_breakdowns():
    rng = np.random.default_rng(3)
    for _ in range(300):
        base = int(rng.choice([3, 5, 10]))
        x = rng.integers(0, 200, size=int(rng.integers(1, 12))).astype(float)
        total = base * np.floor(x.sum() / base + 0.5)
        r = round_parts(x, total, base)
        assert r.sum() == total
        assert np.all(np.abs(r - x) < base)
        assert np.all(r % base == 0)
        assert np.all(r[x % base == 0] == x[x % base == 0])


def _breakdowns() -> pd.DataFrame:
    """Linked and unlinked children by sex and by a second two-way breakdown: the
    linked are 1,262 either way. Rounded independently, sex publishes 605 + 660 = 1,265
    and the other 600 + 660 = 1,260."""
    return pd.DataFrame(
        {
            "group_type": ["sex"] * 3 + ["other"] * 3,
            "group": ["All", "F", "M", "All", "a", "b"],
            "linked_n": [1262, 603, 659, 1262, 600, 662],
            "unlinked_n": [138, 61, 77, 138, 70, 68],
            "children_n": [1400, 664, 736, 1400, 670, 730],
        }
    )


def _spec(same_total: bool) -> TableSpec:
    return TableSpec(
        key_columns=("group_type", "group"),
        margins=(
            RowMargin("group", total="All", within=("group_type",), same_total=same_total),
            ColumnMargin(("linked_n", "unlinked_n"), "children_n"),
        ),
    )


CONFIG = SDCConfig(threshold=10, rounding_base=5, mitigation="both")


def test_breakdowns_sharing_a_total_publish_one_total_and_add_up():
    df = _breakdowns()
    out = protect_table(df, _spec(True), CONFIG).table
    totals = out[out["group"] == "All"]
    # one total: 1,262 and 138 to the nearest 5, in both breakdowns
    assert totals["linked_n"].tolist() == [1260, 1260]
    assert totals["unlinked_n"].tolist() == [140, 140]
    assert totals["children_n"].tolist() == [1400, 1400]
    parts = out[out["group"] != "All"]
    for _, g in parts.groupby("group_type"):
        assert g["linked_n"].sum() == 1260 and g["unlinked_n"].sum() == 140
    # by hand: sex 603 / 659 go down to 600 / 655 (1,255): 659 (remainder 4) goes up
    assert parts["linked_n"].tolist() == [600, 660, 600, 660]
    assert (parts["children_n"] == parts["linked_n"] + parts["unlinked_n"]).all()
    exact = df[df["group"] != "All"]
    assert (np.abs(parts["linked_n"].to_numpy() - exact["linked_n"].to_numpy()) < 5).all()


def test_independent_rounding_of_one_count_two_ways_pins_its_parts(tmp_path):
    # the two breakdowns as two files (each additive, its total the sum of its rounded
    # parts) whose totals are declared one count: sex says 1,261-1,269, the other
    # 1,256-1,264, so the count is 1,261-1,264 and F (603, published 605) is at most
    # 1,264 - 658 = 606: narrower than 603-607
    df = _breakdowns()
    files = {}
    for name, g in df.groupby("group_type"):
        g = g.drop(columns="group_type").reset_index(drop=True)
        spec = TableSpec(
            key_columns=("group",),
            margins=(
                RowMargin("group", total="All"),
                ColumnMargin(("linked_n", "unlinked_n"), "children_n"),
            ),
            population=f"children by {name}",
        )
        published = protect_table(g, spec, CONFIG).table
        structure = _structure(spec, published, rounded=True, additive=True)
        structure["sums"] = [
            {
                "population": "linked children",
                "column": c,
                "parts": c,
                "where": {"group": ["All"]},
                "by": [],
                "at": {},
                "view": False,
            }
            for c in ("linked_n", "unlinked_n")
        ]
        files[f"{name}.csv"] = (published, structure)
    report = interval_audit(tmp_path, _release(tmp_path, files))
    assert report.pinned > 0
    assert any(f.file == "sex.csv" and f.column == "linked_n" for f in report.findings)


def test_controlled_rounding_of_the_same_breakdowns_passes_the_audit():
    df = _breakdowns()
    spec = _spec(True)
    published = protect_table(df, spec, CONFIG).table
    report = audit_frame(
        published, _structure(spec, published, rounded=True, additive=True), min_range=10
    )
    assert report.passed, report.findings
    # the audit ties the totals into one count known to half a base: two breakdowns
    # publishing 1,265 and 1,260 for it cannot both hold (1,263-1,267 and 1,258-1,262)
    planted = published.copy()
    sex = planted["group_type"] == "sex"
    planted.loc[sex & (planted["group"] == "M"), "linked_n"] = 665
    planted.loc[sex & (planted["group"] == "All"), "linked_n"] = 1265
    planted["children_n"] = planted["linked_n"] + planted["unlinked_n"]
    planted.loc[sex & (planted["group"] == "All"), "children_n"] = 1405
    bad = audit_frame(planted, _structure(spec, planted, rounded=True, additive=True), min_range=10)
    assert bad.inconsistent > 0 and not bad.passed


def test_totals_declared_one_count_must_be_one():
    df = _breakdowns()
    df.loc[3, "linked_n"] = 1263
    df.loc[4, "linked_n"] = 601
    with pytest.raises(ValueError, match="linked_n: the total rows .* declared to be one count"):
        protect_table(df, _spec(True), CONFIG)


def test_the_margin_says_the_totals_are_one_count():
    df = _breakdowns()
    margin = RowMargin("group", total="All", within=("group_type",), same_total=True)
    assert margin_from_dict(margin.to_dict()) == margin
    eqs = build_equations(df, (margin,), ["linked_n"])
    # two breakdowns' sums and one equation tying the second total (row 3) to the first
    tie = eqs.groupby("eq").filter(lambda e: set(e["row"]) == {0, 3})
    assert sorted(tie["coef"].tolist()) == [-1, 1]
    with pytest.raises(ValueError, match="same_total needs total="):
        RowMargin("group", parent="p", within=("group_type",), same_total=True)
