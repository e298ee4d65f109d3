"""SSDA903: tables identified by header set, quirks reported, XML form, previous year."""

import re

import pandas as pd
import pytest

from child_mdh.sources.la_returns.ssda903 import identify_table, read_ssda903, schema_for_year

from la_builders import DATA, write

EPISODES_HEADER = (
    "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN"
)


def _files(data) -> pd.DataFrame:
    return pd.DataFrame(data.files)


def _problems(data) -> pd.DataFrame:
    return data.problems.frame()


def test_tables_identified_by_header_set_not_name():
    ep = EPISODES_HEADER.split(",")
    assert identify_table(ep) == ("episodes", [], [])
    assert identify_table(list(reversed(ep)))[0] == "episodes"
    assert (
        identify_table([" child", "Sex ", "dob", "ethnic", "UPN", "mother", "mc_dob"])[0]
        == "header"
    )
    # the XML element name CHILDID is read as CHILD
    assert identify_table(["CHILDID", "SEX", "DOB", "DUC"])[0] == "uasc"
    assert identify_table(["CHILD", "DOB", "REVIEW", "REVIEW_CODE"])[0] == "reviews"
    # an episodes export without URN is still the episodes table, URN reported missing
    assert identify_table(ep[:-1]) == ("episodes", ["URN"], [])
    assert identify_table(["NAME", "ADDRESS"]) == (None, [], [])


def test_schemas_are_versioned_by_collection_year():
    assert schema_for_year(2016)[0] == 2017
    assert schema_for_year(2023)[0] == 2017
    assert schema_for_year(2025)[0] == 2024
    sw = ["CHILD", "DOB", "SW_ID", "SW_DECOM", "SW_DEC", "SW_REASON"]
    assert identify_table(sw, 2024)[0] == "social_worker"
    assert identify_table(sw, 2020)[0] is None


def test_slice_imports_every_row():
    data = read_ssda903(DATA / "ssda903")
    files = _files(data)
    n_csv_episodes = len((DATA / "ssda903" / "episodes.csv").read_text().splitlines()) - 1
    n_xml_episodes = (DATA / "ssda903" / "fake_903.xml").read_text().count("<EPISODE>")
    ep = data.tables["episodes"]
    assert len(ep) == n_csv_episodes + n_xml_episodes == 64 + 21
    assert (ep["status"] == "used").all()
    got = files.set_index(["table"]).loc["reviews"]
    assert int(got["rows_read"].sum()) == int(got["rows_not_needed"].sum()) > 0
    assert len(data.children) == 30 + 8
    assert not (_problems(data)["severity"] == "error").any()


def test_xml_form_values():
    data = read_ssda903(DATA / "ssda903" / "fake_903.xml")
    ep = data.tables["episodes"]
    first = ep.iloc[0]
    # <CHILDID>907440</CHILDID> ... <DECOM>06/01/2017</DECOM><RNE>T</RNE><LS>J3</LS> ...
    # <DEC>06/10/2017</DEC>
    assert first["child_ref"] == "907440"
    assert first["episode_start"] == pd.Timestamp("2017-01-06")
    assert first["episode_end"] == pd.Timestamp("2017-10-06")
    assert (first["legal_status"], first["reason_new_episode"]) == ("J3", "T")
    assert first["source_row"] == "child 1, episode 1"
    kids = data.children.set_index("child_ref")
    assert kids.loc["907440", "upn"] == "O013219285333"
    assert kids.loc["907440", "sex"] == "F"  # SEX 2
    # an empty <DEC /> is an open episode, not a bad date
    assert ep["episode_end"].isna().sum() == (DATA / "ssda903" / "fake_903.xml").read_text().count(
        "<DEC />"
    )
    assert (ep["status"] == "used").all()


