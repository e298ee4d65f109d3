"""import_la: linkage across returns, contract conformance, accounting, nothing lost."""

import hashlib
import hmac
import json

import pandas as pd
import pyarrow.parquet as pq
import pytest

from child_mdh import files as io
from child_mdh.contract import tables as contract
from child_mdh.sources.la_returns import AREA_LEVEL_CAVEAT, LAReturnError, import_la
from child_mdh.sources.la_returns.importer import CONTRACT_OUTPUTS

from la_builders import DATA, LA, SALT, write


def _id(namespace: str, value: str) -> str:
    return hmac.new(SALT.encode(), f"{namespace}\x1f{value}".encode(), hashlib.sha256).hexdigest()[
        :16
    ]


A, B, C = (_id("upn", u) for u in ("A123456789012", "B123456789013", "C123456789014"))


def _read(out, name) -> pd.DataFrame:
    return pd.read_parquet(out / f"{name}.parquet")


@pytest.fixture
def imported(tiny_la, tmp_path):
    out = tmp_path / "out"
    report = import_la(
        tiny_la, LA, out, SALT, la_name="Oldham", region_code="E12000002", region_name="North West"
    )
    return report, out


def test_children_linked_by_upn_across_903_cin_and_school_census(imported):
    report, out = imported
    lae = _read(out, "looked_after_episodes").sort_values("episode_start")
    assert lae["pupil_id"].tolist() == [A, A, "ssda903-" + _id("ssda903", "1002"), B]
    cin = _read(out, "cin_referrals").sort_values("referral_date")
    assert cin["pupil_id"].tolist() == [A, "cin_census-" + _id("cin_census", "LA2"), C]
    assert _read(out, "child_protection_plans")["pupil_id"].tolist() == [A]
    pc = _read(out, "pupil_census")
    ids = dict(zip(pc["pupil_id"], pc["fsm_eligible"]))
    assert bool(ids[A]) is False  # no FSM period
    assert bool(ids[C]) is True  # open FSM period from 1 September 2024 covers 16 January 2025
    assert bool(ids[B]) is False  # period ended 20 December 2024
    p4 = [p for p in ids if p.startswith("school_census-")]
    assert p4 == ["school_census-" + _id("school_census", "2025-01-16/P4")]
    lk = report.linkage
    assert lk["in_several_returns_n"] == 3  # A in all three, B in 903 + school, C in CIN + school
    assert lk["without_upn_n"] == 3  # CHILD 1002, LA2, P4
    assert lk["not_in_pupil_census_n"] == {
        "cin_referrals": 1,
        "child_protection_plans": 0,
        "looked_after_episodes": 1,
    }
    areas = _read(out, "areas")
    assert areas.to_dict("records") == [
        {
            "la_code": LA,
            "la_name": "Oldham",
            "region_code": "E12000002",
            "region_name": "North West",
        }
    ]
    meta = io.read_parquet_metadata(out / "cin_referrals.parquet")
    assert meta["la_code"] == LA and meta["synthetic"] is False


def test_outputs_conform_to_the_contract(imported):
    _, out = imported
    for name in CONTRACT_OUTPUTS:
        t = contract.TABLES[name]
        df = _read(out, name)
        assert list(df.columns) == t.column_names, name
        assert {c: str(df[c].dtype) for c in df.columns} == t.dtypes(), name
        assert not df.duplicated(list(t.primary_key)).any(), name
        for col in t.columns:
            if not col.nullable:
                assert df[col.name].notna().all(), (name, col.name)
            if col.codes:
                assert df[col.name].isin(col.codes).all(), (name, col.name)
        for a, b in t.date_order:
            assert not (df[b] < df[a]).any(), (name, a, b)
    assert len(_read(out, "pupil_census")) == 4


def test_no_raw_upn_or_salt_in_any_output(imported, tiny_la):
    _, out = imported
    secrets = [
        b"A123456789012",
        b"B123456789013",
        b"C123456789014",
        b"b12345678901 3",
        SALT.encode(),
    ]
    files = [p for p in out.iterdir() if p.is_file()]
    assert {p.name for p in files} >= {
        "import_report.json",
        "import_problems.csv",
        "import_accounting.csv",
        "pupil_census.parquet",
    }
    for p in files:
        raw = p.read_bytes()
        if p.suffix == ".parquet":
            raw += pq.read_table(p).to_pandas().to_csv().encode()
        for s in secrets:
            assert s not in raw, (p.name, s)


