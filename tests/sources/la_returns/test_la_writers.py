"""write_la_formats: synthetic data in the SSDA903, CIN census and school census formats."""

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from child_mdh import files as io
from child_mdh.sources.la_returns import (
    LAReturnError,
    fsm_eligible_on,
    import_la,
    pseudonymise,
)
from child_mdh.sources.la_returns.values import upn_format_ok
from child_mdh.sources.synthetic.la_formats import (
    _unique_numbers,
    fsm_periods_from_censuses,
    upn_check_letters,
    upn_is_valid,
    upn_lookup,
    write_la_formats,
)

from la_builders import SALT
from la_tiny import LA1, tiny_synthetic_folder


def test_upn_check_letter_follows_the_dfe_rule():
    # B801200005001: digits 8,0,1,2,0,0,0,0,5,0,0,1 at positions 2..13:
    # 8x2 + 1x4 + 2x5 + 5x10 + 1x13 = 16 + 4 + 10 + 50 + 13 = 93; 93 = 4x23 + 1 -> 'B'
    # 000000000001: 1x13 = 13 -> the 14th letter without I and O: 'P'
    # 100000000000: 1x2 = 2 -> 'C'
    got = upn_check_letters(np.array([801200005001, 1, 100000000000]))
    assert got.tolist() == ["B", "P", "C"]
    ok = upn_is_valid(
        pd.Series(["B801200005001", "A801200005001", "P000000000001", "B80120000500"])
    )
    assert ok.tolist() == [True, False, True, False]


def test_synthetic_upns_are_valid_distinct_and_deterministic():
    ids = pd.Series([f"PMR{i:07d}" for i in range(5000)])
    a = upn_lookup(ids)
    assert upn_is_valid(a["upn"]).all() and upn_format_ok(a["upn"]).all()
    assert a["upn"].is_unique and a["child_id"].is_unique
    assert a["child_id"].str.fullmatch(r"[1-9]\d{8}").all()
    b = upn_lookup(ids.sample(frac=1, random_state=1))  # order does not matter
    pd.testing.assert_frame_equal(a, b)
    c = upn_lookup(ids, salt="another salt")
    assert (a["upn"] != c["upn"]).mean() > 0.99
    # a pupil's UPN does not depend on the other pupils (no collision here)
    one = upn_lookup(pd.Series(["PMR0000042"]))
    assert one["upn"].iloc[0] == a.set_index("pupil_id").loc["PMR0000042", "upn"]


def test_colliding_hashes_are_made_distinct():
    ids = np.array([f"x{i}" for i in range(7)], dtype=object)
    nums = _unique_numbers(ids, "salt", "ns", 7)  # 7 ids into 7 numbers: collisions certain
    assert sorted(nums.tolist()) == list(range(7))


def test_fsm_periods_give_back_eligibility_at_every_census():
    d = pd.to_datetime(["2020-01-16", "2021-01-21", "2022-01-20", "2023-01-19"]).astype(
        "datetime64[ns]"
    )
    history = pd.DataFrame(
        {
            "pupil_id": ["X"] * 4 + ["Y"],
            "census_date": list(d) + [d[1]],
            "fsm_eligible": [True, True, False, True, False],
        }
    )
    got = fsm_periods_from_censuses(history)
    # X eligible at the first census: the run starts 61 days before it,
    #   2020-01-16 - 61 days = 2019-11-16;
    # not eligible in 2022: that file holds the run just ended, ending halfway between
    #   2021-01-21 and 2022-01-20 (364 days): 2021-01-21 + 182 days = 2021-07-22;
    # eligible again in 2023: a new run from halfway between 2022-01-20 and 2023-01-19
    #   (364 days): 2022-01-20 + 182 days = 2022-07-21, open.
    want = pd.DataFrame(
        {
            "pupil_id": ["X", "X", "X", "X"],
            "census_date": [d[0], d[1], d[2], d[3]],
            "fsmstartdate": pd.to_datetime(
                ["2019-11-16", "2019-11-16", "2019-11-16", "2022-07-21"]
            ),
            "fsmenddate": pd.to_datetime([None, None, "2021-07-22", None]),
        }
    )
    want[["fsmstartdate", "fsmenddate"]] = want[["fsmstartdate", "fsmenddate"]].astype(
        "datetime64[ns]"
    )
    pd.testing.assert_frame_equal(got, want)
    for day, elig in zip(d, [True, True, False, True]):
        p = got[got["census_date"] == day].rename(
            columns={"pupil_id": "key", "fsmstartdate": "start", "fsmenddate": "end"}
        )
        assert fsm_eligible_on(pd.Series(["X", "Y"]), p, day).tolist() == [elig, False]


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("writers")
    synth = tiny_synthetic_folder(tmp / "synth")
    return write_la_formats(synth, LA1, tmp / "formats"), tmp


def _cin_years(folder):
    out = {}
    for path in sorted(folder.glob("*.xml")):
        root = ET.parse(path).getroot()
        year = int(root.find("Header/CollectionDetails/Year").text)
        rows = []
        for child in root.iter("Child"):
            cid = child.find("ChildIdentifiers/LAchildID").text
            for ref in child.findall("CINdetails"):
                closure = ref.find("CINclosureDate")
                plans = [
                    (
                        p.find("CPPstartDate").text,
                        None if p.find("CPPendDate") is None else p.find("CPPendDate").text,
                    )
                    for p in ref.findall("ChildProtectionPlans")
                ]
                rows.append(
                    (
                        cid,
                        ref.find("CINreferralDate").text,
                        None if closure is None else closure.text,
                        tuple(plans),
                    )
                )
        out[year] = sorted(rows)
    return out