def test_quirks_reported_not_crashed_on():
    folder = DATA / "ssda903_quirks"
    data = read_ssda903(folder)
    probs = _problems(data)
    files = _files(data).set_index("file")

    def problem_rows(file, text):
        p = probs[
            (probs["file"] == str(folder / file)) & probs["problem"].str.contains(text, regex=False)
        ]
        return p

    # byte-order marks removed and noted
    assert len(problem_rows("header.csv", "byte-order mark")) == 1
    assert len(problem_rows("episodes.csv", "byte-order mark")) == 1
    # header spellings (CHILDID, lower case, spaces) read as the header table
    assert len(problem_rows("header.csv", "header spelled differently")) == 1
    assert files.loc[str(folder / "header.csv"), "table"] == "header"
    # the impossible date: file, row and value reported; the row quarantined
    bad = problem_rows("episodes.csv", "impossible date: DECOM")
    assert bad[["row", "field", "value", "action"]].values.tolist() == [
        ["2", "DECOM", "02/01/20251", "row quarantined"]
    ]
    bad_dec = problem_rows("episodes.csv", "impossible date: DEC ")
    assert bad_dec[["row", "value"]].values.tolist() == [["5", "31/02/2017"]]
    ep = data.tables["episodes"]
    assert ep.loc[ep["source_row"].isin(["2", "5"]), "status"].tolist() == ["quarantined"] * 2
    assert (ep.loc[~ep["source_row"].isin(["2", "5"]), "status"] == "used").all()
    # ids written as 566910.0 are mended and noted
    mended = problem_rows("header.csv", "numbers with '.0'")
    assert mended["rows_affected"].tolist() == [2] and mended["row"].tolist() == ["2, 3"]
    assert len(problem_rows("episodes.csv", "numbers with '.0'")) == 1
    assert not data.children["child_ref"].str.endswith(".0").any()
    assert not ep["child_ref"].str.endswith(".0").any()
    # blank files: reported, read as nothing
    assert len(problem_rows("missing.csv", "blank file (no bytes)")) == 1
    assert len(problem_rows("uasc.csv", "only a header row")) == 1
    assert files.loc[str(folder / "uasc.csv"), "rows_read"] == 0


def test_previous_year_episode_replaced_by_current_year(tmp_path):
    write(
        tmp_path / "903_2024" / "episodes.csv",
        f"""
        {EPISODES_HEADER}
        7,01/05/2023,S,C2,N1,U1,PR1,,,,,,
        """,
    )
    write(
        tmp_path / "903_2025" / "episodes.csv",
        f"""
        {EPISODES_HEADER}
        7,01/05/2023,S,C2,N1,U1,PR1,01/02/2024,E11,,,,
        7,01/02/2024,S,V2,N1,U1,PR1,,,,,,
        """,
    )
    data = read_ssda903(
        tmp_path / "903_2025", previous_paths=tmp_path / "903_2024", collection_year=2025
    )
    ep = data.tables["episodes"]
    used = ep[ep["status"] == "used"].sort_values("episode_start")
    assert used["episode_start"].tolist() == [
        pd.Timestamp("2023-05-01"),
        pd.Timestamp("2024-02-01"),
    ]
    # the episode open in last year's return is closed in this year's: this year's DEC wins
    assert used["episode_end"].iloc[0] == pd.Timestamp("2024-02-01")
    dup = ep[ep["status"] == "duplicate"]
    assert len(dup) == 1 and dup["source_file"].iloc[0].endswith("903_2024/episodes.csv")
    assert "later return" in dup["reason"].iloc[0]


def test_collection_year_from_file_or_folder_name(tmp_path):
    from child_mdh.sources.la_returns.files import year_from_name

    assert year_from_name(tmp_path / "SSDA903_2025_header.csv") == 2025
    assert year_from_name(tmp_path / "2024" / "header.csv") == 2024
    assert year_from_name(tmp_path / "x" / "header.csv") is None
    # the later collection year wins, whatever the listing order
    for year, ls in ((2024, "C1"), (2023, "C2")):
        write(
            tmp_path / str(year) / "episodes.csv",
            f"""
            {EPISODES_HEADER}
            7,01/05/2022,S,{ls},N1,U1,PR1,,,,,,
            """,
        )
    ep = read_ssda903([tmp_path / "2024", tmp_path / "2023"]).tables["episodes"]
    assert ep.loc[ep["status"] == "used", "legal_status"].tolist() == ["C1"]


