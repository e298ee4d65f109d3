"""ONS household deprivation dimensions from census person and household records.

The four dimensions are those of the Office for National Statistics' household
deprivation classification: Census 2011 table QS119EW and Census 2021 table TS011
(variable ``hh_deprivation``). The Census 2021 dictionary words them as follows:

- Education: "A household is classified as deprived in the education dimension if no
  one has at least level 2 education and no one aged 16 to 18 years is a full-time
  student."
- Employment: "... if any member, not a full-time student, is either unemployed or
  economically inactive due to long-term sickness or disability."
- Health: "... if any person in the household has general health that is bad or very
  bad or is identified as disabled." (Disabled: day-to-day activities limited a lot or a
  little by a long-term physical or mental health condition; the Equality Act 2010
  definition.)
- Housing: "... if the household's accommodation is either overcrowded, in a shared
  dwelling, or has no central heating." (Overcrowded: occupancy rating for rooms of -1
  or less.)

Census 2011 (QS119EW) words employment as "unemployed or long-term sick", health as
general health 'bad or very bad' or "a long-term health problem or disability", and
housing and education as above. In the data contract both years code long-term sickness
as ``inactive_long_term_sick_or_disabled`` and limitation as ``limited_a_lot`` /
``limited_a_little``, so the rules below are applied to the same codes in both years;
the two years still differ in what the answers mean (see ``docs/index-methods.md``).

Missing is not 'not deprived': a dimension is true when any member is known to meet
the rule, missing (``pd.NA``) when no member is known to meet it but some member's
input is missing, and false otherwise (Kleene logic over the household's members).
A household with no person rows has the three person-based dimensions missing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from child_mdh.contract import tables as contract
from child_mdh.contract.columns import require_columns
from child_mdh.contract.vocabulary import DOMAINS
from child_mdh.errors import UserError
from child_mdh.validation.folder import QUARANTINED_PERSONS

#: Qualification codes counted as 'at least level 2' by default. ONS places
#: apprenticeships at level 2 or above in its derived qualification variable; 'other'
#: qualifications (including foreign ones of unknown equivalence) are of unknown level,
#: and ONS counts an unknown highest qualification as below level 2, as is 'unknown'.
DEFAULT_LEVEL2_CODES: tuple[str, ...] = ("level2", "apprenticeship", "level3", "level4_plus")


@dataclass(frozen=True)
class OnsRules:
    """The code lists behind the ONS dimensions for one census year."""

    census_year: int
    source: str
    #: economic activity codes that make a member (not a full-time student) deprived
    employment_codes: tuple[str, ...]
    #: general health values counted as bad or very bad
    bad_health_values: tuple[int, ...]
    #: disability codes counted as disabled / limiting long-term illness
    disabled_codes: tuple[str, ...]
    #: ages (inclusive) at which a full-time student protects from education deprivation
    student_age_range: tuple[int, int]
    #: occupancy rating for rooms at or below which the household is overcrowded
    overcrowded_at_or_below: int


RULES: dict[int, OnsRules] = {
    2011: OnsRules(
        census_year=2011,
        source="ONS Census 2011, QS119EW household deprivation dimensions",
        employment_codes=("unemployed", "inactive_long_term_sick_or_disabled"),
        bad_health_values=(4, 5),
        disabled_codes=("limited_a_lot", "limited_a_little"),
        student_age_range=(16, 18),
        overcrowded_at_or_below=-1,
    ),
    2021: OnsRules(
        census_year=2021,
        source="ONS Census 2021, TS011 household deprivation dimensions (hh_deprivation)",
        employment_codes=("unemployed", "inactive_long_term_sick_or_disabled"),
        bad_health_values=(4, 5),
        disabled_codes=("limited_a_lot", "limited_a_little"),
        student_age_range=(16, 18),
        overcrowded_at_or_below=-1,
    ),
}

_PERSON_COLUMNS = (
    "person_id",
    "household_id",
    "age",
    "economic_activity",
    "full_time_student",
    "highest_qualification",
    "general_health",
    "disability",
)
_HOUSEHOLD_COLUMNS = (
    "household_id",
    "census_year",
    "occupancy_rating_rooms",
    "shared_dwelling",
    "central_heating",
)


class DomainInputError(UserError):
    """Input to the domain derivation is unusable; the message names the table, column,
    example rows and the fix."""


# ---------------------------------------------------------------------------------
# input checks


def _require_columns(df: pd.DataFrame, table: str, columns) -> None:
    require_columns(
        df,
        table,
        columns,
        DomainInputError,
        "Map the source columns to the contract names (see docs/data-contract.md) "
        "before deriving the deprivation domains.",
    )


def _examples(df: pd.DataFrame, mask, id_col: str, col: str, n: int = 5) -> str:
    rows = df.loc[np.asarray(mask), [id_col, col]].head(n)
    return "; ".join(f"{id_col}={r[0]!s} {col}={r[1]!r}" for r in rows.itertuples(index=False))


def _check_codes(df: pd.DataFrame, table: str, column: str, codes, id_col: str) -> None:
    s = df[column]
    bad = s.notna() & ~s.isin(list(codes))
    if bad.any():
        raise DomainInputError(
            f"table {table}, column {column}: {int(bad.sum())} value(s) outside the "
            f"contract code list ({', '.join(map(str, codes))}), e.g. "
            f"{_examples(df, bad, id_col, column)}. Recode them to contract codes "
            f"(or leave them empty if truly unknown)."
        )


def _as_boolean(df: pd.DataFrame, table: str, column: str, id_col: str) -> pd.arrays.BooleanArray:
    """A column as a nullable BooleanArray; 0/1 and True/False accepted, NA kept."""
    s = df[column]
    try:
        return pd.array(s, dtype="boolean")
    except (TypeError, ValueError):
        bad = s.notna() & ~s.isin([True, False, 0, 1])
        raise DomainInputError(
            f"table {table}, column {column}: {int(bad.sum())} value(s) are not true/false, "
            f"e.g. {_examples(df, bad, id_col, column)}. Store it as a boolean column "
            f"(True/False, or 1/0; empty when unknown)."
        ) from None


def _as_float(df: pd.DataFrame, table: str, column: str, id_col: str) -> np.ndarray:
    s = df[column]
    try:
        return pd.to_numeric(s, errors="raise").astype("float64").to_numpy()
    except (TypeError, ValueError):
        bad = pd.to_numeric(s, errors="coerce").isna() & s.notna()
        raise DomainInputError(
            f"table {table}, column {column}: {int(bad.sum())} value(s) are not numbers, "
            f"e.g. {_examples(df, bad, id_col, column)}. Store whole numbers (empty when "
            f"unknown)."
        ) from None


def _check_level2_codes(codes) -> tuple[str, ...]:
    if isinstance(codes, str):
        codes = (codes,)
    codes = tuple(codes)
    if not codes:
        raise DomainInputError(
            "qualification_level2 is empty: give at least one highest_qualification code "
            f"that counts as level 2 or above (default {DEFAULT_LEVEL2_CODES})."
        )
    unknown = [c for c in codes if c not in contract.QUALIFICATION_CODES]
    if unknown or "not_applicable" in codes:
        raise DomainInputError(
            f"qualification_level2: {unknown or ['not_applicable']} cannot count as level 2 "
            f"or above; choose from {', '.join(c for c in contract.QUALIFICATION_CODES if c != 'not_applicable')}."
        )
    return codes


def positions(values: pd.Series, lookup: pd.Series) -> np.ndarray:
    """Position of each value in ``lookup`` (-1 when absent), by an Arrow hash lookup.

    Identifiers are compared as strings; ``lookup`` must be unique.
    """
    a = pa.array(values.astype("str"), from_pandas=True)
    b = pa.array(lookup.astype("str"), from_pandas=True)
    idx = pc.index_in(a, value_set=b)
    return idx.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)


# ---------------------------------------------------------------------------------
# Kleene aggregation over household members


def _household_any(
    idx: np.ndarray, flag: pd.arrays.BooleanArray, n_households: int, n_persons: np.ndarray
) -> pd.arrays.BooleanArray:
    """Kleene OR of a person-level nullable flag within each household.

    True if any member is True; otherwise NA if any member is NA or the household has
    no members; otherwise False.
    """
    true = flag.to_numpy(dtype="float64", na_value=0.0)
    na = np.asarray(flag.isna(), dtype="float64")
    any_true = np.bincount(idx, weights=true, minlength=n_households) > 0
    any_na = np.bincount(idx, weights=na, minlength=n_households) > 0
    mask = ~any_true & (any_na | (n_persons == 0))
    return pd.arrays.BooleanArray(any_true, mask)


# ---------------------------------------------------------------------------------
# public API


def household_deprivation(
    persons: pd.DataFrame,
    households: pd.DataFrame,
    qualification_level2=DEFAULT_LEVEL2_CODES,
) -> pd.DataFrame:
    """The four ONS household deprivation dimensions for every household.

    Method (ONS Census 2011 QS119EW and Census 2021 TS011 definitions, applied by each
    household's ``census_year``):

    - employment: any member who is not a full-time student has economic activity
      ``unemployed`` or ``inactive_long_term_sick_or_disabled`` ("unemployed or long-term
      sick" in 2011; "unemployed or economically inactive due to long-term sickness or
      disability" in 2021);
    - education: no member's highest qualification is in ``qualification_level2`` AND no
      member aged 16 to 18 is a full-time student ('unknown' and 'other' qualifications
      count as below level 2, as ONS counts them; a missing value is missing);
    - health: any member has general health 4 (bad) or 5 (very bad), or day-to-day
      activities limited a lot or a little (2011: long-term health problem or disability;
      2021: disabled under the Equality Act definition);
    - housing: occupancy rating for rooms of -1 or less, OR a shared dwelling, OR no
      central heating.

    Missing inputs are kept missing (Kleene logic, see the module docstring): a domain is
    ``pd.NA`` when no member is known to meet the rule but some needed value is missing,
    and ``n_domains`` is ``pd.NA`` when any domain is. A household some of whose members
    validation quarantined (a ``persons_quarantined`` count above 0) has those members'
    inputs unknown: its person-based dimensions are what the other members settle (a
    deprived member makes the household deprived) and unknown otherwise, never
    recomputed as if the household were complete. A household with no person rows
    (ONS: 'does not apply', no usual residents) has employment, education and health
    missing and housing from its own record.

    Parameters
    ----------
    persons, households
        Contract tables ``persons`` and ``households``.
    qualification_level2
        ``highest_qualification`` codes that count as level 2 or above (default
        :data:`DEFAULT_LEVEL2_CODES`), validated against the contract code list.

    Returns
    -------
    DataFrame, one row per household in ``households`` order: ``household_id``,
    ``census_year``, ``employment``, ``education``, ``health``, ``housing`` (nullable
    boolean), ``n_domains`` (Int64, 0-4 or NA) and ``n_persons`` (int64).
    """
    level2 = _check_level2_codes(qualification_level2)
    _require_columns(persons, "persons", _PERSON_COLUMNS)
    _require_columns(households, "households", _HOUSEHOLD_COLUMNS)

    hh_ids = households["household_id"]
    dup = hh_ids.duplicated(keep=False)
    if dup.any():
        raise DomainInputError(
            f"table households, column household_id: {int(dup.sum())} rows share an "
            f"identifier, e.g. {_examples(households, dup, 'household_id', 'census_year')}. "
            "Each household must appear once; remove or re-key the duplicates."
        )
    years = pd.to_numeric(households["census_year"], errors="coerce")
    bad_year = ~years.isin(list(RULES))
    if bad_year.any():
        raise DomainInputError(
            f"table households, column census_year: {int(bad_year.sum())} value(s) are not "
            f"a supported census ({', '.join(map(str, RULES))}), e.g. "
            f"{_examples(households, bad_year, 'household_id', 'census_year')}. "
            "Set census_year to the census the record comes from."
        )
    hh_year = years.to_numpy(dtype="int64")

    idx = positions(persons["household_id"], hh_ids)
    orphan = idx < 0
    if orphan.any():
        raise DomainInputError(
            f"table persons, column household_id: {int(orphan.sum())} person(s) belong to "
            f"no household in the households table, e.g. "
            f"{_examples(persons, orphan, 'person_id', 'household_id')}. Add the missing "
            "households or remove these persons (they cannot be given household domains)."
        )
    for col, codes in (
        ("economic_activity", contract.ECONOMIC_ACTIVITY_CODES),
        ("highest_qualification", contract.QUALIFICATION_CODES),
        ("disability", contract.DISABILITY_CODES),
    ):
        _check_codes(persons, "persons", col, codes, "person_id")
    health_val = _as_float(persons, "persons", "general_health", "person_id")
    bad_health_code = ~np.isnan(health_val) & ~np.isin(health_val, [1, 2, 3, 4, 5])
    if bad_health_code.any():
        raise DomainInputError(
            f"table persons, column general_health: {int(bad_health_code.sum())} value(s) "
            f"outside 1-5, e.g. {_examples(persons, bad_health_code, 'person_id', 'general_health')}. "
            "Use 1 very good, 2 good, 3 fair, 4 bad, 5 very bad (empty when unknown)."
        )
    age = _as_float(persons, "persons", "age", "person_id")
    student = _as_boolean(persons, "persons", "full_time_student", "person_id")

    n_hh = len(households)
    n_persons = np.bincount(idx, minlength=n_hh)
    p_year = hh_year[idx]

    ea = persons["economic_activity"]
    qual = persons["highest_qualification"]
    dis = persons["disability"]

    emp_flag = np.zeros(len(persons), dtype=bool)
    level2_flag = qual.isin(list(level2)).to_numpy()
    bad_health = np.zeros(len(persons), dtype=bool)
    disabled = np.zeros(len(persons), dtype=bool)
    in_student_age = np.zeros(len(persons), dtype=bool)
    for year in np.unique(p_year):
        r = RULES[int(year)]
        sel = p_year == year
        emp_flag[sel] = ea[sel].isin(list(r.employment_codes)).to_numpy()
        bad_health[sel] = np.isin(health_val[sel], r.bad_health_values)
        disabled[sel] = dis[sel].isin(list(r.disabled_codes)).to_numpy()
        lo, hi = r.student_age_range
        in_student_age[sel] = (age[sel] >= lo) & (age[sel] <= hi)

    # employment: (economic activity in the rule) AND NOT full-time student
    ea_rule = pd.arrays.BooleanArray(emp_flag, ea.isna().to_numpy())
    person_emp = ea_rule & ~student

    # education protection: has level 2+ OR (aged 16-18 AND full-time student)
    has_level2 = pd.arrays.BooleanArray(level2_flag, qual.isna().to_numpy())
    student_age = pd.arrays.BooleanArray(in_student_age, np.isnan(age))
    person_protect = has_level2 | (student_age & student)

    # health: general health bad/very bad OR disabled
    health_rule = pd.arrays.BooleanArray(bad_health, np.isnan(health_val))
    disabled_rule = pd.arrays.BooleanArray(disabled, dis.isna().to_numpy())
    person_health = health_rule | disabled_rule

    employment = _household_any(idx, person_emp, n_hh, n_persons)
    protected = _household_any(idx, person_protect, n_hh, n_persons)
    education = ~protected
    health = _household_any(idx, person_health, n_hh, n_persons)

    # a member quarantined by validation is a member whose every input is unknown: the
    # dimensions stay what the other members settle, and are unknown otherwise
    if QUARANTINED_PERSONS in households:
        gone = pd.to_numeric(households[QUARANTINED_PERSONS], errors="coerce").fillna(0) > 0
        unknown = pd.arrays.BooleanArray(np.zeros(n_hh, dtype=bool), gone.to_numpy())
        employment = employment | unknown
        education = ~(protected | unknown)
        health = health | unknown

    # housing, from the household record
    occ = _as_float(households, "households", "occupancy_rating_rooms", "household_id")
    limit = np.zeros(n_hh)
    for year in np.unique(hh_year):
        limit[hh_year == year] = RULES[int(year)].overcrowded_at_or_below
    overcrowded = pd.arrays.BooleanArray(np.nan_to_num(occ, nan=0.0) <= limit, np.isnan(occ))
    shared = _as_boolean(households, "households", "shared_dwelling", "household_id")
    heating = _as_boolean(households, "households", "central_heating", "household_id")
    housing = overcrowded | shared | ~heating

    out = pd.DataFrame(
        {
            "household_id": hh_ids.to_numpy(),
            "census_year": hh_year,
            "employment": employment,
            "education": education,
            "health": health,
            "housing": housing,
        }
    )
    out["n_domains"] = count_domains(out)
    out["n_persons"] = n_persons.astype("int64")
    return out


def count_domains(domains: pd.DataFrame) -> pd.Series:
    """Number of deprived domains (0-4), ``pd.NA`` when any of the four is missing.

    Missing is not 'not deprived' (methods.md section 6): a household missing one domain
    has no known count, so it is not counted as having fewer domains.
    """
    total = np.zeros(len(domains), dtype=np.int64)
    missing = np.zeros(len(domains), dtype=bool)
    for d in DOMAINS:
        col = pd.array(domains[d], dtype="boolean")
        total += col.to_numpy(dtype=np.int64, na_value=0)
        missing |= np.asarray(col.isna())
    return pd.Series(pd.arrays.IntegerArray(total, missing), index=domains.index, name="n_domains")


def missing_domains_summary(household_domains: pd.DataFrame) -> pd.DataFrame:
    """How many households have each domain missing, by census year and overall.

    Returns one row per census year plus an ``all`` row with: ``households_n``,
    ``no_persons_n`` (households with no person rows), ``<domain>_missing_n`` for each
    domain and ``n_domains_missing_n`` (households whose domain count is unknown).
    """
    df = household_domains
    parts = {
        "households_n": pd.Series(1, index=df.index),
        "no_persons_n": (df["n_persons"] == 0).astype("int64") if "n_persons" in df else 0,
    }
    for d in DOMAINS:
        parts[f"{d}_missing_n"] = df[d].isna().astype("int64")
    parts["n_domains_missing_n"] = df["n_domains"].isna().astype("int64")
    counts = pd.DataFrame(parts)
    by_year = counts.groupby(df["census_year"].astype(str)).sum()
    total = counts.sum().to_frame("all").T
    out = pd.concat([by_year, total])
    out.index.name = "census_year"
    return out.reset_index()


def child_domains(persons: pd.DataFrame, household_domains: pd.DataFrame) -> pd.DataFrame:
    """Give every person (typically the children) their household's domains.

    Children inherit the dimensions of the household they live in (the ONS dimensions
    are household characteristics). Returns one row per row of ``persons``, in order,
    with ``person_id``, ``household_id``, the four domains, ``n_domains`` and
    ``census_year``; a person whose household has no row in ``household_domains`` gets
    missing domains (never 'not deprived').
    """
    _require_columns(persons, "persons", ("person_id", "household_id"))
    _require_columns(
        household_domains,
        "household_domains",
        ("household_id", *DOMAINS, "n_domains", "census_year"),
    )
    cols = ["household_id", *DOMAINS, "n_domains", "census_year"]
    hd = household_domains[cols]
    dup = hd["household_id"].duplicated()
    if dup.any():
        raise DomainInputError(
            "table household_domains, column household_id: duplicated households, e.g. "
            f"{_examples(hd, dup, 'household_id', 'census_year')}. Derive the domains once "
            "per household."
        )
    out = persons[["person_id", "household_id"]].merge(
        hd, on="household_id", how="left", validate="many_to_one"
    )
    for d in DOMAINS:
        out[d] = out[d].astype("boolean")
    out["n_domains"] = out["n_domains"].astype("Int64")
    out["census_year"] = out["census_year"].astype("Int64")
    return out
