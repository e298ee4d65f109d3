"""validate_folder(unmatched_pupils=...): social care children who are not on the roll."""

import json

import pandas as pd
import pytest

from child_mdh.validation.folder import LA_ROUTE_TABLES, ValidationError, validate_folder

from la_tiny import tiny_import_folder

CHILDREN = [{"pupil_id": "P1", "date_of_birth": "2010-01-01", "sex": "M"}]
CENSUS = [
    {"pupil_id": "P1", "census_date": "2021-01-21", "fsm_eligible": True},
    {"pupil_id": "P9", "census_date": "2021-01-21", "fsm_eligible": None},
]  # quarantined
REFERRALS = [
    {
        "pupil_id": p,
        "referral_date": d,
        "primary_need_code": "N1",
        "cin_closure_date": None,
        "referral_nfa": False,
    }
    for p, d in (
        ("P1", "2021-06-01"),
        ("U1", "2021-07-01"),
        ("U1", "2021-09-01"),
        ("P9", "2021-08-01"),
    )
]


@pytest.fixture
def folder(tmp_path):
    folder = tiny_import_folder(
        tmp_path / "in", children=CHILDREN, pupil_census=CENSUS, referrals=REFERRALS
    )
    pc = pd.read_parquet(folder / "pupil_census.parquet")
    pc["fsm_eligible"] = pd.array([True, None], dtype="boolean")  # P9: FSM unknown
    pc.to_parquet(folder / "pupil_census.parquet")
    return folder


def _run(folder, tmp_path, **kw):
    return validate_folder(
        folder,
        tmp_path / "out",
        tmp_path / "q",
        reference_date="2026-01-01",
        tables=list(LA_ROUTE_TABLES),
        **kw,
    )


def test_default_quarantines_social_care_rows_of_pupils_not_in_pupil_census(folder, tmp_path):
    report = _run(folder, tmp_path)
    acc = report.tables["cin_referrals"]
    # U1 (two rows) is not in pupil_census; P9's only census row is quarantined (no FSM)
    assert (acc.rows_used, acc.rows_quarantined) == (1, 3)
    assert acc.reasons == {"reference to a row that does not exist": 2, "parent row quarantined": 1}
    assert acc.notes == {}


def test_keep_keeps_them_and_counts_them_as_a_note(folder, tmp_path):
    report = _run(folder, tmp_path, unmatched_pupils="keep")
    acc = report.tables["cin_referrals"]
    assert (acc.rows_read, acc.rows_used, acc.rows_quarantined) == (4, 4, 0)
    assert acc.notes == {"pupil not in pupil_census (kept)": 3}
    assert report.tables["pupil_census"].rows_quarantined == 1  # P9 itself still quarantined
    kept = pd.read_parquet(tmp_path / "out" / "cin_referrals.parquet")
    assert sorted(kept["pupil_id"]) == ["P1", "P9", "U1", "U1"]
    notes = [i for i in report.issues if i.check == "unmatched_pupil"]
    assert len(notes) == 1 and notes[0].severity == "note" and notes[0].rows == 3
    assert "3 rows of 2 children" in notes[0].message
    assert (
        "1 row of them belong to pupils whose pupil_census rows were quarantined"
        in notes[0].message
    )
    csv = pd.read_csv(tmp_path / "out" / "row_accounting.csv").set_index("table")
    assert csv.loc["cin_referrals", "notes"] == "pupil not in pupil_census (kept): 3"
    assert (csv["rows_read"] == csv["rows_used"] + csv["rows_quarantined"]).all()
    saved = json.loads((tmp_path / "out" / "validation_report.json").read_text())
    assert saved["tables"]["cin_referrals"]["notes"] == {"pupil not in pupil_census (kept)": 3}
    assert "Kept, with a note:" in report.summary_text()


def test_keep_does_not_stop_a_run_with_policy_stop(folder, tmp_path):
    # the only row problem left is P9's census row, which still stops the run
    with pytest.raises(ValidationError) as err:
        _run(folder, tmp_path, unmatched_pupils="keep", policy="stop")
    assert "pupil_census" in str(err.value) and "cin_referrals" not in str(err.value)


def test_unknown_option_is_refused(folder, tmp_path):
    with pytest.raises(ValueError, match="unmatched_pupils must be one of quarantine, keep"):
        _run(folder, tmp_path, unmatched_pupils="ignore")


def test_keep_leaves_the_census_link_strict(tmp_path):
    from child_mdh.sources.synthetic import generate

    synth = tmp_path / "synth"
    generate(1000, 5, synth)
    link = pd.read_parquet(synth / "census_npd_link.parquet")
    link.loc[0, "pupil_id"] = "NOT-A-PUPIL"
    link.to_parquet(synth / "census_npd_link.parquet")
    report = validate_folder(
        synth,
        tmp_path / "out",
        tmp_path / "q",
        reference_date="2026-06-01",
        unmatched_pupils="keep",
    )
    assert report.tables["census_npd_link"].rows_quarantined == 1
    assert report.tables["census_npd_link"].notes == {}
