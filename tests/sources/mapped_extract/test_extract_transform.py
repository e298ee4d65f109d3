"""Applying a mapping: renames, recodes, dates, booleans, constants, stacks, joins, filters,
de-duplication, and the row report (every row read is written or dropped for a reason)."""

import datetime as dt
import gzip

import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from child_mdh.contract.tables import TABLES
from child_mdh.sources.mapped_extract import MappingError, apply_mapping
from child_mdh.sources.mapped_extract import transform as transform_module
from child_mdh.sources.mapped_extract.files import file_kind, read_columns, read_header


def _read(out, table):
    return pd.read_parquet(out / f"{table}.parquet")


def _msgs(err):
    return [str(p) for p in err.value.problems]


HOUSEHOLDS_CSV = """
    hh_id,la,lsoa,ORR,dwelling,heating,extra
    H1,E08000003,E01000001,4,1,1,x
    H2,E08000003,,2,2,0,y
    H3,E09000007,E01000003,5,1,12,z
"""

HOUSEHOLDS_BLOCK = """
households:
  files: hh.csv
  columns:
    household_id: hh_id
    census_year: {value: 2021}
    la_code: la
    lsoa_code: lsoa
    occupancy_rating_rooms:
      column: ORR
      codes: {"1": 2, "2": 1, "3": 0, "4": -1, "5": -2}
    shared_dwelling: {column: dwelling, true: ["2"], false: ["1"]}
    central_heating:
      column: heating
      true: ["1", "12"]
      false: ["0"]
"""


def test_renames_recodes_booleans_and_constants(extract, tmp_path):
    extract.file("hh.csv", HOUSEHOLDS_CSV)
    m = extract.mapping_for("households", HOUSEHOLDS_BLOCK)
    report = apply_mapping(m, tmp_path / "out")
    hh = _read(tmp_path / "out", "households")
    assert list(hh.columns) == TABLES["households"].column_names  # extra source column not carried
    assert hh["household_id"].tolist() == ["H1", "H2", "H3"]
    assert hh["census_year"].tolist() == [2021, 2021, 2021]
    assert hh["la_code"].tolist() == ["E08000003", "E08000003", "E09000007"]
    assert hh["lsoa_code"].isna().tolist() == [False, True, False]  # optional, empty allowed
    # ORR categories 4, 2, 5 are ratings -1, +1, -2
    assert hh["occupancy_rating_rooms"].tolist() == [-1, 1, -2]
    assert hh["shared_dwelling"].tolist() == [False, True, False]
    assert hh["central_heating"].tolist() == [True, False, True]
    assert str(hh["census_year"].dtype) == "int64" and str(hh["central_heating"].dtype) == "bool"
    assert report.tables["households"] == 3
    assert report.tables["areas"] == 0 and "areas" in report.empty_tables
    assert _read(tmp_path / "out", "areas").empty


def test_unmapped_code_is_an_error_naming_line_file_code_and_rows(extract, tmp_path):
    extract.file(
        "hh.csv", HOUSEHOLDS_CSV.replace("H3,E09000007,E01000003,5", "H3,E09000007,E01000003,9")
    )
    m = extract.mapping_for("households", HOUSEHOLDS_BLOCK)
    with pytest.raises(MappingError) as err:
        apply_mapping(m, tmp_path / "out")
    (msg,) = _msgs(err)
    line = extract.line_of(m, "codes:")
    assert msg == (
        f"mapping.yaml line {line}: households (source 1): occupancy_rating_rooms: code '9' "
        "(1 row) of column 'ORR' of hh.csv has no mapping (e.g. data row 3); add it under "
        "codes, or set default"
    )
    assert not list((tmp_path / "out").glob("*.parquet"))  # nothing written


def test_unlisted_boolean_code_points_to_true_false(extract, tmp_path):
    extract.file("hh.csv", HOUSEHOLDS_CSV.replace("H2,E08000003,,2,2,0", "H2,E08000003,,2,2,-8"))
    m = extract.mapping_for("households", HOUSEHOLDS_BLOCK)
    with pytest.raises(MappingError) as err:
        apply_mapping(m, tmp_path / "out")
    (msg,) = _msgs(err)
    line = extract.line_of(m, 'true: ["1", "12"]')
    assert msg.startswith(
        f"mapping.yaml line {line}: households (source 1): central_heating: code '-8' (1 row)"
    )
    assert "add it under true: or false:, or set default" in msg


