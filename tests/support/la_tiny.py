"""Tiny hand-made folders for the local-authority route's tests.

- :func:`tiny_synthetic_folder`: a synthetic dataset as ``child-mdh synth`` writes it
  (contract tables, ``truth_children.parquet``, ``truth.json``), small enough to work
  out every file of :func:`child_mdh.sources.synthetic.la_formats.write_la_formats` by hand;
- :func:`tiny_import_folder`: what a local-authority import writes (the five contract
  tables, ``pupil_characteristics.parquet``, ``child_domains.parquet``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from child_mdh import files as io
from child_mdh.contract import tables as contract
from child_mdh.derive.domains import household_deprivation

LA1, LA2 = "E06000001", "E06000002"
SYNTH_META = {
    "synthetic": True,
    "generator": "hand-made test data",
    "seed": 0,
    "n_children": 4,
    "census_year": 2021,
    "contract_version": "1",
}


def _d(values):
    return pd.to_datetime(pd.Series(values, dtype="object"))


def _write(folder: Path, name: str, df: pd.DataFrame, meta: dict | None = None) -> None:
    if name in contract.TABLES:
        df = contract.conform(df, name)
    io.write_parquet(df, folder / f"{name}.parquet", meta or SYNTH_META)


def tiny_synthetic_folder(folder: Path) -> Path:
    """Two LAs. In LA1: household H1 (an unemployed adult with no qualifications, two
    children C1 = pupil PMR1 and C2 = PMR2, overcrowded: flags employment, education,
    housing) and H2 (child C4, no pupil record). In LA2: H3 (child C3 = PMR3, at an LA1
    school in January 2021).

    PMR1 at LA1 schools: censuses 2020-01-16 FSM yes, 2021-01-21 yes, 2022-01-20 no,
    2023-01-19 yes. PMR2: 2021-01-21 at an LA2 school (FSM yes), 2022-01-20 at LA1 (no).
    PMR3: 2021-01-21 at LA1 (no).

    Social care of LA1: PMR1 referral 2019-06-01 (N1) closed 2021-05-10, referral
    2022-02-01 (N4) open, plans 2019-07-01 to 2020-06-30 and from 2022-03-01 (open),
    episodes 2021-06-01 (S, C2) to 2022-01-01 then 2022-01-01 (P, C2) open; PMR2 referral
    2020-03-31 closed the same day, no further action. LA2: PMR3 referral 2020-10-01.
    Extract date (truth.json) 2023-03-21.
    """
    folder.mkdir(parents=True, exist_ok=True)
    _write(
        folder,
        "areas",
        pd.DataFrame(
            {
                "la_code": [LA1, LA2],
                "la_name": ["One", "Two"],
                "region_code": ["E12000001"] * 2,
                "region_name": ["North East"] * 2,
            }
        ),
    )
    _write(
        folder,
        "households",
        pd.DataFrame(
            {
                "household_id": ["H1", "H2", "H3"],
                "census_year": [2021] * 3,
                "la_code": [LA1, LA1, LA2],
                "lsoa_code": ["E01000001", "E01000002", "E01000003"],
                "occupancy_rating_rooms": [-1, 1, 1],
                "shared_dwelling": [False] * 3,
                "central_heating": [True] * 3,
            }
        ),
    )
    persons = pd.DataFrame(
        {
            "person_id": ["A1", "C1", "C2", "A2", "C4", "A3", "C3"],
            "household_id": ["H1", "H1", "H1", "H2", "H2", "H3", "H3"],
            "age": [40, 11, 8, 35, 6, 38, 10],
            "sex": ["F", "M", "F", "M", "F", "F", "M"],
            "economic_activity": [
                "unemployed",
                "not_applicable",
                "not_applicable",
                "in_employment",
                "not_applicable",
                "in_employment",
                "not_applicable",
            ],
            "full_time_student": [False] * 7,
            "highest_qualification": [
                "none",
                "not_applicable",
                "not_applicable",
                "level3",
                "not_applicable",
                "level4_plus",
                "not_applicable",
            ],
            "general_health": [2] * 7,
            "disability": ["not_limited"] * 7,
            "ethnic_group": ["white", "white", "white", "asian", "asian", "black", "black"],
        }
    )
    _write(folder, "persons", persons)
    # the generator's truth: each household's ONS dimensions (here by the ONS rules)
    households = pd.read_parquet(folder / "households.parquet")
    truth = household_deprivation(persons, households)
    truth.to_parquet(folder / "truth_households.parquet", index=False)
    pc = pd.DataFrame(
        {
            "pupil_id": ["PMR1"] * 4 + ["PMR2"] * 2 + ["PMR3"],
            "census_date": _d(
                [
                    "2020-01-16",
                    "2021-01-21",
                    "2022-01-20",
                    "2023-01-19",
                    "2021-01-21",
                    "2022-01-20",
                    "2021-01-21",
                ]
            ),
            "la_code": [LA1] * 4 + [LA2, LA1, LA1],
            "school_id": ["E06000001P001"] * 2
            + ["E06000001S001"] * 2
            + ["E06000002P001", "E06000001P001", "E06000001P001"],
            "fsm_eligible": [True, True, False, True, True, False, False],
        }
    )
    _write(folder, "pupil_census", pc)
    _write(
        folder,
        "census_npd_link",
        pd.DataFrame({"person_id": ["C1", "C2", "C3"], "pupil_id": ["PMR1", "PMR2", "PMR3"]}),
    )
    _write(
        folder,
        "cin_referrals",
        pd.DataFrame(
            {
                "pupil_id": ["PMR1", "PMR1", "PMR2", "PMR3"],
                "la_code": [LA1, LA1, LA1, LA2],
                "referral_date": _d(["2019-06-01", "2022-02-01", "2020-03-31", "2020-10-01"]),
                "primary_need_code": ["N1", "N4", "N9", "N2"],
                "cin_closure_date": _d(["2021-05-10", None, "2020-03-31", None]),
                "referral_nfa": [False, False, True, False],
            }
        ),
    )
    _write(
        folder,
        "child_protection_plans",
        pd.DataFrame(
            {
                "pupil_id": ["PMR1", "PMR1"],
                "la_code": [LA1, LA1],
                "cpp_start_date": _d(["2019-07-01", "2022-03-01"]),
                "cpp_end_date": _d(["2020-06-30", None]),
            }
        ),
    )
    _write(
        folder,
        "looked_after_episodes",
        pd.DataFrame(
            {
                "pupil_id": ["PMR1", "PMR1"],
                "la_code": [LA1, LA1],
                "episode_start": _d(["2021-06-01", "2022-01-01"]),
                "episode_end": _d(["2022-01-01", None]),
                "legal_status": ["C2", "C2"],
                "reason_new_episode": ["S", "P"],
            }
        ),
    )
    _write(
        folder,
        "truth_children",
        pd.DataFrame(
            {
                "person_id": ["C1", "C2", "C4", "C3"],
                "pupil_id": pd.Series(["PMR1", "PMR2", None, "PMR3"], dtype="str"),
                "la_code": [LA1, LA1, LA1, LA2],
                "date_of_birth": _d(["2009-11-30", "2012-05-02", "2014-08-08", "2010-12-25"]),
            }
        ),
        {**SYNTH_META, "truth": True},
    )
    (folder / "truth.json").write_text(
        json.dumps({"reference_date": "2021-03-21", "extract_date": "2023-03-21"})
    )
    return folder


def tiny_import_folder(
    folder: Path,
    *,
    children: list[dict],
    pupil_census: list[dict],
    referrals: list[dict] = (),
    domains: list[dict] = (),
) -> Path:
    """An LA import folder with the given rows (LA1 only)."""
    folder.mkdir(parents=True, exist_ok=True)
    meta = {"synthetic": True, "la_code": LA1}
    _write(
        folder,
        "areas",
        pd.DataFrame(
            {
                "la_code": [LA1],
                "la_name": ["One"],
                "region_code": ["E12000001"],
                "region_name": ["North East"],
            }
        ),
        meta,
    )
    pc = pd.DataFrame(pupil_census)
    pc["census_date"] = pd.to_datetime(pc["census_date"])
    pc["la_code"] = LA1
    pc["school_id"] = "S1"
    _write(folder, "pupil_census", pc, meta)
    ref = pd.DataFrame(
        list(referrals),
        columns=[
            "pupil_id",
            "referral_date",
            "primary_need_code",
            "cin_closure_date",
            "referral_nfa",
        ],
    )
    for c in ("referral_date", "cin_closure_date"):
        ref[c] = pd.to_datetime(ref[c])
    ref["la_code"] = LA1
    _write(folder, "cin_referrals", ref, meta)
    for name in ("child_protection_plans", "looked_after_episodes"):
        _write(folder, name, contract.empty_frame(name), meta)
    ch = pd.DataFrame(children)
    ch["date_of_birth"] = pd.to_datetime(ch["date_of_birth"])
    io.write_parquet(ch, folder / "pupil_characteristics.parquet", meta)
    dom = pd.DataFrame(
        list(domains),
        columns=["pupil_id", "household_id", "employment", "education", "health", "housing"],
    )
    for c in ("employment", "education", "health", "housing"):
        dom[c] = dom[c].astype("boolean")
    io.write_parquet(dom, folder / "child_domains.parquet", meta)
    return folder
