"""A council's own indicators: reading, checking, and the example file."""

from pathlib import Path

import pandas as pd
import pytest

from child_mdh.io import InputFileError
from child_mdh.profiles.local import (
    LOCAL_COLUMNS,
    LocalIndicatorError,
    local_rows,
    read_local_indicators,
)
from profile_inputs import LOCAL_EXAMPLE, make_areas

REPO = Path(__file__).resolve().parents[2]
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


@pytest.mark.parametrize("text, message", [
    ("la_code,indicator\nE06000001,x\n", "value.*missing"),
    ("la_code,indicator,value\nE06000001,x,high\n", "number on line.*2.*'high'"),
    ("la_code,indicator,value\nE06000001,x,1\nE06000001,x,2\n", "lines 2, 3 repeat"),
    ("la_code,indicator,value\nE09999999,x,1\n", "E09999999.*not a local authority"),
    ("la_code,indicator,value\n,x,1\n", "la_code is empty on line"),
    ("la_code,indicator,value\nE06000001,x,\n", "neither a value nor a statement"),
    ("la_code,indicator,value\nE06000001,a, b,1\n", "well-formed CSV"),
])
def test_bad_files_are_explained(tmp_path, text, message):
    with pytest.raises(LocalIndicatorError, match=message):
        read_local_indicators(write(tmp_path, text), AREAS)


def test_missing_file_and_spreadsheet_habits(tmp_path):
    with pytest.raises(InputFileError, match="not found"):
        read_local_indicators(tmp_path / "nope.csv")
    path = write(tmp_path,
                 "\ufeffla_code,indicator,value,unit\n E06000001 ,Score,\"1,250\",people\n")
    local = read_local_indicators(path, AREAS)
    assert local["la_code"].tolist() == ["E06000001"] and local["value"].tolist() == [1250.0]