def test_previous_year_marked_by_file_name(tmp_path):
    write(
        tmp_path / "episodes_last.csv",
        f"""
        {EPISODES_HEADER}
        7,01/05/2023,S,C2,N1,U1,PR1,,,,,,
        """,
    )
    write(
        tmp_path / "episodes.csv",
        f"""
        {EPISODES_HEADER}
        7,01/05/2023,S,C1,N1,U1,PR1,,,,,,
        """,
    )
    ep = read_ssda903(tmp_path).tables["episodes"]
    used = ep[ep["status"] == "used"]
    assert used["legal_status"].tolist() == ["C1"]
    assert used["source_file"].iloc[0].endswith("/episodes.csv")


def test_bad_codes_and_date_order_quarantined(tmp_path):
    write(
        tmp_path / "episodes.csv",
        f"""
        {EPISODES_HEADER}
        1,01/05/2023,s,c2,N1,U1,PR1,,,,,,
        2,01/05/2023,S,X9,N1,U1,PR1,,,,,,
        3,01/05/2023,Q,C2,N1,U1,PR1,,,,,,
        4,01/05/2023,S,C2,N1,U1,PR1,30/04/2023,,,,,
        ,01/05/2023,S,C2,N1,U1,PR1,,,,,,
        6,,S,C2,N1,U1,PR1,,,,,,
        """,
    )
    data = read_ssda903(tmp_path)
    ep = data.tables["episodes"].set_index("source_row")
    assert ep.loc["2", "status"] == "used"  # lower-case codes accepted
    assert ep.loc["2", "legal_status"] == "C2"
    for row, text in [
        ("3", "LS is not"),
        ("4", "RNE is not"),
        ("5", "DEC (end of the episode) is before"),
        ("6", "no CHILD id"),
        ("7", "no DECOM"),
    ]:
        assert ep.loc[row, "status"] == "quarantined", row
        assert text in ep.loc[row, "reason"], (row, ep.loc[row, "reason"])
    probs = _problems(data)
    assert probs.loc[probs["row"] == "3", "value"].tolist() == ["X9"]


def test_repeated_episode_in_one_file_keeps_the_last(tmp_path):
    write(
        tmp_path / "episodes.csv",
        f"""
        {EPISODES_HEADER}
        1,01/05/2023,S,C2,N1,U1,PR1,,,,,,
        1,01/05/2023,S,C1,N1,U1,PR1,,,,,,
        """,
    )
    data = read_ssda903(tmp_path)
    ep = data.tables["episodes"]
    assert ep["status"].tolist() == ["duplicate", "used"]
    assert ep.loc[ep["status"] == "used", "legal_status"].tolist() == ["C1"]
    probs = _problems(data)
    assert probs["problem"].str.contains("repeated in the same file").sum() == 1


def test_unreadable_and_wrong_files_are_skipped_with_plain_english(tmp_path):
    # bytes that are neither UTF-8 nor Windows-1252 (which is read, see test_la_real_world)
    (tmp_path / "header.csv").write_bytes(
        b"CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB\n1,1,01/01/2010,W\x81\x8d,,,\n"
    )
    write(tmp_path / "cin.xml", "<Message><Header/><Children/></Message>")
    (tmp_path / "returns.xlsx").write_bytes(b"PK\x03\x04")
    write(tmp_path / "other.csv", "NAME,ADDRESS\nx,y\n")
    data = read_ssda903(tmp_path)
    probs = _problems(data)
    skipped = probs[probs["action"] == "file skipped"].set_index(
        probs.loc[probs["action"] == "file skipped", "file"].map(lambda f: f.rsplit("/", 1)[-1])
    )
    assert "Notepad" in skipped.loc["header.csv", "problem"]
    assert "UTF-8" in skipped.loc["header.csv", "problem"]
    assert "CIN census" in skipped.loc["cin.xml", "problem"]
    assert "CSV UTF-8" in skipped.loc["returns.xlsx", "problem"]
    assert "does not match any SSDA903 table" in skipped.loc["other.csv", "problem"]
    assert re.search(r"episodes: CHILD, DECOM", skipped.loc["other.csv", "problem"])
    assert data.tables["episodes"].empty


@pytest.mark.parametrize("text", ["<EXPSSDA903><CHILD><HEADER>", ""])
def test_broken_xml_is_skipped(tmp_path, text):
    write(tmp_path / "903.xml", text)
    data = read_ssda903(tmp_path)
    probs = _problems(data)
    assert probs["action"].tolist() == ["file skipped"]
    assert "well-formed" in probs["problem"].iloc[0]
