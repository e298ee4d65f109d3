"""The data contract: the tables every entry point produces and the analysis reads.

This module is the one source of truth for table names, columns, types, code lists,
keys, references between tables and date logic. The synthetic generator writes these
tables, the adapters (mapped extracts, local-authority returns) produce them, the
validator checks them and every reader relies on them. ``docs/data-contract.md`` is
generated from, and tested against, this module.

Conventions (data contract v1):
- one file per table, ``<table>.parquet`` (``.csv`` accepted on input), in one folder;
- identifiers are strings; extra columns are kept and ignored;
- dates are calendar dates (stored as ``datetime64``), empty where the contract allows.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field

import pandas as pd

CONTRACT_VERSION = "1"

#: Census day of each supported census (England and Wales).
CENSUS_DAY: dict[int, _dt.date] = {
    2011: _dt.date(2011, 3, 27),
    2021: _dt.date(2021, 3, 21),
}

SEX_CODES = ("F", "M")
ECONOMIC_ACTIVITY_CODES = (
    "in_employment",
    "unemployed",
    "inactive_long_term_sick_or_disabled",
    "inactive_student",
    "inactive_retired",
    "inactive_looking_after_home",
    "inactive_other",
    "not_applicable",
)
QUALIFICATION_CODES = (
    "none",
    "level1",
    "level2",
    "apprenticeship",
    "level3",
    "level4_plus",
    "other",
    "unknown",
    "not_applicable",
)
DISABILITY_CODES = ("limited_a_lot", "limited_a_little", "not_limited")
ETHNIC_GROUP_CODES = ("white", "mixed", "asian", "black", "other")
#: CIN census primary need codes: N1 abuse or neglect ... N9 cases other than children
#: in need; N0 not stated.
PRIMARY_NEED_CODES = tuple(f"N{i}" for i in range(10))
PRIMARY_NEED_LABELS = {
    "N0": "Not stated",
    "N1": "Abuse or neglect",
    "N2": "Child's disability or illness",
    "N3": "Parental illness or disability",
    "N4": "Family in acute stress",
    "N5": "Family dysfunction",
    "N6": "Socially unacceptable behaviour",
    "N7": "Low income",
    "N8": "Absent parenting",
    "N9": "Cases other than children in need",
}
#: SSDA903 legal status (LS) codes.
LEGAL_STATUS_CODES = (
    "C1",
    "C2",
    "D1",
    "E1",
    "J1",
    "J2",
    "J3",
    "L1",
    "L2",
    "L3",
    "V2",
    "V3",
    "V4",
)
LEGAL_STATUS_LABELS = {
    "C1": "Interim care order",
    "C2": "Full care order",
    "D1": "Freeing order granted",
    "E1": "Placement order granted",
    "J1": "Remanded to local authority accommodation or youth detention",
    "J2": "Placed in local authority accommodation under PACE",
    "J3": "Sentenced to supervision order with residence requirement",
    "L1": "Under police protection and in local authority accommodation",
    "L2": "Emergency protection order",
    "L3": "Under child assessment order and in local authority accommodation",
    "V2": "Single period of accommodation under section 20",
    "V3": "Accommodated under an agreed series of short-term breaks (individual)",
    "V4": "Accommodated under an agreed series of short-term breaks (multiple)",
}
#: SSDA903 reason for new episode (RNE) codes.
REASON_NEW_EPISODE_CODES = ("S", "L", "P", "T", "U", "B")
REASON_NEW_EPISODE_LABELS = {
    "S": "Started to be looked after",
    "L": "Change of legal status only",
    "P": "Change of placement and carer(s) only",
    "T": "Change of both legal status and placement and carer(s) at the same time",
    "U": "Change of placement (same carer(s)) with or without a change of legal status",
    "B": "Change of placement (same carers) and legal status at the same time",
}

#: An ONS (GSS) area code: a country letter and eight digits (E08000004). Other tables'
#: la_code must be an areas.la_code, so checking the areas table checks them all.
ONS_CODE_PATTERN = r"[EWSN]\d{8}"

#: Logical types used by the contract, and the pandas dtype each is held in.
LOGICAL_TYPES = ("string", "int", "bool", "date", "float")


@dataclass(frozen=True)
class Column:
    """One column of a contract table."""

    name: str
    type: str
    description: str = ""
    required: bool = True
    nullable: bool = False
    codes: tuple | None = None
    minimum: float | None = None
    maximum: float | None = None
    references: tuple[str, str] | None = None
    #: a regular expression every value must match in full (codes with a fixed shape)
    pattern: str | None = None

    def __post_init__(self) -> None:
        if self.type not in LOGICAL_TYPES:
            raise ValueError(f"column {self.name}: unknown type {self.type!r}")

    @property
    def pandas_dtype(self) -> str:
        """The pandas dtype this column is held in after reading.

        Strings use pandas' default string dtype, integers and booleans the nullable
        extension dtypes where the contract allows empties, dates ``datetime64[ns]``.
        """
        if self.type == "string":
            return "str"
        if self.type == "int":
            return "Int64" if self.nullable else "int64"
        if self.type == "bool":
            return "boolean" if self.nullable else "bool"
        if self.type == "float":
            return "float64"
        return "datetime64[ns]"


@dataclass(frozen=True)
class Table:
    """One contract table: its columns, key and the rules between its columns."""

    name: str
    description: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...] = ()
    #: other column sets that must be unique (besides the primary key)
    unique: tuple[tuple[str, ...], ...] = ()
    #: (start, end) date pairs: end must not be before start
    date_order: tuple[tuple[str, str], ...] = ()
    #: tables that must be present in every input folder
    required: bool = True
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"table {self.name} has no contract column {name!r}")

    def dtypes(self) -> dict[str, str]:
        return {c.name: c.pandas_dtype for c in self.columns}


TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            name="areas",
            description="One row per local authority (upper tier: the councils that run children's services).",
            columns=(
                Column(
                    "la_code",
                    "string",
                    "ONS code, e.g. E08000004",
                    pattern=ONS_CODE_PATTERN,
                ),
                Column("la_name", "string", "Local authority name"),
                Column("region_code", "string", "ONS region code"),
                Column("region_name", "string", "Region name"),
            ),
            primary_key=("la_code",),
        ),
        Table(
            name="households",
            description="One row per census household.",
            columns=(
                Column("household_id", "string", "Household identifier"),
                Column(
                    "census_year",
                    "int",
                    "2011 or 2021: selects the ONS rule variant",
                    codes=tuple(CENSUS_DAY),
                ),
                Column(
                    "la_code",
                    "string",
                    "Local authority of the household",
                    references=("areas", "la_code"),
                ),
                Column(
                    "lsoa_code",
                    "string",
                    "Lower layer super output area",
                    required=False,
                    nullable=True,
                ),
                Column(
                    "occupancy_rating_rooms",
                    "int",
                    "Occupancy rating for rooms; -1 or less = overcrowded",
                    minimum=-20,
                    maximum=20,
                ),
                Column("shared_dwelling", "bool", "Household lives in a shared dwelling"),
                Column("central_heating", "bool", "Accommodation has central heating"),
            ),
            primary_key=("household_id",),
        ),
        Table(
            name="persons",
            description="One row per usual resident of a census household.",
            columns=(
                Column("person_id", "string", "Person identifier"),
                Column(
                    "household_id",
                    "string",
                    "Household of the person",
                    references=("households", "household_id"),
                ),
                Column("age", "int", "Age in years on census day", minimum=0, maximum=110),
                Column("sex", "string", "F or M", codes=SEX_CODES),
                Column(
                    "economic_activity",
                    "string",
                    "Economic activity in the census week; not_applicable under 16",
                    codes=ECONOMIC_ACTIVITY_CODES,
                ),
                Column("full_time_student", "bool", "In full-time education"),
                Column(
                    "highest_qualification",
                    "string",
                    "Highest level of qualification; not_applicable under 16",
                    codes=QUALIFICATION_CODES,
                ),
                Column(
                    "general_health",
                    "int",
                    "1 very good, 2 good, 3 fair, 4 bad, 5 very bad",
                    minimum=1,
                    maximum=5,
                ),
                Column(
                    "disability",
                    "string",
                    "Day-to-day activities limited by a long-term condition",
                    codes=DISABILITY_CODES,
                ),
                Column(
                    "ethnic_group",
                    "string",
                    "Ethnic group (five groups)",
                    required=False,
                    nullable=True,
                    codes=ETHNIC_GROUP_CODES,
                ),
            ),
            primary_key=("person_id",),
        ),
        Table(
            name="pupil_census",
            description="One row per pupil per school census (the National Pupil Database).",
            columns=(
                Column("pupil_id", "string", "Pupil matching reference"),
                Column("census_date", "date", "Autumn, spring or summer census day"),
                Column(
                    "la_code",
                    "string",
                    "Local authority of the school",
                    references=("areas", "la_code"),
                ),
                Column("school_id", "string", "School identifier"),
                Column("fsm_eligible", "bool", "Eligible for free school meals on census day"),
            ),
            primary_key=("pupil_id", "census_date"),
        ),
        Table(
            name="census_npd_link",
            description="Linkage between census persons and pupils; unlinked children have no row.",
            columns=(
                Column("person_id", "string", "Census person", references=("persons", "person_id")),
                Column("pupil_id", "string", "Pupil", references=("pupil_census", "pupil_id")),
            ),
            primary_key=("person_id",),
            unique=(("pupil_id",),),
        ),
        Table(
            name="cin_referrals",
            description="Children in need: one row per referral, de-duplicated across return years.",
            columns=(
                Column("pupil_id", "string", "Pupil", references=("pupil_census", "pupil_id")),
                Column(
                    "la_code",
                    "string",
                    "Local authority that received the referral",
                    references=("areas", "la_code"),
                ),
                Column("referral_date", "date", "Date of the referral"),
                Column("primary_need_code", "string", "N0-N9", codes=PRIMARY_NEED_CODES),
                Column(
                    "cin_closure_date", "date", "Empty while the episode is open", nullable=True
                ),
                Column("referral_nfa", "bool", "Referral led to no further action"),
            ),
            primary_key=("pupil_id", "referral_date"),
            date_order=(("referral_date", "cin_closure_date"),),
        ),
        Table(
            name="child_protection_plans",
            description="Child protection plans.",
            columns=(
                Column("pupil_id", "string", "Pupil", references=("pupil_census", "pupil_id")),
                Column("la_code", "string", "Local authority", references=("areas", "la_code")),
                Column("cpp_start_date", "date", "Start of the plan"),
                Column("cpp_end_date", "date", "Empty while the plan is open", nullable=True),
            ),
            primary_key=("pupil_id", "cpp_start_date"),
            date_order=(("cpp_start_date", "cpp_end_date"),),
        ),
        Table(
            name="looked_after_episodes",
            description="Looked-after episodes (SSDA903).",
            columns=(
                Column("pupil_id", "string", "Pupil", references=("pupil_census", "pupil_id")),
                Column("la_code", "string", "Local authority", references=("areas", "la_code")),
                Column("episode_start", "date", "DECOM: start of the episode"),
                Column(
                    "episode_end",
                    "date",
                    "DEC: end of the episode, empty while open",
                    nullable=True,
                ),
                Column("legal_status", "string", "LS code", codes=LEGAL_STATUS_CODES),
                Column("reason_new_episode", "string", "RNE code", codes=REASON_NEW_EPISODE_CODES),
            ),
            primary_key=("pupil_id", "episode_start"),
            date_order=(("episode_start", "episode_end"),),
        ),
    )
}

#: Tables in the order they can be read so that every reference points backwards.
TABLE_ORDER: tuple[str, ...] = tuple(TABLES)


def table(name: str) -> Table:
    """Return the contract table called ``name`` (KeyError naming the valid tables)."""
    try:
        return TABLES[name]
    except KeyError:
        raise KeyError(
            f"{name!r} is not a contract table; the tables are: {', '.join(TABLES)}"
        ) from None


def empty_frame(name: str) -> pd.DataFrame:
    """An empty DataFrame with the contract columns and dtypes of table ``name``."""
    t = table(name)
    return pd.DataFrame({c.name: pd.Series(dtype=c.pandas_dtype) for c in t.columns})


def conform(df: pd.DataFrame, name: str) -> pd.DataFrame:
    """Return ``df`` with the contract columns first, cast to their contract dtypes.

    Extra columns are kept (after the contract columns), as the contract allows.
    Missing optional columns are added empty. This performs no validation: casting
    errors propagate; use :mod:`child_mdh.validation.folder` for checked reading.
    """
    t = table(name)
    out = {}
    for c in t.columns:
        if c.name in df.columns:
            s = df[c.name]
            if str(s.dtype) != c.pandas_dtype:
                s = s.astype(c.pandas_dtype)
            out[c.name] = s
        elif not c.required:
            out[c.name] = (
                pd.Series(pd.NA, index=df.index, dtype=c.pandas_dtype)
                if c.pandas_dtype != "str"
                else pd.Series(None, index=df.index, dtype="str")
            )
        else:
            raise KeyError(f"table {name}: required column {c.name!r} is missing")
    extra = [col for col in df.columns if col not in out]
    result = pd.DataFrame(out, index=df.index)
    for col in extra:
        result[col] = df[col]
    return result.reset_index(drop=True)


def contract_markdown() -> str:
    """Render the contract as Markdown (the body of docs/data-contract.md)."""
    lines = [f"Contract version {CONTRACT_VERSION}.", ""]
    for t in TABLES.values():
        lines.append(f"## {t.name}")
        lines.append("")
        lines.append(t.description)
        lines.append("")
        key = ", ".join(t.primary_key)
        lines.append(f"Unique key: ({key})." if key else "No unique key.")
        for u in t.unique:
            lines.append(f"Also unique: ({', '.join(u)}).")
        for a, b in t.date_order:
            lines.append(f"`{b}` must not be before `{a}`.")
        for n in t.notes:
            lines.append(n)
        lines.append("")
        lines.append(
            "| column | type | required | empty allowed | codes / range | references | description |"
        )
        lines.append("|---|---|---|---|---|---|---|")
        for c in t.columns:
            if c.codes:
                rng = ", ".join(str(code) for code in c.codes)
            elif c.minimum is not None or c.maximum is not None:
                rng = f"{c.minimum:g} to {c.maximum:g}"
            else:
                rng = ""
            ref = f"{c.references[0]}.{c.references[1]}" if c.references else ""
            lines.append(
                f"| {c.name} | {c.type} | {'yes' if c.required else 'no'} | "
                f"{'yes' if c.nullable else 'no'} | {rng} | {ref} | {c.description} |"
            )
        lines.append("")
    return "\n".join(lines)
