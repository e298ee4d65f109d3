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