def test_every_row_is_accounted_for(imported):
    report, out = imported
    acc = pd.read_csv(out / "import_accounting.csv")
    assert (acc["rows_unaccounted"] == 0).all()
    assert (
        acc["rows_read"]
        == acc["rows_used"]
        + acc["rows_quarantined"]
        + acc["rows_duplicate"]
        + acc["rows_not_needed"]
    ).all()
    episodes = acc[acc["table"] == "episodes"]
    assert episodes["rows_read"].sum() == 4 and episodes["rows_used"].sum() == 4
    text = report.summary_text()
    assert "Local authority E08000004" in text and "looked_after_episodes 4 rows" in text
    rep = json.loads((out / "import_report.json").read_text())
    assert rep["tables"]["pupil_census"] == 4


def test_quirky_903_files_import_with_quirks_reported(tmp_path):
    out = tmp_path / "out"
    report = import_la({"ssda903": DATA / "ssda903_quirks"}, LA, out, SALT)
    p = report.problems
    bad = p[p["problem"].str.startswith("impossible date: DECOM")]
    assert bad[["file", "row", "value"]].values.tolist() == [
        [str(DATA / "ssda903_quirks" / "episodes.csv"), "2", "02/01/20251"]
    ]
    for text in (
        "byte-order mark",
        "numbers with '.0'",
        "blank file (no bytes)",
        "only a header row",
        "header spelled differently",
    ):
        assert p["problem"].str.contains(text, regex=False).any(), text
    acc = report.accounting
    assert (acc["rows_unaccounted"] == 0).all()
    ep = acc[acc["table"] == "episodes"].iloc[0]
    assert (ep["rows_read"], ep["rows_used"], ep["rows_quarantined"]) == (19, 17, 2)
    lae = _read(out, "looked_after_episodes")
    assert len(lae) == 17
    # the child written 566910.0 in the header is the same child as 566910 in episodes
    assert lae["pupil_id"].str.startswith("ssda903-").sum() == 0
    assert report.linkage["with_upn_n"] == report.linkage["children_n"] == 10


def test_a_file_that_cannot_be_used_stops_the_import_but_writes_the_report(tiny_la, tmp_path):
    (tiny_la["ssda903"] / "placements.xlsx").write_bytes(b"PK\x03\x04")
    out = tmp_path / "out"
    with pytest.raises(LAReturnError, match="(?s)could not be used.*placements.xlsx.*CSV UTF-8"):
        import_la(tiny_la, LA, out, SALT)
    assert (out / "import_report.json").exists()
    assert not list(out.glob("*.parquet"))
    report = import_la(tiny_la, LA, out, SALT, on_bad_file="skip")
    assert report.tables["looked_after_episodes"] == 4
    assert len(report.skipped_files) == 1


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"sources": {"ssda9O3": "x"}}, "unknown entry ssda9O3"),
        ({"sources": {}}, "at least one of"),
        ({"la_code": "353"}, "not the ONS code"),
        ({"salt": "abc"}, "at least 16 characters"),
        ({"sources": {"ssda903": "/no/such/folder"}}, "does not exist"),
        ({"on_bad_file": "ignore"}, "stop' or 'skip"),
    ],
)
def test_bad_arguments_explained(tiny_la, tmp_path, kwargs, message):
    args = {"sources": tiny_la, "la_code": LA, "out_dir": tmp_path / "o", "salt": SALT, **kwargs}
    with pytest.raises(LAReturnError, match=message):
        import_la(**args)


def test_returns_not_given_give_empty_tables(tiny_la, tmp_path):
    out = tmp_path / "out"
    report = import_la({"cin_census": tiny_la["cin_census"]}, LA, out, SALT)
    assert report.tables["looked_after_episodes"] == 0 and report.tables["pupil_census"] == 0
    empty = _read(out, "pupil_census")
    assert list(empty.columns) == contract.TABLES["pupil_census"].column_names
    assert report.linkage["not_in_pupil_census_n"]["cin_referrals"] == 3


