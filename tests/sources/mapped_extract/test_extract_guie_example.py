"""The documented example mapping applied to the tiny fake GUiE-style extract.

tests/data/extract/guie/ holds, in the shape of Growing Up in England (Census 2011), 5
households, 13 persons, the spring school censuses of 2001/02 to 2014/15 (pupils in three
of them; the others hold only their header), a census-NPD linkage file, a CIN table
spanning two return years, an SSDA903 episodes file and an LA lookup. Every expected value below is read off those files by hand.
"""

import pandas as pd
import pytest

from child_mdh.contract.tables import TABLES
from child_mdh.sources.mapped_extract import apply_mapping, check_mapping
from child_mdh.sources.mapped_extract.__main__ import main as cli_main

from paths import REPO

ROOT = REPO
MAPPING = ROOT / "config" / "examples" / "guie_mapping.yaml"
EXTRACT = ROOT / "tests" / "data" / "extract" / "guie"
T = pd.Timestamp


@pytest.fixture(scope="module")
def mapped(tmp_path_factory):
    out = tmp_path_factory.mktemp("contract")
    report = apply_mapping(MAPPING, out, extract_dir=EXTRACT)
    tables = {name: pd.read_parquet(out / f"{name}.parquet") for name in TABLES}
    return out, report, tables


def test_example_maps_every_table_from_the_extract(mapped):
    _, report, tables = mapped
    assert report.empty_tables == []
    assert report.tables == {
        "areas": 3,
        "households": 5,
        "persons": 13,
        "pupil_census": 19,
        "census_npd_link": 6,
        "cin_referrals": 4,
        "child_protection_plans": 2,
        "looked_after_episodes": 3,
    }
    for name, df in tables.items():
        table = TABLES[name]
        assert list(df.columns) == table.column_names, name
        assert {c: str(t) for c, t in df.dtypes.items()} == table.dtypes(), name
        if table.primary_key:
            assert not df.duplicated(list(table.primary_key)).any(), name


def test_every_coded_value_is_a_contract_code(mapped):
    _, _, tables = mapped
    for name, df in tables.items():
        for col in TABLES[name].columns:
            if col.codes is not None:
                assert set(df[col.name].dropna()) <= set(col.codes), (name, col.name)


def test_references_between_the_mapped_tables_hold(mapped):
    _, _, tables = mapped
    for name, df in tables.items():
        for col in TABLES[name].columns:
            if col.references:
                target, key = col.references
                assert set(df[col.name].dropna()) <= set(tables[target][key]), (name, col.name)


def test_households(mapped):
    hh = mapped[2]["households"].set_index("household_id")
    # occupancy rating categories 4, 2, 3, 1, 5 -> -1, +1, 0, +2, -2
    assert hh["occupancy_rating_rooms"].to_dict() == {
        "H01": -1,
        "H02": 1,
        "H03": 0,
        "H04": 2,
        "H05": -2,
    }
    assert hh["shared_dwelling"].to_dict() == {
        "H01": False,
        "H02": True,
        "H03": False,
        "H04": False,
        "H05": False,
    }
    # central heating 1 = does not have it (H02, H05)
    assert hh["central_heating"].to_dict() == {
        "H01": True,
        "H02": False,
        "H03": True,
        "H04": True,
        "H05": False,
    }
    assert (hh["census_year"] == 2011).all()
    assert hh.loc["H04", "la_code"] == "E09000007"
    assert pd.isna(hh.loc["H05", "lsoa_code"])


