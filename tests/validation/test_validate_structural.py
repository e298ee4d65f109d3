"""Structural problems stop the run whatever the policy, all listed in one error, each
naming the file, table, column, row count, examples with row numbers and the fix."""

import pandas as pd
import pytest
from test_validate_data import run, text_tables, valid_tables, write_folder

from child_mdh.validation.folder import ValidationError, read_validated_table


def issues_of(err, check):
    return [i for i in err.value.issues if i.check == check]


def test_missing_required_table_lists_files_present_and_expected_names(tmp_path):
    tables = valid_tables()
    del tables["pupil_census"]
    folder = write_folder(tmp_path / "in", tables)
    (folder / "notes.txt").write_text("x")
    with pytest.raises(ValidationError) as err:
        run(folder)
    [issue] = issues_of(err, "missing_table")
    msg = issue.message
    assert issue.table == "pupil_census"
    assert "pupil_census.parquet or pupil_census.csv" in msg
    assert "notes.txt" in msg and "persons.csv" in msg  # what IS there
    assert "header line: pupil_id,census_date,la_code,school_id,fsm_eligible" in msg  # the fix
    assert not (tmp_path / "validated").exists()  # nothing written


def test_missing_table_suggests_a_near_file_name(tmp_path):
    tables = valid_tables()
    tables["Persons"] = tables.pop("persons")
    folder = write_folder(tmp_path / "in", tables)
    with pytest.raises(ValidationError) as err:
        run(folder)
    [issue] = issues_of(err, "missing_table")
    assert "did you mean Persons.csv? Rename it to persons.csv" in issue.message


def test_missing_required_column_suggests_the_near_header(tmp_path):
    tables = text_tables()
    tables["pupil_census"] = tables["pupil_census"].rename(columns={"pupil_id": "pupil_idd"})
    folder = write_folder(tmp_path / "in", tables)
    with pytest.raises(ValidationError) as err:
        run(folder)
    [issue] = issues_of(err, "missing_column")
    assert (issue.table, issue.column, issue.file, issue.rows) == (
        "pupil_census",
        "pupil_id",
        "pupil_census.csv",
        6,
    )
    assert "did you mean 'pupil_idd'? Rename that column to 'pupil_id'" in issue.message
    assert "'pupil_idd'" in issue.message and "'school_id'" in issue.message  # header listed


def test_missing_column_without_near_name_says_what_to_add(tmp_path):
    tables = text_tables()
    tables["households"] = tables["households"].drop(columns="central_heating")
    folder = write_folder(tmp_path / "in", tables)
    with pytest.raises(ValidationError) as err:
        run(folder)
    [issue] = issues_of(err, "missing_column")
    assert (
        "add a column named 'central_heating' (Accommodation has central heating)" in issue.message
    )


def test_case_and_space_variants_of_headers_are_accepted_with_a_note(tmp_path):
    tables = text_tables()
    tables["persons"] = tables["persons"].rename(
        columns={"person_id": "Person ID", "general_health": "GENERAL_HEALTH"}
    )
    folder = write_folder(tmp_path / "in", tables)
    report = run(folder)
    notes = [i for i in report.issues if i.check == "renamed_column"]
    assert {(i.column, i.severity) for i in notes} == {
        ("person_id", "note"),
        ("general_health", "note"),
    }
    assert report.tables["persons"].rows_used == 8


def test_header_variant_given_twice_is_structural(tmp_path):
    tables = text_tables()
    p = tables["persons"].rename(columns={"age": "Age"})
    p["AGE"] = p["Age"]
    tables["persons"] = p
    folder = write_folder(tmp_path / "in", tables)
    with pytest.raises(ValidationError) as err:
        run(folder)
    [issue] = issues_of(err, "duplicate_column")
    assert "'Age'" in issue.message and "'AGE'" in issue.message


def test_csv_and_parquet_of_the_same_table_is_structural(tmp_path):
    folder = write_folder(tmp_path / "in", valid_tables())
    valid_tables()["areas"].to_parquet(folder / "areas.parquet")
    with pytest.raises(ValidationError) as err:
        run(folder)
    [issue] = issues_of(err, "duplicate_file")
    assert issue.table == "areas"
    assert "areas.parquet" in issue.message and "areas.csv" in issue.message
    assert "keep one file per table" in issue.message


def test_column_unreadable_in_every_row_is_structural(tmp_path):
    tables = text_tables()
    tables["cin_referrals"]["referral_date"] = ["21-05-2021", "10-01-2022", "02-03-2023"]
    folder = write_folder(tmp_path / "in", tables)
    with pytest.raises(ValidationError) as err:
        run(folder, policy="quarantine")
    [issue] = issues_of(err, "type")
    assert issue.severity == "structural"
    assert (issue.table, issue.column, issue.rows) == ("cin_referrals", "referral_date", 3)
    assert issue.examples == [(1, "'21-05-2021'"), (2, "'10-01-2022'"), (3, "'02-03-2023'")]
    assert "YYYY-MM-DD" in issue.message and "DD/MM/YYYY" in issue.message


