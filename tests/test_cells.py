"""Reading raw cells into contract types: accepted spellings, refusals, and the rule that
tells a systematic column problem from a few bad rows."""

import dataclasses
import datetime as dt

import numpy as np
import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from child_mdh.cells import (
    CellPolicy,
    match_codes,
    parse_bool,
    parse_column,
    parse_date,
    parse_int,
)
from child_mdh.contract.tables import Column
from child_mdh.files import InputFileError, find_table_file, read_csv_text, read_raw
from child_mdh.sources.la_returns import files as la_files
from child_mdh.sources.la_returns import values as la_values
from child_mdh.sources.mapped_extract import files as mapped_files
from child_mdh.sources.mapped_extract.values import CellValueError, convert_scalar
from child_mdh.sources.mapped_extract.values import parse_dates as mapped_parse_dates
from child_mdh.validation.rows import systematic


def text(values):
    return pd.Series(values, dtype="str")


def test_int_accepts_whole_numbers_with_trailing_zero_decimals_and_spaces():
    p = parse_int(text(["3", "3.0", " -1 ", "", None, "3.5", "three", "inf"]))
    assert p.values.tolist()[:3] == [3, 3, -1]
    assert p.values.isna().tolist() == [False, False, False, True, True, True, True, True]
    # empty and missing cells are not "unreadable"; 3.5, three and inf are
    assert p.unreadable.tolist() == [False, False, False, False, False, True, True, True]
    assert str(p.values.dtype) == "Int64"


def test_int_from_parquet_floats_and_ints():
    p = parse_int(pd.Series([1.0, np.nan, 2.5]))
    assert p.values.tolist()[0] == 1 and p.values.isna().tolist() == [False, True, True]
    assert p.unreadable.tolist() == [False, False, True]
    q = parse_int(pd.Series([4, 5], dtype="int64"))
    assert q.values.tolist() == [4, 5] and not q.unreadable.any()


@pytest.mark.parametrize(
    "cell,expected",
    [
        ("True", True),
        ("False", False),
        ("true", True),
        ("false", False),
        ("TRUE", True),
        ("1", True),
        ("0", False),
        ("1.0", True),
        ("0.0", False),
        ("Y", True),
        ("N", False),
        ("y", True),
        ("n", False),
        ("yes", True),
        ("No", False),
        (" yes ", True),
    ],
)
def test_bool_spellings(cell, expected):
    p = parse_bool(text([cell]))
    assert p.values.tolist() == [expected] and not p.unreadable.any()


def test_bool_refuses_other_words_and_keeps_empty_missing():
    p = parse_bool(text(["maybe", "2", "", None]))
    assert p.unreadable.tolist() == [True, True, False, False]
    assert p.values.isna().all()


def test_bool_from_parquet_booleans_and_numbers():
    assert parse_bool(pd.Series([True, False])).values.tolist() == [True, False]
    p = parse_bool(pd.Series([1, 0, 2]))
    assert p.values.tolist()[:2] == [True, False] and p.unreadable.tolist() == [False, False, True]


def test_date_iso_and_day_first_slash_formats():
    p = parse_date(
        text(
            [
                "2021-03-21",
                "21/03/2021",
                "1/3/2021",
                "2021-03-21 00:00:00",
                "2021-03-21T00:00:00",
                "",
                None,
            ]
        )
    )
    assert p.values.iloc[:5].tolist() == [
        pd.Timestamp("2021-03-21"),
        pd.Timestamp("2021-03-21"),
        pd.Timestamp("2021-03-01"),
        pd.Timestamp("2021-03-21"),
        pd.Timestamp("2021-03-21"),
    ]
    assert not p.unreadable.any()
    assert str(p.values.dtype) == "datetime64[ns]"


@pytest.mark.parametrize(
    "cell",
    [
        "21-03-2021",
        "2021/03/21",
        "21/03/21",
        "2021-02-30",
        "21 March 2021",
        "2021-03-21 14:30:00",
        "0021-03-21",
    ],
)
def test_date_refuses_other_formats_impossible_dates_and_mistyped_years(cell):
    p = parse_date(text([cell]))
    assert p.unreadable.tolist() == [True]
    assert p.values.isna().all()


def test_date_marks_slash_dates_that_can_only_be_month_first():
    # 03/21/2021: 21 cannot be a month, so this was written month/day/year
    p = parse_date(text(["03/21/2021", "04/05/2021", "13/05/2021"]))
    assert p.month_first.tolist() == [True, False, False]


def test_date_from_parquet_dates_and_datetimes():
    p = parse_date(pd.Series([dt.date(2021, 3, 21), None], dtype=object))
    assert p.values.tolist()[0] == pd.Timestamp("2021-03-21") and not p.unreadable.any()
    q = parse_date(pd.Series(pd.to_datetime(["2021-03-21 10:00", None])))
    assert q.values.tolist()[0] == pd.Timestamp("2021-03-21")


