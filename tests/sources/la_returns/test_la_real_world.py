"""Returns as analysts hold them: folder trees, text exports in other encodings and
delimiters, spreadsheet dates, DfE file names, stacked years, new tables. Each case is a
small file written here; every row read is accounted for."""

from pathlib import Path

import pandas as pd

from child_mdh.sources.la_returns.ssda903 import read_ssda903

from la_builders import write

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