def test_column_unreadable_in_more_than_five_percent_of_rows_is_structural(tmp_path):
    # 40 persons, 10 with an unreadable age: 25% and 10 rows -> the column, not the rows
    tables = valid_tables()
    persons = pd.concat([tables["persons"]] * 5, ignore_index=True)
    persons["person_id"] = [f"P{i}" for i in range(len(persons))]
    persons = persons.astype({"age": object})
    persons.loc[:9, "age"] = "unknown"
    tables["persons"] = persons
    tables["census_npd_link"] = tables["census_npd_link"].iloc[:0]
    folder = write_folder(tmp_path / "in", tables)
    with pytest.raises(ValidationError) as err:
        run(folder)
    [issue] = issues_of(err, "type")
    assert issue.rows == 10 and issue.column == "age"
    assert "25% of the 40 checked" in issue.message
    assert len(issue.examples) == 5 and issue.examples[0] == (1, "'unknown'")


def test_codes_wrong_in_every_row_are_structural(tmp_path):
    tables = text_tables()
    tables["cin_referrals"]["primary_need_code"] = ["1", "4", "9"]
    folder = write_folder(tmp_path / "in", tables)
    with pytest.raises(ValidationError) as err:
        run(folder)
    [issue] = issues_of(err, "code")
    assert issue.column == "primary_need_code" and issue.rows == 3
    assert "N0, N1, N2" in issue.message


def test_month_first_slash_dates_are_refused_as_ambiguous(tmp_path):
    tables = text_tables()
    tables["looked_after_episodes"]["episode_start"] = ["02/01/2022", "08/15/2022"]
    folder = write_folder(tmp_path / "in", tables)
    with pytest.raises(ValidationError) as err:
        run(folder)
    [issue] = issues_of(err, "ambiguous_date")
    assert issue.examples == [(2, "'08/15/2022'")]
    assert "month/day/year" in issue.message and "YYYY-MM-DD" in issue.message


def test_conflicting_duplicate_la_code_in_areas_is_structural(tmp_path):
    tables = text_tables()
    areas = tables["areas"]
    tables["areas"] = pd.concat(
        [areas, areas.iloc[[0]].assign(la_name="Leeds City")], ignore_index=True
    )
    folder = write_folder(tmp_path / "in", tables)
    with pytest.raises(ValidationError) as err:
        run(folder)
    [issue] = issues_of(err, "duplicate_key")
    assert issue.severity == "structural" and issue.examples == [(3, "'E08000035'")]
    assert "keep one row per la_code" in issue.message


def test_exact_duplicate_area_is_only_quarantined(tmp_path):
    tables = text_tables()
    tables["areas"] = pd.concat([tables["areas"], tables["areas"].iloc[[1]]], ignore_index=True)
    report = run(write_folder(tmp_path / "in", tables))
    assert report.tables["areas"].rows_quarantined == 1
    assert report.tables["areas"].reasons == {"exact duplicate row": 1}


@pytest.mark.parametrize(
    "content",
    [
        "",
        "household_id,census_year,la_code,lsoa_code,"
        "occupancy_rating_rooms,shared_dwelling,central_heating\n",
    ],
)
def test_blank_required_table_is_structural(tmp_path, content):
    folder = write_folder(tmp_path / "in", valid_tables())
    (folder / "households.csv").write_text(content)
    with pytest.raises(ValidationError) as err:
        run(folder)
    [issue] = issues_of(err, "no_rows")
    assert issue.table == "households" and "no data rows" in issue.message


def test_required_table_with_every_row_quarantined_is_structural_and_explained(tmp_path):
    tables = text_tables()
    tables["persons"]["household_id"] = "H9"
    folder = write_folder(tmp_path / "in", tables)
    with pytest.raises(ValidationError) as err:
        run(folder)
    [issue] = issues_of(err, "no_rows")
    assert issue.table == "persons" and "all 8 rows" in issue.message
    # the row problems that emptied the table are listed too
    [why] = issues_of(err, "reference")
    assert why.table == "persons" and why.rows == 8


