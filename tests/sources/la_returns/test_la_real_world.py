"""Returns as analysts hold them: folder trees, text exports in other encodings and
delimiters, spreadsheet dates, DfE file names, stacked years, new tables. Each case is a
small file written here; every row read is accounted for."""

import datetime as dt
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from child_mdh.sources.la_returns import LAReturnError, import_la
from child_mdh.sources.la_returns.cin_census import read_cin_census
from child_mdh.sources.la_returns.files import collection_year_of, year_from_name
from child_mdh.sources.la_returns.import_config import check_import_config
from child_mdh.sources.la_returns.school_census import given_census_day, read_school_census
from child_mdh.sources.la_returns.ssda903 import read_ssda903

from la_builders import LA, SALT, cin_child, cin_referral, cin_xml, write

HEADER = "CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB"
EPISODES = (
    "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN"
)


def _files(data) -> pd.DataFrame:
    return pd.DataFrame(data.files)


def _problems(data) -> pd.DataFrame:
    return data.problems.frame()


def _episode(child, decom, dec="", ls="C2", rne="S"):
    return f"{child},{decom},{rne},{ls},N1,U1,PR1,{dec},,,,,"


def test_year_sub_folders_and_txt_and_upper_case_exports_are_all_read(tmp_path):
    root = tmp_path / "ssda903"
    write(root / "2023" / "header.txt", f"{HEADER}\n1,1,01/01/2010,WBRI,A123456789012,,\n")
    write(
        root / "2023" / "episodes.CSV",
        f"{EPISODES}\n{_episode(1, '01/04/2022', '01/06/2022')}\n",
    )
    write(root / "2024" / "deep" / "episodes.txt", f"{EPISODES}\n{_episode(2, '01/05/2023')}\n")
    write(root / "2024" / "README.txt", "notes for the analyst, not data\n")
    write(root / ".hidden" / "episodes.csv", f"{EPISODES}\n{_episode(9, '01/05/2023')}\n")
    data = read_ssda903(root)
    files = _files(data)
    read = {Path(f).relative_to(root).as_posix() for f in files["file"]}
    assert read == {"2023/header.txt", "2023/episodes.CSV", "2024/deep/episodes.txt"}
    assert files["rows_read"].sum() == 3
    episodes = data.tables["episodes"]
    assert sorted(episodes["child_ref"]) == ["1", "2"]
    assert (episodes["status"] == "used").all()
    notes = _problems(data)
    sub = notes[notes["problem"].str.startswith("sub-folder")]
    assert len(sub) == 2  # 2023 and 2024/deep (2024 itself holds only a README)
    assert any("2024/deep" in p for p in sub["problem"])


def test_windows_1252_semicolon_and_utf16_tab_exports_are_read_and_named(tmp_path):
    root = tmp_path / "ssda903"
    # Excel's plain "CSV" on an English Windows: Windows-1252, here with a no-break space
    # and a pound sign in columns the contract does not need, and semicolons
    text = f"{EPISODES}\n{_episode(1, '01/04/2022')}\n".replace(",", ";")
    text = text.replace(";;;;\n", ";;\u00a31\u00a0caf\u00e9;;\n")
    (root).mkdir()
    (root / "episodes.csv").write_bytes(text.encode("cp1252"))
    # Excel's "Unicode Text": UTF-16 with its mark, tab-separated, saved as .txt
    header = f"{HEADER}\n1,1,01/01/2010,WBRI,A123456789012,,\n".replace(",", "\t")
    (root / "header.txt").write_bytes(header.encode("utf-16"))
    data = read_ssda903(root)
    assert data.tables["episodes"]["status"].tolist() == ["used"]
    assert data.children["upn"].tolist() == ["A123456789012"]
    notes = _problems(data)
    named = notes[notes["problem"].str.startswith("read as")].set_index("table")["problem"]
    assert "Windows-1252" in named["episodes"] and "semicolon" in named["episodes"]
    assert "UTF-16" in named["header"] and "tab" in named["header"]
    assert (_problems(data)["action"] != "file skipped").all()


def test_text_that_is_neither_utf8_nor_windows_1252_is_a_clear_skip(tmp_path):
    root = tmp_path / "ssda903"
    root.mkdir()
    (root / "episodes.csv").write_bytes(f"{EPISODES}\n".encode() + b"1,\x81\x8d,,,,,,,,,,,\n")
    data = read_ssda903(root)
    skipped = _problems(data).query("action == 'file skipped'")
    assert len(skipped) == 1
    assert "neither UTF-8 nor Windows-1252" in skipped["problem"].iloc[0]
    assert "save it with the encoding 'UTF-8'" in skipped["problem"].iloc[0]


