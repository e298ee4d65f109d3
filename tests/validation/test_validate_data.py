"""A tiny valid input folder for the validation tests, and checks that it is valid.

``valid_tables()`` returns the eight contract tables (2 areas, 3 households, 8 persons,
5 pupils, their links and a few social-care rows) as typed DataFrames; ``write_folder``
writes them as CSV or Parquet. Other test_validate_* modules import these.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from child_mdh.contract import tables as contract
from child_mdh.validation.folder import read_validated_table, validate_folder

REFERENCE_DATE = "2024-12-31"
LEEDS, YORK = "E08000035", "E06000014"


def _dates(values):
    return pd.to_datetime(pd.Series(values, dtype="object")).astype("datetime64[ns]")


def valid_tables() -> dict[str, pd.DataFrame]:
    """The eight contract tables, small and valid, in contract dtypes."""
    t = {}
    t["areas"] = pd.DataFrame(
        {
            "la_code": [LEEDS, YORK],
            "la_name": ["Leeds", "York"],
            "region_code": ["E12000003", "E12000003"],
            "region_name": ["Yorkshire and The Humber"] * 2,
        }
    )
    t["households"] = pd.DataFrame(
        {
            "household_id": ["H1", "H2", "H3"],
            "census_year": [2021, 2021, 2021],
            "la_code": [LEEDS, LEEDS, YORK],
            "lsoa_code": ["E01011229", None, "E01013345"],
            "occupancy_rating_rooms": [-1, 0, 2],
            "shared_dwelling": [False, False, True],
            "central_heating": [True, False, True],
        }
    )
    t["persons"] = pd.DataFrame(
        {
            "person_id": [f"P{i}" for i in range(1, 9)],
            "household_id": ["H1", "H1", "H1", "H2", "H2", "H3", "H3", "H3"],
            "age": [35, 8, 12, 40, 5, 30, 10, 15],
            "sex": ["F", "M", "F", "M", "F", "F", "M", "F"],
            "economic_activity": [
                "in_employment",
                "not_applicable",
                "not_applicable",
                "unemployed",
                "not_applicable",
                "inactive_long_term_sick_or_disabled",
                "not_applicable",
                "not_applicable",
            ],
            "full_time_student": [False, True, True, False, True, False, True, True],
            "highest_qualification": [
                "level3",
                "not_applicable",
                "not_applicable",
                "none",
                "not_applicable",
                "level1",
                "not_applicable",
                "not_applicable",
            ],
            "general_health": [2, 1, 1, 4, 1, 5, 2, 1],
            "disability": [
                "not_limited",
                "not_limited",
                "not_limited",
                "limited_a_lot",
                "not_limited",
                "limited_a_little",
                "not_limited",
                "not_limited",
            ],
            "ethnic_group": ["white", "white", "white", "black", "mixed", None, "asian", "asian"],
        }
    )
    t["pupil_census"] = pd.DataFrame(
        {
            "pupil_id": ["U2", "U2", "U3", "U5", "U7", "U8"],
            "census_date": _dates(
                ["2020-10-01", "2021-01-21", "2021-01-21", "2021-01-21", "2021-01-21", "2021-01-21"]
            ),
            "la_code": [LEEDS, LEEDS, LEEDS, LEEDS, YORK, YORK],
            "school_id": ["107001", "107001", "107002", "107003", "121001", "121002"],
            "fsm_eligible": [True, True, False, True, False, True],
        }
    )
    t["census_npd_link"] = pd.DataFrame(
        {
            "person_id": ["P2", "P3", "P5", "P7", "P8"],
            "pupil_id": ["U2", "U3", "U5", "U7", "U8"],
        }
    )
    t["cin_referrals"] = pd.DataFrame(
        {
            "pupil_id": ["U2", "U5", "U8"],
            "la_code": [LEEDS, LEEDS, YORK],
            "referral_date": _dates(["2021-05-01", "2022-01-10", "2023-03-02"]),
            "primary_need_code": ["N1", "N4", "N9"],
            "cin_closure_date": _dates(["2021-09-01", None, "2023-03-02"]),
            "referral_nfa": [False, True, False],
        }
    )
    t["child_protection_plans"] = pd.DataFrame(
        {
            "pupil_id": ["U2"],
            "la_code": [LEEDS],
            "cpp_start_date": _dates(["2021-06-01"]),
            "cpp_end_date": _dates(["2022-01-01"]),
        }
    )
    t["looked_after_episodes"] = pd.DataFrame(
        {
            "pupil_id": ["U7", "U7"],
            "la_code": [YORK, YORK],
            "episode_start": _dates(["2022-02-01", "2022-08-15"]),
            "episode_end": _dates(["2022-08-15", None]),
            "legal_status": ["V2", "C2"],
            "reason_new_episode": ["S", "L"],
        }
    )
    return {name: contract.conform(df, name) for name, df in t.items()}


def csv_cells(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` as the text cells a CSV export holds (dates YYYY-MM-DD, empty for missing)."""
    out = {}
    for col in df.columns:
        s = df[col]
        if str(s.dtype).startswith("datetime64"):
            text = s.dt.strftime("%Y-%m-%d")
        else:
            text = s.astype("str")
        out[col] = text.where(s.notna(), "").astype(object)
    return pd.DataFrame(out)


