"""Checking a mapping before any data is read: every problem, with its line, at once."""

import pytest

from child_mdh.sources.mapped_extract import MappingError, check_mapping

PERSONS_CSV = """
    resident_id,hh_id,age,SEX,ECONACTIVE,ECON_ACT,student,qual,health,dis
    P1,H1,30,1,1,1,2,2,1,4
"""

PERSONS_BLOCK = """
persons:
  files: persons.csv
  columns:
    person_id: resident_id
    household_id: hh_id
    age: age
    sex: {column: SEX, codes: {"1": F, "2": M}}
    economic_activity: {column: ECONACTIVE, codes: {"1": in_employment}}
    full_time_student: {column: student, true: ["1"], false: ["2"]}
    highest_qualification: {column: qual, codes: {"2": level2}}
    general_health: health
    disability: {column: dis, codes: {"4": not_limited}}
"""


def _problems(err: MappingError) -> list[str]:
    return [str(p) for p in err.value.problems]


def test_the_valid_mapping_passes(extract):
    extract.file("persons.csv", PERSONS_CSV)
    m = extract.mapping_for("persons", PERSONS_BLOCK)
    mapping = check_mapping(m)
    source = mapping.tables["persons"].sources[0]
    resolved = source.resolved[extract.root / "persons.csv"]
    assert resolved["SEX"] == "SEX" and resolved["ECONACTIVE"] == "ECONACTIVE"


def test_missing_column_names_line_file_and_similar_columns(extract):
    extract.file("persons.csv", PERSONS_CSV)
    m = extract.mapping_for(
        "persons", PERSONS_BLOCK.replace("column: ECONACTIVE", "column: ECONACT")
    )
    with pytest.raises(MappingError) as err:
        check_mapping(m)
    line = extract.line_of(m, "column: ECONACT")
    assert _problems(err) == [
        f"mapping.yaml line {line}: persons (source 1): column 'ECONACT' not found in "
        "persons.csv; columns like it: 'ECON_ACT', 'ECONACTIVE'"
    ]


def test_missing_file_names_the_line(extract):
    m = extract.mapping_for("persons", PERSONS_BLOCK)
    with pytest.raises(MappingError) as err:
        check_mapping(m)
    line = extract.line_of(m, "files: persons.csv")
    (msg,) = _problems(err)
    assert msg.startswith(
        f"mapping.yaml line {line}: persons (source 1): no file matches 'persons.csv'"
    )


def test_recode_target_outside_the_contract_code_list(extract):
    extract.file("persons.csv", PERSONS_CSV)
    m = extract.mapping_for("persons", PERSONS_BLOCK.replace('"1": in_employment', '"1": employed'))
    with pytest.raises(MappingError) as err:
        check_mapping(m)
    line = extract.line_of(m, '"1": employed')
    (msg,) = _problems(err)
    assert msg.startswith(
        f"mapping.yaml line {line}: persons (source 1): economic_activity: "
        "code '1': 'employed' is not a contract code for persons.economic_activity"
    )
    assert "in_employment" in msg  # the allowed codes are listed


def test_all_problems_are_reported_together_sorted_by_line(extract):
    extract.file("persons.csv", PERSONS_CSV)
    block = (
        PERSONS_BLOCK.replace("age: age", "agee: age")  # unknown column
        .replace('"2": M', '"2": X')  # bad code target
        .replace("general_health: health", "general_health: {value: 7}")  # out of range
        .replace('false: ["2"]', 'false: ["1"]')
    )  # both true and false
    m = extract.mapping_for("persons", block)
    with pytest.raises(MappingError) as err:
        check_mapping(m)
    msgs = _problems(err)
    lines = [int(s.split(" line ")[1].split(":")[0]) for s in msgs]
    assert lines == sorted(lines)
    text = "\n".join(msgs)
    assert (
        f"line {extract.line_of(m, 'agee')}: persons (source 1): 'agee' is not a column of persons (did you mean 'age'?)"
        in text
    )
    assert "required contract column age is not mapped" in text
    assert (
        f"line {extract.line_of(m, 'X}}')}: persons (source 1): sex: code '2': 'X' is not a contract code"
        in text
    )
    assert "7 is outside the contract range of persons.general_health (1 to 5)" in text
    assert "code '1' is listed under both true: and false:" in text
    assert len(msgs) == 5


def test_unmapped_and_unknown_tables(extract):
    m = extract.mapping("""
        tables:
          areas: empty
          household: empty
    """)
    with pytest.raises(MappingError) as err:
        check_mapping(m)
    text = "\n".join(_problems(err))
    assert "'household' is not a contract table (did you mean 'households'?)" in text
    for name in (
        "households",
        "persons",
        "pupil_census",
        "census_npd_link",
        "cin_referrals",
        "child_protection_plans",
        "looked_after_episodes",
    ):
        assert f"table {name} is not mapped; map it, or write '{name}: empty'" in text


