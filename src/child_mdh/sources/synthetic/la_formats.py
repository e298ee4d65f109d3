"""Synthetic data in a local authority's own formats, for testing the local-authority route.

:func:`write_la_formats` takes a synthetic dataset written by ``child-mdh synth`` (the
contract tables plus ``truth_children.parquet``, which holds each child's date of birth
and pupil id) and writes, for one local authority, the files that authority would hold:

- ``ssda903/``: an SSDA903 header and episodes CSV pair (the children the authority looked
  after, with every episode; dates dd/mm/yyyy; the authority's CHILD ids and UPNs);
- ``cin_census/``: one CIN census XML file per collection year (1 April to 31 March, the
  ReferenceDate). A referral is in every year's return in which it is open, with its
  closure date only in the return of the year it closed, as the real return does; so is
  a child protection plan, inside the child's latest referral that started on or before
  it (directly under the child when the return has none);
- ``school_census/``: per school census of the authority's schools, a pupils-on-roll CSV
  (``pupilonrolltableid``, ``laestab``, ``upn``, ``dob``, ``sex``, ``enrolstatus``) and an
  FSM periods CSV. The periods are reconstructed from each pupil's eligibility at every
  census (:func:`fsm_periods_from_censuses`), so that the FSM rule of the school census
  reader gives back exactly the synthetic ``fsm_eligible``;
- ``local/household_domains_synthetic.csv``: the household domain flags of local route (a)
  for the authority's resident children with a UPN. The flags are the synthetic
  households' true ONS dimensions (``truth_households.parquet``), which the contract
  route's ONS rules (:func:`child_mdh.derive.domains.household_deprivation`) give back
  from the synthetic persons, so a round trip compares like with like;
- ``local/child_lsoa_synthetic.csv`` and ``local/lsoa_household_deprivation_<year>.csv``
  (the published ONS LSOA counts of the authority, not synthetic) for the area-level
  route (b).

Which rows belong to the authority: social care rows whose ``la_code`` is the authority
(the authority responsible for the child), school census rows whose ``la_code`` (the
school's authority) is the authority, household flags of children living in it.

Identifiers: each pupil gets a 13-character UPN in the DfE format (check letter, then 12
digits) and each child with social care records a 9-digit CHILD/LAchildID, both derived
deterministically from the synthetic ``pupil_id`` by a keyed hash (:func:`upn_lookup`),
so the same pupil has the same UPN in every file and every run.

Everything written is labelled synthetic: the file names end ``_synthetic``, the XML files
carry a comment and ``SoftwareCode``, and a ``README.md`` in the folder says what it is.
Columns of the formats that the contract does not use are filled with fixed placeholder
codes (for example PLACE ``U1``, ReferralSource ``1A``); they carry no information.

Run from the command line::

    python -m child_mdh.sources.synthetic.la_formats SYNTH_DIR LA_CODE OUT_DIR
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from child_mdh import files as io
from child_mdh.contract.vocabulary import DOMAINS
from child_mdh.sources.la_returns.errors import LAReturnError
from child_mdh.sources.la_returns.layout import (
    CHILD_LSOA_FILE,
    CIN_DIR,
    HOUSEHOLD_FILE,
    LOCAL_DIR,
    SCHOOL_DIR,
    SSDA903_DIR,
    la_format_sources,
)
from child_mdh.sources.la_returns.school_census import census_day
from child_mdh.sources.synthetic.areas import load_lsoa_counts

#: Key of the identifier hash when no ``salt`` is given (not a secret: the data are
#: synthetic; a salt only changes which UPNs the pupils get).
DEFAULT_SALT = "child-mdh synthetic LA formats"
#: Letters of the UPN check character (0 -> A ... 22 -> Z; no I, O or S), DfE
#: 'Unique pupil numbers' guidance and the UK Government Data Standards Catalogue.
UPN_CHECK_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"
SYNTHETIC_LABEL = (
    "SYNTHETIC DATA written by child-mdh from a synthetic dataset: no row "
    "describes a real child, household or school."
)

SSDA903_HEADER_COLUMNS = ("CHILD", "SEX", "DOB", "ETHNIC", "UPN", "MOTHER", "MC_DOB")
SSDA903_EPISODE_COLUMNS = (
    "CHILD",
    "DECOM",
    "RNE",
    "LS",
    "CIN",
    "PLACE",
    "PLACE_PROVIDER",
    "DEC",
    "REC",
    "REASON_PLACE_CHANGE",
    "HOME_POST",
    "PL_POST",
    "URN",
)
#: The contract's five ethnic groups as DfE ethnicity codes ('any other ... background').
ETHNICITY_CODES = {
    "white": "WBRI",
    "mixed": "MOTH",
    "asian": "AOTH",
    "black": "BOTH",
    "other": "OOTH",
}
_TERM_OF_MONTH = {1: "spring", 5: "summer", 10: "autumn"}
_SC_DATE = "%Y-%b-%d 00:00:00"


# ---------------------------------------------------------------------------------------
# identifiers


def _hash_numbers(values: np.ndarray, salt: str, namespace: str, modulus: int) -> np.ndarray:
    """Keyed 64-bit hash (pandas' SipHash, key from ``salt``) of namespace + value, mod m."""
    key = hashlib.sha256(salt.encode("utf-8")).hexdigest()[:16]
    text = np.array([f"{namespace}\x1f"], dtype=object) + values.astype(object)
    h = pd.util.hash_array(text, hash_key=key, categorize=False)
    return (h % np.uint64(modulus)).astype(np.int64)


def _unique_numbers(ids: np.ndarray, salt: str, namespace: str, modulus: int) -> np.ndarray:
    """One hash number per id (ids sorted and distinct), made distinct by re-hashing.

    Two ids whose hashes collide: the later of them (in sorted order) is hashed again with
    an attempt number, until all numbers differ (a few re-hashes in ten million ids).
    """
    nums = _hash_numbers(ids, salt, namespace, modulus)
    for attempt in range(1, 100):
        dup = pd.Series(nums).duplicated(keep="first").to_numpy()
        if not dup.any():
            return nums
        nums[dup] = _hash_numbers(ids[dup], salt, f"{namespace}\x1f{attempt}", modulus)
    raise LAReturnError("could not make distinct synthetic identifiers; use another salt")


def upn_check_letters(numbers: np.ndarray) -> np.ndarray:
    """The UPN check letter of each 12-digit number (characters 2-13 of the UPN).

    DfE rule: multiply the digit in character position p (2 ... 13) by p, sum, take the
    remainder on division by 23, and map 0-22 to ``A``-``Z`` without I, O and S.
    Example: B801200005001, 8x2 + 1x4 + 2x5 + 5x10 + 1x13 = 93 = 4x23 + 1 -> B.
    """
    numbers = np.asarray(numbers, dtype=np.int64)
    total = np.zeros(len(numbers), dtype=np.int64)
    for k in range(12):  # position p = k + 2 holds the digit of 10**(11 - k)
        total += (numbers // 10 ** (11 - k) % 10) * (k + 2)
    return np.array(list(UPN_CHECK_LETTERS), dtype=object)[total % 23]


def upn_is_valid(upns: pd.Series) -> pd.Series:
    """True where a UPN is 13 characters, a check letter and 12 digits, with the right
    check letter (:func:`upn_check_letters`); permanent UPNs only."""
    s = upns.astype("str")
    shape = s.str.fullmatch(r"[A-Z]\d{12}").fillna(False).astype(bool)
    out = pd.Series(False, index=s.index)
    if shape.any():
        nums = s[shape].str.slice(1).astype("int64").to_numpy()
        out[shape] = s[shape].str.slice(0, 1).to_numpy() == upn_check_letters(nums)
    return out


def upn_lookup(pupil_ids: pd.Series, salt: str | None = None) -> pd.DataFrame:
    """Synthetic UPN and local-authority child id of every distinct pupil id.

    Method: a keyed hash of the pupil id (:func:`_unique_numbers`) gives 12 digits, and
    the DfE check letter is put in front (``upn``, e.g. ``K306871201114``); another hash
    gives ``child_id``, 9 digits, the CHILD (SSDA903) and LAchildID (CIN census) of the
    child. Deterministic: the same pupil ids and salt give the same identifiers (a pupil
    whose hash collides with another's is re-hashed, so pass every pupil id of the
    dataset, as :func:`write_la_formats` does). Returns ``pupil_id``, ``upn``,
    ``child_id``, one row per pupil id, sorted.
    """
    salt = DEFAULT_SALT if salt is None else str(salt)
    ids = np.sort(pd.Series(pupil_ids).dropna().astype("str").unique().astype(object))
    digits = _unique_numbers(ids, salt, "upn", 10**12)
    child = _unique_numbers(ids, salt, "child", 9 * 10**8) + 10**8
    upn = pd.Series(upn_check_letters(digits), dtype="str") + pd.Series(digits).astype(
        "str"
    ).str.zfill(12).astype("str")
    return pd.DataFrame(
        {
            "pupil_id": pd.Series(ids, dtype="str"),
            "upn": upn,
            "child_id": pd.Series(child).astype("str"),
        }
    )


# ---------------------------------------------------------------------------------------
# FSM periods


def fsm_periods_from_censuses(history: pd.DataFrame) -> pd.DataFrame:
    """FSM eligibility periods that reproduce each pupil's eligibility at every census.

    ``history``: ``pupil_id``, ``census_date``, ``fsm_eligible`` (one row per pupil and
    census, every census of the pupil). A run of consecutive censuses at which the pupil
    is eligible is one period. It starts halfway between the last census before the run
    (at which the pupil was not eligible) and the first census of the run, or 61 days
    before that census when the pupil has no earlier census; it ends halfway between the
    last census of the run and the next census.

    Returns, for each row of ``history``, the period rows its census file holds: the open
    period (no end date yet on that census day) when the pupil is eligible, and the period
    that has just ended when the pupil was eligible at the previous census but not at this
    one. Columns ``pupil_id``, ``census_date``, ``fsmstartdate``, ``fsmenddate`` (NaT when
    open). With the school census rule (eligible on census day d when a period has
    start <= d and no end or end >= d, :func:`child_mdh.sources.la_returns.fsm_eligible_on`), the
    periods of each census file give back ``fsm_eligible`` exactly.
    """
    h = history[["pupil_id", "census_date", "fsm_eligible"]].copy()
    h["census_date"] = pd.to_datetime(h["census_date"]).astype("datetime64[ns]")
    h["fsm_eligible"] = h["fsm_eligible"].astype("boolean").fillna(False).astype(bool)
    h = h.sort_values(["pupil_id", "census_date"], kind="stable").reset_index(drop=True)
    same = (h["pupil_id"] == h["pupil_id"].shift()).to_numpy()
    elig = h["fsm_eligible"].to_numpy()
    prev_elig = np.where(same, np.roll(elig, 1), False)
    prev_date = h["census_date"].shift().where(same)
    gap = h["census_date"] - prev_date
    half = (gap / 2).dt.floor("D")
    start = (prev_date + half).where(same, h["census_date"] - pd.Timedelta(days=61))
    new_run = elig & ~prev_elig
    run = np.cumsum(new_run)
    run_start = pd.Series(start.where(new_run)).groupby(run).transform("first")
    open_rows = pd.DataFrame(
        {
            "pupil_id": h["pupil_id"],
            "census_date": h["census_date"],
            "fsmstartdate": run_start,
            "fsmenddate": pd.Series(pd.NaT, index=h.index, dtype="datetime64[ns]"),
        }
    )[elig]
    ended = ~elig & prev_elig
    closed = pd.DataFrame(
        {
            "pupil_id": h["pupil_id"],
            "census_date": h["census_date"],
            "fsmstartdate": run_start.shift(),
            "fsmenddate": prev_date + half,
        }
    )
    out = pd.concat([open_rows, closed[ended]], ignore_index=True)
    return out.sort_values(["pupil_id", "census_date", "fsmstartdate"]).reset_index(drop=True)


# ---------------------------------------------------------------------------------------
# reading the synthetic dataset


def _read_synth(synth_dir: Path) -> dict[str, pd.DataFrame]:
    names = (
        "areas",
        "households",
        "persons",
        "pupil_census",
        "cin_referrals",
        "child_protection_plans",
        "looked_after_episodes",
        "truth_children",
        "truth_households",
    )
    missing = [n for n in names if not (synth_dir / f"{n}.parquet").is_file()]
    if missing:
        raise LAReturnError(
            f"{synth_dir}: not a synthetic dataset written by 'child-mdh synth' "
            f"({', '.join(f'{n}.parquet' for n in missing)} missing). Write one with "
            "child-mdh synth --children N --seed S --out DIR; write_la_formats needs its "
            "truth_children.parquet for the children's dates of birth."
        )
    meta = io.read_parquet_metadata(synth_dir / "pupil_census.parquet")
    if meta.get("synthetic") is not True:
        raise LAReturnError(
            f"{synth_dir}/pupil_census.parquet is not marked synthetic: write_la_formats "
            "only writes synthetic data into the local authority formats."
        )
    return {n: pd.read_parquet(synth_dir / f"{n}.parquet") for n in names}


def _collection_year(dates: pd.Series) -> pd.Series:
    """The collection year of each date: the year of the 31 March that ends its
    April-March year (a date in April 2023 -> 2024)."""
    return dates.dt.year + (dates.dt.month >= 4).astype("int64")


def _dmy(dates: pd.Series) -> pd.Series:
    return dates.dt.strftime("%d/%m/%Y").astype("str")


def _iso(dates: pd.Series) -> pd.Series:
    return dates.dt.strftime("%Y-%m-%d").astype("str")


def _tag(name: str, values: pd.Series) -> pd.Series:
    """``<name>value</name>`` for each value; empty text where the value is missing."""
    return ("<" + name + ">" + values.astype("str") + "</" + name + ">").fillna("")


# ---------------------------------------------------------------------------------------
# the formats


def _write_ssda903(eps: pd.DataFrame, kids: pd.DataFrame, folder: Path, year: int) -> list[Path]:
    """The SSDA903 header and episodes CSVs of the children looked after."""
    eps = (
        eps.merge(kids, on="pupil_id", how="left", validate="many_to_one")
        .sort_values(["child_id", "episode_start"], kind="stable")
        .reset_index(drop=True)
    )
    nxt_start = eps.groupby("child_id", sort=False)["episode_start"].shift(-1)
    rec = np.where(
        eps["episode_end"].isna(), None, np.where(nxt_start == eps["episode_end"], "X1", "E8")
    )
    episodes = pd.DataFrame(
        {
            "CHILD": eps["child_id"],
            "DECOM": _dmy(eps["episode_start"]),
            "RNE": eps["reason_new_episode"],
            "LS": eps["legal_status"],
            "CIN": "N1",
            "PLACE": "U1",
            "PLACE_PROVIDER": "PR1",
            "DEC": _dmy(eps["episode_end"]),
            "REC": pd.Series(rec, dtype="str"),
            "REASON_PLACE_CHANGE": None,
            "HOME_POST": None,
            "PL_POST": None,
            "URN": None,
        }
    )
    head = kids[kids["pupil_id"].isin(eps["pupil_id"])].sort_values("child_id")
    header = pd.DataFrame(
        {
            "CHILD": head["child_id"],
            "SEX": head["sex"].map({"M": "1", "F": "2"}),
            "DOB": _dmy(head["date_of_birth"]),
            "ETHNIC": head["ethnicity"],
            "UPN": head["upn"],
            "MOTHER": None,
            "MC_DOB": None,
        }
    )
    folder.mkdir(parents=True, exist_ok=True)
    paths = [
        folder / f"SSDA903_{year}_header_synthetic.csv",
        folder / f"SSDA903_{year}_episodes_synthetic.csv",
    ]
    header[list(SSDA903_HEADER_COLUMNS)].to_csv(paths[0], index=False)
    episodes[list(SSDA903_EPISODE_COLUMNS)].to_csv(paths[1], index=False)
    return paths


def _cin_xml(year: int, reference: pd.Timestamp, la_code: str, children: str) -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f"<!-- {SYNTHETIC_LABEL} -->\n"
        "<Message>\n  <Header>\n    <CollectionDetails><Collection>CIN</Collection>"
        f"<Year>{year}</Year><ReferenceDate>{reference:%Y-%m-%d}</ReferenceDate>"
        "</CollectionDetails>\n"
        f"    <Source><SourceLevel>L</SourceLevel><LEA>{la_code[-3:]}</LEA>"
        "<SoftwareCode>child-mdh synthetic (SYNTHETIC DATA)</SoftwareCode>"
        f"<Release>synthetic</Release><SerialNo>001</SerialNo></Source>\n  </Header>\n"
        f"  <Children>\n{children}  </Children>\n</Message>\n"
    )


def _write_cin(
    refs: pd.DataFrame,
    plans: pd.DataFrame,
    kids: pd.DataFrame,
    folder: Path,
    la_code: str,
    last_year: int,
) -> list[Path]:
    """One CIN census XML per collection year: each referral and plan open in the year."""
    folder.mkdir(parents=True, exist_ok=True)
    if refs.empty and plans.empty:
        return []
    first = int(
        min(
            _collection_year(refs["referral_date"]).min() if len(refs) else last_year,
            _collection_year(plans["cpp_start_date"]).min() if len(plans) else last_year,
        )
    )
    kids = kids.set_index("pupil_id")
    paths = []
    for year in range(first, last_year + 1):
        ref_day = pd.Timestamp(year, 3, 31)
        start_day = pd.Timestamp(year - 1, 4, 1)
        r = refs[
            (refs["referral_date"] <= ref_day)
            & (refs["cin_closure_date"].isna() | (refs["cin_closure_date"] >= start_day))
        ]
        p = plans[
            (plans["cpp_start_date"] <= ref_day)
            & (plans["cpp_end_date"].isna() | (plans["cpp_end_date"] >= start_day))
        ]
        if r.empty and p.empty:
            continue
        r = r.sort_values(["pupil_id", "referral_date"]).reset_index(drop=True)
        p = p.sort_values("cpp_start_date").reset_index(drop=True)
        # each plan inside the child's latest referral (in this return) on or before it
        parent = pd.merge_asof(
            p,
            r[["pupil_id", "referral_date"]].sort_values("referral_date"),
            left_on="cpp_start_date",
            right_on="referral_date",
            by="pupil_id",
            direction="backward",
        )
        end = parent["cpp_end_date"].where(parent["cpp_end_date"] <= ref_day)
        parent["xml"] = (
            "<ChildProtectionPlans>"
            + _tag("CPPstartDate", _iso(parent["cpp_start_date"]))
            + _tag("CPPendDate", _iso(end))
            + "<InitialCategoryOfAbuse>NEG</InitialCategoryOfAbuse>"
            "</ChildProtectionPlans>"
        )
        in_ref = parent[parent["referral_date"].notna()]
        plan_xml = in_ref.groupby(["pupil_id", "referral_date"])["xml"].agg("".join)
        loose = parent[parent["referral_date"].isna()].groupby("pupil_id")["xml"].agg("".join)
        closure = r["cin_closure_date"].where(r["cin_closure_date"] <= ref_day)
        inner = plan_xml.reindex(pd.MultiIndex.from_frame(r[["pupil_id", "referral_date"]]))
        r["xml"] = (
            "<CINdetails>"
            + _tag("CINreferralDate", _iso(r["referral_date"]))
            + "<ReferralSource>1A</ReferralSource>"
            + _tag("PrimaryNeedCode", r["primary_need_code"])
            + _tag("CINclosureDate", _iso(closure))
            + _tag(
                "ReasonForClosure",
                pd.Series("RC8", index=r.index, dtype="str").where(closure.notna()),
            )
            + _tag("ReferralNFA", r["referral_nfa"].map({True: "1", False: "0"}))
            + pd.Series(inner.to_numpy(), dtype="str").fillna("")
            + "</CINdetails>"
        )
        per_child = r.groupby("pupil_id")["xml"].agg("".join)
        who = per_child.index.union(loose.index)
        body = (per_child.reindex(who).fillna("") + loose.reindex(who).fillna("")).astype("str")
        k = kids.reindex(who)
        child = pd.DataFrame(
            {"child_id": k["child_id"].to_numpy(), "body": body.to_numpy()}, index=who
        ).sort_values("child_id")
        k = k.loc[child.index]
        ids = (
            "<ChildIdentifiers>"
            + _tag("LAchildID", k["child_id"])
            + _tag("UPN", k["upn"])
            + _tag("PersonBirthDate", _iso(k["date_of_birth"]))
            + _tag("GenderCurrent", k["sex"].map({"M": "1", "F": "2"}))
            + "</ChildIdentifiers><ChildCharacteristics>"
            + _tag("Ethnicity", k["ethnicity"])
            + "</ChildCharacteristics>"
        )
        text = ("    <Child>" + ids + child["body"] + "</Child>\n").str.cat()
        path = folder / f"CIN_census_{year}_synthetic.xml"
        path.write_text(_cin_xml(year, ref_day, la_code, text), encoding="utf-8")
        paths.append(path)
    return paths


def _write_school_census(
    pc: pd.DataFrame, history: pd.DataFrame, kids: pd.DataFrame, la_code: str, folder: Path
) -> list[Path]:
    """Pupils-on-roll and FSM periods CSVs for each census of the authority's schools."""
    folder.mkdir(parents=True, exist_ok=True)
    periods = fsm_periods_from_censuses(history)
    schools = np.sort(pc["school_id"].astype("str").unique())
    laestab = pd.Series(
        [f"{la_code[-3:]}{2000 + i:04d}" for i in range(len(schools))], index=schools, dtype="str"
    )
    paths = []
    for day, part in pc.groupby("census_date", sort=True):
        day = pd.Timestamp(day)
        term = _TERM_OF_MONTH.get(day.month)
        if term is None:
            raise LAReturnError(
                f"synthetic school census on {day.date()} is not in January, "
                "May or October: no school census term matches it"
            )
        part = (
            part.merge(kids, on="pupil_id", how="left", validate="one_to_one")
            .sort_values("upn")
            .reset_index(drop=True)
        )
        roll_id = pd.Series(
            f"{day:%Y%m%d}-" + pd.Series(np.arange(1, len(part) + 1)).astype("str").str.zfill(7),
            dtype="str",
        )
        pupils = pd.DataFrame(
            {
                "pupilonrolltableid": roll_id,
                "laestab": part["school_id"].map(laestab),
                "upn": part["upn"],
                "dob": part["date_of_birth"].dt.strftime(_SC_DATE),
                "sex": part["sex"],
                "enrolstatus": "C",
                "ncyearactual": None,
            }
        )
        if census_day(day.year, term) != day.date():
            pupils["census_date"] = f"{day:%Y-%m-%d}"
        per = periods[periods["census_date"] == day].merge(
            pd.DataFrame({"pupil_id": part["pupil_id"], "pupilonrolltableid": roll_id}),
            on="pupil_id",
            how="inner",
        )
        fsm = pd.DataFrame(
            {
                "pupilonrolltableid": per["pupilonrolltableid"],
                "fsmstartdate": per["fsmstartdate"].dt.strftime(_SC_DATE),
                "fsmenddate": per["fsmenddate"].dt.strftime(_SC_DATE),
            }
        )
        stem = f"{day.year}_{term}"
        paths.append(folder / f"{stem}_pupilonroll_synthetic.csv")
        pupils.to_csv(paths[-1], index=False)
        paths.append(folder / f"{stem}_fsmperiod_synthetic.csv")
        fsm.to_csv(paths[-1], index=False)
    return paths


def _write_local(
    t: dict, la_code: str, lookup: pd.DataFrame, folder: Path, census_year: int
) -> list[Path]:
    """Household domain flags (route a), and child LSOAs with LSOA counts (route b).

    The flags are the synthetic households' true ONS dimensions (``truth_households``),
    which their persons reproduce under the ONS rules
    (``tests/sources/synthetic/test_ons_rules.py``)."""
    folder.mkdir(parents=True, exist_ok=True)
    hh = t["households"][t["households"]["la_code"] == la_code]
    persons = t["persons"][t["persons"]["household_id"].isin(hh["household_id"])]
    dom = t["truth_households"][["household_id", *DOMAINS]]
    tc = t["truth_children"]
    kids = tc[(tc["la_code"] == la_code) & tc["pupil_id"].notna()][["person_id", "pupil_id"]]
    kids = kids.merge(persons[["person_id", "household_id"]], on="person_id", how="inner")
    kids = kids.merge(lookup[["pupil_id", "upn"]], on="pupil_id", how="left")
    flags = kids.merge(dom, on="household_id", how="left").sort_values("upn")
    out = pd.DataFrame({"upn": flags["upn"], "household_ref": flags["household_id"]})
    for d in DOMAINS:
        out[d] = flags[d].astype("boolean").map({True: "1", False: "0"})
    paths = [folder / HOUSEHOLD_FILE]
    out.to_csv(paths[0], index=False)
    lsoa = flags.merge(hh[["household_id", "lsoa_code"]], on="household_id", how="left")
    lsoa = lsoa[lsoa["lsoa_code"].notna()]
    paths.append(folder / CHILD_LSOA_FILE)
    pd.DataFrame({"upn": lsoa["upn"], "lsoa_code": lsoa["lsoa_code"]}).to_csv(
        paths[-1], index=False
    )
    try:
        counts = load_lsoa_counts(census_year)
    except FileNotFoundError:
        return paths
    paths.append(folder / f"lsoa_household_deprivation_{census_year}.csv")
    counts[counts["la_code"] == la_code].to_csv(paths[-1], index=False)
    return paths


def write_la_formats(synth_dir: Path, la_code: str, out_dir: Path, salt: str | None = None) -> dict:
    """Write one local authority's returns, in its own formats, from a synthetic dataset.

    ``synth_dir``: a folder written by ``child-mdh synth``; ``la_code``: the authority;
    ``out_dir``: where the files go (layout in the module docstring); ``salt``: key of the
    synthetic UPNs and child ids (:func:`upn_lookup`; default :data:`DEFAULT_SALT`).

    Method: the authority's rows of the synthetic contract tables are written in the
    SSDA903 (CSV), CIN census (XML, one per collection year up to the one holding the
    dataset's extract date, with referrals and plans repeated in every year they are open)
    and school census (CSV, with FSM periods from :func:`fsm_periods_from_censuses`)
    layouts that :func:`child_mdh.sources.la_returns.import_la` reads, with the household flags of
    route (a) the households' true ONS dimensions (``truth_households.parquet``).

    Returns ``{"la_code", "out_dir", "sources", "files", "rows", "synthetic": True}``;
    ``sources`` can be given to ``import_la`` as it is.
    """
    synth_dir, out_dir = Path(synth_dir), Path(out_dir)
    t = _read_synth(synth_dir)
    if la_code not in set(t["areas"]["la_code"]):
        sizes = t["truth_children"]["la_code"].value_counts().head(5)
        raise LAReturnError(
            f"{la_code!r} is not a local authority of {synth_dir}/areas.parquet. The largest "
            "ones there: " + ", ".join(f"{c} ({n} children)" for c, n in sizes.items())
        )
    meta = io.read_parquet_metadata(synth_dir / "pupil_census.parquet")
    census_year = int(meta.get("census_year", 2021))
    truth = {}
    if (synth_dir / "truth.json").is_file():
        truth = json.loads((synth_dir / "truth.json").read_text())

    tc = t["truth_children"]
    lookup = upn_lookup(tc["pupil_id"], salt)
    persons = t["persons"][["person_id", "sex", "ethnic_group"]]
    kids = (
        tc[tc["pupil_id"].notna()][["pupil_id", "person_id", "date_of_birth"]]
        .merge(persons, on="person_id", how="left")
        .merge(lookup, on="pupil_id", how="left")
    )
    kids["ethnicity"] = kids["ethnic_group"].map(ETHNICITY_CODES).fillna("NOBT").astype("str")
    kids = kids.drop(columns=["person_id", "ethnic_group"])

    def of_la(name):
        df = t[name]
        return df[df["la_code"] == la_code].reset_index(drop=True)

    refs, plans, eps = (
        of_la(n) for n in ("cin_referrals", "child_protection_plans", "looked_after_episodes")
    )
    pc = of_la("pupil_census")
    involved = pd.concat([df["pupil_id"] for df in (refs, plans, eps, pc)]).unique()
    kids = kids[kids["pupil_id"].isin(involved)].reset_index(drop=True)
    dates = [
        d
        for df, cols in (
            (refs, ("referral_date", "cin_closure_date")),
            (plans, ("cpp_start_date", "cpp_end_date")),
            (eps, ("episode_start", "episode_end")),
        )
        for c in cols
        for d in [df[c].max()]
        if len(df) and pd.notna(d)
    ]
    extract = (
        pd.Timestamp(truth["extract_date"])
        if truth.get("extract_date")
        else (max(dates) if dates else pd.Timestamp(dt.date.today()))
    )
    last_year = int(_collection_year(pd.Series([extract])).iloc[0])

    out_dir.mkdir(parents=True, exist_ok=True)
    files = _write_ssda903(eps, kids, out_dir / SSDA903_DIR, last_year)
    files += _write_cin(refs, plans, kids, out_dir / CIN_DIR, la_code, last_year)
    history = t["pupil_census"][t["pupil_census"]["pupil_id"].isin(pc["pupil_id"])]
    files += _write_school_census(pc, history, kids, la_code, out_dir / SCHOOL_DIR)
    files += _write_local(t, la_code, lookup, out_dir / LOCAL_DIR, census_year)
    rows = {
        "looked_after_episodes": len(eps),
        "cin_referrals": len(refs),
        "child_protection_plans": len(plans),
        "pupil_census": len(pc),
        "school_censuses": int(pc["census_date"].nunique()),
    }
    readme = out_dir / "README.md"
    readme.write_text(
        f"# {SYNTHETIC_LABEL}\n\nLocal authority {la_code}, written from {synth_dir} "
        f"(seed {meta.get('seed')}, {meta.get('n_children')} children, census "
        f"{census_year}) by child_mdh.sources.synthetic.la_formats.write_la_formats, in the formats an "
        "authority holds: SSDA903 CSVs, CIN census XML (one per collection year), school "
        "census pupils-on-roll and FSM periods CSVs, and local household domain flags. "
        "UPNs and child ids are synthetic. See docs/la-returns.md.\n\n"
        + "\n".join(f"- {k}: {v:,}" for k, v in rows.items())
        + "\n"
    )
    return {
        "la_code": la_code,
        "out_dir": str(out_dir),
        "sources": {k: str(v) for k, v in la_format_sources(out_dir).items()},
        "files": [str(f) for f in [readme, *files]],
        "rows": rows,
        "synthetic": True,
    }


def main(argv: list[str] | None = None) -> int:
    """``python -m child_mdh.sources.synthetic.la_formats SYNTH_DIR LA_CODE OUT_DIR [--salt S]``."""
    parser = argparse.ArgumentParser(
        prog="python -m child_mdh.sources.synthetic.la_formats",
        description="Write one local authority's returns, in its own formats, from a "
        "synthetic dataset (synthetic data, labelled as such).",
    )
    parser.add_argument("synth_dir", help="folder written by child-mdh synth")
    parser.add_argument("la_code", help="ONS code of the local authority, e.g. E10000016")
    parser.add_argument("out_dir", help="folder to write the returns to")
    parser.add_argument("--salt", default=None, help="key of the synthetic UPNs and child ids")
    args = parser.parse_args(argv)
    try:
        got = write_la_formats(Path(args.synth_dir), args.la_code, Path(args.out_dir), args.salt)
    except LAReturnError as err:
        print(str(err), file=sys.stderr)
        return 2
    for k, v in got["rows"].items():
        print(f"{k}: {v:,}")
    print(f"wrote {len(got['files'])} files to {got['out_dir']} (synthetic data)")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