def test_persons(mapped):
    p = mapped[2]["persons"].set_index("person_id")
    assert p.loc["P01", ["age", "sex", "economic_activity", "highest_qualification"]].tolist() == [
        38,
        "F",
        "in_employment",
        "level4_plus",
    ]
    assert p.loc["P02", "economic_activity"] == "unemployed"
    assert p.loc["P05", ["economic_activity", "disability", "general_health"]].tolist() == [
        "inactive_long_term_sick_or_disabled",
        "limited_a_lot",
        4,
    ]
    assert p.loc[
        "P06", ["economic_activity", "full_time_student", "highest_qualification"]
    ].tolist() == ["inactive_student", True, "level1"]
    assert p.loc["P08", ["economic_activity", "highest_qualification"]].tolist() == [
        "inactive_looking_after_home",
        "apprenticeship",
    ]
    assert p.loc["P11", ["economic_activity", "full_time_student"]].tolist() == [
        "in_employment",
        True,
    ]
    assert p.loc["P12", "economic_activity"] == "inactive_retired"
    assert pd.isna(p.loc["P12", "ethnic_group"])  # -8 does not apply -> empty
    assert p.loc["P04", "disability"] == "not_limited"  # code 3
    children = p[p["age"] < 16]
    assert set(children.index) == {"P03", "P04", "P07", "P09", "P13"}
    assert (children["economic_activity"] == "not_applicable").all()
    assert (children["highest_qualification"] == "not_applicable").all()
    assert p["sex"].value_counts().to_dict() == {"F": 7, "M": 6}


def test_pupil_census_stacks_the_spring_censuses_2002_to_2015(mapped):
    _, report, tables = mapped
    pc = tables["pupil_census"]
    per_day = pc.groupby("census_date").size().to_dict()
    # 2010: 7 rows; 2011: 8 less 1 subsidiary registration; 2012: 6 less 1 duplicate
    assert per_day == {T("2010-01-21"): 7, T("2011-01-20"): 7, T("2012-01-19"): 5}
    row = pc[(pc["pupil_id"] == "PMR0009") & (pc["census_date"] == T("2011-01-20"))]
    assert row["school_id"].tolist() == ["100003"]  # the main registration
    row = pc[(pc["pupil_id"] == "PMR0011") & (pc["census_date"] == T("2012-01-19"))]
    assert row["school_id"].tolist() == ["100004"]  # keep: first
    fsm = pc[pc["pupil_id"] == "PMR0003"]["fsm_eligible"].tolist()
    assert fsm == [True, True, True]  # 1, TRUE, 1
    assert set(pc.loc[pc["pupil_id"] == "PMR0011", "la_code"]) == {"E09000007"}  # 202 -> Camden
    files = {
        r.file: (r.rows_read, r.rows_written, sum(r.rows_dropped.values()))
        for r in report.for_table("pupil_census")
    }
    with_pupils = {
        "npd/spring_census_2010.csv": (7, 7, 0),
        "npd/spring_census_2011.csv": (8, 7, 1),
        "npd/spring_census_2012.csv": (6, 5, 1),
    }
    # one file for each school census year GUiE holds, 2001/02 to 2014/15
    assert files == {
        f"npd/spring_census_{year}.csv": with_pupils.get(f"npd/spring_census_{year}.csv", (0, 0, 0))
        for year in range(2002, 2016)
    }


def test_social_care_tables(mapped):
    _, _, t = mapped
    assert t["census_npd_link"]["person_id"].tolist() == ["P03", "P04", "P06", "P09", "P11", "P13"]
    cin = t["cin_referrals"].set_index("pupil_id")
    # PMR0003's referral appears in 2009/10 (open) and 2010/11 (closed 3 March 2011)
    assert cin.loc["PMR0003", "cin_closure_date"] == T("2011-03-03")
    assert cin.loc["PMR0003", "referral_date"] == T("2009-11-15")
    assert bool(cin.loc["PMR0006", "referral_nfa"]) is True
    assert pd.isna(cin.loc["PMR0013", "cin_closure_date"])
    assert cin["primary_need_code"].to_dict() == {
        "PMR0003": "N1",
        "PMR0006": "N4",
        "PMR0013": "N2",
        "PMR0099": "N5",
    }
    cpp = t["child_protection_plans"].set_index("pupil_id")
    assert cpp.loc["PMR0003", ["cpp_start_date", "cpp_end_date"]].tolist() == [
        T("2009-12-20"),
        T("2011-02-01"),
    ]
    assert pd.isna(cpp.loc["PMR0099", "cpp_end_date"])
    cla = t["looked_after_episodes"]
    assert list(
        zip(cla["pupil_id"], cla["episode_start"], cla["legal_status"], cla["reason_new_episode"])
    ) == [
        ("PMR0003", T("2011-02-01"), "V2", "S"),
        ("PMR0003", T("2011-04-14"), "C2", "L"),
        ("PMR0099", T("2011-06-20"), "C1", "S"),
    ]
    assert cla["la_code"].tolist() == ["E08000003", "E08000003", "E09000007"]


