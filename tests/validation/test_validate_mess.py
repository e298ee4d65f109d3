"""Real-world mess is read, not crashed on: byte-order marks, spreadsheet decimals in
identifiers, blank files, boolean and date spellings, stray spaces, codes in other case,
Parquet files with native types."""

import datetime as dt

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from test_validate_data import (
    read_out,
    read_quarantine,
    run,
    text_tables,
    valid_tables,
    write_folder,
)


def test_utf8_byte_order_mark_is_ignored(tmp_path):
    folder = write_folder(tmp_path / "in", text_tables())
    areas = (folder / "areas.csv").read_text()
    (folder / "areas.csv").write_text(areas, encoding="utf-8-sig")  # Excel "CSV UTF-8"
    assert (folder / "areas.csv").read_bytes()[:3] == b"\xef\xbb\xbf"
    report = run(folder)
    assert report.tables["areas"].rows_used == 2
    assert read_out(folder, "areas")["la_code"].tolist() == ["E08000035", "E06000014"]


def test_identifiers_turned_into_floats_by_a_spreadsheet_still_match(tmp_path):
    tables = text_tables()
    tables["households"]["household_id"] = ["1.0", "2.0", "3.0"]
    tables["persons"]["household_id"] = ["1", "1", "1", "2", "2", "3.0", "3", "3"]
    tables["pupil_census"]["school_id"] = ["107001.0"] * 2 + [
        "107002",
        "107003",
        "121001",
        "121002",
    ]
    folder = write_folder(tmp_path / "in", tables)
    report = run(folder)
    assert report.rows_quarantined == 0
    assert read_out(folder, "households")["household_id"].tolist() == ["1", "2", "3"]
    assert read_out(folder, "persons")["household_id"].tolist() == [
        "1",
        "1",
        "1",
        "2",
        "2",
        "3",
        "3",
        "3",
    ]
    assert read_out(folder, "pupil_census")["school_id"].iloc[0] == "107001"


def test_leading_zeros_of_identifiers_are_kept(tmp_path):
    tables = text_tables()
    tables["pupil_census"]["school_id"] = ["0107001"] * 2 + [
        "0107002",
        "0107003",
        "0121001",
        "0121002",
    ]
    folder = write_folder(tmp_path / "in", tables)
    run(folder)
    assert read_out(folder, "pupil_census")["school_id"].iloc[0] == "0107001"


def test_blank_social_care_files_are_tables_without_rows(tmp_path):
    folder = write_folder(tmp_path / "in", text_tables())
    (folder / "cin_referrals.csv").write_text("")  # 0 bytes
    (folder / "child_protection_plans.csv").write_text(
        "pupil_id,la_code,cpp_start_date,cpp_end_date\n"
    )  # header only
    report = run(folder)
    for name in ("cin_referrals", "child_protection_plans"):
        acc = report.tables[name]
        assert (acc.rows_read, acc.rows_used, acc.rows_quarantined) == (0, 0, 0)
        out = read_out(folder, name)
        assert len(out) == 0
        assert str(out.iloc[:, 2].dtype) == "datetime64[ns]"


def test_boolean_spellings_across_a_table(tmp_path):
    tables = text_tables()
    tables["persons"]["full_time_student"] = ["no", "Y", "yes", "0", "1", "false", "TRUE", "1.0"]
    folder = write_folder(tmp_path / "in", tables)
    run(folder)
    assert read_out(folder, "persons")["full_time_student"].tolist() == [
        False,
        True,
        True,
        False,
        True,
        False,
        True,
        True,
    ]


def test_dates_day_first_with_slashes_and_iso_mixed_in_one_column(tmp_path):
    tables = text_tables()
    tables["pupil_census"]["census_date"] = [
        "01/10/2020",
        "21/01/2021",
        "2021-01-21",
        "21/1/2021",
        "2021-01-21 00:00:00",
        "2021-01-21",
    ]
    folder = write_folder(tmp_path / "in", tables)
    report = run(folder)
    assert report.rows_quarantined == 0
    out = read_out(folder, "pupil_census")["census_date"]
    assert out.tolist() == [pd.Timestamp("2020-10-01")] + [pd.Timestamp("2021-01-21")] * 5


def test_ints_written_with_decimals_and_spaces_everywhere(tmp_path):
    tables = text_tables()
    tables["households"]["census_year"] = ["2021.0", " 2021", "2021 "]
    tables["households"]["occupancy_rating_rooms"] = ["-1.0", "0.00", " 2 "]
    tables["households"]["la_code"] = [" E08000035", "E08000035 ", "E06000014"]
    tables["persons"]["sex"] = [" F", "M ", "F", "M", "F", "F", "M", "F"]
    folder = write_folder(tmp_path / "in", tables)
    report = run(folder)
    assert report.rows_quarantined == 0
    h = read_out(folder, "households")
    assert h["census_year"].tolist() == [2021] * 3
    assert h["occupancy_rating_rooms"].tolist() == [-1, 0, 2]
    assert h["la_code"].tolist() == ["E08000035", "E08000035", "E06000014"]