def test_excel_date_time_cells_and_serial_dates_are_read_as_dates(tmp_path):
    rows = [
        _episode(1, "01/04/2022 00:00", "03/05/2022 14:30"),  # Excel's dd/mm/yyyy hh:mm
        _episode(2, "44652"),  # a date cell saved as its serial number: 1 April 2022
        _episode(3, "01/04/2022 25:00"),  # not a time: still an impossible date
    ]
    write(tmp_path / "episodes.csv", EPISODES + "\n" + "\n".join(rows) + "\n")
    ep = read_ssda903(tmp_path).tables["episodes"].set_index("child_ref")
    assert ep.loc["1", "episode_start"] == pd.Timestamp("2022-04-01")
    assert ep.loc["1", "episode_end"] == pd.Timestamp("2022-05-03")
    assert ep.loc["2", "episode_start"] == pd.Timestamp("2022-04-01")
    assert ep["status"].tolist() == ["used", "used", "quarantined"]


def test_dfe_style_names_give_the_year_the_collection_ends(tmp_path):
    assert year_from_name(Path("SSDA903_2023-24_episodes.csv")) == 2024
    assert year_from_name(Path("ssda903_2023_24_header.csv")) == 2024
    assert year_from_name(Path("903_2023-2024/episodes.csv")) == 2024
    assert year_from_name(Path("SSDA903_2025_header.csv")) == 2025
    write(tmp_path / "SSDA903_2023-24_episodes.csv", f"{EPISODES}\n{_episode(1, '01/04/2023')}\n")
    data = read_ssda903(tmp_path)
    assert _files(data)["year"].tolist() == ["2024"]


@pytest.mark.parametrize("given", [2024, "2024", "2023-24", " 2024 "])
def test_collection_year_may_be_quoted_or_a_span(given):
    assert collection_year_of(given) == 2024
    check_import_config(
        {"la_code": LA, "out_dir": "x", "sources": {"a": 1}, "collection_year": given}
    )


@pytest.mark.parametrize("given", ["24", "last year", 2024.5, True])
def test_a_collection_year_that_is_not_one_stops_with_the_fix(given):
    with pytest.raises(LAReturnError, match=r"collection_year: 2024 for the 2023-24 return"):
        check_import_config(
            {"la_code": LA, "out_dir": "x", "sources": {"a": 1}, "collection_year": given}
        )


def test_census_dates_are_read_day_first_and_refused_when_not_dates():
    assert given_census_day("03/10/2024") == pd.Timestamp("2024-10-03")
    assert given_census_day("2024-10-03") == pd.Timestamp("2024-10-03")
    with pytest.raises(LAReturnError, match=r"census_dates\['pupils.csv'\].*dd/mm/yyyy"):
        check_import_config(
            {
                "la_code": LA,
                "out_dir": "x",
                "sources": {"a": 1},
                "census_dates": {"pupils.csv": "October 2024"},
            }
        )


def test_new_or_other_year_tables_are_reported_and_skipped_not_fatal(tmp_path):
    write(tmp_path / "SSDA903_2023_episodes.csv", f"{EPISODES}\n{_episode(1, '01/04/2022')}\n")
    # the social worker table exists from 2024 on; here in a file of 2023
    write(
        tmp_path / "SSDA903_2023_social_worker.csv",
        "CHILD,DOB,SW_ID,SW_DECOM,SW_DEC,SW_REASON\n1,01/01/2010,SW1,01/04/2022,,\n",
    )
    # a table the import does not know at all (a deprivation-of-liberty table, 2026-27)
    write(
        tmp_path / "SSDA903_2027_dol.csv",
        "CHILD,DOB,DOL_START,DOL_END\n1,01/01/2010,01/04/2026,\n2,01/01/2011,,\n",
    )
    data = read_ssda903(tmp_path)
    probs = _problems(data)
    assert (probs["action"] != "file skipped").all()
    files = _files(data).set_index("table")
    assert files.loc["social_worker", "rows_not_needed"] == 1
    assert files.loc["other", "rows_not_needed"] == 2
    said = " ".join(probs["problem"])
    assert "social_worker table, which the SSDA903 return has from 2024 on" in said
    assert "does not know (a new table?)" in said
    assert data.tables["episodes"]["status"].tolist() == ["used"]


