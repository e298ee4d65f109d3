"""Secondary suppression hides no more than it must: one equation at a time, fewest cells.

The tables have the shape of the local-area profiles: one row per local authority plus
an England row that is their sum (``RowMargin``), and columns that add up
(``ColumnMargin``: MDH + other = all children).
"""

from itertools import combinations

import numpy as np
import pandas as pd
import pytest

from child_mdh.release.sdc import (
    ColumnMargin,
    RowMargin,
    TableSpec,
    check_table,
    overall_status,
    protect_table,
)
from child_mdh.release.sdc.margins import build_equations, recoverable_cells

ENGLAND = "E92000001"
CHILDREN = ("mdh_n", "non_mdh_n", "children_n")
REFERRAL = ("referral_mdh_n", "referral_non_mdh_n", "referral_all_n")


def profile_slice(with_referrals: bool = False) -> pd.DataFrame:
    """Counts of the profile test areas (tests/release/profiles): L1-L3 random areas of 1500,
    900 and 700 children, TINY with 7 children (all MDH) and FEW with 500 children of
    whom 6 are MDH; England is the sum of the five."""
    df = pd.DataFrame(
        {
            "la_code": ["L1", "L2", "L3", "TINY", "FEW"],
            "mdh_n": [309, 291, 278, 7, 6],
            "non_mdh_n": [1191, 609, 422, 0, 494],
            "referral_mdh_n": [39, 26, 25, 1, 2],
            "referral_non_mdh_n": [58, 33, 22, 0, 55],
        }
    )
    df["children_n"] = df["mdh_n"] + df["non_mdh_n"]
    df["referral_all_n"] = df["referral_mdh_n"] + df["referral_non_mdh_n"]
    england = df.drop(columns="la_code").sum().to_frame().T.assign(la_code=ENGLAND)
    df = pd.concat([df, england], ignore_index=True)
    columns = [*CHILDREN, *REFERRAL] if with_referrals else list(CHILDREN)
    return df[["la_code", *columns]]


def profile_spec(with_referrals: bool = False) -> TableSpec:
    margins = [ColumnMargin(CHILDREN[:2], CHILDREN[2])]
    if with_referrals:
        margins.append(ColumnMargin(REFERRAL[:2], REFERRAL[2]))
    margins.append(RowMargin("la_code", total=ENGLAND))
    return TableSpec(key_columns=("la_code",), margins=tuple(margins))


def empty_cells(table: pd.DataFrame, columns) -> set:
    codes = table["la_code"].tolist()
    return {(codes[r], c) for c in columns for r in np.flatnonzero(table[c].isna().to_numpy())}


def secondary_cells(out) -> set:
    codes = out.table["la_code"].tolist()
    return {(codes[r], c) for r, c in out.cells()["secondary"]}


def smallest_safe_addition(
    df: pd.DataFrame, spec: TableSpec, columns: list[str], primary: set, max_size: int
) -> int:
    """Fewest further cells that leave no empty cell recoverable, by trying every set of
    published cells (structural zeros aside) of size 0, 1, ..., ``max_size``."""
    eqs = build_equations(df, spec.margins, columns)
    codes = df["la_code"].tolist()
    cells = [(codes.index(a) * len(columns) + columns.index(c)) for a, c in primary]
    base = np.zeros(len(df) * len(columns), dtype=bool)
    base[cells] = True
    published = np.flatnonzero(~base)
    for size in range(max_size + 1):
        for extra in combinations(published, size):
            trial = base.copy()
            trial[list(extra)] = True
            if recoverable_cells(eqs, trial)[0].size == 0:
                return size
    return max_size + 1


def test_a_tiny_area_does_not_cost_a_large_area_its_mdh_counts():
    df = profile_slice()
    spec = profile_spec()
    out = protect_table(df, spec)
    primary = {
        ("TINY", "mdh_n"),
        ("TINY", "non_mdh_n"),
        ("TINY", "children_n"),
        ("FEW", "mdh_n"),
    }  # 7, 0 (a zero is disclosive), 7 and 6 are below 10
    # Open equations once these are empty: FEW's row (mdh alone), the non_mdh column
    # (TINY alone) and the children column (TINY alone); the mdh column has two.
    # FEW's non_mdh_n (494) is a part of FEW's row and of the non_mdh column: emptying
    # it closes both, where L3's smaller 422 would close the column only and open L3's
    # row (which then costs L3's mdh_n, 278, too: what happened before).
    # Then the children column: FEW's 500 closes it without opening anything (FEW's row
    # already has two empty cells), L3's 700 would open L3's row.
    assert secondary_cells(out) == {("FEW", "non_mdh_n"), ("FEW", "children_n")}
    assert empty_cells(out.table, CHILDREN) == primary | secondary_cells(out)
    assert out.table.set_index("la_code").loc["L3", list(CHILDREN)].tolist() == [278, 422, 700]
    assert overall_status(check_table(out.table, spec)) == "pass"
    # no single further cell would do: every search of one cell leaves a cell recoverable
    assert smallest_safe_addition(df, spec, list(CHILDREN), primary, 2) == 2


