"""pupil_characteristics.parquet: each child's date of birth and sex, from the returns."""

import hashlib
import hmac

import pandas as pd

from child_mdh.sources.la_returns import import_la

from la_builders import LA, SALT, cin_child, cin_referral, cin_xml, write


def _id(value: str) -> str:
    return hmac.new(SALT.encode(), f"upn\x1f{value}".encode(), hashlib.sha256).hexdigest()[:16]


def test_dates_of_birth_come_from_the_school_census_first(tmp_path):
    d = tmp_path / "returns"
    # A: in all three returns, the school census says 3 February 2012, the others 1 February
    # B: only in the SSDA903 (header DOB 05/06/2014, SEX 2)
    # C: in the CIN census (born 2015-03-27, GenderCurrent 1) and the school census, whose
    #    row has a date of birth that is not a date (set empty): the CIN date is used, and
    #    the school census sex (F) wins over the CIN census's (1 = M)
    write(
        d / "903" / "header.csv",
        """
        CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB
        1001,1,01/02/2012,WBRI,A123456789012,,
        1003,2,05/06/2014,WBRI,B123456789013,,
        """,
    )
    write(
        d / "903" / "episodes.csv",
        """
        CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN
        1001,01/05/2023,S,C2,N1,U1,PR1,,,,,,
        1003,15/02/2024,S,C1,N1,U1,PR1,,,,,,
        """,
    )
    write(
        d / "cin" / "CIN_2024.xml",
        cin_xml(
            "\n".join(
                [
                    cin_child("LA1", "A123456789012", cin_referral("2023-04-10"), dob="2012-02-01"),
                    cin_child("LA3", "C123456789014", cin_referral("2023-09-01"), dob="2015-03-27"),
                ]
            )
        ),
    )
    write(
        d / "census" / "2025_spring_pupilonroll.csv",
        """
        pupilonrolltableid,laestab,upn,enrolstatus,dob,sex
        P1,3532001,A123456789012,C,2012-Feb-03 00:00:00,M
        P3,3532001,C123456789014,C,2015-Feb-31 00:00:00,F
        """,
    )
    write(
        d / "census" / "2025_spring_fsmperiod.csv",
        """
        pupilonrolltableid,fsmstartdate,fsmenddate
        """,
    )
    out = tmp_path / "out"
    report = import_la(
        {"ssda903": d / "903", "cin_census": d / "cin", "school_census": d / "census"},
        LA,
        out,
        SALT,
    )
    got = pd.read_parquet(out / "pupil_characteristics.parquet").set_index("pupil_id")
    a, b, c = _id("A123456789012"), _id("B123456789013"), _id("C123456789014")
    assert sorted(got.index) == sorted([a, b, c])
    assert got.loc[a, ["date_of_birth", "sex", "dob_source"]].tolist() == [
        pd.Timestamp("2012-02-03"),
        "M",
        "school_census",
    ]
    assert got.loc[b, ["date_of_birth", "sex", "dob_source"]].tolist() == [
        pd.Timestamp("2014-06-05"),
        "F",
        "ssda903",
    ]
    assert got.loc[c, ["date_of_birth", "sex", "dob_source"]].tolist() == [
        pd.Timestamp("2015-03-27"),
        "F",
        "cin_census",
    ]
    problems = report.problems
    assert ((problems["field"] == "dob") & (problems["action"] == "value set empty")).sum() == 1
    clash = problems[problems["field"] == "date of birth"]
    assert (
        len(clash) == 1
        and "1 children linked by UPN have different dates" in clash["problem"].iloc[0]
    )
    assert report.tables["pupil_characteristics"] == 3
    assert report.linkage["date_of_birth_known_n"] == 3