def test_household_domain_flags_give_child_domains(tiny_la, tmp_path):
    write(
        tmp_path / "domains.csv",
        """
        UPN,household_ref,employment,education,health,housing,note
        A123456789012,H1,1,0,,1,x
        C123456789014,H1,1,0,,1,
        B123456789013,H2,0,0,0,0,
        D123456789015,H3,yes,no,maybe,0,
        E123456789016,H4,1,1,1,1,
        E123456789016,H5,1,1,1,1,
        F123456789017,H6,1,0,0,0,
        G123456789018,H6,0,0,0,0,
        ,H7,1,1,1,1,
        """,
    )
    sources = {**tiny_la, "household_domains": tmp_path / "domains.csv"}
    report = import_la(sources, LA, tmp_path / "out", SALT)
    cd = _read(tmp_path / "out", "child_domains").set_index("pupil_id")
    assert set(cd.index) == {A, C, B, _id("upn", "D123456789015")}
    assert (
        cd.loc[A, "household_id"]
        == cd.loc[C, "household_id"]
        == "household-" + _id("household", "H1")
    )
    assert [cd.loc[A, d] for d in ("employment", "education", "housing")] == [True, False, True]
    assert pd.isna(cd.loc[A, "health"]) and pd.isna(cd.loc[A, "n_domains"])  # missing is not 0
    assert cd.loc[B, "n_domains"] == 0
    d = cd.loc[_id("upn", "D123456789015")]
    assert (bool(d["employment"]), bool(d["education"])) == (True, False) and pd.isna(d["health"])
    p = report.problems
    assert p["problem"].str.contains("health is not 1, 0 or blank").sum() == 1
    assert p["problem"].str.contains("more than one household").sum() == 2  # both E rows
    assert p["problem"].str.contains("different domain flags").sum() == 2  # both H6 rows
    assert p["problem"].str.contains("no UPN: the child cannot be linked").sum() == 1
    acc = report.accounting.set_index("table").loc["household_domains"]
    assert (acc["rows_read"], acc["rows_used"], acc["rows_quarantined"]) == (9, 4, 5)


def test_area_level_route_writes_caveat(tiny_la, tmp_path):
    write(
        tmp_path / "child_lsoa.csv",
        """
        upn,lsoa_code
        A123456789012,E01000001
        B123456789013,E01999999
        """,
    )
    write(
        tmp_path / "lsoa.csv",
        """
        lsoa_code,la_code,households_0_dimensions,households_1_dimensions,households_2_dimensions,households_3_dimensions,households_4_dimensions
        E01000001,E09000001,548,253,34,3,0
        """,
    )
    sources = {
        **tiny_la,
        "child_lsoa": tmp_path / "child_lsoa.csv",
        "lsoa_counts": tmp_path / "lsoa.csv",
    }
    out = tmp_path / "out"
    report = import_la(sources, LA, out, SALT)
    area = _read(out, "child_area_domains").set_index("pupil_id")
    # E01000001: 548 + 253 + 34 + 3 + 0 = 838 households; >= 1 dimension: 290 / 838
    assert area.loc[A, "area_share_deprived_ge1"] == pytest.approx(290 / 838)
    assert not area.loc[B, "area_matched"]
    assert (
        io.read_parquet_metadata(out / "child_area_domains.parquet")["caveat"] == AREA_LEVEL_CAVEAT
    )
    assert report.caveats == [AREA_LEVEL_CAVEAT]
    assert "Caveat: " + AREA_LEVEL_CAVEAT in report.summary_text()
    assert report.problems["problem"].str.contains("not in the LSOA counts").any()
    with pytest.raises(LAReturnError, match="needs both"):
        import_la({**tiny_la, "child_lsoa": tmp_path / "child_lsoa.csv"}, LA, out, SALT)


def test_linked_children_with_different_birth_dates_reported(tiny_la, tmp_path, imported):
    report, _ = imported
    assert not report.problems["problem"].str.contains("different dates of birth").any()
    header = tiny_la["ssda903"] / "header.csv"
    header.write_text(header.read_text().replace("1001,1,01/02/2012", "1001,1,02/02/2012"))
    report = import_la(tiny_la, LA, tmp_path / "out2", SALT)
    p = report.problems
    row = p[p["problem"].str.contains("different dates of birth")]
    assert row["rows_affected"].tolist() == [1]
    assert set(row["child"].iloc[0].split(", ")) == {"ssda903 1001", "cin_census LA1"}
