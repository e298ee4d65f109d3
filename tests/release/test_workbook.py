"""Release workbooks after the GSS spreadsheet guidance, read back: sheets, headings,
formats, and the shorthand [c] / [x] / [z] where the CSV is empty, each for its reason."""

import json

import numpy as np
import openpyxl
import pandas as pd
import pytest

from child_mdh.release.sdc import Manifest, audit_release, write_release_table
from child_mdh.release.workbook import (
    COLUMNS_SHEET,
    CONTACT_PLACEHOLDER,
    COVER_SHEET,
    NOTES_SHEET,
    SHORTHAND,
    SYNTHETIC_WARNING,
    TABLE_HEADER_ROW,
    TABLE_SHEET,
    About,
    column_label,
    read_workbook_table,
    shorthand,
    spread_withheld,
    write_workbook,
)

from sdc_tables import LA_SPEC, la_table


def _table() -> pd.DataFrame:
    df = la_table()
    df.insert(1, "parent_code", ["E92000001"] * 4 + [None])  # England has no parent
    df.loc[2, "rate_per_10000"] = np.nan  # not computed in the input: not available
    return df


def _england_has_no_parent(table: pd.DataFrame) -> dict:
    return {"parent_code": table["la_code"] == "E92000001"}


@pytest.fixture
def written(tmp_path):
    release = tmp_path / "release"
    m = Manifest(release, step="t", about={"synthetic": True, "period": "Census 2021"})
    write_release_table(
        _table(),
        release / "cin.csv",
        LA_SPEC,
        m,
        xlsx=True,
        title="Children in need by local authority",
        method="children in need by LA",
        not_applicable=_england_has_no_parent,
    )
    m.write()
    return release


def _cells(sheet) -> list[str]:
    return [str(c) for row in sheet.iter_rows(values_only=True) for c in row if c is not None]


def test_sheets_cover_and_notes(written):
    book = openpyxl.load_workbook(written / "cin.xlsx")
    assert book.sheetnames == [COVER_SHEET, NOTES_SHEET, COLUMNS_SHEET, TABLE_SHEET]
    cover = _cells(book[COVER_SHEET])
    assert cover[0] == "Children in need by local authority"
    assert SYNTHETIC_WARNING in cover
    assert CONTACT_PLACEHOLDER in cover
    assert "Period: Census 2021" in cover
    for mark, meaning in SHORTHAND.items():
        assert f"{mark}: {meaning}" in cover
    notes = _cells(book[NOTES_SHEET])
    assert "[note 1]" in notes and any(n.startswith("Method: children in need") for n in notes)
    assert any("below 10 are withheld" in n for n in notes)
    for sheet in book.worksheets:  # no merged cells, no blank rows (GSS guidance)
        assert not sheet.merged_cells.ranges
        rows = list(sheet.iter_rows(values_only=True))
        assert all(any(v is not None for v in row) for row in rows), sheet.title


def test_table_sheet_headings_formats_and_frozen_header(written):
    book = openpyxl.load_workbook(written / "cin.xlsx")
    sheet = book[TABLE_SHEET]
    csv = pd.read_csv(written / "cin.csv")
    header = [c.value for c in sheet[TABLE_HEADER_ROW]]
    assert header == [column_label(c) for c in csv.columns]
    assert header[2] == "Children in need (number)"
    assert sheet.freeze_panes == f"A{TABLE_HEADER_ROW + 1}"
    assert list(sheet.tables) == [TABLE_SHEET]
    cin = [row[2] for row in sheet.iter_rows(min_row=TABLE_HEADER_ROW + 1)]
    assert cin[0].value == 25 and cin[0].number_format == "#,##0"
    columns = list(book[COLUMNS_SHEET].iter_rows(min_row=5, values_only=True))
    assert [r[2] for r in columns] == list(csv.columns)


def test_every_number_equals_the_csv_and_each_empty_cell_says_why(written):
    csv = pd.read_csv(written / "cin.csv")
    shown = read_workbook_table(written / "cin.xlsx", keep_shorthand=True)
    assert list(shown.columns) == list(csv.columns)
    outputs = json.loads((written / "outputs.json").read_text())
    entry = outputs["results"]["cin.csv"]
    # the manifest counts columns after the first CSV column (as ACRO does)
    withheld = {(r, c + 1) for r, c in entry["files"][0]["sdc"]["cells"]["withheld"]}
    assert withheld  # B's cin_n (4) and what protects it
    seen = {"[c]": 0, "[x]": 0, "[z]": 0}
    for r in range(len(csv)):
        for c, col in enumerate(csv.columns):
            want, got = csv.iat[r, c], shown.iat[r, c]
            if pd.isna(want):
                if (r, c) in withheld:
                    expected = "[c]"
                elif col == "parent_code" and csv.at[r, "la_code"] == "E92000001":
                    expected = "[z]"
                else:
                    expected = "[x]"
                assert got == expected, (r, col)
                seen[expected] += 1
            else:
                assert got == want, (r, col)
    assert all(seen.values()), seen
    # read for machines: the CSV's table, shorthand as empty cells
    pd.testing.assert_frame_equal(read_workbook_table(written / "cin.xlsx"), csv, check_dtype=False)


def test_the_audit_reads_the_table_sheet(written):
    assert audit_release(written) == []


def test_the_audit_finds_a_workbook_that_differs_from_its_csv(written):
    path = written / "cin.xlsx"
    book = openpyxl.load_workbook(path)
    book[TABLE_SHEET].cell(row=TABLE_HEADER_ROW + 1, column=3, value=35)
    book.save(path)
    kinds = {p.kind for p in audit_release(written)}
    assert "workbook_differs" in kinds and "changed_file" in kinds


def test_the_audit_finds_text_other_than_shorthand_in_a_count(written):
    path = written / "cin.xlsx"
    book = openpyxl.load_workbook(path)
    book[TABLE_SHEET].cell(row=TABLE_HEADER_ROW + 2, column=3, value="<10")
    book.save(path)
    assert "text_in_count" in {p.kind for p in audit_release(written)}


def test_not_synthetic_and_unknown_headings(tmp_path):
    path = write_workbook(
        pd.DataFrame({"widget_n": [12, None], "odd_name": ["a", "b"]}),
        tmp_path / "w.xlsx",
        title="Widgets",
        about=About(source="a register"),
    )
    book = openpyxl.load_workbook(path)
    assert SYNTHETIC_WARNING not in _cells(book[COVER_SHEET])
    assert [c.value for c in book[TABLE_SHEET][TABLE_HEADER_ROW]] == [
        "Widget (number)",
        "Odd name",
    ]
    assert read_workbook_table(path, keep_shorthand=True)["widget_n"].tolist() == [12, "[x]"]


def test_a_statistic_of_a_withheld_count_is_withheld_too():
    table = pd.DataFrame(
        {
            "a_n": [None, 20.0, None],
            "share": [None, 0.5, None],
            "share_of_share": [None, 0.25, None],
        }
    )
    derived = {"share": ("a_n",), "share_of_share": ("share",)}
    # row 0's count was withheld; row 2's was empty in the data
    mask = spread_withheld(table, [(0, "a_n")], derived)
    assert mask.to_numpy().tolist() == [[True, True, True], [False] * 3, [False] * 3]
    marks = shorthand(table, mask)
    assert marks.iloc[0].tolist() == ["[c]"] * 3 and marks.iloc[2].tolist() == ["[x]"] * 3
