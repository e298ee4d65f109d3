"""Primary and secondary suppression on small tables with hand-worked expected masks."""

import numpy as np
import pandas as pd
import pytest

from child_mdh.release.sdc import (
    ColumnMargin,
    Contributions,
    RowMargin,
    SDCConfig,
    TableSpec,
    check_table,
    overall_status,
    protect_table,
    secondary_suppression,
)
from child_mdh.release.sdc.margins import build_equations, recoverable_cells

from sdc_tables import LA_SPEC, la_table


def empty_cells(table: pd.DataFrame, columns) -> set:
    return {(r, c) for c in columns for r in np.flatnonzero(table[c].isna().to_numpy())}


def test_primary_and_secondary_on_areas_with_an_england_row():
    out = protect_table(la_table(), LA_SPEC)
    # B = 4 < 10 is suppressed; England = A+B+C+D would give it back, so the next
    # smallest part, D = 12, is suppressed too; their rates go with them
    assert out.table["cin_n"].tolist()[0] == 25
    assert empty_cells(out.table, ["cin_n", "children_n", "rate_per_10000"]) == {
        (1, "cin_n"),
        (3, "cin_n"),
        (1, "rate_per_10000"),
        (3, "rate_per_10000"),
    }
    assert out.reasons.loc[1, "cin_n"] == "threshold"
    assert out.reasons.loc[3, "cin_n"] == "secondary"
    assert out.reasons.loc[3, "rate_per_10000"] == "derived"
    assert out.summary()["threshold"] == 1 and out.summary()["secondary"] == 1
    assert str(out.table["cin_n"].dtype) == "Int64"  # written as 25, not 25.0
    assert overall_status(check_table(out.table, LA_SPEC)) == "pass"


def test_without_margins_only_primary_suppression():
    spec = TableSpec(key_columns=("la_code",), derived={"rate_per_10000": ("cin_n",)})
    out = protect_table(la_table(), spec)
    assert empty_cells(out.table, ["cin_n"]) == {(1, "cin_n")}


def test_cross_tab_with_row_and_column_totals():
    df = pd.DataFrame(
        {
            "la_code": ["LA1", "LA2", "LA3", "Total"],
            "a_n": [3, 12, 30, 45],
            "b_n": [20, 25, 14, 59],
            "c_n": [15, 11, 40, 66],
            "total_n": [38, 48, 84, 170],
        }
    )
    spec = TableSpec(
        key_columns=("la_code",),
        margins=(
            RowMargin("la_code", total="Total"),
            ColumnMargin(("a_n", "b_n", "c_n"), "total_n"),
        ),
    )
    out = protect_table(df, spec)
    # round 1: row LA1 has only a (3) -> smallest other part c = 15;
    #          column a has only LA1 -> smallest other part LA2 = 12
    # round 2: row LA2 has only a -> smallest other part c = 11;
    #          column c has only LA1 -> smallest other part LA2 = 11 (the same cell)
    # then every row and column has 0 or 2 empty cells, and the four form a rectangle
    assert empty_cells(out.table, ["a_n", "b_n", "c_n", "total_n"]) == {
        (0, "a_n"),
        (0, "c_n"),
        (1, "a_n"),
        (1, "c_n"),
    }
    assert overall_status(check_table(out.table, spec)) == "pass"


def test_hierarchy_local_authorities_regions_england():
    parent = {"LA1": "R1", "LA2": "R1", "LA3": "R2", "LA4": "R2", "R1": "ENG", "R2": "ENG"}
    spec = TableSpec(key_columns=("area",), margins=(RowMargin("area", parent=parent),))
    df = pd.DataFrame(
        {
            "area": ["LA1", "LA2", "LA3", "LA4", "R1", "R2", "ENG"],
            "cin_n": [5, 40, 30, 35, 45, 65, 110],
        }
    )
    out = protect_table(df, spec)
    # R1 = LA1 + LA2 gives LA1 back, so LA2 goes; England's equation is untouched
    assert empty_cells(out.table, ["cin_n"]) == {(0, "cin_n"), (1, "cin_n")}

    df2 = pd.DataFrame(
        {
            "area": ["LA1", "LA2", "LA3", "LA4", "R1", "R2", "ENG"],
            "cin_n": [3, 4, 30, 35, 7, 65, 72],
        }
    )
    out2 = protect_table(df2, spec)
    # LA1, LA2 and R1 (= 7) are below 10. England = R1 + R2 would give R1 back, so R2
    # (the only other part) goes; then R2 = LA3 + LA4 would give R2 back, so LA3 (30)
    assert empty_cells(out2.table, ["cin_n"]) == {
        (0, "cin_n"),
        (1, "cin_n"),
        (2, "cin_n"),
        (4, "cin_n"),
        (5, "cin_n"),
    }
    assert overall_status(check_table(out2.table, spec)) == "pass"