def test_cin_referrals_are_repeated_in_every_year_they_are_open(written):
    got, _ = written
    ids = upn_lookup(pd.Series(["PMR1", "PMR2", "PMR3"])).set_index("pupil_id")["child_id"]
    one, two = ids["PMR1"], ids["PMR2"]
    years = _cin_years(Path(got["out_dir"]) / "cin_census")
    # collection year Y runs from 1 April Y-1 to 31 March Y (the ReferenceDate); a closure
    # or plan end after 31 March Y is not known to the year-Y return
    assert years == {
        2020: sorted(
            [
                (one, "2019-06-01", None, (("2019-07-01", None),)),
                (two, "2020-03-31", "2020-03-31", ()),
            ]
        ),
        2021: [(one, "2019-06-01", None, (("2019-07-01", "2020-06-30"),))],
        2022: sorted(
            [
                (one, "2019-06-01", "2021-05-10", ()),
                (one, "2022-02-01", None, (("2022-03-01", None),)),
            ]
        ),
        2023: [(one, "2022-02-01", None, (("2022-03-01", None),))],
    }


def test_ssda903_and_school_census_files(written):
    got, _ = written
    out = Path(got["out_dir"])
    lk = upn_lookup(pd.Series(["PMR1", "PMR2", "PMR3"])).set_index("pupil_id")
    header = pd.read_csv(out / "ssda903" / "SSDA903_2023_header_synthetic.csv", dtype=str)
    assert header.to_dict("records") == [
        {
            "CHILD": lk.loc["PMR1", "child_id"],
            "SEX": "1",
            "DOB": "30/11/2009",
            "ETHNIC": "WBRI",
            "UPN": lk.loc["PMR1", "upn"],
            "MOTHER": np.nan,
            "MC_DOB": np.nan,
        }
    ]
    eps = pd.read_csv(out / "ssda903" / "SSDA903_2023_episodes_synthetic.csv", dtype=str)
    assert eps[["DECOM", "RNE", "LS", "DEC", "REC"]].fillna("").values.tolist() == [
        ["01/06/2021", "S", "C2", "01/01/2022", "X1"],
        ["01/01/2022", "P", "C2", "", ""],
    ]
    names = sorted(p.name for p in (out / "school_census").iterdir())
    assert names == [
        f"{y}_spring_{t}_synthetic.csv"
        for y in (2020, 2021, 2022, 2023)
        for t in ("fsmperiod", "pupilonroll")
    ]
    roll = pd.read_csv(out / "school_census" / "2021_spring_pupilonroll_synthetic.csv", dtype=str)
    assert sorted(roll["upn"]) == sorted(lk.loc[["PMR1", "PMR3"], "upn"])
    assert "census_date" not in roll  # the DfE day: third Thursday of January
    assert set(roll["dob"]) == {"2009-Nov-30 00:00:00", "2010-Dec-25 00:00:00"}
    flags = pd.read_csv(out / "local" / "household_domains_synthetic.csv", dtype=str)
    # H1: unemployed adult (employment), no level 2 (education), occupancy -1 (housing)
    assert flags.fillna("").values.tolist() == sorted(
        [[lk.loc[p, "upn"], "H1", "1", "1", "0", "1"] for p in ("PMR1", "PMR2")]
    )
    # labelled synthetic
    assert "SYNTHETIC" in (out / "README.md").read_text()
    xml = next((out / "cin_census").glob("*.xml")).read_text()
    assert "SYNTHETIC DATA" in xml
    assert all(
        f.endswith(("_synthetic.csv", "_synthetic.xml", "README.md", "2021.csv"))
        for f in got["files"]
    )
    assert got["synthetic"] is True


def test_import_of_the_written_files_gives_back_the_tables(written):
    got, tmp = written
    out = tmp / "import"
    report = import_la(got["sources"], LA1, out, SALT, synthetic=True)
    lk = upn_lookup(pd.Series(["PMR1", "PMR2", "PMR3"]))
    ids = dict(zip(lk["pupil_id"], pseudonymise(lk["upn"], SALT, "upn")))
    pc = pd.read_parquet(out / "pupil_census.parquet").sort_values(["pupil_id", "census_date"])
    want = pd.read_parquet(tmp / "synth" / "pupil_census.parquet").query("la_code == @LA1")
    want = want.assign(pupil_id=want["pupil_id"].map(ids)).sort_values(["pupil_id", "census_date"])
    assert (
        pc[["pupil_id", "census_date", "fsm_eligible"]].values.tolist()
        == want[["pupil_id", "census_date", "fsm_eligible"]].values.tolist()
    )
    ref = pd.read_parquet(out / "cin_referrals.parquet").sort_values("referral_date")
    assert ref["cin_closure_date"].dt.strftime("%Y-%m-%d").fillna("open").tolist() == [
        "2021-05-10",
        "2020-03-31",
        "open",
    ]
    assert report.rows_quarantined == 0
    assert io.read_parquet_metadata(out / "cin_referrals.parquet")["synthetic"] is True
    assert any("SYNTHETIC" in c for c in report.caveats)


def test_unknown_la_and_non_synthetic_folders_are_refused(written):
    _, tmp = written
    with pytest.raises(LAReturnError, match="not a local authority of"):
        write_la_formats(tmp / "synth", "E06000099", tmp / "x")
    with pytest.raises(LAReturnError, match="truth_children.parquet"):
        write_la_formats(tmp / "formats", LA1, tmp / "y")