def test_import_carries_on_past_a_new_table(tmp_path):
    src = tmp_path / "ssda903"
    write(src / "header.csv", f"{HEADER}\n1,1,01/01/2010,WBRI,A123456789012,,\n")
    write(src / "episodes.csv", f"{EPISODES}\n{_episode(1, '01/04/2023')}\n")
    write(src / "dol.csv", "CHILD,DOB,DOL_START\n1,01/01/2010,01/04/2026\n")
    report = import_la({"ssda903": src}, LA, tmp_path / "out", SALT)
    assert report.tables["looked_after_episodes"] == 1
    acc = report.accounting.set_index("table")
    assert acc.loc["other", "rows_not_needed"] == 1


def test_a_stacked_multi_year_file_takes_each_episode_from_its_latest_year(tmp_path):
    # newest year first, as a stacked export often is: the last row of each episode is its
    # oldest (still open) version, which must not win
    rows = [
        "2024," + _episode(1, "01/04/2022", "01/06/2023"),
        "2024," + _episode(2, "01/05/2023"),
        "2023-24," + _episode(3, "01/05/2023", "02/05/2023"),
        "2023," + _episode(1, "01/04/2022"),
        "2023," + _episode(3, "01/05/2023"),
        "last," + _episode(4, "01/05/2021"),
    ]
    write(tmp_path / "episodes.csv", "YEAR," + EPISODES + "\n" + "\n".join(rows) + "\n")
    data = read_ssda903(tmp_path, collection_year=2022)
    ep = data.tables["episodes"]
    used = ep[ep["status"] == "used"].set_index("child_ref")
    assert sorted(used.index) == ["1", "2", "3", "4"]
    assert used.loc["1", "episode_end"] == pd.Timestamp("2023-06-01")  # closed in 2024
    assert used.loc["3", "episode_end"] == pd.Timestamp("2023-05-02")
    assert used["episode_end"].isna().sum() == 2  # children 2 and 4 only
    assert (ep["status"] == "duplicate").sum() == 2  # every row accounted for
    assert used.loc["4", "year"] == "2022"  # unreadable YEAR: the file's year, reported
    probs = _problems(data)
    assert probs["problem"].str.contains("several collection years \\(2023, 2024").any()
    assert probs["problem"].str.startswith("YEAR is not a collection year").sum() == 1


def test_episodes_whose_child_has_no_header_row_are_named_and_not_linked(tmp_path):
    src = tmp_path / "ssda903"
    write(
        src / "header.csv",
        f"{HEADER}\n0123,1,01/01/2010,WBRI,A123456789012,,\n0456,2,01/01/2011,WBRI,B123456789012,,\n",
    )
    # Excel dropped the zeros of CHILD in the episodes file (0123 -> 123); child 999 has
    # no header row at all; child 0456 is fine
    rows = [
        _episode("123", "01/04/2023"),
        _episode("999", "01/04/2023"),
        _episode("0456", "01/04/2023"),
    ]
    write(src / "episodes.csv", EPISODES + "\n" + "\n".join(rows) + "\n")
    report = import_la({"ssda903": src}, LA, tmp_path / "out", SALT)
    probs = report.problems[report.problems["field"] == "CHILD"]
    by_child = probs.set_index("child")["problem"]
    assert "leading zeros" in by_child["123"] and "CHILD as text" in by_child["123"]
    assert "no header row in the return" in by_child["999"]
    assert "0456" not in by_child.index
    assert set(probs["file"]) == {str(src / "episodes.csv")}
    assert report.linkage["looked_after_without_header_n"] == 2
    assert report.linkage["with_upn_n"] == 2  # the two header children, not the episodes
    assert "2 looked-after children have episodes but no SSDA903 header row" in (
        report.summary_text()
    )
    # every episode is still accounted for (used)
    assert report.tables["looked_after_episodes"] == 3


def test_episodes_with_no_header_file_name_the_missing_file(tmp_path):
    write(tmp_path / "episodes.csv", f"{EPISODES}\n{_episode(1, '01/04/2023')}\n")
    data = read_ssda903(tmp_path)
    probs = _problems(data)
    assert probs["problem"].str.contains("no SSDA903 header table was read").sum() == 1