def test_parent_given_as_a_column():
    df = pd.DataFrame(
        {"area": ["LA1", "LA2", "R1"], "parent": ["R1", "R1", None], "cin_n": [5, 40, 45]}
    )
    spec = TableSpec(key_columns=("area", "parent"), margins=(RowMargin("area", parent="parent"),))
    assert empty_cells(protect_table(df, spec).table, ["cin_n"]) == {(0, "cin_n"), (1, "cin_n")}


def test_long_table_with_two_margins():
    df = pd.DataFrame(
        {
            "la_code": ["A", "A", "A", "B", "B", "B", "ENG", "ENG", "ENG"],
            "sex": ["F", "M", "All"] * 3,
            "cin_n": [4, 20, 24, 15, 18, 33, 19, 38, 57],
        }
    )
    spec = TableSpec(
        key_columns=("la_code", "sex"),
        margins=(
            RowMargin("sex", total="All", within=("la_code",)),
            RowMargin("la_code", total="ENG", within=("sex",)),
        ),
    )
    out = protect_table(df, spec)
    # A.F = 4 -> A.M (A's sexes) and B.F (females over areas); then males over areas
    # has only A.M -> B.M. Four cells in a rectangle: nothing can be recovered.
    assert empty_cells(out.table, ["cin_n"]) == {
        (0, "cin_n"),
        (1, "cin_n"),
        (3, "cin_n"),
        (4, "cin_n"),
    }


def dumbbell():
    # a 4 x 4 table with row and column totals; suppressed: two rectangles joined by one
    # cell (r2, c3). Every row and column has 0 or >= 2 empty cells, yet
    # row1 + row2 - col1 - col2 gives x23 from published cells.
    rng = np.random.default_rng(1)
    cols = ["c1_n", "c2_n", "c3_n", "c4_n"]
    df = pd.DataFrame(rng.integers(20, 60, size=(4, 4)), columns=cols)
    df["total_n"] = df[cols].sum(axis=1)
    df.loc[4] = df.sum()
    df.insert(0, "row", ["r1", "r2", "r3", "r4", "T"])
    margins = (RowMargin("row", total="T"), ColumnMargin(tuple(cols), "total_n"))
    allc = [*cols, "total_n"]
    mask = pd.DataFrame(False, index=df.index, columns=allc)
    for r, c in [
        (0, "c1_n"),
        (0, "c2_n"),
        (1, "c1_n"),
        (1, "c2_n"),
        (1, "c3_n"),
        (2, "c3_n"),
        (2, "c4_n"),
        (3, "c3_n"),
        (3, "c4_n"),
    ]:
        mask.loc[r, c] = True
    return df, margins, allc, mask