def text_tables() -> dict[str, pd.DataFrame]:
    """``valid_tables()`` as CSV text cells, ready to be edited cell by cell in a test."""
    return {name: csv_cells(df) for name, df in valid_tables().items()}


def write_folder(folder: Path, tables: dict[str, pd.DataFrame], fmt: str = "csv") -> Path:
    """Write ``tables`` into ``folder`` as ``<table>.csv`` or ``<table>.parquet``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        if fmt == "csv":
            df.to_csv(folder / f"{name}.csv", index=False)
        else:
            df.to_parquet(folder / f"{name}.parquet", index=False)
    return folder


def run(folder: Path, policy: str = "quarantine", **kwargs):
    """validate_folder with the test reference date, writing under ``folder``'s parent."""
    out = folder.parent / "validated"
    return validate_folder(
        folder,
        out,
        out / "quarantine",
        policy=policy,
        reference_date=kwargs.pop("reference_date", REFERENCE_DATE),
        **kwargs,
    )


def read_quarantine(folder: Path, name: str) -> pd.DataFrame:
    """The quarantine file of table ``name`` written by :func:`run`."""
    return pd.read_parquet(folder.parent / "validated" / "quarantine" / f"{name}.parquet")


def read_out(folder: Path, name: str) -> pd.DataFrame:
    """The validated table ``name`` written by :func:`run`."""
    return read_validated_table(folder.parent / "validated", name)


@pytest.mark.parametrize("name", list(contract.TABLES))
def test_builder_tables_are_in_contract_form(name):
    df = valid_tables()[name]
    assert list(df.columns) == contract.table(name).column_names
    assert df.dtypes.astype(str).to_dict() == contract.table(name).dtypes()
    assert len(df) > 0


def test_a_table_written_by_spark_as_a_folder_of_parts_is_validated(tmp_path):
    folder = write_folder(tmp_path / "in", valid_tables(), fmt="parquet")
    persons = pd.read_parquet(folder / "persons.parquet")
    (folder / "persons.parquet").unlink()
    parts = folder / "persons.parquet"
    parts.mkdir()
    persons.iloc[:4].to_parquet(parts / "part-00000.snappy.parquet", index=False)
    persons.iloc[4:].to_parquet(parts / "part-00001.snappy.parquet", index=False)
    (parts / "_SUCCESS").write_text("")
    report = run(folder)
    assert report.tables["persons"].rows_read == len(persons)
    assert report.tables["persons"].rows_quarantined == 0