def test_a_table_losing_most_rows_stops_the_import_with_the_cause(tmp_path):
    src = tmp_path / "ssda903"
    write(src / "header.csv", f"{HEADER}\n1,1,01/01/2010,WBRI,A123456789012,,\n")
    # US month/day dates in a day-first return: 12 of 14 episodes are impossible dates
    rows = [_episode(1, f"04/{13 + i}/2023") for i in range(12)]
    rows += [_episode(1, "01/04/2022", "02/04/2022"), _episode(1, "01/05/2022")]
    write(src / "episodes.csv", EPISODES + "\n" + "\n".join(rows) + "\n")
    out = tmp_path / "out"
    with pytest.raises(LAReturnError) as err:
        import_la({"ssda903": src}, LA, out, SALT)
    msg = str(err.value)
    assert "ssda903 episodes: 12 of 14 rows (86%) quarantined, above the allowed 5%" in msg
    assert "DECOM is not a real dd/mm/yyyy date (12 rows)" in msg
    assert not (out / "looked_after_episodes.parquet").exists()
    assert (out / "import_problems.csv").exists()  # the rows, for the fix
    # an expected loss can be allowed
    report = import_la({"ssda903": src}, LA, out, SALT, max_loss_share=0.9)
    assert report.tables["looked_after_episodes"] == 2


def test_episodes_losing_their_link_to_the_header_stop_the_import(tmp_path):
    src = tmp_path / "ssda903"
    write(
        src / "header.csv",
        HEADER
        + "\n"
        + "\n".join(f"0{i},1,01/01/2010,WBRI,A1234567890{i:02d},," for i in range(10, 22))
        + "\n",
    )
    # a spreadsheet dropped the leading zero of every CHILD in the episodes file
    rows = [_episode(i, "01/04/2023") for i in range(10, 22)]
    write(src / "episodes.csv", EPISODES + "\n" + "\n".join(rows) + "\n")
    with pytest.raises(LAReturnError, match=r"12 of 12 rows \(100%\) belong to children with no"):
        import_la({"ssda903": src}, LA, tmp_path / "out", SALT)


def test_max_loss_share_must_be_a_share(tmp_path):
    with pytest.raises(LAReturnError, match="max_loss_share must be a share from 0 to 1"):
        import_la({"ssda903": tmp_path}, LA, tmp_path / "out", SALT, max_loss_share=5)


def _workbook(path, sheets: dict):
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


def test_an_excel_workbook_is_read_one_table_per_sheet(tmp_path):
    src = tmp_path / "ssda903"
    src.mkdir()
    _workbook(
        src / "SSDA903_2023-24.xlsx",
        {
            "Header": [HEADER.split(","), [1, 1, dt.datetime(2010, 1, 1), "WBRI", "A123456789012"]],
            "Episodes": [
                ["SSDA903 episodes, exported 2024-05-01"],  # a title row above the header
                EPISODES.split(","),
                [
                    1,
                    dt.datetime(2023, 4, 1),
                    "S",
                    "C2",
                    "N1",
                    "U1",
                    "PR1",
                    dt.datetime(2023, 6, 1, 14, 30),
                ],
                [1, dt.datetime(2023, 7, 1), "P", "C2", "N1", "U1", "PR1"],
                [],
            ],
            "Notes": [["anything the analyst wrote"], ["more"]],
        },
    )
    data = read_ssda903(src)
    files = _files(data).set_index("table")
    assert files.loc["episodes", "file"].endswith("SSDA903_2023-24.xlsx[Episodes]")
    assert files.loc["episodes", "rows_read"] == 2 and files.loc["episodes", "year"] == "2024"
    ep = data.tables["episodes"]
    assert ep["status"].tolist() == ["used", "used"]
    assert ep["episode_start"].tolist() == [pd.Timestamp("2023-04-01"), pd.Timestamp("2023-07-01")]
    assert ep["episode_end"].iloc[0] == pd.Timestamp("2023-06-01")
    assert data.children["upn"].tolist() == ["A123456789012"]
    assert data.children["dob"].iloc[0] == pd.Timestamp("2010-01-01")
    # the notes sheet is not a table of the return: reported, its rows not needed, not fatal
    probs = _problems(data)
    notes = probs[probs["file"].str.endswith("[Notes]")]
    assert len(notes) == 1 and notes["action"].iloc[0] == "noted"
    assert "sheet 'Notes' is not a table of the SSDA903 return" in notes["problem"].iloc[0]
    assert files.loc[""].pipe(lambda f: int(f["rows_not_needed"])) == 1
    title = probs[probs["file"].str.endswith("[Episodes]")]
    assert title["problem"].str.contains("1 title row").any()
    assert title.loc[title["problem"].str.contains("title row"), "rows_affected"].tolist() == [1]