def test_default_and_codes_ignore_case_spaces_and_decimals(extract, tmp_path):
    extract.file(
        "hh.csv",
        """
        hh_id,la,ORR,dwelling,heating
        H1,E1,4.0, Y ,x
        H2,E1,2,n,y
        H3,E1,7,y,z
    """,
    )
    m = extract.mapping_for(
        "households",
        """
        households:
          files: hh.csv
          columns:
            household_id: hh_id
            census_year: {value: 2011}
            la_code: la
            occupancy_rating_rooms: {column: ORR, codes: {"4": -1, "2": 1}, default: 0}
            shared_dwelling: {column: dwelling, true: [Y], false: [N]}
            central_heating: {column: heating, true: [x], false: [], default: false}
    """,
    )
    apply_mapping(m, tmp_path / "out")
    hh = _read(tmp_path / "out", "households")
    assert hh["occupancy_rating_rooms"].tolist() == [-1, 1, 0]  # 4.0 -> 4; 7 -> default 0
    assert hh["shared_dwelling"].tolist() == [True, False, True]
    assert hh["central_heating"].tolist() == [True, False, False]
    assert hh["census_year"].tolist() == [2011] * 3


CIN_CSV = """
    CIN_PupilMatchingRefAnonymous,CIN_LA,CIN_ReferralDate,CIN_PrimaryNeedCode,CIN_CINClosureDate,CIN_ReferralNFA
    A1,E1,15/11/2019,N1,03/03/2021,0
    A2,E1,02/09/2020,N4,,1
"""

CIN_BLOCK = """
cin_referrals:
  files: cin.csv
  columns:
    pupil_id: PupilMatchingRefAnonymous
    la_code: LA
    referral_date: {column: ReferralDate, date_format: "%d/%m/%Y"}
    primary_need_code: PrimaryNeedCode
    cin_closure_date: {column: CINClosureDate, date_format: "%d/%m/%Y"}
    referral_nfa: {column: ReferralNFA, true: ["1"], false: ["0"]}
"""


def test_dates_with_a_format_and_empty_dates(extract, tmp_path):
    extract.file("cin.csv", CIN_CSV)
    apply_mapping(extract.mapping_for("cin_referrals", CIN_BLOCK), tmp_path / "out")
    cin = _read(tmp_path / "out", "cin_referrals")
    assert cin["referral_date"].tolist() == [pd.Timestamp("2019-11-15"), pd.Timestamp("2020-09-02")]
    assert cin["cin_closure_date"].iloc[0] == pd.Timestamp("2021-03-03")
    assert pd.isna(cin["cin_closure_date"].iloc[1])
    assert str(cin["referral_date"].dtype) == "datetime64[ns]"
    assert cin["referral_nfa"].tolist() == [False, True]
    assert cin["la_code"].tolist() == ["E1", "E1"]


def test_iso_dates_by_default_with_midnight_time_dropped(extract, tmp_path):
    extract.file(
        "cin.csv",
        """
        PMR,LA,RD,NEED,CD,NFA
        A1,E1,2019-11-15,N1,2021-03-03 00:00:00,false
    """,
    )
    m = extract.mapping_for(
        "cin_referrals",
        """
        cin_referrals:
          files: cin.csv
          columns:
            pupil_id: PMR
            la_code: LA
            referral_date: RD
            primary_need_code: NEED
            cin_closure_date: CD
            referral_nfa: NFA
    """,
    )
    apply_mapping(m, tmp_path / "out")
    cin = _read(tmp_path / "out", "cin_referrals")
    assert cin["referral_date"].iloc[0] == pd.Timestamp("2019-11-15")
    assert cin["cin_closure_date"].iloc[0] == pd.Timestamp("2021-03-03")
    assert cin["referral_nfa"].tolist() == [False]  # a plain rename reads true/false


def test_bad_date_is_an_error_with_the_line_and_the_fix(extract, tmp_path):
    extract.file("cin.csv", CIN_CSV.replace("02/09/2020", "2020-09-02"))
    m = extract.mapping_for("cin_referrals", CIN_BLOCK)
    with pytest.raises(MappingError) as err:
        apply_mapping(m, tmp_path / "out")
    (msg,) = _msgs(err)
    assert msg.startswith(
        f"mapping.yaml line {extract.line_of(m, 'referral_date:')}: cin_referrals "
        "(source 1): referral_date: column 'ReferralDate' of cin.csv has text that "
        "is not a date in the expected form (%d/%m/%Y): '2020-09-02' (1 row), "
        "e.g. data row 2;"
    )