def test_tiny_area_with_outcome_counts_hides_only_the_small_areas_cells():
    df = profile_slice(with_referrals=True)
    spec = profile_spec(with_referrals=True)
    out = protect_table(df, spec)
    # the referral columns have the same shape: TINY (1, 0, 1) and FEW's MDH referrals
    # (2) are small; FEW's other referrals (55) close FEW's row and the non-MDH column,
    # FEW's all referrals (57) then close the all column without opening L3's row
    assert secondary_cells(out) == {
        ("FEW", "non_mdh_n"),
        ("FEW", "children_n"),
        ("FEW", "referral_non_mdh_n"),
        ("FEW", "referral_all_n"),
    }
    kept = out.table.set_index("la_code").loc[["L1", "L2", "L3", ENGLAND]]
    assert kept.notna().all().all()
    assert overall_status(check_table(out.table, spec)) == "pass"


def test_one_cell_closing_two_open_equations_beats_two_smaller_cells():
    # L1.a = 3 and L2.b = 4 are small: rows L1 and L2 and columns a and b each have one
    # empty cell. L1.b (40) closes row L1 and column b; L2.a (45) closes row L2 and
    # column a: two cells in a rectangle. Taking the smallest part of each equation
    # instead (L1.c 12, L2.c 11, L3.a 13, L3.b 14) costs four cells.
    df = pd.DataFrame(
        {
            "la_code": ["L1", "L2", "L3", "T"],
            "a_n": [3, 45, 13, 61],
            "b_n": [40, 4, 14, 58],
            "c_n": [12, 11, 50, 73],
            "t_n": [55, 60, 77, 192],
        }
    )
    spec = TableSpec(
        key_columns=("la_code",),
        margins=(RowMargin("la_code", total="T"), ColumnMargin(("a_n", "b_n", "c_n"), "t_n")),
    )
    out = protect_table(df, spec)
    assert secondary_cells(out) == {("L1", "b_n"), ("L2", "a_n")}
    assert overall_status(check_table(out.table, spec)) == "pass"


def test_a_part_is_still_chosen_before_a_total():
    # FEW alone (no tiny area): FEW's row has mdh_n alone; non_mdh_n (494, a part) and
    # children_n (500, the total) would each open one column, so the part goes and the
    # area keeps its number of children
    df = profile_slice().query("la_code != 'TINY'").copy()
    df.loc[df["la_code"] == ENGLAND, list(CHILDREN)] = [884, 2716, 3600]
    spec = profile_spec()
    out = protect_table(df, spec)
    row = out.table.set_index("la_code").loc["FEW"]
    assert pd.isna(row["non_mdh_n"]) and row["children_n"] == 500
    # the mdh column (FEW alone) is open too: its parts L1-L3 each open their own row,
    # so the smallest, L3.mdh (278), goes; then L3's row and the non_mdh column (FEW
    # alone) are open, and L3.non_mdh (422) closes both
    assert secondary_cells(out) == {("FEW", "non_mdh_n"), ("L3", "mdh_n"), ("L3", "non_mdh_n")}
    assert overall_status(check_table(out.table, spec)) == "pass"


def many_areas(n_areas: int, seed: int) -> tuple[pd.DataFrame, TableSpec]:
    rng = np.random.default_rng(seed)
    size = rng.negative_binomial(2, 0.01, n_areas)
    mdh = rng.binomial(size, 0.2)
    ref_mdh = rng.binomial(mdh, 0.1)
    ref_non = rng.binomial(size - mdh, 0.05)
    df = pd.DataFrame(
        {
            "la_code": [f"E{i:08d}" for i in range(n_areas)],
            "mdh_n": mdh,
            "non_mdh_n": size - mdh,
            "referral_mdh_n": ref_mdh,
            "referral_non_mdh_n": ref_non,
        }
    )
    df["children_n"] = df["mdh_n"] + df["non_mdh_n"]
    df["referral_all_n"] = df["referral_mdh_n"] + df["referral_non_mdh_n"]
    england = df.drop(columns="la_code").sum().to_frame().T.assign(la_code=ENGLAND)
    df = pd.concat([df, england], ignore_index=True)[["la_code", *CHILDREN, *REFERRAL]]
    return df, profile_spec(with_referrals=True)


@pytest.mark.slow
def test_three_hundred_areas_are_protected_safely():
    # (its speed is measured by benchmarks/bench_release_audit.py, not asserted here)
    df, spec = many_areas(300, seed=3)
    out = protect_table(df, spec)
    results = {r.name: r.status for r in check_table(out.table, spec)}
    assert results["secondary"] == "pass" and results["threshold"] == "pass"
    assert out.summary()["threshold"] > 50 and out.summary()["secondary"] > 0
    assert out.unresolved == []


def test_every_open_equation_ends_with_zero_or_two_or_more_empty_cells():
    for seed in range(5):
        df, spec = many_areas(40, seed)
        out = protect_table(df, spec)
        values = out.table[[*CHILDREN, *REFERRAL]].to_numpy(dtype="float64", na_value=np.nan)
        eqs = build_equations(out.table, spec.margins, [*CHILDREN, *REFERRAL])
        empty = np.isnan(values).ravel()[eqs["cell"].to_numpy()]
        per_equation = np.bincount(eqs["eq"].to_numpy(), weights=empty)
        assert not (per_equation == 1).any()
        assert recoverable_cells(eqs, np.isnan(values).ravel())[0].size == 0
