"""What validation writes: untouched valid tables, quarantine files, row accounting that
always adds up, the JSON report and the summary; and reading the validated tables."""

import json

import numpy as np
import pandas as pd
import pytest
from test_validate_data import (
    read_out,
    read_quarantine,
    run,
    text_tables,
    valid_tables,
    write_folder,
)

from child_mdh.contract import tables as contract
from child_mdh.files import read_parquet_metadata, write_parquet
from child_mdh.validation.folder import TableAccounting, read_validated_table


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_valid_folder_passes_untouched(tmp_path, fmt):
    tables = valid_tables()
    folder = write_folder(tmp_path / "in", tables, fmt=fmt)
    report = run(folder)
    assert report.rows_quarantined == 0
    assert [i for i in report.issues if i.severity != "note"] == []
    for name, expected in tables.items():
        pd.testing.assert_frame_equal(read_out(folder, name), expected)
        assert len(read_quarantine(folder, name)) == 0


def messy_folder(tmp_path):
    """A folder with problems of many kinds in several tables (and cascades)."""
    tables = text_tables()
    tables["households"].loc[2, "central_heating"] = "maybe"  # H3 -> P6-P8 -> links
    tables["persons"].loc[1, "age"] = "130"
    tables["persons"].loc[3, "sex"] = "X"
    tables["persons"] = pd.concat(
        [tables["persons"], tables["persons"].iloc[[0]]], ignore_index=True
    )
    tables["cin_referrals"].loc[0, "cin_closure_date"] = "2021-01-01"
    tables["cin_referrals"].loc[1, "pupil_id"] = "U99"
    tables["census_npd_link"] = pd.concat(
        [tables["census_npd_link"], pd.DataFrame({"person_id": ["P1"], "pupil_id": ["U3"]})],
        ignore_index=True,
    )
    return write_folder(tmp_path / "in", tables)


def test_row_accounting_always_adds_up(tmp_path):
    folder = messy_folder(tmp_path)
    report = run(folder)
    acc = pd.read_csv(tmp_path / "validated" / "row_accounting.csv")
    assert acc["table"].tolist() == list(contract.TABLES)
    assert (acc["rows_read"] == acc["rows_used"] + acc["rows_quarantined"]).all()
    for name in contract.TABLES:
        row = acc.set_index("table").loc[name]
        # rows read = rows in the input file; used = rows written; quarantined = rows set aside
        assert row["rows_read"] == len(pd.read_csv(folder / f"{name}.csv", dtype=str))
        assert row["rows_used"] == len(read_out(folder, name))
        assert row["rows_quarantined"] == len(read_quarantine(folder, name))
    # households: H3; persons: P2 (age), P4 (sex), P6-P8 (cascade), repeat of P1
    quarantined = acc.set_index("table")["rows_quarantined"]
    assert quarantined[["households", "persons", "census_npd_link", "cin_referrals"]].tolist() == [
        1,
        6,
        5,
        2,
    ]
    assert report.tables["persons"].reasons == {
        "value out of range": 1,
        "value not in the code list": 1,
        "parent row quarantined": 3,
        "exact duplicate row": 1,
    }
    assert acc.set_index("table").loc["persons", "reasons"] == (
        "exact duplicate row: 1; parent row quarantined: 3; value not in the code list: 1; "
        "value out of range: 1"
    )


def test_table_accounting_refuses_numbers_that_do_not_add_up():
    with pytest.raises(AssertionError, match="does not add up"):
        TableAccounting("persons", "persons.csv", 10, 8, 1)


def test_quarantine_files_hold_text_row_numbers_and_reasons(tmp_path):
    folder = messy_folder(tmp_path)
    run(folder)
    q = read_quarantine(folder, "persons")
    assert list(q.columns) == contract.table("persons").column_names + ["_row_number", "_reason"]
    assert q["_row_number"].tolist() == [2, 4, 6, 7, 8, 9]
    assert (q.drop(columns="_row_number").dtypes.astype(str) == "str").all()
    # the row number points at the input file: row n is line n + 1 of the CSV
    lines = (folder / "persons.csv").read_text().splitlines()
    assert lines[2].startswith("P2,H1,130,")
    assert q.set_index("_row_number").loc[9, "_reason"] == "exact duplicate of row 1"


def test_validation_report_json(tmp_path):
    folder = messy_folder(tmp_path)
    report = run(folder)
    data = json.loads((tmp_path / "validated" / "validation_report.json").read_text())
    assert data["policy"] == "quarantine" and data["reference_date"] == "2024-12-31"
    assert data["contract_version"] == contract.CONTRACT_VERSION
    assert data["tables"]["persons"]["rows_quarantined"] == 6
    assert len(data["issues"]) == len(report.issues)
    first = data["issues"][0]
    assert {
        "table",
        "file",
        "column",
        "check",
        "severity",
        "rows",
        "examples",
        "message",
        "fix",
    } <= set(first)
    assert first["examples"][0].keys() == {"row", "value"}