def test_an_old_xls_or_broken_workbook_is_refused_with_the_fix(tmp_path):
    (tmp_path / "returns.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    (tmp_path / "broken.xlsx").write_bytes(b"PK\x03\x04 not really")
    probs = _problems(read_ssda903(tmp_path))
    by_file = dict(zip(probs["file"].map(lambda f: Path(f).name), probs["problem"]))
    assert "old .xls format. Save it as .xlsx" in by_file["returns.xls"]
    assert "not a readable Excel workbook" in by_file["broken.xlsx"]


def test_a_school_census_workbook_is_read(tmp_path):
    _workbook(
        tmp_path / "2024_autumn_census.xlsx",
        {
            "pupils": [
                ["pupilonrolltableid", "upn", "dob", "sex", "enrolstatus", "NativeId"],
                ["p1", "A123456789012", dt.datetime(2015, 3, 1), "M", "C", "SCH1"],
            ],
            "fsm": [
                ["pupilonrolltableid", "fsmstartdate", "fsmenddate"],
                ["p1", dt.datetime(2024, 9, 1), None],
            ],
        },
    )
    data = read_school_census(tmp_path)
    pupils = data.tables["pupils"]
    assert pupils["status"].tolist() == ["used"]
    assert bool(pupils["fsm_eligible"].iloc[0]) is True


def test_implausible_episodes_are_reported_with_counts_and_kept(tmp_path):
    write(tmp_path / "header.csv", f"{HEADER}\n1,1,01/01/2010,WBRI,A123456789012,,\n")
    rows = [
        _episode(1, "01/04/2015", "01/06/2015"),
        _episode(1, "01/05/2015", "01/07/2015"),  # overlaps the one before
        _episode(1, "01/08/2016"),  # never closed ...
        _episode(1, "01/09/2017"),  # ... and another starts
        _episode(1, "01/01/2009", "02/01/2009"),  # before the child was born
    ]
    write(tmp_path / "episodes.csv", EPISODES + "\n" + "\n".join(rows) + "\n")
    data = read_ssda903(tmp_path)
    assert (data.tables["episodes"]["status"] == "used").all()
    kept = _problems(data).query("action == 'kept'")
    said = kept.groupby("problem")["rows_affected"].sum()
    assert said[said.index.str.contains("overlapping episodes")].sum() == 1
    assert said[said.index.str.contains("never closed")].sum() == 1
    assert said[said.index.str.contains("before the child's date of birth")].sum() == 1
    assert set(kept["child"]) == {"1"}


def test_implausible_cin_dates_are_reported(tmp_path):
    child = cin_child(
        "c1",
        "A123456789012",
        cin_referral("1990-05-01") + cin_referral("2014-10-01"),  # decades / months early
        dob="2015-03-27",
    )
    write(tmp_path / "cin.xml", cin_xml(child, year="2023", reference_date="2024-03-30"))
    data = read_cin_census(tmp_path)
    kept = _problems(data).query("action == 'kept'")
    early = kept[kept["problem"].str.contains("more than a year before the child's birth")]
    assert len(early) == 1 and early["child"].iloc[0] == "c1"
    header = kept[kept["table"] == "Header"]["problem"]
    assert header.str.contains("is not 31 March").sum() == 1
    assert header.str.contains("Year 2023 disagrees with ReferenceDate 2024-03-30").sum() == 1


def test_two_digit_years_are_named_as_such_and_stop_when_systematic(tmp_path):
    rows = [_episode(1, f"{i + 1:02d}/04/23") for i in range(12)] + [_episode(1, "01/04/2022")]
    write(tmp_path / "ssda903" / "episodes.csv", EPISODES + "\n" + "\n".join(rows) + "\n")
    data = read_ssda903(tmp_path / "ssda903")
    reasons = data.tables["episodes"]["reason"]
    assert reasons.str.startswith("DECOM has a two-digit year").sum() == 12
    with pytest.raises(LAReturnError, match="two-digit year .* \\(12 rows\\)"):
        import_la({"ssda903": tmp_path / "ssda903"}, LA, tmp_path / "out", SALT)
