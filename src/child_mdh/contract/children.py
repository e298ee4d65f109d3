"""The children table: one row per child of the analysis, whichever cohort built it.

Every analysis reads ``results/secure/children.parquet``, written by the derive stage from
either cohort: the census cohort of the contract route
(:func:`child_mdh.derive.children.derive_children`) or the local-authority (pupil) cohort
(:func:`child_mdh.derive.children.derive_children_from_la_import`). Both end with
:func:`conform_children`, which checks that the table has exactly the columns of
:data:`CHILDREN_COLUMNS`, in that order and with those types (the local authority's
area-level route adds :data:`AREA_LEVEL_COLUMNS` after them), and casts a column to its
declared type where that loses nothing. ``docs/data-contract.md`` lists the columns
(:func:`children_markdown`).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from child_mdh.contract.vocabulary import DOMAINS, OUTCOME_FLAGS
from child_mdh.errors import ChildMdhError


@dataclass(frozen=True)
class ChildColumn:
    """One column of the children table: its pandas type, whether it may be empty, and
    what it holds."""

    name: str
    dtype: str
    description: str
    nullable: bool = False


_DOMAIN_TEXT = {
    "employment": "employment",
    "education": "education",
    "health": "health and disability",
    "housing": "housing",
}
_OUTCOME_TEXT = {
    "any_referral": "a referral to children's social care",
    "any_cin": "a child in need episode (a referral that was not 'no further action')",
    "any_cpp": "a child protection plan",
    "entered_care": "a new period of being looked after",
}

CHILDREN_COLUMNS: tuple[ChildColumn, ...] = (
    ChildColumn(
        "person_id",
        "str",
        "the child (census person id; the pupil id in the local-authority cohort)",
    ),
    ChildColumn("household_id", "str", "the child's household (clusters standard errors)"),
    ChildColumn("la_code", "str", "local authority (ONS code)"),
    ChildColumn(
        "lsoa_code",
        "str",
        "lower layer super output area (empty in the local-authority cohort's household route)",
        nullable=True,
    ),
    ChildColumn(
        "census_year",
        "Int64",
        "the census the cohort comes from (empty in the local-authority cohort)",
        nullable=True,
    ),
    ChildColumn("age", "int64", "completed years of age on the reference date"),
    ChildColumn("sex", "str", "sex code of the contract", nullable=True),
    ChildColumn(
        "ethnic_group",
        "str",
        "ethnic group code of the contract (empty in the local-authority cohort)",
        nullable=True,
    ),
    ChildColumn(
        "pupil_id", "str", "the linked pupil record (empty when not linked)", nullable=True
    ),
    ChildColumn("linked", "bool", "the census record is linked to a pupil record"),
    *(
        ChildColumn(
            d,
            "boolean",
            f"the household is deprived in the {_DOMAIN_TEXT[d]} domain (ONS definition)",
            nullable=True,
        )
        for d in DOMAINS
    ),
    ChildColumn(
        "n_domains",
        "Int64",
        "number of the four domains the household is deprived in",
        nullable=True,
    ),
    ChildColumn("fsm", "boolean", "the FSM indicator of the run's FSM measure", nullable=True),
    ChildColumn(
        "fsm_share",
        "float64",
        "share of the child's school censuses with FSM eligibility",
        nullable=True,
    ),
    *(
        ChildColumn(o, "boolean", f"{_OUTCOME_TEXT[o]} in the follow-up window", nullable=True)
        for o in OUTCOME_FLAGS
    ),
    ChildColumn("n_referrals", "Int64", "referrals in the follow-up window", nullable=True),
    ChildColumn("exposure_years", "float64", "years of follow-up", nullable=True),
    ChildColumn(
        "time_to_first_referral",
        "Int64",
        "days to the first referral, or to the end of follow-up (see referral_event)",
        nullable=True,
    ),
    ChildColumn(
        "referral_event", "boolean", "the first referral happened in follow-up", nullable=True
    ),
    ChildColumn("prior_referral", "boolean", "a referral before the reference date", nullable=True),
    ChildColumn(
        "prior_cpp", "boolean", "a child protection plan before the reference date", nullable=True
    ),
    ChildColumn(
        "prior_in_care", "boolean", "looked after before the reference date", nullable=True
    ),
    ChildColumn(
        "in_care_at_reference", "boolean", "looked after on the reference date", nullable=True
    ),
    ChildColumn("la_name", "str", "local authority name", nullable=True),
    ChildColumn("region_code", "str", "region (ONS code)", nullable=True),
    ChildColumn("region_name", "str", "region name", nullable=True),
)

#: the local-authority cohort's area-level route (published LSOA shares, no household flags)
AREA_LEVEL_COLUMNS: tuple[ChildColumn, ...] = (
    *(
        ChildColumn(
            f"area_share_deprived_ge{n}",
            "float64",
            f"share of the LSOA's households deprived in at least {n} domains",
            nullable=True,
        )
        for n in range(1, 5)
    ),
    ChildColumn(
        "area_mean_dimensions",
        "float64",
        "mean number of domains the LSOA's households are deprived in",
        nullable=True,
    ),
    ChildColumn("area_matched", "bool", "the child's LSOA was found in the published counts"),
)

COLUMN_NAMES = tuple(c.name for c in CHILDREN_COLUMNS)


class ChildrenTableError(ChildMdhError):
    """A cohort built a children table that does not match the declared schema (a fault of
    the derive stage, not of the input)."""


def conform_children(children: pd.DataFrame, cohort: str) -> pd.DataFrame:
    """Check ``children`` against :data:`CHILDREN_COLUMNS` and return it with every column
    in its declared type.

    The columns must be exactly the schema's, in its order, optionally followed by all of
    :data:`AREA_LEVEL_COLUMNS`. A column of another type is cast when the cast keeps
    every value (``int64`` to ``Int64``, ``bool`` to ``boolean``); a non-nullable column
    may hold no missing value. ``cohort`` names the cohort in the error.
    """
    names = list(children.columns)
    expected = list(COLUMN_NAMES)
    extra = names[len(expected) :]
    if names[: len(expected)] != expected or extra not in (
        [],
        [c.name for c in AREA_LEVEL_COLUMNS],
    ):
        missing = [c for c in expected if c not in names]
        unknown = [
            c for c in names if c not in expected and c not in {a.name for a in AREA_LEVEL_COLUMNS}
        ]
        raise ChildrenTableError(
            f"the {cohort} cohort's children table does not have the declared columns "
            f"(contract/children.py): missing {missing or 'none'}, unknown "
            f"{unknown or 'none'}, order {names}"
        )
    declared = CHILDREN_COLUMNS + (AREA_LEVEL_COLUMNS if extra else ())
    out = children.copy()
    for column in declared:
        values = out[column.name]
        if str(values.dtype) != column.dtype:
            cast = values.astype(column.dtype)
            if not cast.isna().equals(values.isna()) or (
                values.notna().any()
                and not (
                    cast[values.notna()].astype(object) == values[values.notna()].astype(object)
                ).all()
            ):
                raise ChildrenTableError(
                    f"the {cohort} cohort's column {column.name} is {values.dtype}, declared "
                    f"{column.dtype}, and cannot be cast without changing values"
                )
            out[column.name] = cast
        if not column.nullable and out[column.name].isna().any():
            rows = out.index[out[column.name].isna()][:5].tolist()
            raise ChildrenTableError(
                f"the {cohort} cohort's column {column.name} must not be empty; empty in "
                f"rows {rows}"
            )
    out.attrs = children.attrs
    return out


def children_markdown() -> str:
    """The children table's columns as a Markdown section of docs/data-contract.md."""
    lines = [
        "## children (derived)",
        "",
        "Not an input: the person-level table the derive stage writes to "
        "`results/secure/children.parquet` from either cohort, and every analysis reads. "
        "Both cohorts give exactly these columns, in this order and with these types "
        "(`src/child_mdh/contract/children.py`); the local authority's area-level route "
        "adds the area columns after them.",
        "",
        "| column | type | empty allowed | description |",
        "|---|---|---|---|",
    ]
    for c in CHILDREN_COLUMNS + AREA_LEVEL_COLUMNS:
        lines.append(
            f"| {c.name} | {c.dtype} | {'yes' if c.nullable else 'no'} | {c.description} |"
        )
    return "\n".join(lines)