def test_every_structural_problem_is_listed_in_one_error(tmp_path):
    tables = text_tables()
    del tables["areas"]
    tables["persons"] = tables["persons"].drop(columns="sex")
    tables["cin_referrals"]["referral_nfa"] = "perhaps"
    folder = write_folder(tmp_path / "in", tables)
    with pytest.raises(ValidationError) as err:
        run(folder)
    checks = {(i.table, i.check) for i in err.value.issues}
    assert {
        ("areas", "missing_table"),
        ("persons", "missing_column"),
        ("cin_referrals", "type"),
    } <= checks
    text = str(err.value)
    assert text.startswith(f"{folder} cannot be used as it stands: 3 problems to fix.")
    assert "1. " in text and "2. " in text and "3. " in text


def test_unreadable_files_are_structural(tmp_path):
    folder = write_folder(tmp_path / "in", valid_tables())
    # neither UTF-8 nor Windows-1252 (Windows-1252 text is read: tests/test_cells.py)
    (folder / "areas.csv").write_bytes(b"la_code,la_name\nE1,K\x81\x8dbenhavn\n")
    (folder / "households.csv").unlink()
    (folder / "households.parquet").write_bytes(b"not parquet")
    with pytest.raises(ValidationError) as err:
        run(folder)
    found = {i.table: i.message for i in issues_of(err, "unreadable_file")}
    assert "UTF-8" in found["areas"]
    assert "not a readable Parquet file" in found["households"]


def test_missing_input_folder_and_bad_reference_date(tmp_path):
    with pytest.raises(ValidationError, match="does not exist"):
        run(tmp_path / "nowhere")
    folder = write_folder(tmp_path / "in", valid_tables())
    with pytest.raises(ValidationError, match="YYYY-MM-DD"):
        run(folder, reference_date="31/12/2024")


def test_unknown_policy_and_table_are_programming_errors(tmp_path):
    folder = write_folder(tmp_path / "in", valid_tables())
    with pytest.raises(ValueError, match="policy"):
        run(folder, policy="ignore")
    with pytest.raises(ValueError, match="not contract tables: people"):
        run(folder, tables=["people"])


def test_structural_error_message_reads_well(tmp_path):
    """The whole message of one structural problem, as a user sees it."""
    tables = text_tables()
    tables["households"]["occupancy_rating_rooms"] = ["one", "two", "three"]
    folder = write_folder(tmp_path / "in", tables)
    with pytest.raises(ValidationError) as err:
        run(folder)
    [issue] = issues_of(err, "type")
    assert issue.message == (
        "households.csv (table households, column occupancy_rating_rooms): 3 rows (all of the "
        "3 checked) with a value that cannot be read as int; so many point at the whole column "
        "(wrong column, format or coding), not at single rows, e.g. row 1: 'one', row 2: "
        "'two', row 3: 'three'. Fix: write each value as a whole number such as 3 (3.0 is "
        "accepted, 3.5 is not); correct or empty the cells."
    )