def test_ambiguous_column_is_an_error_listing_both(extract):
    extract.file(
        "npd.csv",
        """
        PupilMatchingRefAnonymous_SPR21,LA_SPR21,LA_AUT20,URN_SPR21,FSMeligible_SPR21
        A,352,352,1,1
    """,
    )
    m = extract.mapping_for(
        "pupil_census",
        """
        pupil_census:
          files: npd.csv
          columns:
            pupil_id: PupilMatchingRefAnonymous
            census_date: {value: 2021-01-21}
            la_code: LA
            school_id: URN
            fsm_eligible: {column: FSMeligible, true: ["1"], false: ["0"]}
    """,
    )
    with pytest.raises(MappingError) as err:
        check_mapping(m)
    (msg,) = _problems(err)
    assert msg == (
        f"mapping.yaml line {extract.line_of(m, 'la_code: LA')}: pupil_census (source 1): "
        "column 'LA' is ambiguous in npd.csv: it matches 'LA_SPR21' and 'LA_AUT20'; "
        "write the full column name in the mapping to choose one"
    )


def test_structure_problems(extract):
    extract.file("a.csv", "code,name,rc,rn\nE1,A,R,Reg\n")
    m = extract.mapping_for(
        "areas",
        """
        areas:
          file: a.csv
          columns:
            la_code: {column: code, date_format: "%d/%m/%Y"}
            la_name: {colum: name}
            region_code: rc
            region_name: rn
    """,
    )
    with pytest.raises(MappingError) as err:
        check_mapping(m)
    text = "\n".join(_problems(err))
    assert "unknown key 'file' in a source of areas (did you mean 'files'?)" in text
    assert "add files: naming the file(s) to read" in text
    assert "date_format applies only to date columns; la_code is a string" in text
    assert "unknown key 'colum' in the column la_name (did you mean 'column'?)" in text


def test_duplicate_key_in_mapping(extract):
    extract.file("a.csv", "code,name,rc,rn\nE1,A,R,Reg\n")
    m = extract.mapping_for(
        "areas",
        """
        areas:
          files: a.csv
          columns:
            la_code: code
            la_name: name
            region_code: rc
            region_name: rn
            la_code: name
    """,
    )
    with pytest.raises(MappingError) as err:
        check_mapping(m)
    (msg,) = _problems(err)
    first = extract.line_of(m, "la_code: code")
    assert msg == (
        f"mapping.yaml line {extract.line_of(m, 'la_code: name')}: 'la_code' is given "
        f"twice in the same block (first at line {first}); keep one"
    )


def test_per_file_value_and_column_both_given(extract):
    extract.file("s.csv", "PMR,LA,URN,FSM\nA,E1,1,1\n")
    m = extract.mapping_for(
        "pupil_census",
        """
        pupil_census:
          files:
            - {file: s.csv, census_date: 2021-01-21}
          columns:
            pupil_id: PMR
            census_date: {value: 2021-01-21}
            la_code: LA
            school_id: URN
            fsm_eligible: {column: FSM, true: ["1"], false: ["0"]}
    """,
    )
    with pytest.raises(MappingError) as err:
        check_mapping(m)
    (msg,) = _problems(err)
    assert "census_date is given both for the file s.csv and under columns" in msg


def test_per_file_value_must_fit_the_contract_type(extract):
    extract.file("s.csv", "PMR,LA,URN,FSM\nA,E1,1,1\n")
    m = extract.mapping_for(
        "pupil_census",
        """
        pupil_census:
          files:
            - {file: s.csv, census_date: 21/01/2021}
          columns:
            pupil_id: PMR
            la_code: LA
            school_id: URN
            fsm_eligible: {column: FSM, true: ["1"], false: ["0"]}
    """,
    )
    with pytest.raises(MappingError) as err:
        check_mapping(m)
    (msg,) = _problems(err)
    assert msg.startswith(f"mapping.yaml line {extract.line_of(m, '21/01/2021')}:")
    assert "'21/01/2021' is not a date written YYYY-MM-DD" in msg


def test_null_target_for_a_column_that_may_not_be_empty(extract):
    extract.file("persons.csv", PERSONS_CSV)
    m = extract.mapping_for("persons", PERSONS_BLOCK.replace('"2": M', '"2": null'))
    with pytest.raises(MappingError) as err:
        check_mapping(m)
    (msg,) = _problems(err)
    assert "persons.sex may not be empty in the data contract" in msg
