"""Row-level problems: with policy "quarantine" the row is set aside with its reason, with
policy "stop" the run stops listing them. One test per class of problem."""

import numpy as np
import pandas as pd
import pytest
from test_validate_data import read_out, read_quarantine, run, text_tables, write_folder

from child_mdh.validation.folder import ValidationError


def quarantine_one(tmp_path, table, row, column, value):
    """Set one cell (0-based row) of a valid folder, validate, return (report, quarantine)."""
    tables = text_tables()
    tables[table].loc[row, column] = value
    folder = write_folder(tmp_path / "in", tables)
    report = run(folder)
    return report, read_quarantine(folder, table), folder


def only_issue(report, check):
    found = [i for i in report.issues if i.check == check]
    assert len(found) == 1, [i.message for i in report.issues]
    return found[0]


def test_unreadable_value_is_quarantined(tmp_path):
    report, q, _ = quarantine_one(tmp_path, "households", 2, "central_heating", "maybe")
    assert q["_row_number"].tolist() == [3]
    assert q["_reason"].tolist() == ["central_heating cannot be read as bool: 'maybe'"]
    assert q["central_heating"].tolist() == ["maybe"]  # the original text is kept
    issue = only_issue(report, "type")
    assert (issue.table, issue.column, issue.rows, issue.severity) == (
        "households",
        "central_heating",
        1,
        "row",
    )
    assert issue.examples == [(3, "'maybe'")]
    assert "True or False" in issue.message and "Quarantined." in issue.message


def test_value_not_in_code_list_is_quarantined(tmp_path):
    report, q, _ = quarantine_one(tmp_path, "persons", 3, "economic_activity", "retired")
    assert q["_reason"].tolist() == ["economic_activity not in the code list: 'retired'"]
    issue = only_issue(report, "code")
    assert issue.examples == [(4, "'retired'")] and "in_employment" in issue.fix


def test_value_out_of_range_is_quarantined(tmp_path):
    report, q, _ = quarantine_one(tmp_path, "persons", 1, "age", "130")
    assert q["_reason"].tolist() == ["age out of range 0 to 110: '130'"]
    issue = only_issue(report, "range")
    assert (issue.column, issue.rows) == ("age", 1)
    assert "between 0 and 110" in issue.fix


def test_range_bounds_are_inclusive(tmp_path):
    tables = text_tables()
    tables["persons"].loc[0, "age"] = "110"
    tables["households"].loc[0, "occupancy_rating_rooms"] = "-20"
    report = run(write_folder(tmp_path / "in", tables))
    assert report.rows_quarantined == 0


def test_missing_value_in_non_nullable_column_is_quarantined(tmp_path):
    report, q, _ = quarantine_one(tmp_path, "persons", 4, "disability", "")
    assert q["_reason"].tolist() == ["disability is empty: (empty)"]
    assert only_issue(report, "missing").rows == 1


def test_empty_values_are_fine_where_the_contract_allows_them(tmp_path):
    tables = text_tables()
    tables["persons"]["ethnic_group"] = ""  # optional, nullable
    tables["households"]["lsoa_code"] = ""
    report = run(write_folder(tmp_path / "in", tables))
    assert report.rows_quarantined == 0


def test_exact_duplicate_rows_keep_the_first(tmp_path):
    tables = text_tables()
    p = tables["persons"]
    tables["persons"] = pd.concat([p, p.iloc[[2]]], ignore_index=True)
    folder = write_folder(tmp_path / "in", tables)
    report = run(folder)
    q = read_quarantine(folder, "persons")
    assert q["_row_number"].tolist() == [9]
    assert q["_reason"].tolist() == ["exact duplicate of row 3"]
    assert read_out(folder, "persons")["person_id"].tolist() == [f"P{i}" for i in range(1, 9)]
    assert "repeating an earlier row exactly" in only_issue(report, "exact_duplicate").message


def test_conflicting_duplicate_key_keeps_the_first_and_names_the_differences(tmp_path):
    tables = text_tables()
    p = tables["persons"]
    tables["persons"] = pd.concat([p, p.iloc[[2]].assign(age="13", sex="M")], ignore_index=True)
    folder = write_folder(tmp_path / "in", tables)
    report = run(folder)
    q = read_quarantine(folder, "persons")
    assert q["_reason"].tolist() == ["duplicate key of row 3, values differ in: age, sex"]
    assert read_out(folder, "persons").set_index("person_id").loc["P3", "age"] == 12
    assert only_issue(report, "duplicate_key").examples == [(9, "'P3'")]


def test_composite_key_duplicates(tmp_path):
    tables = text_tables()
    pc = tables["pupil_census"]
    # same pupil, same census date: duplicate; same pupil, other date: fine
    extra = pc.iloc[[2]].assign(fsm_eligible="True")
    tables["pupil_census"] = pd.concat([pc, extra], ignore_index=True)
    folder = write_folder(tmp_path / "in", tables)
    run(folder)
    q = read_quarantine(folder, "pupil_census")
    assert q["_reason"].tolist() == ["duplicate key of row 3, values differ in: fsm_eligible"]


