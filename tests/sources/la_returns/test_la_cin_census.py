"""CIN census: invalid children reported, referrals de-duplicated across years."""

import xml.etree.ElementTree as ET

import pandas as pd

from child_mdh.sources.la_returns.cin_census import read_cin_census

from la_builders import DATA, cin_child, cin_plan, cin_referral, cin_xml, write


def _problems(data) -> pd.DataFrame:
    return data.problems.frame()


def test_invalid_children_reported_with_child_element_and_reason():
    data = read_cin_census(DATA / "cin_census" / "CIN_Census_2024.xml")
    p = _problems(data)

    def has(child, field, text, action=None):
        m = (
            (p["child"] == child)
            & (p["field"] == field)
            & p["problem"].str.contains(text, regex=False)
        )
        if action:
            m &= p["action"] == action
        return m.sum() == 1

    # child DfEX0000001: stray text, a future assessment, a plan before its referral,
    # an episode closed before the collection year (2023-04-01 to 2024-03-31)
    assert has("DfEX0000001", "UPNunknown", "stray text")
    assert has("DfEX0000001", "AssessmentActualStartDate", "after the return's reference date")
    assert has("DfEX0000001", "CPPstartDate", "starts before its CIN referral", "kept")
    assert has("DfEX0000001", "CINclosureDate", "closed before the collection year", "kept")
    # child_fails_assessments: no UPN; referral dated after the reference date 2024-03-31
    assert has("child_fails_assessments", "UPN", "cannot be linked")
    assert has(
        "child_fails_assessments",
        "CINreferralDate",
        "after the return's reference date",
        "row quarantined",
    )
    refs = data.tables["referrals"].set_index("child_ref")
    assert refs.loc["child_fails_assessments", "status"] == "quarantined"
    assert refs.loc["DfEX0000001", "status"] == "used"
    assert refs.loc["DfEX0000001", "referral_nfa"] == False  # noqa: E712  <ReferralNFA>0
    plans = data.tables["plans"]
    assert plans[["child_ref", "status"]].values.tolist() == [["DfEX0000001", "used"]]
    assert plans["cpp_end_date"].iloc[0] == pd.Timestamp("2023-03-14")
    kids = data.children.set_index("child_ref")
    assert kids.loc["DfEX0000001", "upn"] == "A123456789123"
    assert pd.isna(kids.loc["child_fails_assessments", "upn"])


def test_slice_values_and_accounting():
    data = read_cin_census(DATA / "cin_census" / "fake_CIN_data.xml")
    refs = data.tables["referrals"]
    files = pd.DataFrame(data.files).set_index("table")
    assert files.loc["CINdetails", "rows_read"] == len(refs)
    assert files.loc["ChildIdentifiers", "rows_read"] == 25
    first = refs.iloc[0]
    # <LAchildID>RND000215205141 ... <CINreferralDate>2020-07-13 <PrimaryNeedCode>N6
    # <CINclosureDate>2021-06-11 <ReferralNFA>true
    assert first["child_ref"] == "RND000215205141"
    assert (first["referral_date"], first["primary_need_code"]) == (
        pd.Timestamp("2020-07-13"),
        "N6",
    )
    assert first["cin_closure_date"] == pd.Timestamp("2021-06-11")
    assert first["referral_nfa"] == True  # noqa: E712
    # every quarantined referral is dated after the reference date 2022-07-21
    q = refs[refs["status"] == "quarantined"]
    assert (q["reason"].str.contains("after the return's reference date")).all()
    late = (refs["referral_date"] > pd.Timestamp("2022-07-21")) | (
        refs["cin_closure_date"] > pd.Timestamp("2022-07-21")
    )
    assert (late == (refs["status"] == "quarantined")).all()


def _second_year(first: str, out) -> dict:
    """Year 2 = year 1 edited: new reference date, an open referral closed with another
    need code, a new referral for the first child, the last child dropped."""
    tree = ET.parse(first)
    root = tree.getroot()
    root.find("Header/CollectionDetails/Year").text = "2023"
    root.find("Header/CollectionDetails/ReferenceDate").text = "2023-07-21"
    children = root.find("Children")
    edited = None
    for child in children.findall("Child"):
        for cin in child.findall("CINdetails"):
            if (
                cin.find("CINclosureDate") is None
                and cin.find("CINreferralDate").text <= "2022-07-21"
            ):
                edited = (
                    child.find("ChildIdentifiers/LAchildID").text,
                    cin.find("CINreferralDate").text,
                    cin.find("PrimaryNeedCode").text,
                )
                close = ET.SubElement(cin, "CINclosureDate")
                close.text = "2023-01-31"
                cin.find("PrimaryNeedCode").text = "N2" if edited[2] != "N2" else "N3"
                break
        if edited:
            break
    first_child = children.find("Child")
    new = ET.fromstring(cin_referral("2023-03-01", "N1", nfa="false"))
    first_child.append(new)
    dropped = children.findall("Child")[-1]
    children.remove(dropped)
    tree.write(out)
    return {
        "edited": edited,
        "first_child": first_child.find("ChildIdentifiers/LAchildID").text,
        "dropped": dropped.find("ChildIdentifiers/LAchildID").text,
    }