def test_row_report_accounts_for_every_row(mapped):
    out, report, _ = mapped
    for rows in report.files:
        assert rows.rows_read == rows.rows_written + sum(rows.rows_dropped.values()), rows
    totals = {}
    for rows in report.files:
        totals[rows.table] = totals.get(rows.table, 0) + rows.rows_written
    assert totals == report.tables
    cpp = report.for_table("child_protection_plans")[0]
    # 5 CIN rows: 2 without a plan start date, 1 repeat of PMR0003's plan in a later return
    assert (cpp.rows_read, cpp.rows_written, sorted(cpp.rows_dropped.values())) == (5, 2, [1, 2])
    assert (out / "mapping_report.json").is_file()


def test_example_mapping_passes_the_check_and_the_command_line(tmp_path, capsys):
    check_mapping(MAPPING, EXTRACT)
    assert cli_main([str(MAPPING), "--extract-dir", str(EXTRACT), "--check"]) == 0
    assert cli_main([str(MAPPING), "--extract-dir", str(EXTRACT), "--out", str(tmp_path)]) == 0
    assert "pupil_census: 19 rows written" in capsys.readouterr().out


def test_command_line_reports_problems_with_status_2(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text(MAPPING.read_text().replace("resident_age", "resident_agee"))
    assert cli_main([str(bad), "--extract-dir", str(EXTRACT), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert (
        "column 'resident_agee' not found in census2011_persons.csv; columns like it: 'resident_age'"
        in err
    )


def test_mapped_tables_pass_the_project_validator(mapped, tmp_path):
    validate = pytest.importorskip("child_mdh.validation.folder")
    out, _, _ = mapped
    # policy "stop" raises on any row that breaks the contract (codes, keys, references,
    # date order, empties), so passing means every mapped row is usable
    report = validate.validate_folder(
        out,
        out_dir=tmp_path / "validated",
        quarantine_dir=tmp_path / "quarantine",
        policy="stop",
        reference_date="2022-03-31",
    )
    assert report.rows_quarantined == 0


def _squash(text: str) -> str:
    return " ".join(text.split())


def test_messages_quoted_in_the_docs_are_what_the_example_produces(mapped, tmp_path):
    docs = _squash((ROOT / "docs" / "mapped-extracts.md").read_text())
    _, report, _ = mapped
    summary = report.summary_text().splitlines()
    for line in (
        "npd/spring_census_2011.csv: 8 read, 7 written",
        "1 dropped: filter at line 168: kept only rows where EnrolStatus is one of [C, M]",
        "1 dropped: deduplicate at line 181: another row has the same pupil_id, census_date (keep: first)",
    ):
        assert line in [s.strip() for s in summary]
        assert line in docs
    # the unmapped-code example: two persons given economic activity code 11
    import shutil

    from child_mdh.sources.mapped_extract import MappingError

    data = tmp_path / "guie"
    shutil.copytree(EXTRACT, data)
    persons = data / "census" / "census2011_persons.csv"
    persons.write_text(
        persons.read_text()
        .replace("P05,H02,29,1,8,", "P05,H02,29,1,11,")
        .replace("P06,H02,17,2,6,", "P06,H02,17,2,11,")
    )
    with pytest.raises(MappingError) as err:
        apply_mapping(MAPPING, tmp_path / "out", extract_dir=data)
    (problem,) = err.value.problems
    assert _squash(str(problem)) in docs