def test_identifiers_are_cleaned_of_spaces_and_spreadsheet_decimals():
    col = Column("household_id", "string")
    p = parse_column(text([" H1 ", "123.0", "0012", "A12.0B", ""]), col)
    assert p.values.tolist()[:4] == ["H1", "123", "0012", "A12.0B"]
    assert pd.isna(p.values.iloc[4])
    q = parse_column(pd.Series([123, 456], dtype="int64"), col)
    assert q.values.tolist() == ["123", "456"]


def test_codes_match_ignoring_case_and_report_respelling():
    values, bad, respelled = match_codes(text(["F", "f", "m", "X", None]), ("F", "M"))
    assert values.iloc[:4].tolist() == ["F", "F", "M", "X"]  # unmatched kept for messages
    assert bad.tolist() == [False, False, False, True, False]
    assert respelled.tolist() == [False, True, True, False, False]


def test_integer_code_lists():
    values = pd.Series([2021, 2011, 2001, None], dtype="Int64")
    _, bad, _ = match_codes(values, (2011, 2021))
    assert bad.tolist() == [False, False, True, False]


@pytest.mark.parametrize(
    "n_bad,n,expected",
    [
        (0, 100, False),
        (1, 8, False),  # 12.5% but one row: a typo, not the column
        (9, 100, False),  # 9% but fewer than 10 rows
        (10, 100, True),  # 10 rows and 10% > 5%
        (10, 200, False),  # exactly 5% is not more than 5%
        (11, 200, True),  # 5.5%
        (3, 3, True),  # every row
        (1, 1, True),
    ],
)
def test_systematic_rule(n_bad, n, expected):
    assert systematic(n_bad, n) is expected


# ---------------------------------------------------------------------------------------
# one parser, the policy passed in: every route reads the same spellings the same way


def _routes_bool(cells_text):
    """(contract, LA returns, mapped extract) readings of each spelling: True/False/None."""
    s = text(cells_text)
    contract = parse_bool(s)
    flags, bad = la_values.parse_flags(s)
    out = []
    for i, cell in enumerate(cells_text):
        try:
            mapped = convert_scalar(cell, Column("flag", "bool"), "t")
        except CellValueError:
            mapped = None
        got_contract = None if contract.unreadable[i] else bool(contract.values.iloc[i])
        got_la = None if bad.iloc[i] else bool(flags.iloc[i])
        out.append((got_contract, got_la, mapped))
    return out


def test_every_route_reads_true_false_spellings_alike():
    spellings = ["True", "false", "1", "0.0", "Y", "n", "YES", "no", "T", "F", "maybe"]
    got = _routes_bool(spellings)
    for cell, (contract, la, mapped) in zip(spellings, got):
        assert contract == la == mapped, cell
    # T and F are not among the documented spellings: unreadable on every route
    assert got[spellings.index("T")] == (None, None, None)
    assert got[spellings.index("Y")] == (True, True, True)


def test_every_route_bounds_dates_alike():
    iso = text(["1899-12-31", "1900-01-01", "2150-06-01"])
    contract = parse_date(iso)
    la = la_values.parse_dates(iso, "%Y-%m-%d")
    assert contract.unreadable.tolist() == la.bad.tolist() == [True, False, False]
    # the mapped route refuses the same dates (as a problem naming the values)
    res = mapped_parse_dates(iso, None, False, np.arange(3), "ReferralDate")
    assert res.problems and "1899-12-31" in res.problems[0] and "2150" not in res.problems[0]
    with pytest.raises(CellValueError, match="from 1900 on"):
        convert_scalar("1899-12-31", Column("d", "date"), "t")


def test_policy_formats_are_tried_in_order_and_later_ones_marked():
    policy = CellPolicy(date_formats=("%d/%m/%Y", "%Y-%m-%d", "%Y-%b-%d %H:%M:%S"))
    p = parse_date(text(["15/02/2016", "2016-02-15", "2016-Feb-15 13:30:00", "x"]), policy)
    assert (p.values.iloc[:3] == pd.Timestamp("2016-02-15")).all()
    assert p.alternative.tolist() == [False, True, True, False]
    assert p.unreadable.tolist() == [False, False, False, True]


def test_policy_day_order_marks_values_only_the_other_order_can_read():
    cells_text = text(["03/21/2021", "21/03/2021", "01/02/2021"])
    day_first = parse_date(cells_text)
    month_first = parse_date(cells_text, CellPolicy(date_formats=("%m/%d/%Y",), day_first=False))
    assert day_first.month_first.tolist() == [True, False, False]
    assert month_first.month_first.tolist() == [False, True, False]
    assert month_first.values.iloc[0] == pd.Timestamp("2021-03-21")
    assert month_first.values.iloc[2] == pd.Timestamp("2021-01-02")


def test_policy_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        CellPolicy().day_first = False  # type: ignore[misc]