def test_csv_header_with_a_column_twice_is_structural(tmp_path):
    folder = write_folder(tmp_path / "in", text_tables())
    lines = (folder / "areas.csv").read_text().splitlines()
    lines = [lines[0] + ",la_name"] + [ln + ",Other" for ln in lines[1:]]
    (folder / "areas.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(ValidationError) as err:
        run(folder)
    [issue] = issues_of(err, "duplicate_column")
    assert (
        issue.column == "la_name" and "2 times" in issue.message and "'la_name.1'" in issue.message
    )


def _many_referrals(pupils: list[str]) -> pd.DataFrame:
    n = len(pupils)
    return pd.DataFrame(
        {
            "pupil_id": pupils,
            "la_code": ["E08000035"] * n,
            "referral_date": pd.to_datetime(["2021-05-01"] * n),
            "primary_need_code": ["N1"] * n,
            "cin_closure_date": pd.to_datetime([None] * n),
            "referral_nfa": [False] * n,
        }
    )


def test_a_table_losing_most_rows_to_a_cascade_stops_the_run(tmp_path):
    # every referral orphaned (the pupil ids lost a prefix, as a spreadsheet does to zeros):
    # each row fails only the reference check, which alone never stops the run
    tables = valid_tables()
    tables["cin_referrals"] = _many_referrals([f"2{i}" for i in range(12)] + ["U2", "U5"])
    folder = write_folder(tmp_path / "in", tables)
    with pytest.raises(ValidationError) as err:
        run(folder)
    [issue] = issues_of(err, "systematic_loss")
    assert issue.table == "cin_referrals" and issue.file == "cin_referrals.csv"
    assert "12 of 14 rows (86%)" in issue.message
    assert "reference to a row that does not exist: 12" in issue.message
    assert "max_loss_share" in issue.message  # the fix names the setting
    assert issue.examples and issue.examples[0][0] == 1  # example rows with their reason
    assert not (tmp_path / "validated").exists()  # nothing written


def test_the_allowed_loss_is_configurable_and_a_few_bad_rows_are_not_systematic(tmp_path):
    tables = valid_tables()
    tables["cin_referrals"] = _many_referrals([f"2{i}" for i in range(12)] + ["U2", "U5"])
    folder = write_folder(tmp_path / "in", tables)
    report = run(folder, max_loss_share=0.9)
    assert report.tables["cin_referrals"].rows_quarantined == 12
    # below 10 lost rows the rule never applies, whatever the share
    tables["cin_referrals"] = _many_referrals(["X1", "X2", "U2"])
    folder = write_folder(tmp_path / "in2", tables)
    assert run(folder).tables["cin_referrals"].rows_quarantined == 2


def test_headers_that_fold_to_one_contract_column_stop_the_run(tmp_path):
    tables = valid_tables()
    persons = tables["persons"].copy()
    persons["AGE"] = persons["age"] + 1  # a second age column, differently spelled
    tables["persons"] = persons
    folder = write_folder(tmp_path / "in", tables)
    with pytest.raises(ValidationError) as err:
        run(folder)
    [issue] = issues_of(err, "duplicate_column")
    assert issue.table == "persons" and issue.column == "age"
    assert "'age'" in issue.message and "'AGE'" in issue.message
    assert "silently left out" in issue.message


@pytest.mark.parametrize(
    "text",
    [
        'person_id,household_id\n"P1,H1\nP2,H2\n',  # a stray quote runs to the end
        "person_id,household_id\nP1,H1,extra\nP2,H2\n",  # an unquoted comma
    ],
)
def test_a_stray_quote_or_comma_is_a_structural_issue_not_a_traceback(tmp_path, text):
    folder = write_folder(tmp_path / "in", valid_tables())
    (folder / "persons.csv").write_text(text)
    with pytest.raises(ValidationError) as err:
        run(folder)
    [issue] = issues_of(err, "unreadable_file")
    assert issue.table == "persons" and "delimiters as the header" in issue.message


def test_float_ids_too_large_to_be_exact_stop_the_run(tmp_path):
    tables = valid_tables()
    big = {h: float(2**53 + 2 * k) for k, h in enumerate(tables["households"]["household_id"])}
    tables["households"]["household_id"] = tables["households"]["household_id"].map(big)
    tables["persons"]["household_id"] = tables["persons"]["household_id"].map(big)
    folder = write_folder(tmp_path / "in", tables, fmt="parquet")
    with pytest.raises(ValidationError) as err:
        run(folder)
    found = [i for i in err.value.issues if i.column == "household_id" and i.check == "type"]
    assert found and all(i.severity == "structural" for i in found)
    assert "cannot be held exactly" in found[0].message


def test_la_code_is_checked_against_the_ons_code_pattern(tmp_path):
    tables = valid_tables()
    areas = tables["areas"].copy()
    areas.loc[len(areas)] = ["../../etc/passwd", "Nowhere", "E12000003", "Yorkshire"]
    tables["areas"] = areas
    folder = write_folder(tmp_path / "in", tables)
    report = run(folder)
    [issue] = [i for i in report.issues if i.table == "areas" and i.column == "la_code"]
    assert issue.check == "code" and issue.rows == 1
    assert "ONS code, e.g. E08000004" in issue.message and "passwd" in issue.message
    assert report.tables["areas"].rows_quarantined == 1


def test_households_count_their_quarantined_persons(tmp_path):
    tables = valid_tables()
    persons = tables["persons"].copy()
    persons.loc[persons["person_id"] == "P1", "age"] = 150  # out of range: quarantined
    tables["persons"] = persons
    h1 = persons.loc[persons["person_id"] == "P1", "household_id"].iloc[0]
    folder = write_folder(tmp_path / "in", tables)
    run(folder)
    hh = read_validated_table(tmp_path / "validated", "households").set_index("household_id")
    assert hh["persons_quarantined"].to_dict() == {
        h: int(h == h1) for h in tables["households"]["household_id"]
    }
    # nothing quarantined: no extra column
    clean = write_folder(tmp_path / "in2", valid_tables())
    run(clean)
    assert "persons_quarantined" not in read_validated_table(tmp_path / "validated", "households")


def test_iso_dates_mixed_with_ambiguous_slash_dates_stop_the_run(tmp_path):
    tables = text_tables()
    refs = tables["cin_referrals"].copy()
    refs.loc[0, "referral_date"] = "05/01/2021"  # 5 January or 1 May? the others are ISO
    tables["cin_referrals"] = refs
    folder = write_folder(tmp_path / "in", tables)
    with pytest.raises(ValidationError) as err:
        run(folder)
    [issue] = issues_of(err, "ambiguous_date")
    assert issue.column == "referral_date" and "mixes ISO dates" in issue.message
    assert issue.examples == [(1, "'05/01/2021'")]
