"""Reading values of the returns: dates, ids, UPNs, flags."""

import pandas as pd

from child_mdh.sources.la_returns.values import (
    clean_ids,
    normalise_upn,
    parse_dates,
    parse_flags,
    upn_format_ok,
)


def test_impossible_dates_are_bad_and_empty_is_not():
    s = pd.Series(
        ["02/01/2025", "02/01/20251", "31/02/2020", "", None, "2/1/2025", "01/01/0025"], dtype="str"
    )
    got = parse_dates(s, "%d/%m/%Y")
    assert got.bad.tolist() == [False, True, True, False, False, False, True]
    assert got.dates.iloc[0] == pd.Timestamp("2025-01-02")  # dd/mm/yyyy: 2 January
    assert got.dates.iloc[5] == pd.Timestamp("2025-01-02")
    assert got.dates.iloc[1:5].isna().all()


def test_alternative_format_is_used_and_flagged():
    s = pd.Series(["15/02/2016", "2016-02-15"], dtype="str")
    got = parse_dates(s, "%d/%m/%Y", ("%Y-%m-%d",))
    assert (got.dates == pd.Timestamp("2016-02-15")).all()
    assert got.alternative.tolist() == [False, True]
    assert not got.bad.any()


def test_liia_school_census_dates_drop_the_time():
    got = parse_dates(
        pd.Series(["2024-Oct-16 00:00:00", "2024-Oct-16 13:30:00"]), "%Y-%b-%d %H:%M:%S"
    )
    assert (got.dates == pd.Timestamp("2024-10-16")).all()


def test_float_ids_are_mended_and_flagged():
    ids, mended = clean_ids(pd.Series(["123.0", "0456", "A12.0B", " 789 ", None], dtype="str"))
    assert ids.tolist()[:4] == ["123", "0456", "A12.0B", "789"]
    assert pd.isna(ids.iloc[4])
    assert mended.tolist() == [True, False, False, False, False]


def test_upn_normalised_and_unknown_codes_are_not_upns():
    upn, unknown = normalise_upn(
        pd.Series([" a123456789012 ", "UN2", "un10", "B1234 56789013", ""])
    )
    assert upn.iloc[0] == "A123456789012"
    assert upn.iloc[3] == "B123456789013"
    assert upn.iloc[1:3].isna().all() and pd.isna(upn.iloc[4])
    assert unknown.tolist() == [False, True, True, False, False]
    assert upn_format_ok(upn).tolist() == [True, False, False, True, False]
    # a temporary UPN ends with a letter
    assert upn_format_ok(pd.Series(["A12345678901Z", "21db2df8-fa0"])).tolist() == [True, False]


def test_flags():
    flags, bad = parse_flags(pd.Series(["1", "0", "true", "False", "Y", "no", "", "maybe", "1.0"]))
    assert flags.tolist()[:6] == [True, False, True, False, True, False]
    assert pd.isna(flags.iloc[6]) and pd.isna(flags.iloc[7])
    assert bool(flags.iloc[8]) is True
    assert bad.tolist() == [False] * 7 + [True, False]