def test_invalid_empty_sets_bad_dates_empty_and_counts_them(extract, tmp_path):
    extract.file("cin.csv", CIN_CSV.replace("03/03/2021", "31/02/2021"))
    m = extract.mapping_for(
        "cin_referrals",
        CIN_BLOCK.replace(
            'cin_closure_date: {column: CINClosureDate, date_format: "%d/%m/%Y"}',
            'cin_closure_date: {column: CINClosureDate, date_format: "%d/%m/%Y", invalid: empty}',
        ),
    )
    report = apply_mapping(m, tmp_path / "out")
    cin = _read(tmp_path / "out", "cin_referrals")
    assert cin["cin_closure_date"].isna().all()
    (rows,) = report.for_table("cin_referrals")
    assert list(rows.values_emptied.values()) == [1]
    assert "cin_closure_date" in next(iter(rows.values_emptied))


def test_primary_need_codes_are_checked_against_the_contract(extract, tmp_path):
    extract.file("cin.csv", CIN_CSV.replace(",N4,", ",4,"))
    m = extract.mapping_for("cin_referrals", CIN_BLOCK)
    with pytest.raises(MappingError) as err:
        apply_mapping(m, tmp_path / "out")
    (msg,) = _msgs(err)
    assert f"line {extract.line_of(m, 'primary_need_code:')}" in msg
    assert "holds values that are not contract codes of primary_need_code: '4' (1 row)" in msg


def test_a_required_value_left_empty_is_an_error_suggesting_a_filter(extract, tmp_path):
    extract.file("cin.csv", CIN_CSV.replace("A2,E1,02/09/2020", "A2,,02/09/2020"))
    m = extract.mapping_for("cin_referrals", CIN_BLOCK)
    with pytest.raises(MappingError) as err:
        apply_mapping(m, tmp_path / "out")
    (msg,) = _msgs(err)
    assert msg.startswith(
        f"mapping.yaml line {extract.line_of(m, 'la_code: LA')}: cin_referrals "
        "(source 1): la_code is empty in 1 row of cin.csv (e.g. data row 2)"
    )
    assert "not_empty: true" in msg


def test_whole_numbers_are_checked(extract, tmp_path):
    extract.file(
        "p.csv",
        """
        id,hh,age,sex,econ,ft,qual,health,dis
        P1,H1,ten,F,not_applicable,true,not_applicable,1.5,not_limited
    """,
    )
    m = extract.mapping_for(
        "persons",
        """
        persons:
          files: p.csv
          columns:
            person_id: id
            household_id: hh
            age: age
            sex: sex
            economic_activity: econ
            full_time_student: ft
            highest_qualification: qual
            general_health: health
            disability: dis
    """,
    )
    with pytest.raises(MappingError) as err:
        apply_mapping(m, tmp_path / "out")
    msgs = _msgs(err)
    assert len(msgs) == 2
    assert (
        "age: column 'age' of p.csv has values that are not whole numbers: 'ten' (1 row)" in msgs[0]
    )
    assert (
        "general_health: column 'health' of p.csv has values that are not whole numbers: '1.5'"
        in msgs[1]
    )


def test_union_of_termly_files_with_a_census_date_per_file(extract, tmp_path):
    # autumn uses term prefixes, spring term suffixes: the mapping names each column once
    extract.file(
        "npd/aut20.csv",
        """
        AUT20_PupilMatchingRefAnonymous,AUT20_LA,AUT20_URN,AUT20_FSMeligible
        A1,E1,100,1
        A2,E1,100,0
    """,
    )
    extract.file(
        "npd/spr21.csv",
        """
        PupilMatchingRefAnonymous_SPR21,LA_SPR21,URN_SPR21,FSMeligible_SPR21
        A1,E1,100,TRUE
        A3,E2,200,FALSE
        A4,E2,200,true
    """,
    )
    m = extract.mapping_for(
        "pupil_census",
        """
        pupil_census:
          files:
            - {file: npd/aut20.csv, census_date: 2020-10-01}
            - {file: npd/spr21.csv, census_date: 2021-01-21}
          columns:
            pupil_id: PupilMatchingRefAnonymous
            la_code: LA
            school_id: URN
            fsm_eligible: {column: FSMeligible, true: ["1", "true"], false: ["0", "false"]}
    """,
    )
    report = apply_mapping(m, tmp_path / "out")
    pc = _read(tmp_path / "out", "pupil_census")
    aut, spr = pd.Timestamp("2020-10-01"), pd.Timestamp("2021-01-21")
    assert list(zip(pc["pupil_id"], pc["census_date"], pc["fsm_eligible"])) == [
        ("A1", aut, True),
        ("A2", aut, False),
        ("A1", spr, True),
        ("A3", spr, False),
        ("A4", spr, True),
    ]
    assert [(r.file, r.rows_read, r.rows_written) for r in report.for_table("pupil_census")] == [
        ("npd/aut20.csv", 2, 2),
        ("npd/spr21.csv", 3, 3),
    ]


