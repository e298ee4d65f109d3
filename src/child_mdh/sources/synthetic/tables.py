"""Turn the generated world into files: the contract tables and the truth tables.

Identifiers and codes are built with pyarrow compute kernels and handed to pandas as its
default string dtype without a Python loop, so ten million rows take seconds. Rows are
sorted on integers before any string is built, and each table is written as soon as it is
built (via :func:`child_mdh.files.write_parquet`, with the synthetic-data metadata).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from child_mdh.contract import tables as contract
from child_mdh.files import write_parquet
from child_mdh.sources.synthetic.areas import areas_table
from child_mdh.sources.synthetic.dates import to_datetime64
from child_mdh.sources.synthetic.measures import OPEN
from child_mdh.sources.synthetic.params import HOUSEHOLD_TYPES
from child_mdh.sources.synthetic.persons import ACT, DIS, QUAL


def id_array(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """``prefix`` + zero-padded ``numbers`` as an arrow string array (vectorised)."""
    digits = pc.utf8_lpad(
        pa.array(np.asarray(numbers, dtype=np.int64)).cast(pa.string()), width=width, padding="0"
    )
    return pc.binary_join_element_wise(pa.scalar(prefix), digits, "")


def id_strings(prefix: str, numbers: np.ndarray, width: int) -> pd.Series:
    """``prefix`` + zero-padded ``numbers`` as a pandas string Series (vectorised)."""
    return pd.Series(pd.array(id_array(prefix, numbers, width), dtype="str"))


def take_strings(values, index: np.ndarray) -> pd.Series:
    """``values[index]`` as a pandas string Series (values: arrow array, list or object array).

    Switches to 64-bit string offsets when the result could pass 2 GB of characters (ten
    million children with termly censuses), which 32-bit offsets cannot address.
    """
    arr = values if isinstance(values, pa.Array) else pa.array(list(values), type=pa.string())
    index = np.asarray(index, dtype=np.int64)
    longest = pc.max(pc.utf8_length(arr)).as_py() if len(arr) else 0
    if (longest or 0) * len(index) >= 2**31 - 1:
        arr = arr.cast(pa.large_string())
    return pd.Series(pd.array(arr.take(pa.array(index)), dtype="str"))


def dates(days: np.ndarray) -> pd.Series:
    """Day numbers as a datetime64[ns] Series; ``OPEN`` (and negative) days become NaT."""
    days = np.asarray(days, dtype=np.int64)
    missing = (days >= OPEN) | (days < -100_000)
    return pd.Series(to_datetime64(np.where(missing, 0, days), missing))


def id_width(n: int, minimum: int) -> int:
    """Digits needed for identifiers 0..n-1, at least ``minimum``."""
    return max(minimum, len(str(max(n - 1, 0))))


def frame(name: str, columns: dict) -> pd.DataFrame:
    """A contract table from column arrays, cast to the contract dtypes."""
    return contract.conform(pd.DataFrame(columns), name)


@dataclass
class World:
    """Everything one synthetic England holds in memory before it is written."""

    census_year: int
    reference: dt.date
    history_start: dt.date
    extract: dt.date
    params: dict
    delta: float
    la: pd.DataFrame
    la_effects: dict
    hh: object  # households.Households
    persons: object  # persons.Persons
    child_person: np.ndarray  # child index -> person index
    school: object  # school_census.SchoolRecords
    mdh: np.ndarray
    la_prevalence: np.ndarray
    national_prevalence: float
    care: object  # social_care.SocialCare

    @property
    def la_codes(self) -> np.ndarray:
        return self.la["la_code"].to_numpy(dtype=object)

    @property
    def child_hh(self) -> np.ndarray:
        return self.persons.household[self.child_person]

    @property
    def child_la(self) -> np.ndarray:
        return self.hh.la_index[self.child_hh]

    @property
    def la_context(self) -> np.ndarray:
        """Each LA's MDH prevalence among its children minus the national prevalence."""
        kids = np.bincount(self.child_la, minlength=len(self.la))
        return np.where(kids > 0, self.la_prevalence - self.national_prevalence, 0.0)


@dataclass
class Identifiers:
    household: pa.Array
    person: pa.Array
    pupil_of_child: pa.Array  # one per child; meaningful where the child has a pupil record
    household_la: pd.Series