def test_summary_text_names_tables_counts_and_problems(tmp_path):
    report = run(messy_folder(tmp_path))
    text = report.summary_text()
    assert "policy: quarantine" in text and "2024-12-31" in text
    assert "14 rows quarantined in 4 tables" in text
    assert (
        "persons.csv (table persons, column age): 1 row with a value out of range 0 to 110, "
        "e.g. row 2: '130'. Quarantined." in text
    )
    line = next(ln for ln in text.splitlines() if ln.startswith("persons "))
    assert line.split()[-3:] == ["9", "3", "6"]


def test_validated_tables_carry_metadata_and_input_metadata_is_kept(tmp_path):
    folder = write_folder(tmp_path / "in", valid_tables(), fmt="parquet")
    write_parquet(valid_tables()["areas"], folder / "areas.parquet", {"synthetic": True})
    run(folder)
    meta = read_parquet_metadata(tmp_path / "validated" / "areas.parquet")
    assert meta["validated"] is True and meta["synthetic"] is True
    assert meta["source_file"] == "areas.parquet" and meta["table"] == "areas"


def test_rerun_on_fixed_input_leaves_no_stale_quarantine(tmp_path):
    folder = messy_folder(tmp_path)
    run(folder)
    assert len(read_quarantine(folder, "persons")) == 6
    write_folder(folder, text_tables())
    run(folder)
    assert len(read_quarantine(folder, "persons")) == 0


def test_read_validated_table_refuses_unvalidated_or_missing_files(tmp_path):
    out = tmp_path / "validated"
    with pytest.raises(FileNotFoundError, match="validate"):
        read_validated_table(out, "areas")
    valid_tables()["areas"].to_parquet((out.mkdir() or out) / "areas.parquet")
    with pytest.raises(ValueError, match="not written by validation"):
        read_validated_table(out, "areas")
    with pytest.raises(KeyError, match="not a contract table"):
        read_validated_table(out, "people")


def test_tables_subset_validates_only_those(tmp_path):
    tables = text_tables()
    tables["persons"]["household_id"] = "H9"  # would be orphans, but households is left out
    folder = write_folder(tmp_path / "in", {k: tables[k] for k in ("areas", "persons")})
    report = run(folder, tables=["persons", "areas"])
    assert list(report.tables) == ["areas", "persons"]
    assert report.rows_quarantined == 0
    assert not (tmp_path / "validated" / "households.parquet").exists()


def test_contract_dtypes_after_reading(tmp_path):
    folder = messy_folder(tmp_path)
    run(folder)
    for name in contract.TABLES:
        df = read_out(folder, name)
        expected = contract.table(name).dtypes()
        if name == "households":  # the messy folder quarantines persons: counted per household
            expected = {**expected, "persons_quarantined": "int64"}
        assert df.dtypes.astype(str).to_dict() == expected


def test_larger_table_is_checked_without_row_loops(tmp_path):
    """200,000 persons with 1% bad ages: quarantined exactly, in well under the suite budget."""
    import time

    n = 200_000
    rng = np.random.default_rng(7)
    tables = valid_tables()
    persons = pd.DataFrame(
        {
            "person_id": [f"Q{i}" for i in range(n)],
            "household_id": rng.choice(["H1", "H2", "H3"], n),
            "age": rng.integers(0, 100, n),
            "sex": rng.choice(["F", "M"], n),
            "economic_activity": "not_applicable",
            "full_time_student": rng.random(n) < 0.5,
            "highest_qualification": "not_applicable",
            "general_health": rng.integers(1, 6, n),
            "disability": "not_limited",
            "ethnic_group": None,
        }
    )
    bad = rng.choice(n, n // 100, replace=False)
    persons.loc[bad, "age"] = 111
    tables["persons"] = contract.conform(persons, "persons")
    tables["census_npd_link"] = tables["census_npd_link"].iloc[:0]
    folder = write_folder(tmp_path / "in", tables, fmt="parquet")
    start = time.perf_counter()
    report = run(folder)
    elapsed = time.perf_counter() - start
    assert report.tables["persons"].rows_quarantined == n // 100
    assert sorted(read_quarantine(folder, "persons")["_row_number"]) == sorted(bad + 1)
    assert elapsed < 20


def test_read_validated_table_columns_are_those_of_the_whole_read(tmp_path):
    folder = write_folder(tmp_path / "in", valid_tables(), fmt="parquet")
    run(folder)
    out = tmp_path / "validated"
    whole = read_validated_table(out, "pupil_census")
    columns = ["fsm_eligible", "pupil_id", "census_date"]
    pd.testing.assert_frame_equal(
        read_validated_table(out, "pupil_census", columns), whole[columns]
    )