def test_a_glob_with_a_census_date_from_the_entry(extract, tmp_path):
    extract.file("npd/spr21_part1.csv", "PMR,LA,URN,FSM\nA1,E1,1,1\n")
    extract.file("npd/spr21_part2.csv", "PMR,LA,URN,FSM\nA2,E1,1,0\n")
    m = extract.mapping_for(
        "pupil_census",
        """
        pupil_census:
          files:
            - {file: "npd/spr21_*.csv", census_date: 2021-01-21}
          columns:
            pupil_id: PMR
            la_code: LA
            school_id: URN
            fsm_eligible: {column: FSM, true: ["1"], false: ["0"]}
    """,
    )
    report = apply_mapping(m, tmp_path / "out")
    assert _read(tmp_path / "out", "pupil_census")["pupil_id"].tolist() == ["A1", "A2"]
    assert [r.file for r in report.for_table("pupil_census")] == [
        "npd/spr21_part1.csv",
        "npd/spr21_part2.csv",
    ]


NPD_DUPS = """
    PMR,LA,URN,FSM,EnrolStatus,Flag
    A1,E1,100,1,C,x
    A2,E1,100,0,M,x
    A2,E1,300,0,S,x
    A3,E1,100,0,C,
    A4,E1,100,1,C,x
    A4,E1,400,1,C,x
"""

NPD_BLOCK = """
pupil_census:
  files: npd.csv
  filter:
    - {column: EnrolStatus, in: [C, M]}
    - {column: Flag, not_empty: true}
  columns:
    pupil_id: PMR
    census_date: {value: 2021-01-21}
    la_code: LA
    school_id: URN
    fsm_eligible: {column: FSM, true: ["1"], false: ["0"]}
  deduplicate:
    on: [pupil_id, census_date]
    keep: first
"""


def test_filters_and_deduplication_are_accounted_for(extract, tmp_path):
    extract.file("npd.csv", NPD_DUPS)
    m = extract.mapping_for("pupil_census", NPD_BLOCK)
    report = apply_mapping(m, tmp_path / "out")
    pc = _read(tmp_path / "out", "pupil_census")
    assert list(zip(pc["pupil_id"], pc["school_id"])) == [
        ("A1", "100"),
        ("A2", "100"),
        ("A4", "100"),
    ]
    (rows,) = report.for_table("pupil_census")
    # 6 read: the S row fails filter 1, A3 (no Flag) filter 2, the second A4 row is a duplicate
    assert rows.rows_read == 6 and rows.rows_written == 3
    assert rows.rows_dropped == {
        f"filter at line {extract.line_of(m, 'EnrolStatus')}: kept only rows where EnrolStatus is one of [C, M]": 1,
        f"filter at line {extract.line_of(m, 'not_empty')}: kept only rows where Flag is not empty": 1,
        f"deduplicate at line {extract.line_of(m, 'deduplicate:')}: another row has the same "
        "pupil_id, census_date (keep: first)": 1,
    }
    assert rows.rows_read == rows.rows_written + sum(rows.rows_dropped.values())
    saved = (tmp_path / "out" / "mapping_report.json").read_text()
    assert '"rows_read": 6' in saved and '"rows_written": 3' in saved


def test_filter_equals_and_not_in(extract, tmp_path):
    extract.file(
        "link.csv", "rid,pmr,status,src\nP1,A1,accepted,x\nP2,A2,rejected,x\nP3,A3,accepted,y\n"
    )
    m = extract.mapping_for(
        "census_npd_link",
        """
        census_npd_link:
          files: link.csv
          filter:
            - {column: status, equals: Accepted}
            - {column: src, not_in: [y]}
          columns:
            person_id: rid
            pupil_id: pmr
    """,
    )
    report = apply_mapping(m, tmp_path / "out")
    assert _read(tmp_path / "out", "census_npd_link")["person_id"].tolist() == ["P1"]
    (rows,) = report.for_table("census_npd_link")
    assert sorted(rows.rows_dropped.values()) == [1, 1]