def test_codes_in_other_case_are_matched_and_noted(tmp_path):
    tables = text_tables()
    tables["persons"]["sex"] = ["f", "m", "F", "M", "F", "F", "M", "F"]
    tables["persons"].loc[0, "economic_activity"] = "In_Employment"
    tables["cin_referrals"]["primary_need_code"] = ["n1", "N4", "N9"]
    folder = write_folder(tmp_path / "in", tables)
    report = run(folder)
    assert report.rows_quarantined == 0
    p = read_out(folder, "persons")
    assert p["sex"].tolist()[:2] == ["F", "M"]
    assert p["economic_activity"].iloc[0] == "in_employment"
    notes = {(i.table, i.column, i.rows) for i in report.issues if i.check == "recoded"}
    assert notes == {
        ("persons", "sex", 2),
        ("persons", "economic_activity", 1),
        ("cin_referrals", "primary_need_code", 1),
    }
    assert "matched the code list ignoring case" in report.summary_text()


def test_parquet_with_native_types_ints_as_ids_and_date32(tmp_path):
    tables = valid_tables()
    folder = write_folder(tmp_path / "in", tables, fmt="parquet")
    # household ids stored as integers, dates as Arrow date32, booleans with a null-free bool
    h = tables["households"].assign(household_id=[1, 2, 3])
    h.to_parquet(folder / "households.parquet", index=False)
    p = tables["persons"].assign(household_id=[1.0, 1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 3.0])
    p.to_parquet(folder / "persons.parquet", index=False)
    cin = tables["cin_referrals"]
    arrow = pa.Table.from_pandas(cin, preserve_index=False)
    for col in ("referral_date", "cin_closure_date"):
        i = arrow.schema.get_field_index(col)
        arrow = arrow.set_column(
            i, col, pa.array([None if pd.isna(v) else v.date() for v in cin[col]], type=pa.date32())
        )
    pq.write_table(arrow, folder / "cin_referrals.parquet")
    report = run(folder)
    assert report.rows_quarantined == 0
    assert read_out(folder, "persons")["household_id"].tolist()[-1] == "3"
    out = read_out(folder, "cin_referrals")
    assert out["referral_date"].tolist()[0] == pd.Timestamp("2021-05-01")
    assert pd.isna(out["cin_closure_date"].iloc[1])


def test_parquet_quarantine_keeps_original_values_as_text(tmp_path):
    tables = valid_tables()
    tables["persons"] = tables["persons"].assign(age=[35, 8, 12, 400, 5, 30, 10, 15])
    folder = write_folder(tmp_path / "in", tables, fmt="parquet")
    run(folder)
    q = read_quarantine(folder, "persons")
    assert q["age"].tolist() == ["400"] and q["full_time_student"].tolist() == ["False"]
    assert str(q["age"].dtype) == "str"
    assert q["_reason"].tolist() == ["age out of range 0 to 110: '400'"]


def test_parquet_float_column_with_fraction_in_an_int_column(tmp_path):
    tables = valid_tables()
    tables["persons"] = tables["persons"].assign(
        general_health=[2.0, 1.0, 1.0, 4.0, 1.5, 5.0, 2.0, 1.0]
    )
    folder = write_folder(tmp_path / "in", tables, fmt="parquet")
    run(folder)
    q = read_quarantine(folder, "persons")
    assert q["_reason"].tolist() == ["general_health cannot be read as int: '1.5'"]


def test_extra_columns_are_kept_after_the_contract_columns(tmp_path):
    tables = text_tables()
    tables["areas"].insert(0, "note", ["a", "b"])
    folder = write_folder(tmp_path / "in", tables)
    run(folder)
    out = read_out(folder, "areas")
    assert list(out.columns) == ["la_code", "la_name", "region_code", "region_name", "note"]
    assert out["note"].tolist() == ["a", "b"]


def test_optional_column_absent_is_added_empty(tmp_path):
    tables = text_tables()
    tables["persons"] = tables["persons"].drop(columns="ethnic_group")
    tables["households"] = tables["households"].drop(columns="lsoa_code")
    folder = write_folder(tmp_path / "in", tables)
    run(folder)
    assert read_out(folder, "persons")["ethnic_group"].isna().all()
    assert read_out(folder, "households")["lsoa_code"].isna().all()


def test_reference_date_accepts_dates_and_defaults_to_today(tmp_path):
    tables = text_tables()
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    tables["looked_after_episodes"].loc[1, "episode_start"] = tomorrow.isoformat()
    folder = write_folder(tmp_path / "in", tables)
    report = run(folder, reference_date=None)
    assert report.reference_date == dt.date.today()
    assert report.tables["looked_after_episodes"].reasons == {"date in the future": 1}
    later = run(folder, reference_date=tomorrow)
    assert later.tables["looked_after_episodes"].rows_quarantined == 0


def test_blank_rows_from_a_spreadsheet_are_set_aside_without_stopping(tmp_path):
    folder = write_folder(tmp_path / "in", text_tables())
    with open(folder / "persons.csv", "a") as f:
        f.write(",,,,,,,,,\n" * 12 + ", ,,,,,,,,\n")  # 13 blank rows after 8 persons
    report = run(folder, policy="stop")  # a note, not a row problem
    acc = report.tables["persons"]
    assert (acc.rows_read, acc.rows_used, acc.rows_quarantined) == (21, 8, 13)
    assert acc.reasons == {"blank row": 13}
    [note] = [i for i in report.issues if i.check == "blank_row"]
    assert note.severity == "note" and note.rows == 13 and note.examples[0] == (9, "(empty)")
    q = read_quarantine(folder, "persons")
    assert q["_row_number"].tolist() == list(range(9, 22))