def test_reference_to_a_missing_parent_is_quarantined(tmp_path):
    report, q, _ = quarantine_one(tmp_path, "cin_referrals", 1, "pupil_id", "U99")
    assert q["_reason"].tolist() == ["pupil_id not in pupil_census: 'U99'"]
    issue = only_issue(report, "reference")
    assert issue.column == "pupil_id" and "pupil_census.csv" in issue.message


@pytest.mark.parametrize(
    "table,column,value",
    [
        ("households", "la_code", "E09000001"),
        ("persons", "household_id", "H7"),
        ("census_npd_link", "person_id", "P99"),
        ("census_npd_link", "pupil_id", "U99"),
        ("child_protection_plans", "pupil_id", "U99"),
        ("looked_after_episodes", "la_code", "E09000001"),
    ],
)
def test_every_contract_reference_is_checked(tmp_path, table, column, value):
    _report, q, _ = quarantine_one(tmp_path, table, 0, column, value)
    assert q["_row_number"].tolist() == [1]
    assert q["_reason"].iloc[0].startswith(f"{column} not in ")


def test_quarantined_household_cascades_to_its_persons_and_their_links(tmp_path):
    # H3 (row 3) gets an impossible occupancy rating: its persons P6, P7, P8 lose their
    # household, and the links of P7 and P8 lose their person.
    tables = text_tables()
    tables["households"].loc[2, "occupancy_rating_rooms"] = "99"
    folder = write_folder(tmp_path / "in", tables)
    report = run(folder)
    persons_q = read_quarantine(folder, "persons")
    assert persons_q["person_id"].tolist() == ["P6", "P7", "P8"]
    assert set(persons_q["_reason"]) == {"parent household quarantined: 'H3'"}
    link_q = read_quarantine(folder, "census_npd_link")
    assert link_q["person_id"].tolist() == ["P7", "P8"]
    assert set(link_q["_reason"]) == {
        "parent person quarantined: 'P7'",
        "parent person quarantined: 'P8'",
    }
    acc = report.tables
    assert (
        acc["households"].rows_used,
        acc["persons"].rows_used,
        acc["census_npd_link"].rows_used,
    ) == (2, 5, 3)
    assert acc["persons"].reasons == {"parent row quarantined": 3}
    cascade = [i for i in report.issues if i.check == "parent_quarantined"]
    assert [(i.table, i.rows) for i in cascade] == [("persons", 3), ("census_npd_link", 2)]
    # pupils are not children of persons: their rows stay
    assert acc["pupil_census"].rows_quarantined == 0


def test_end_date_before_start_date_is_quarantined(tmp_path):
    report, q, _ = quarantine_one(
        tmp_path, "child_protection_plans", 0, "cpp_end_date", "2021-05-31"
    )
    assert q["_reason"].tolist() == [
        "cpp_end_date before cpp_start_date: '2021-06-01 to 2021-05-31'"
    ]
    assert only_issue(report, "date_order").column == "cpp_end_date"


def test_same_day_start_and_end_is_allowed(tmp_path):
    # the builder's third CIN referral opens and closes on 2023-03-02
    report = run(write_folder(tmp_path / "in", text_tables()))
    assert report.tables["cin_referrals"].rows_quarantined == 0


def test_dates_after_the_reference_date_are_in_the_future(tmp_path):
    tables = text_tables()
    tables["cin_referrals"].loc[2, "referral_date"] = "2025-01-01"
    tables["cin_referrals"].loc[2, "cin_closure_date"] = ""
    folder = write_folder(tmp_path / "in", tables)
    report = run(folder, reference_date="2024-12-31")
    q = read_quarantine(folder, "cin_referrals")
    assert q["_reason"].tolist() == ["referral_date after 2024-12-31: '2025-01-01'"]
    assert "2024-12-31" in only_issue(report, "future_date").message
    # the same date is not in the future one day later
    assert run(folder, reference_date="2025-01-01").rows_quarantined == 0


def test_link_that_is_not_one_to_one_quarantines_every_row_of_the_ambiguous_link(tmp_path):
    tables = text_tables()
    link = tables["census_npd_link"]
    # P1 (an adult) also linked to U3, which is already P3's pupil
    tables["census_npd_link"] = pd.concat(
        [link, pd.DataFrame({"person_id": ["P1"], "pupil_id": ["U3"]})], ignore_index=True
    )
    folder = write_folder(tmp_path / "in", tables)
    report = run(folder)
    q = read_quarantine(folder, "census_npd_link")
    assert q["_row_number"].tolist() == [2, 6]
    assert q["_reason"].tolist() == [
        "link not one-to-one: 'P3 - U3'",
        "link not one-to-one: 'P1 - U3'",
    ]
    assert only_issue(report, "link_not_one_to_one").rows == 2
    assert read_out(folder, "census_npd_link")["person_id"].tolist() == ["P2", "P5", "P7", "P8"]