def test_keep_last_with_order_by_a_source_column(extract, tmp_path):
    # the same referral in two return years: keep the later return (closed by then)
    extract.file(
        "cin.csv",
        """
        PMR,LA,AcadYr,RD,NEED,CD,NFA
        A1,E1,2020/21,15/11/2019,N1,03/03/2021,0
        A1,E1,2019/20,15/11/2019,N1,,0
        A2,E1,2020/21,02/09/2020,N4,,1
    """,
    )
    m = extract.mapping_for(
        "cin_referrals",
        """
        cin_referrals:
          files: cin.csv
          columns:
            pupil_id: PMR
            la_code: LA
            referral_date: {column: RD, date_format: "%d/%m/%Y"}
            primary_need_code: NEED
            cin_closure_date: {column: CD, date_format: "%d/%m/%Y"}
            referral_nfa: {column: NFA, true: ["1"], false: ["0"]}
          deduplicate:
            keep: last
            order_by: [AcadYr]
    """,
    )
    report = apply_mapping(m, tmp_path / "out")
    cin = _read(tmp_path / "out", "cin_referrals")
    assert cin["pupil_id"].tolist() == ["A1", "A2"]
    assert cin["cin_closure_date"].iloc[0] == pd.Timestamp("2021-03-03")
    (rows,) = report.for_table("cin_referrals")
    assert rows.rows_written == 2 and sum(rows.rows_dropped.values()) == 1


def test_keep_consistent_for_households_taken_from_a_person_file(extract, tmp_path):
    extract.file(
        "persons.csv",
        """
        rid,hh_id,la,ORR,shared,heating
        P1,H1,E1,3,0,1
        P2,H1,E1,3,0,1
        P3,H2,E1,4,0,0
    """,
    )
    block = """
        households:
          files: persons.csv
          columns:
            household_id: hh_id
            census_year: {value: 2021}
            la_code: la
            occupancy_rating_rooms: {column: ORR, codes: {"3": 0, "4": -1}}
            shared_dwelling: {column: shared, true: ["1"], false: ["0"]}
            central_heating: {column: heating, true: ["1"], false: ["0"]}
          deduplicate:
            on: [household_id]
            keep: consistent
    """
    report = apply_mapping(extract.mapping_for("households", block), tmp_path / "out")
    assert _read(tmp_path / "out", "households")["household_id"].tolist() == ["H1", "H2"]
    (rows,) = report.for_table("households")
    assert rows.rows_read == 3 and rows.rows_written == 2

    extract.file("persons.csv", "rid,hh_id,la,ORR,shared,heating\nP1,H1,E1,3,0,1\nP2,H1,E1,4,0,1\n")
    m = extract.mapping_for("households", block)
    with pytest.raises(MappingError) as err:
        apply_mapping(m, tmp_path / "out2")
    (msg,) = _msgs(err)
    assert msg.startswith(
        f"mapping.yaml line {extract.line_of(m, 'deduplicate:')}: households "
        "(source 1): deduplicate with keep: consistent: 1 values of (household_id) "
        "have rows that differ in occupancy_rating_rooms"
    )


LOOKUP = "la_number,ons\n352,E08000003\n330,E08000025\n"


def _npd_join_block(unmatched=""):
    extra = f"\n    unmatched: {unmatched}" if unmatched else ""
    return f"""
pupil_census:
  files: npd.csv
  join:
    files: lookup.csv
    keys: {{LA: la_number}}
    columns:
      la_code: ons{extra}
  columns:
    pupil_id: PMR
    census_date: {{value: 2021-01-21}}
    school_id: URN
    fsm_eligible: {{column: FSM, true: ["1"], false: ["0"]}}
"""


def test_join_takes_columns_from_a_lookup_by_key(extract, tmp_path):
    extract.file("npd.csv", "PMR,LA_SPR21,URN,FSM\nA1,352,1,1\nA2,330,2,0\nA3,352.0,1,0\n")
    extract.file("lookup.csv", LOOKUP)
    apply_mapping(extract.mapping_for("pupil_census", _npd_join_block()), tmp_path / "out")
    pc = _read(tmp_path / "out", "pupil_census")
    assert pc["la_code"].tolist() == ["E08000003", "E08000025", "E08000003"]