def test_every_route_reads_a_file_through_one_reader(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(b"\xef\xbb\xbf id , flag\n007,1\n,\n")
    frame, fmt = read_csv_text(path)
    assert fmt.had_bom and fmt.encoding == "utf-8" and fmt.delimiter == ","
    assert list(frame.columns) == ["id", "flag"] and frame["id"].iloc[0] == "007"
    assert read_raw(path).equals(frame)
    assert la_files.read_text_table(path).frame.equals(frame)
    assert la_files.read_text_table(path).had_bom
    assert mapped_files.read_columns(path, ["id", "flag"]).equals(frame)


def test_contract_tables_may_end_in_upper_case(tmp_path):
    (tmp_path / "areas.CSV").write_text("la_code\nE1\n")
    found = find_table_file(tmp_path, "areas")
    assert found is not None and found.name == "areas.CSV"
    assert read_raw(found)["la_code"].tolist() == ["E1"]
    (tmp_path / "Areas.csv").write_text("la_code\nE1\n")  # another name: not the table
    assert find_table_file(tmp_path, "areas").name == "areas.CSV"


def test_contract_csv_in_windows_1252_with_semicolons_reads_the_same(tmp_path):
    path = tmp_path / "areas.csv"
    path.write_bytes("la_code;la_name\nE1;Caf\u00e9\u00a0Town\n".encode("cp1252"))
    frame, fmt = read_csv_text(path)
    assert (fmt.encoding, fmt.delimiter) == ("cp1252", ";")
    assert frame["la_name"].tolist() == ["Caf\u00e9\u00a0Town"]
    assert read_raw(path).equals(frame)
    assert mapped_files.read_columns(path, ["la_name"])["la_name"].tolist() == [
        "Caf\u00e9\u00a0Town"
    ]


def test_float_ids_too_large_to_be_exact_are_unreadable_not_merged():
    # 2^53 + 1 cannot be held by a float: two households would become one
    ids = pd.Series([float(2**53), float(2**53 + 2), 123.0, np.nan])
    p = parse_column(ids, Column("household_id", "string"))
    assert p.unreadable.tolist() == [True, True, False, False]
    assert p.values.iloc[2] == "123" and p.values.iloc[:2].isna().all()
    # the same ids as integers are exact and kept
    q = parse_column(pd.Series([2**53, 2**53 + 1], dtype="int64"), Column("household_id", "string"))
    assert not q.unreadable.any() and q.values.tolist() == [str(2**53), str(2**53 + 1)]


def test_a_spark_style_parquet_folder_is_one_table(tmp_path):
    folder = tmp_path / "areas.parquet"
    folder.mkdir()
    pq.write_table(pa.table({"la_code": ["E1"]}), folder / "part-00000-abc.snappy.parquet")
    pq.write_table(pa.table({"la_code": ["E2"]}), folder / "part-00001-abc.snappy.parquet")
    (folder / "_SUCCESS").write_text("")
    (folder / ".part-00000-abc.snappy.parquet.crc").write_bytes(b"crc")
    found = find_table_file(tmp_path, "areas")
    assert found == folder
    assert sorted(read_raw(found)["la_code"]) == ["E1", "E2"]
    empty = tmp_path / "persons.parquet"
    empty.mkdir()
    (empty / "_SUCCESS").write_text("")
    with pytest.raises(InputFileError, match="no Parquet part files"):
        read_raw(empty)


def test_iso_dates_mixed_with_slash_dates_of_unknown_order_are_marked():
    mixed = parse_date(text(["2021-03-21", "03/04/2021", "05/05/2021", "2021-01-02"]))
    # 03/04 could be 3 April or 4 March; 05/05 is the same either way
    assert mixed.order_unproven.tolist() == [False, True, False, False]
    # one slash date that can only be day first shows the order for the whole column
    shown = parse_date(text(["2021-03-21", "03/04/2021", "21/03/2021"]))
    assert not shown.order_unproven.any()
    # a column of slash dates alone is read day first, as documented
    alone = parse_date(text(["03/04/2021", "01/02/2021"]))
    assert not alone.order_unproven.any()


def test_a_contract_table_may_be_a_workbook(tmp_path):
    book = openpyxl.Workbook()
    book.active.title = "notes"
    book.active.append(["read me"])
    sheet = book.create_sheet("areas")
    sheet.append(["la_code", "la_name", "opened"])
    sheet.append(["E08000035", "Leeds", dt.datetime(2021, 3, 21)])
    book.save(tmp_path / "areas.xlsx")
    found = find_table_file(tmp_path, "areas")
    assert found.name == "areas.xlsx"
    frame = read_raw(found)
    assert frame.to_dict("records") == [
        {"la_code": "E08000035", "la_name": "Leeds", "opened": "2021-03-21"}
    ]
    two = openpyxl.Workbook()
    two.active.append(["a"])
    two.active.append(["1"])
    two.create_sheet("other").append(["b"])
    two.save(tmp_path / "persons.xlsx")
    with pytest.raises(InputFileError, match="none is named persons"):
        read_raw(tmp_path / "persons.xlsx")