def test_person_linked_to_two_pupils_is_ambiguous(tmp_path):
    tables = text_tables()
    link = tables["census_npd_link"]
    tables["census_npd_link"] = pd.concat(
        [link, pd.DataFrame({"person_id": ["P2"], "pupil_id": ["U5"]})], ignore_index=True
    )
    folder = write_folder(tmp_path / "in", tables)
    run(folder)
    # P2-U2 and P2-U5 share P2; P5-U5 and P2-U5 share U5: all three are ambiguous
    assert read_quarantine(folder, "census_npd_link")["_row_number"].tolist() == [1, 3, 6]


def test_exact_duplicate_link_row_is_a_duplicate_not_an_ambiguity(tmp_path):
    tables = text_tables()
    link = tables["census_npd_link"]
    tables["census_npd_link"] = pd.concat([link, link.iloc[[0]]], ignore_index=True)
    folder = write_folder(tmp_path / "in", tables)
    run(folder)
    q = read_quarantine(folder, "census_npd_link")
    assert q["_reason"].tolist() == ["exact duplicate of row 1"]


def test_several_problems_in_one_row_are_all_given(tmp_path):
    tables = text_tables()
    tables["persons"].loc[0, "age"] = "-4"
    tables["persons"].loc[0, "sex"] = "U"
    folder = write_folder(tmp_path / "in", tables)
    report = run(folder)
    q = read_quarantine(folder, "persons")
    assert q["_reason"].tolist() == [
        "age out of range 0 to 110: '-4'; sex not in the code list: 'U'"
    ]
    # one row quarantined, counted under both reasons
    assert report.tables["persons"].rows_quarantined == 1
    assert report.tables["persons"].reasons == {
        "value out of range": 1,
        "value not in the code list": 1,
    }


def test_policy_stop_lists_every_row_problem_and_writes_nothing(tmp_path):
    tables = text_tables()
    tables["persons"].loc[1, "age"] = "130"
    tables["cin_referrals"].loc[0, "primary_need_code"] = "N11"
    folder = write_folder(tmp_path / "in", tables)
    with pytest.raises(ValidationError) as err:
        run(folder, policy="stop")
    found = {(i.table, i.column, i.check, i.rows) for i in err.value.issues}
    # P2 (row 2) is linked to a pupil, so its link row would cascade: listed too
    assert found == {
        ("persons", "age", "range", 1),
        ("cin_referrals", "primary_need_code", "code", 1),
        ("census_npd_link", "person_id", "parent_quarantined", 1),
    }
    text = str(err.value)
    assert "policy 'stop'" in text and "3 problems to fix" in text
    assert "row 2: '130'" in text and "row 1: 'N11'" in text
    assert not (tmp_path / "validated").exists()


def test_policy_stop_passes_a_valid_folder(tmp_path):
    report = run(write_folder(tmp_path / "in", text_tables()), policy="stop")
    assert report.rows_quarantined == 0 and report.policy == "stop"


def test_policy_quarantine_continues_past_the_same_problems(tmp_path):
    tables = text_tables()
    tables["persons"].loc[1, "age"] = "130"
    tables["cin_referrals"].loc[0, "primary_need_code"] = "N11"
    report = run(write_folder(tmp_path / "in", tables), policy="quarantine")
    assert report.tables["persons"].rows_quarantined == 1
    assert report.tables["cin_referrals"].rows_quarantined == 1


@pytest.mark.parametrize("keep", ["first", "last", False])
def test_duplicate_rows_from_integer_codes_match_pandas(keep):
    # the key checks find repeats from integer row codes and a sort (memory at scale);
    # they must mark exactly the rows pandas' duplicated marks, missing equal to missing
    from child_mdh.validation.rows import _duplicated

    rng = np.random.default_rng(3)
    for _ in range(100):
        n = int(rng.integers(0, 30))
        frame = pd.DataFrame(
            {
                "text": pd.Series(rng.choice(["a", "b", None, "c"], n), dtype="str"),
                "date": pd.to_datetime(rng.choice(["2020-01-01", "2021-05-01", None], n)),
                "number": pd.Series(rng.choice([1, 2, None], n), dtype="Int64"),
            }
        )
        for cols in (["text"], ["date"], ["number"], ["text", "date"], ["text", "date", "number"]):
            sub = frame[cols]
            expected = (sub.iloc[:, 0] if len(cols) == 1 else sub).duplicated(keep=keep)
            assert (_duplicated(sub, keep) == expected.to_numpy()).all(), cols


def test_parsed_column_equal_to_its_cells_shares_their_memory():
    import pyarrow as pa

    from child_mdh.contract import tables as contract
    from child_mdh.validation.rows import RowFlags, TableData, check_column

    raw = pd.DataFrame({"household_id": pd.Series(["H1", "H2", "H3"], dtype="str")})
    table = contract.table("households")
    data = TableData(table, "", None, raw, values=pd.DataFrame(index=raw.index), flags=RowFlags(3))
    check_column(data, table.column("household_id"))
    assert data.values["household_id"].tolist() == ["H1", "H2", "H3"]

    def data_buffer(s):
        return pa.chunked_array(pa.array(s.array)).chunk(0).buffers()[2].address

    assert data_buffer(data.values["household_id"]) == data_buffer(raw["household_id"])