def test_join_without_a_match_is_an_error_by_default(extract, tmp_path):
    extract.file("npd.csv", "PMR,LA,URN,FSM\nA1,352,1,1\nA2,999,2,0\nA3,999,2,0\n")
    extract.file("lookup.csv", LOOKUP)
    m = extract.mapping_for("pupil_census", _npd_join_block())
    with pytest.raises(MappingError) as err:
        apply_mapping(m, tmp_path / "out")
    (msg,) = _msgs(err)
    assert msg.startswith(
        f"mapping.yaml line {extract.line_of(m, 'join:')}: pupil_census "
        "(source 1) join: 2 rows of npd.csv have no match in lookup.csv "
        "(keys: LA='999'; e.g. data rows 2, 3)"
    )


def test_join_unmatched_drop_is_counted(extract, tmp_path):
    extract.file("npd.csv", "PMR,LA,URN,FSM\nA1,352,1,1\nA2,999,2,0\nA3,,2,0\n")
    extract.file("lookup.csv", LOOKUP)
    m = extract.mapping_for("pupil_census", _npd_join_block("drop"))
    report = apply_mapping(m, tmp_path / "out")
    assert _read(tmp_path / "out", "pupil_census")["pupil_id"].tolist() == ["A1"]
    (rows,) = report.for_table("pupil_census")
    assert rows.rows_dropped == {
        f"join at line {extract.line_of(m, 'join:')}: no match in lookup.csv": 2
    }


def test_join_unmatched_keep_leaves_an_optional_column_empty(extract, tmp_path):
    extract.file("hh.csv", "hh_id,la,oa,ORR,sh,ch\nH1,E1,OA1,3,0,1\nH2,E1,OA9,3,0,1\n")
    extract.file("oa_lsoa.csv", "oa,lsoa\nOA1,E01000001\n")
    m = extract.mapping_for(
        "households",
        """
        households:
          files: hh.csv
          join:
            files: oa_lsoa.csv
            keys: {oa: oa}
            columns: {lsoa_code: lsoa}
            unmatched: keep
          columns:
            household_id: hh_id
            census_year: {value: 2021}
            la_code: la
            occupancy_rating_rooms: {column: ORR, codes: {"3": 0}}
            shared_dwelling: {column: sh, true: ["1"], false: ["0"]}
            central_heating: {column: ch, true: ["1"], false: ["0"]}
    """,
    )
    report = apply_mapping(m, tmp_path / "out")
    hh = _read(tmp_path / "out", "households")
    assert hh["lsoa_code"].iloc[0] == "E01000001" and pd.isna(hh["lsoa_code"].iloc[1])
    (rows,) = report.for_table("households")
    assert list(rows.values_emptied.values()) == [1]


def test_join_with_duplicate_keys_in_the_lookup_is_an_error(extract, tmp_path):
    extract.file("npd.csv", "PMR,LA,URN,FSM\nA1,352,1,1\n")
    extract.file("lookup.csv", LOOKUP + "352,E99999999\n")
    m = extract.mapping_for("pupil_census", _npd_join_block())
    with pytest.raises(MappingError) as err:
        apply_mapping(m, tmp_path / "out")
    (msg,) = _msgs(err)
    assert "lookup.csv holds 2 rows whose key (la_number) is not unique, e.g. '352'" in msg


def test_several_sources_are_stacked(extract, tmp_path):
    extract.file("cla_old.csv", "child,la,start,end,ls,rne\nA1,E1,01/02/2019,,C2,S\n")
    extract.file(
        "cla_new.csv", "CLA_PMR,CLA_LA,CLA_DECOM,CLA_DEC,CLA_LS,CLA_RNE\nA2,E1,2021-02-01,,V2,S\n"
    )
    m = extract.mapping_for(
        "looked_after_episodes",
        """
        looked_after_episodes:
          - files: cla_old.csv
            columns:
              pupil_id: child
              la_code: la
              episode_start: {column: start, date_format: "%d/%m/%Y"}
              episode_end: {column: end, date_format: "%d/%m/%Y"}
              legal_status: ls
              reason_new_episode: rne
          - files: cla_new.csv
            columns:
              pupil_id: PMR
              la_code: LA
              episode_start: DECOM
              episode_end: DEC
              legal_status: LS
              reason_new_episode: RNE
    """,
    )
    report = apply_mapping(m, tmp_path / "out")
    cla = _read(tmp_path / "out", "looked_after_episodes")
    assert cla["pupil_id"].tolist() == ["A1", "A2"]
    assert cla["episode_start"].tolist() == [pd.Timestamp("2019-02-01"), pd.Timestamp("2021-02-01")]
    assert [r.source for r in report.for_table("looked_after_episodes")] == [1, 2]


