"""Reading raw cells into contract types: accepted spellings, refusals, and the rule that
tells a systematic column problem from a few bad rows."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from child_mdh.cells import match_codes, parse_bool, parse_column, parse_date, parse_int
from child_mdh.contract.tables import Column
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