def test_exact_check_finds_what_the_count_rule_misses():
    df, margins, allc, mask = dumbbell()
    eqs = build_equations(df, margins, allc)
    rec, unchecked = recoverable_cells(eqs, mask.to_numpy().ravel())
    assert [(int(c // 5), allc[c % 5]) for c in rec] == [(1, "c3_n")]
    assert unchecked.size == 0
    # a rectangle alone is safe
    rect = mask.copy()
    rect.loc[1, "c3_n"] = False
    rect.loc[2:3, ["c3_n", "c4_n"]] = False
    assert recoverable_cells(eqs, rect.to_numpy().ravel())[0].size == 0


def test_secondary_suppression_repairs_the_dumbbell():
    df, margins, allc, mask = dumbbell()
    result = secondary_suppression(df, allc, mask, margins)
    assert result.unresolved == [] and result.unchecked == []
    assert (result.suppressed | ~mask).all().all()  # everything suppressed stays so
    eqs = build_equations(df, margins, allc)
    assert recoverable_cells(eqs, result.suppressed.to_numpy().ravel())[0].size == 0
    assert result.suppressed.to_numpy().sum() > mask.to_numpy().sum()
    # the recoverable joining cell (r2, c3_n) shares row r2 with c4_n (57) and column c3
    # with r1 (50), both parts (the totals r2.total_n and T.c3_n come after parts);
    # neither opens or closes an equation (row r1 and column c4 already have two empty
    # cells), so the smaller, r1.c3_n = 50, is the one cell added
    added = result.suppressed & ~mask
    assert [(r, c) for c in allc for r in np.flatnonzero(added[c])] == [(0, "c3_n")]


def test_structural_zeros_are_kept_and_never_used_as_secondary_cells():
    df = pd.DataFrame(
        {
            "la_code": ["A", "B", "C", "D", "ENG"],
            "a_n": [0, 4, 15, 50, 69],
            "no_such_service": [True, False, False, False, False],
        }
    )
    spec = TableSpec(
        key_columns=("la_code",),
        structural_zeros={"a_n": "no_such_service"},
        margins=(RowMargin("la_code", total="ENG"),),
    )
    out = protect_table(df, spec)
    # the structural zero stays; B = 4 is suppressed; the zero cannot protect it (it is
    # known), so the next smallest part, C = 15, goes
    assert out.table["a_n"].tolist()[0] == 0
    assert empty_cells(out.table, ["a_n"]) == {(1, "a_n"), (2, "a_n")}
    # an unflagged zero is disclosive
    plain = TableSpec(key_columns=("la_code",), not_counts=())
    out2 = protect_table(df.drop(columns="no_such_service"), plain)
    assert empty_cells(out2.table, ["a_n"]) == {(0, "a_n"), (1, "a_n")}
    out3 = protect_table(
        df.drop(columns="no_such_service"), plain, SDCConfig(zeros_disclosive=False)
    )
    assert empty_cells(out3.table, ["a_n"]) == {(1, "a_n")}


def test_rounding_instead_of_secondary_suppression():
    out = protect_table(la_table(), LA_SPEC, SDCConfig(mitigation="round"))
    # B = 4 suppressed; no secondary; 25, 30, 12, 71 -> 25, 30, 10, 70
    assert out.table["cin_n"].tolist()[:1] == [25]
    assert out.table["cin_n"].isna().tolist() == [False, True, False, False, False]
    assert out.table["cin_n"].dropna().tolist() == [25, 30, 10, 70]
    assert out.table["children_n"].tolist() == [5000, 800, 6000, 2400, 14200]
    assert out.rounded
    assert overall_status(check_table(out.table, LA_SPEC, SDCConfig(mitigation="round"))) == "pass"


def test_both_secondary_suppression_and_rounding():
    out = protect_table(la_table(), LA_SPEC, SDCConfig(mitigation="both"))
    assert out.table["cin_n"].isna().tolist() == [False, True, False, True, False]
    assert out.table["cin_n"].dropna().tolist() == [25, 30, 70]


def test_dominated_magnitude_cells_are_suppressed():
    df = pd.DataFrame(
        {
            "la_code": ["A", "B"],
            "placements_n": [12, 15],
            "cost": [1000.0, 1500.0],
            "mean_cost": [83.3, 100.0],
        }
    )
    contributions = pd.DataFrame(
        {
            "la_code": ["A"] * 12 + ["B"] * 15,
            "cost": [910.0] + [90.0 / 11] * 11 + [100.0] * 15,
        }
    )
    spec = TableSpec(
        key_columns=("la_code",),
        magnitude={"cost": Contributions(contributions, ("la_code",), "cost")},
        derived={"mean_cost": ("cost", "placements_n")},
    )
    out = protect_table(df, spec)
    # A: the two largest are 910 + 8.2 = 918.2 of 1000 > 90% -> cost and mean emptied
    assert out.table["cost"].isna().tolist() == [True, False]
    assert out.table["mean_cost"].isna().tolist() == [True, False]
    assert out.reasons.loc[0, "cost"] == "dominance"
    results = check_table(out.table, spec)
    assert overall_status(results) == "pass"
    assert overall_status(check_table(df, spec)) == "fail"


def test_missing_total_row_is_a_clear_error():
    df = la_table().iloc[:4]
    with pytest.raises(ValueError, match="total row missing.*row 0 -> E92000001"):
        protect_table(df, LA_SPEC, table="profiles/la.csv")


def test_spec_naming_absent_columns_is_a_clear_error():
    spec = TableSpec(derived={"rate": ("cin_n",)})
    with pytest.raises(ValueError, match="names column\\(s\\) rate"):
        protect_table(la_table(), spec, table="profiles/la.csv")


def test_text_in_a_count_column_is_rejected():
    df = la_table().astype({"cin_n": "object"})
    df.loc[1, "cin_n"] = "<5"
    with pytest.raises(ValueError, match="cin_n must hold numbers.*'<5'"):
        protect_table(df, LA_SPEC)


@pytest.mark.parametrize("seed", range(12))
def test_random_cross_tabs_come_out_safe(seed):
    rng = np.random.default_rng(seed)
    cols = [f"k{j}_n" for j in range(5)]
    inner = rng.negative_binomial(1, 0.08, size=(8, 5))
    df = pd.DataFrame(inner, columns=cols)
    df["total_n"] = df[cols].sum(axis=1)
    df.loc[len(df)] = df.sum()
    df.insert(0, "la_code", [f"L{i}" for i in range(8)] + ["ENG"])
    spec = TableSpec(
        key_columns=("la_code",),
        margins=(RowMargin("la_code", total="ENG"), ColumnMargin(tuple(cols), "total_n")),
    )
    out = protect_table(df, spec)
    results = {r.name: r.status for r in check_table(out.table, spec)}
    assert results["threshold"] == "pass"
    assert results["secondary"] == "pass"
    assert results["margins_add_up"] == "pass"
    # every small cell of the input is empty in the output
    values = df[[*cols, "total_n"]].to_numpy()
    small = values < 10
    assert out.table[[*cols, "total_n"]].isna().to_numpy()[small].all()


def test_check_table_flags_each_kind_of_problem():
    table = la_table()  # B = 4 still published
    results = {r.name: r for r in check_table(table, LA_SPEC)}
    assert results["threshold"].status == "fail"
    assert results["threshold"].cells == [(1, "cin_n")]
    assert results["derived"].status == "fail"  # rate published on a count of 4
    suppressed_one = table.astype({"cin_n": "float64"})
    suppressed_one.loc[1, "cin_n"] = np.nan
    suppressed_one.loc[1, "rate_per_10000"] = np.nan
    results = {r.name: r for r in check_table(suppressed_one, LA_SPEC)}
    assert results["threshold"].status == "pass"
    assert results["secondary"].status == "fail"  # England minus the rest gives 4 back
    assert results["secondary"].cells == [(1, "cin_n")]
    extra = table.assign(pupil_id="x", mystery=1.5)
    results = {r.name: r for r in check_table(extra, LA_SPEC)}
    assert results["person_level_identifiers"].status == "fail"
    assert results["undeclared_numbers"].status == "review"
    rounded = {
        r.name: r
        for r in check_table(
            table.assign(cin_n=[25, 5, 30, 12, 70]), LA_SPEC, SDCConfig(mitigation="round")
        )
    }
    assert rounded["rounding"].status == "fail" and rounded["rounding"].cells == [(3, "cin_n")]


def test_margins_that_do_not_add_up_ask_for_review():
    table = la_table().assign(cin_n=[25, 14, 30, 12, 90])
    results = {r.name: r for r in check_table(table, LA_SPEC)}
    assert results["margins_add_up"].status == "review"


def test_rounded_counts_are_checked_against_the_rounded_threshold():
    # threshold 12, base 5: a count of 12 passes and is published as 10; 7 is suppressed
    config = SDCConfig(threshold=12, mitigation="round")
    df = pd.DataFrame({"la_code": ["A", "B", "C"], "cin_n": [12, 7, 40]})
    spec = TableSpec(key_columns=("la_code",))
    out = protect_table(df, spec, config)
    assert out.table["cin_n"].isna().tolist() == [False, True, False]
    assert out.table["cin_n"].dropna().tolist() == [10, 40]
    assert overall_status(check_table(out.table, spec, config)) == "pass"
    shown_five = pd.DataFrame({"la_code": ["A"], "cin_n": [5]})
    assert overall_status(check_table(shown_five, spec, config)) == "fail"


@pytest.mark.parametrize("seed", range(6))
def test_determined_cells_agree_with_a_full_null_space_basis(seed):
    # reference: scipy's full null-space basis; a cell is determined when its row of the
    # orthonormal basis is zero (every solution of the homogeneous system is zero there)
    from scipy.linalg import null_space

    from child_mdh.release.sdc.margins import determined_cells

    rng = np.random.default_rng(seed)
    parent = {"L1": "R1", "L2": "R1", "L3": "R1", "L4": "R2", "L5": "R2", "R1": "T", "R2": "T"}
    cols = ["a_n", "b_n", "c_n", "total_n"]
    df = pd.DataFrame({"area": list(parent) + ["T"]})
    margins = (RowMargin("area", parent=parent), ColumnMargin(tuple(cols[:3]), "total_n"))
    eqs = build_equations(df, margins, cols)
    n_det = 0
    for _ in range(20):
        sup = rng.random(len(df) * len(cols)) < rng.uniform(0.15, 0.6)
        keep = np.bincount(eqs["eq"], weights=sup[eqs["cell"]]) > 0
        sel = keep[eqs["eq"].to_numpy()] & sup[eqs["cell"].to_numpy()]
        if not sel.any():
            continue
        rows = pd.factorize(eqs["eq"][sel])[0]
        cells, col = np.unique(eqs["cell"][sel], return_inverse=True)
        a = np.zeros((rows.max() + 1, len(cells)))
        np.add.at(a, (rows, col), eqs["coef"][sel].to_numpy())
        basis = null_space(a)
        expected = (
            np.linalg.norm(basis, axis=1) < 1e-9
            if basis.shape[1]
            else np.ones(len(cells), dtype=bool)
        )
        assert (determined_cells(a) == expected).all()
        n_det += int(expected.sum())
        # and the whole-table check returns exactly those cells
        rec, _ = recoverable_cells(eqs, sup)
        assert set(rec) == set(cells[expected].tolist())
    assert n_det > 0  # the random patterns include recoverable cells