def test_parquet_sources_keep_their_types_and_only_mapped_columns_are_read(
    extract, tmp_path, monkeypatch
):
    pq.write_table(
        pa.table(
            {
                "PMR": pa.array([1001, 1002]),  # integer identifiers
                "LA": ["E1", "E2"],
                "URN": pa.array([100.0, 200.0]),  # float identifiers
                "FSM": [True, False],
                "census_day": pa.array([pd.Timestamp("2021-01-21")] * 2, pa.timestamp("ms")),
                "wide_unused": ["x", "y"],
            }
        ),
        extract.root / "npd.parquet",
    )
    requested = []
    real = transform_module.read_columns

    def spy(path, columns):
        requested.append(list(columns))
        return real(path, columns)

    monkeypatch.setattr(transform_module, "read_columns", spy)
    m = extract.mapping_for(
        "pupil_census",
        """
        pupil_census:
          files: npd.parquet
          columns:
            pupil_id: PMR
            census_date: census_day
            la_code: LA
            school_id: URN
            fsm_eligible: FSM
    """,
    )
    apply_mapping(m, tmp_path / "out")
    assert requested == [["PMR", "census_day", "LA", "URN", "FSM"]]
    pc = _read(tmp_path / "out", "pupil_census")
    assert pc["pupil_id"].tolist() == ["1001", "1002"]
    assert pc["school_id"].tolist() == ["100", "200"]
    assert pc["fsm_eligible"].tolist() == [True, False]
    assert pc["census_date"].tolist() == [pd.Timestamp("2021-01-21")] * 2


def test_gzipped_csv_with_byte_order_mark_and_spaced_header(extract, tmp_path):
    raw = "\ufeff code , name ,rc,rn\n00E1,Alpha,R1,Region\n".encode()
    (extract.root / "areas.csv.gz").write_bytes(gzip.compress(raw))
    m = extract.mapping_for(
        "areas",
        """
        areas:
          files: areas.csv.gz
          columns: {la_code: CODE, la_name: name, region_code: rc, region_name: rn}
    """,
    )
    apply_mapping(m, tmp_path / "out")
    areas = _read(tmp_path / "out", "areas")
    assert areas["la_code"].tolist() == ["00E1"] and areas["la_name"].tolist() == ["Alpha"]


def test_a_failed_run_leaves_earlier_outputs_alone(extract, tmp_path):
    extract.file("hh.csv", HOUSEHOLDS_CSV)
    m = extract.mapping_for("households", HOUSEHOLDS_BLOCK)
    out = tmp_path / "out"
    apply_mapping(m, out)
    before = (out / "households.parquet").read_bytes()
    extract.file("hh.csv", HOUSEHOLDS_CSV.replace(",4,1,1,x", ",9,1,1,x"))
    with pytest.raises(MappingError):
        apply_mapping(m, out)
    assert (out / "households.parquet").read_bytes() == before
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".")) == []  # no staging left


def test_extract_dir_argument_overrides_the_mapping_folder(extract, tmp_path):
    data = tmp_path / "elsewhere"
    data.mkdir()
    (data / "hh.csv").write_text(HOUSEHOLDS_CSV.replace("    ", "").lstrip())
    m = extract.mapping_for("households", HOUSEHOLDS_BLOCK)
    report = apply_mapping(m, tmp_path / "out", extract_dir=data)
    assert report.tables["households"] == 3
    assert report.extract_dir == str(data)


def test_written_tables_carry_the_mapping_in_their_metadata(extract, tmp_path):
    from child_mdh.files import read_parquet_metadata

    extract.file("hh.csv", HOUSEHOLDS_CSV)
    m = extract.mapping_for("households", HOUSEHOLDS_BLOCK)
    report = apply_mapping(m, tmp_path / "out")
    meta = read_parquet_metadata(tmp_path / "out" / "households.parquet")
    assert meta["source"] == "mapped_extract" and meta["mapping_file"] == "mapping.yaml"
    assert meta["mapping_sha256"] == report.mapping_sha256 and len(report.mapping_sha256) == 64


def test_extract_dir_in_the_mapping_is_relative_to_the_mapping_file(extract, tmp_path):
    extract.file("data/hh.csv", HOUSEHOLDS_CSV)
    text = "extract_dir: data\n" + (extract.mapping_for("households", HOUSEHOLDS_BLOCK).read_text())
    m = extract.mapping(text, name="maps/m.yaml")
    with pytest.raises(MappingError) as err:  # data/ is not next to maps/m.yaml
        apply_mapping(m, tmp_path / "out")
    (problem,) = err.value.problems  # reported once, not once per file
    assert str(problem).startswith("m.yaml line 1: the extract folder")
    m.write_text(text.replace("extract_dir: data", "extract_dir: ../data"))
    assert apply_mapping(m, tmp_path / "out").tables["households"] == 3