def write_contract_tables(world: World, out_dir: Path, metadata: dict):
    """Write the eight contract tables; returns (files, rows per table, identifiers).

    Rows are ordered by their key (sorted on integers before any string is built) and each
    table is written as soon as it is built, so only one large table is in memory at once.
    """

    hh, persons, school, care = world.hh, world.persons, world.school, world.care
    la_codes, child_la = world.la_codes, world.child_la
    files: list[Path] = []
    rows: dict[str, int] = {}

    def emit(name: str, columns) -> None:
        df = columns if isinstance(columns, pd.DataFrame) else frame(name, columns)
        files.append(write_parquet(df, out_dir / f"{name}.parquet", metadata))
        rows[name] = len(df)

    ids = Identifiers(
        household=id_array("H", np.arange(len(hh)), id_width(len(hh), 8)),
        person=id_array("P", np.arange(len(persons)), id_width(len(persons), 9)),
        pupil_of_child=id_array(
            "PMR", np.maximum(school.pupil_number, 0), id_width(int(school.has_record.sum()), 10)
        ),
        household_la=take_strings(la_codes, hh.la_index),
    )

    def pupil_ids(child_index):
        return take_strings(ids.pupil_of_child, child_index)

    def by_pupil(child_index, day):
        return np.lexsort((day, school.pupil_number[child_index]))

    emit("areas", areas_table(world.la))
    emit(
        "households",
        {
            "household_id": pd.Series(pd.array(ids.household, dtype="str")),
            "census_year": np.full(len(hh), world.census_year, dtype=np.int64),
            "la_code": ids.household_la,
            "lsoa_code": (
                pd.Series(pd.array(hh.lsoa_code, dtype="str"))
                if hh.lsoa_code is not None
                else pd.Series([None] * len(hh), dtype="str")
            ),
            "occupancy_rating_rooms": hh.occupancy_rating_rooms,
            "shared_dwelling": hh.shared_dwelling,
            "central_heating": hh.central_heating,
        },
    )
    emit(
        "persons",
        {
            "person_id": pd.Series(pd.array(ids.person, dtype="str")),
            "household_id": take_strings(ids.household, persons.household),
            "age": persons.age.astype(np.int64),
            "sex": take_strings(contract.SEX_CODES, persons.male.astype(np.int64)),
            "economic_activity": take_strings(list(ACT), persons.economic_activity),
            "full_time_student": persons.full_time_student,
            "highest_qualification": take_strings(list(QUAL), persons.highest_qualification),
            "general_health": persons.general_health.astype(np.int64),
            "disability": take_strings(list(DIS), persons.disability),
            "ethnic_group": take_strings(contract.ETHNIC_GROUP_CODES, persons.ethnic_group),
        },
    )
    o = by_pupil(school.child, school.census_day)
    emit(
        "pupil_census",
        {
            "pupil_id": pupil_ids(school.child[o]),
            "census_date": dates(school.census_day[o]),
            "la_code": take_strings(la_codes, school.school_la[o]),
            "school_id": take_strings(school.school_ids, school.school[o]),
            "fsm_eligible": school.fsm[o],
        },
    )
    linked = np.flatnonzero(school.linked)
    emit(
        "census_npd_link",
        {
            "person_id": take_strings(ids.person, world.child_person[linked]),
            "pupil_id": pupil_ids(linked),
        },
    )
    r = care.referrals
    o = by_pupil(r["child"], r["day"])
    emit(
        "cin_referrals",
        {
            "pupil_id": pupil_ids(r["child"][o]),
            "la_code": take_strings(la_codes, child_la[r["child"][o]]),
            "referral_date": dates(r["day"][o]),
            "primary_need_code": take_strings(contract.PRIMARY_NEED_CODES, r["need"][o]),
            "cin_closure_date": dates(r["closure"][o]),
            "referral_nfa": r["nfa"][o],
        },
    )
    p = care.plans
    o = by_pupil(p["child"], p["start"])
    emit(
        "child_protection_plans",
        {
            "pupil_id": pupil_ids(p["child"][o]),
            "la_code": take_strings(la_codes, child_la[p["child"][o]]),
            "cpp_start_date": dates(p["start"][o]),
            "cpp_end_date": dates(p["end"][o]),
        },
    )
    e = care.episodes
    o = by_pupil(e["child"], e["start"])
    emit(
        "looked_after_episodes",
        {
            "pupil_id": pupil_ids(e["child"][o]),
            "la_code": take_strings(la_codes, child_la[e["child"][o]]),
            "episode_start": dates(e["start"][o]),
            "episode_end": dates(e["end"][o]),
            "legal_status": pd.Series(pd.array(e["legal_status"][o], dtype="str")),
            "reason_new_episode": pd.Series(pd.array(e["reason"][o], dtype="str")),
        },
    )
    return files, rows, ids


def write_truth_tables(world: World, ids: Identifiers, out_dir: Path, metadata: dict) -> list[Path]:
    """``truth_households.parquet`` and ``truth_children.parquet`` (not contract tables)."""

    hh, school = world.hh, world.school
    households = pd.DataFrame(
        {
            "household_id": pd.Series(pd.array(ids.household, dtype="str")),
            "la_code": ids.household_la,
            "employment": hh.flags[:, 0],
            "education": hh.flags[:, 1],
            "health": hh.flags[:, 2],
            "housing": hh.flags[:, 3],
            "n_domains": hh.n_domains.astype(np.int64),
            "household_type": take_strings(HOUSEHOLD_TYPES, hh.household_type),
            "dependent_children": hh.n_children.astype(np.int64),
        }
    )
    children = pd.DataFrame(
        {
            "person_id": take_strings(ids.person, world.child_person),
            "pupil_id": pd.Series(pd.array(ids.pupil_of_child, dtype="str")).where(
                school.has_record
            ),
            "la_code": take_strings(world.la_codes, world.child_la),
            "date_of_birth": dates(world.persons.dob[world.child_person]),
            "independent_school": school.private,
            "has_pupil_record": school.has_record,
            "linked": school.linked,
            "fsm_reference": school.fsm_reference,
            "mdh": world.mdh,
            "la_mdh_prevalence_centred": world.la_context[world.child_la],
            "eta_referral": world.care.eta,
        }
    )
    return [
        write_parquet(households, out_dir / "truth_households.parquet", metadata),
        write_parquet(children, out_dir / "truth_children.parquet", metadata),
    ]