def test_referrals_deduplicated_across_years_keeping_the_latest(tmp_path):
    y1 = DATA / "cin_census" / "fake_CIN_data.xml"
    y2 = tmp_path / "CIN_2023.xml"
    info = _second_year(y1, y2)
    assert info["edited"] is not None
    alone1 = read_cin_census(y1).tables["referrals"]
    alone2 = read_cin_census(y2).tables["referrals"]
    used1 = alone1[alone1["status"] == "used"]
    used2 = alone2[alone2["status"] == "used"]
    # listed newest first: the order comes from the ReferenceDate, not the list
    both = read_cin_census([y2, y1]).tables["referrals"]
    used = both[both["status"] == "used"]
    # every year-1 referral is in year 2 except the dropped child's, which stay from year 1
    dropped1 = used1[used1["child_ref"] == info["dropped"]]
    assert len(used) == len(used2) + len(dropped1)
    assert (both["status"] == "duplicate").sum() == len(used1) - len(dropped1)
    assert not used.duplicated(["child_ref", "referral_date"]).any()
    child, date, _ = info["edited"]
    row = used[(used["child_ref"] == child) & (used["referral_date"] == pd.Timestamp(date))]
    assert len(row) == 1
    assert row["cin_closure_date"].iloc[0] == pd.Timestamp("2023-01-31")
    assert row["primary_need_code"].iloc[0] in ("N2", "N3")
    assert row["source_file"].iloc[0] == str(y2)
    assert set(used.loc[used["child_ref"] == info["dropped"], "source_file"]) <= {str(y1)}
    new = used[
        (used["child_ref"] == info["first_child"])
        & (used["referral_date"] == pd.Timestamp("2023-03-01"))
    ]
    assert new["referral_nfa"].tolist() == [False]
    # the overlap is one note per earlier file, not one line per referral
    p = read_cin_census([y2, y1]).problems.frame()
    note = p[(p["table"] == "CINdetails") & p["problem"].str.contains("also in a later return")]
    assert note["file"].tolist() == [str(y1)]
    assert note["rows_affected"].iloc[0] == len(used1) - len(dropped1)


def test_plans_deduplicated_across_years(tmp_path):
    plan_open = cin_referral("2022-05-01", "N1", plans=cin_plan("2022-06-01"))
    plan_closed = cin_referral(
        "2022-05-01", "N1", "2023-05-30", plans=cin_plan("2022-06-01", "2023-05-01")
    )
    write(
        tmp_path / "a.xml",
        cin_xml(
            cin_child("C1", "A123456789012", plan_open), year="2023", reference_date="2023-03-31"
        ),
    )
    write(
        tmp_path / "b.xml",
        cin_xml(
            cin_child("C1", "A123456789012", plan_closed), year="2024", reference_date="2024-03-31"
        ),
    )
    data = read_cin_census(tmp_path)
    plans = data.tables["plans"]
    used = plans[plans["status"] == "used"]
    assert used["cpp_end_date"].tolist() == [pd.Timestamp("2023-05-01")]
    assert (plans["status"] == "duplicate").sum() == 1
    refs = data.tables["referrals"]
    assert refs.loc[refs["status"] == "used", "cin_closure_date"].tolist() == [
        pd.Timestamp("2023-05-30")
    ]


def test_bad_values_quarantined(tmp_path):
    kids = "\n".join(
        [
            cin_child("K1", "A123456789012", cin_referral("2023-05-01", "N12")),
            cin_child("K2", "A123456789013", cin_referral("2023-05-01", "N1", nfa="maybe")),
            cin_child(
                "K3", "A123456789014", cin_referral("2023-05-01", "N1", closure="2023-04-01")
            ),
            cin_child("K4", "A123456789015", cin_referral("2023-02-30", "N1")),
            cin_child("K5", "A123456789016", cin_referral("2023-05-01", "n1", nfa="1")),
        ]
    )
    write(tmp_path / "cin.xml", cin_xml(kids))
    refs = read_cin_census(tmp_path).tables["referrals"].set_index("child_ref")
    assert "not a CIN need code" in refs.loc["K1", "reason"]
    assert "ReferralNFA" in refs.loc["K2", "reason"]
    assert "CINclosureDate is before CINreferralDate" in refs.loc["K3", "reason"]
    assert "not a valid yyyy-mm-dd date" in refs.loc["K4", "reason"]
    assert refs.loc["K5", "status"] == "used" and refs.loc["K5", "primary_need_code"] == "N1"
    assert (refs.loc[["K1", "K2", "K3", "K4"], "status"] == "quarantined").all()


def test_wrong_root_is_skipped(tmp_path):
    write(tmp_path / "903.xml", "<EXPSSDA903><CHILD/></EXPSSDA903>")
    p = read_cin_census(tmp_path).problems.frame()
    assert p["action"].tolist() == ["file skipped"]
    assert "SSDA903" in p["problem"].iloc[0]