def test_a_header_only_file_gives_no_rows_and_a_blank_file_is_an_error(extract, tmp_path):
    extract.file("hh.csv", "hh_id,la,lsoa,ORR,dwelling,heating\n")
    m = extract.mapping_for("households", HOUSEHOLDS_BLOCK)
    report = apply_mapping(m, tmp_path / "out")
    assert report.tables["households"] == 0
    assert list(_read(tmp_path / "out", "households").columns) == TABLES["households"].column_names
    (extract.root / "hh.csv").write_text("")
    with pytest.raises(MappingError) as err:
        apply_mapping(m, tmp_path / "out")
    assert "hh.csv is empty: it has no header line" in str(err.value)


def test_filter_and_order_by_columns_are_looked_up_at_their_lines(extract, tmp_path):
    extract.file("npd.csv", NPD_DUPS)
    block = NPD_BLOCK.replace("column: Flag", "column: Flagg").replace(
        "keep: first", "keep: last\n    order_by: [Term]"
    )
    m = extract.mapping_for("pupil_census", block)
    with pytest.raises(MappingError) as err:
        apply_mapping(m, tmp_path / "out")
    msgs = _msgs(err)
    assert msgs == [
        f"mapping.yaml line {extract.line_of(m, 'Flagg')}: pupil_census (source 1): column "
        "'Flagg' not found in npd.csv; columns like it: 'Flag'",
        f"mapping.yaml line {extract.line_of(m, 'deduplicate:')}: pupil_census (source 1): column "
        "'Term' not found in npd.csv; check the spelling against the file's header",
    ]


def test_yaml_syntax_error_is_a_mapping_error_with_its_line(extract, tmp_path):
    m = extract.mapping("tables:\n  areas: {files: a.csv\n  persons: empty\n")
    with pytest.raises(MappingError) as err:
        apply_mapping(m, tmp_path / "out")
    (problem,) = err.value.problems
    assert problem.line == 3 and "not valid YAML" in problem.message


def test_join_on_two_keys(extract, tmp_path):
    extract.file("hh.csv", "hh_id,la,oa,yr,ORR,sh,ch\nH1,E1,OA1,2021,3,0,1\nH2,E1,OA1,2011,3,0,1\n")
    extract.file("oa_lsoa.csv", "oa,year,lsoa\nOA1,2021,E01000021\nOA1,2011,E01000011\n")
    m = extract.mapping_for(
        "households",
        """
        households:
          files: hh.csv
          join:
            files: oa_lsoa.csv
            keys: {oa: oa, yr: year}
            columns: {lsoa_code: lsoa}
          columns:
            household_id: hh_id
            census_year: {value: 2021}
            la_code: la
            occupancy_rating_rooms: {column: ORR, codes: {"3": 0}}
            shared_dwelling: {column: sh, true: ["1"], false: ["0"]}
            central_heating: {column: ch, true: ["1"], false: ["0"]}
    """,
    )
    apply_mapping(m, tmp_path / "out")
    assert _read(tmp_path / "out", "households")["lsoa_code"].tolist() == ["E01000021", "E01000011"]


def test_txt_and_upper_case_exports_in_windows_1252_with_semicolons_are_read(tmp_path):
    path = tmp_path / "EXPORT.TXT"
    path.write_bytes("pupil;la\nU1;\u00a31 caf\u00e9\u00a0\n".encode("cp1252"))
    assert file_kind(path) == "csv"
    assert read_header(path) == ["pupil", "la"]
    assert read_columns(path, ["la"])["la"].tolist() == ["\u00a31 caf\u00e9\u00a0"]


def test_a_workbook_with_one_sheet_of_data_is_read_like_a_csv(tmp_path):
    book = openpyxl.Workbook()
    book.active.append(["Extract of 2024"])  # a title row
    book.active.append(["pupil", "census_day", "urn"])
    book.active.append(["U1", dt.datetime(2021, 1, 21), 100123])
    book.create_sheet("empty")
    book.save(tmp_path / "npd.xlsx")
    path = tmp_path / "npd.xlsx"
    assert file_kind(path) == "xlsx"
    assert read_header(path) == ["pupil", "census_day", "urn"]
    got = read_columns(path, ["census_day", "urn"])
    assert got.to_dict("records") == [{"census_day": "2021-01-21", "urn": "100123"}]
