"""A council's own indicators: reading, checking, and the example file."""

import pandas as pd
import pytest

from child_mdh.files import InputFileError
from child_mdh.release.profiles.local import (
    LOCAL_COLUMNS,
    LocalIndicatorError,
    check_local_text,
    local_rows,
    read_local_indicators,
)
from child_mdh.release.sdc.text_safety import IdentifierError

from paths import REPO
from profile_inputs import LOCAL_EXAMPLE, make_areas

AREAS = make_areas(["E06000001", "E06000002", "E06000003"])


def test_example_file_reads():
    local = read_local_indicators(REPO / LOCAL_EXAMPLE, AREAS)
    assert list(local.columns) == list(LOCAL_COLUMNS)
    assert len(local) == 5 and set(local["la_code"]) == {"E06000001", "E06000002"}
    assert local["value"].iloc[0] == 78.0
    assert local["statement"].iloc[0].startswith('"I finally have a place')
    # a statement without a value is allowed; a comma inside quotes stays in the text
    assert pd.isna(local["value"].iloc[4])
    assert "education, employment or training" in local["indicator"].iloc[3]
    assert len(local_rows(local, "E06000002")) == 2 and local_rows(None, "E06000002").empty


def write(tmp_path, text):
    path = tmp_path / "local.csv"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "text, message",
    [
        ("la_code,indicator\nE06000001,x\n", "value.*missing"),
        ("la_code,indicator,value\nE06000001,x,high\n", "number on line.*2.*'high'"),
        ("la_code,indicator,value\nE06000001,x,1\nE06000001,x,2\n", "lines 2, 3 repeat"),
        ("la_code,indicator,value\nE09999999,x,1\n", "E09999999.*not a local authority"),
        ("la_code,indicator,value\n,x,1\n", "la_code is empty on line"),
        ("la_code,indicator,value\nE06000001,x,\n", "neither a value nor a statement"),
        ("la_code,indicator,value\nE06000001,a, b,1\n", "well-formed CSV"),
    ],
)
def test_bad_files_are_explained(tmp_path, text, message):
    with pytest.raises(LocalIndicatorError, match=message):
        read_local_indicators(write(tmp_path, text), AREAS)


def test_missing_file_and_spreadsheet_habits(tmp_path):
    with pytest.raises(InputFileError, match="not found"):
        read_local_indicators(tmp_path / "nope.csv")
    path = write(tmp_path, '\ufeffla_code,indicator,value,unit\n E06000001 ,Score,"1,250",people\n')
    local = read_local_indicators(path, AREAS)
    assert local["la_code"].tolist() == ["E06000001"] and local["value"].tolist() == [1250.0]


def test_an_identifier_in_a_statement_stops_with_the_file_line_and_column(tmp_path):
    path = write(
        tmp_path,
        "la_code,indicator,value,unit,period,source,statement\n"
        'E06000001,Feel safe,78,%,2024,survey,"Fine, thanks"\n'
        'E06000001,Rating,7.9,score,2024,survey,"Since I moved to TS24 7BT I feel safe"\n',
    )
    with pytest.raises(IdentifierError) as err:
        read_local_indicators(path, AREAS)
    message = str(err.value)
    assert f"{path}, line 3, statement: postcode 'T*******'" in message
    assert "TS24" not in message and "7BT" not in message
    assert "remove the identifier from the statement and rerun" in message


def test_every_text_column_is_searched_and_every_finding_reported():
    local = pd.DataFrame(
        {
            "la_code": ["E06000001", "E06000002"],
            "indicator": ["Score for pupil A123456789012", "Score"],
            "value": [1.0, 2.0],
            "source": ["report", "letter to 12 Acacia Avenue"],
            "statement": [None, "born 01/02/2010"],
        }
    )
    with pytest.raises(IdentifierError) as err:
        read_local_indicators(local, AREAS)
    sources = [source for source, _ in err.value.problems]
    assert sources == [
        "local indicators, line 2, indicator",
        "local indicators, line 3, source",
        "local indicators, line 3, statement",
    ]
    assert [f.kind for f in err.value.findings] == ["upn", "address", "date"]
    # the same check runs on a table handed straight to the pages (build._local_from)
    checked = read_local_indicators(local.iloc[[0]].assign(indicator="Score"), AREAS)
    check_local_text(checked)
    with pytest.raises(IdentifierError, match="line 2, statement"):
        check_local_text(checked.assign(statement="call 07700900123"))
