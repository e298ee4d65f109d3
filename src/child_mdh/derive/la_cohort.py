"""The local-authority cohort: the children table from an authority's own returns.

:func:`derive_children_la` gives the same children table as the contract route
(:func:`child_mdh.derive.children.derive_children`: same columns, in the same order, with
the same types), from the tables a local-authority import writes (validated with
``unmatched_pupils="keep"``), its ``pupil_characteristics.parquet`` (dates of birth and
sex) and one local domain file.

Cohort
    Pupils on the roll of the authority's latest school census on or before the
    reference date and less than a year before it (the census the FSM measure
    ``fsm_at_reference`` reads), aged ``min_age`` to ``max_age`` in completed years on the
    reference date (age from the date of birth; 29 February birthdays fall on 1 March in
    other years, as in England and Wales law). Pupils without a date of birth cannot be
    placed and are counted, not kept.

How it differs from the census cohort of the contract route (which is: children aged
``min_age``-``max_age`` on census day living in census households, with ``unlinked``
children excluded by default):

1. *Where children are counted.* The census cohort counts children living in an area;
   this cohort counts pupils of the authority's schools. Residents who go to school in
   another area, or to an independent school, or are home educated, are not in it;
   pupils who live in another area are (the ``la_code`` of every child is the importing
   authority).
2. *Linkage.* There is no census-to-pupil linkage to fail: every pupil is in, with FSM
   known. The census cohort leaves out pupils whose census record was not linked.
3. *Domains.* Route (a): the authority's household flags, joined by UPN; a pupil not in
   the flags file (for example one living in another area) has the four domains and
   ``n_domains`` missing, so the index leaves the pupil out and counts them. Route (b)
   gives no household flags: the domains are missing for everyone, and the area-level
   shares (``area_share_deprived_ge1`` ... ``_ge4``, ``area_mean_dimensions``,
   ``area_matched``) are added, with :data:`AREA_LEVEL_CAVEAT`; the household-level index
   cannot be computed from them.
4. *FSM history.* ``fsm_at_reference`` is read from the same census. ``ever_fsm_6``,
   ``ever_fsm_all`` and ``fsm_share`` only see the censuses of the authority's schools, so a pupil who moved
   between areas' schools may have fewer censuses than in the National Pupil Database.
5. *Outcomes.* An authority's returns only hold the children it is responsible for.
   With ``outcomes_scope="residents"`` (default) outcomes are counted only for the
   children listed in the local domain file (the authority's residents); the others
   have ``linked`` false and every outcome missing, as their social care records (if
   any) are another authority's. With ``"all_pupils"`` every pupil's outcomes are read
   from the authority's returns (a pupil living elsewhere then shows no contact).
6. *No census year.* ``census_year`` is empty, ``ethnic_group`` is empty (the school
   census extract does not carry it), ``lsoa_code`` is empty in route (a),
   ``person_id`` is the pupil id and ``household_id`` is the pseudonymised household
   reference of the flags file. A pupil not in the flags file (and every pupil in route
   b) gets ``not-listed-<pupil_id>``: a household of their own, so that standard errors
   clustered by household treat them as one cluster each.

The extract date defaults to the latest date in the authority's social care tables,
which is earlier than the true end of the data whenever nothing happened on the last
days: give ``extract_date`` (the date the returns were extracted) so the follow-up is
not cut short.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from child_mdh.contract import tables as contract
from child_mdh.contract.children import conform_children
from child_mdh.contract.columns import require_columns
from child_mdh.contract.vocabulary import DOMAINS, FSM_MEASURES
from child_mdh.derive.fsm import fsm_measures
from child_mdh.derive.outcomes import as_reference_date, build_outcomes
from child_mdh.derive.social_care import latest_social_care_date
from child_mdh.sources.la_returns.errors import LAReturnError
from child_mdh.sources.la_returns.importer import CHARACTERISTICS, CHARACTERISTICS_COLUMNS
from child_mdh.sources.la_returns.local_domains import AREA_LEVEL_CAVEAT
from child_mdh.validation.folder import read_validated_table

OUTCOME_SCOPES = ("residents", "all_pupils")
#: Household id prefix of pupils without a household in the local domain file.
UNLISTED_HOUSEHOLD = "not-listed-"
SOCIAL_CARE_TABLES = ("cin_referrals", "child_protection_plans", "looked_after_episodes")
#: Columns of the children table, in the contract route's order (outcomes inserted by
#: :func:`child_mdh.derive.outcomes.build_outcomes`, area names appended).
LEAD_COLUMNS = (
    "person_id",
    "household_id",
    "la_code",
    "lsoa_code",
    "census_year",
    "age",
    "sex",
    "ethnic_group",
    "pupil_id",
    "linked",
    *DOMAINS,
    "n_domains",
    "fsm",
    "fsm_share",
)
AREA_COLUMNS = (
    "area_share_deprived_ge1",
    "area_share_deprived_ge2",
    "area_share_deprived_ge3",
    "area_share_deprived_ge4",
    "area_mean_dimensions",
    "area_matched",
)


class LACohortError(LAReturnError):
    """The local-authority tables cannot give a cohort; the message says how to fix it."""


def _examples(values: pd.Series, n: int = 5) -> str:
    return ", ".join(map(str, values.head(n).tolist()))


def age_on(date_of_birth: pd.Series, day: pd.Timestamp) -> pd.Series:
    """Completed years of age on ``day`` (Int64; missing where the date of birth is).

    One year is completed on each birthday; a child born on 29 February completes it on
    1 March in years without 29 February (England and Wales).
    """
    dob = pd.to_datetime(date_of_birth)
    before = (day.month < dob.dt.month) | ((day.month == dob.dt.month) & (day.day < dob.dt.day))
    return (day.year - dob.dt.year - before.astype("Int64")).astype("Int64")


def latest_census(pupil_census: pd.DataFrame, reference: pd.Timestamp) -> pd.Timestamp:
    """The latest school census day in ``(reference - 1 year, reference]``."""
    days = pd.to_datetime(pupil_census["census_date"]).drop_duplicates()
    start = reference - pd.DateOffset(years=1)
    usable = days[(days > start) & (days <= reference)]
    if usable.empty:
        shown = ", ".join(d.date().isoformat() for d in days.sort_values().tail(8))
        raise LACohortError(
            f"table pupil_census: no school census in the year up to the reference date "
            f"{reference.date()} (after {start.date()}); the censuses are: "
            f"{shown or 'none'}. Set population.reference_date to a date at most a year "
            "after a census in the import, or import the school census of that year."
        )
    return pd.Timestamp(usable.max())


def read_characteristics(path: Path) -> pd.DataFrame:
    """Read ``pupil_characteristics.parquet`` (pupil_id, date_of_birth, sex), checked."""
    path = Path(path)
    if not path.is_file():
        raise LACohortError(
            f"{path}: no {CHARACTERISTICS}.parquet. It is written by the local-authority "
            "import (child-mdh import-la) beside the contract tables; import the returns "
            "again with this version, or give characteristics_path."
        )
    df = pd.read_parquet(path)
    require_columns(
        df,
        f"{CHARACTERISTICS} ({path})",
        CHARACTERISTICS_COLUMNS[:3],
        LACohortError,
        "Import the returns again.",
    )
    dup = df["pupil_id"].duplicated(keep=False) & df["pupil_id"].notna()
    if dup.any():
        raise LACohortError(
            f"table {CHARACTERISTICS}, column pupil_id: {int(dup.sum())} rows repeat a "
            f"pupil, e.g. {_examples(df.loc[dup, 'pupil_id'])}. Each child has one row; "
            "import the returns again."
        )
    out = df[["pupil_id", "date_of_birth", "sex"]].copy()
    out["pupil_id"] = out["pupil_id"].astype("str")
    out["date_of_birth"] = pd.to_datetime(out["date_of_birth"]).astype("datetime64[ns]")
    out["sex"] = out["sex"].astype("str").where(out["sex"].isin(contract.SEX_CODES))
    return out


def _read_domains(child_domains_path, area_domains_path) -> tuple[pd.DataFrame, str]:
    """The local domain file (route a or b), one row per pupil."""
    if (child_domains_path is None) == (area_domains_path is None):
        raise LACohortError(
            "give exactly one local domain file: child_domains_path (route a, household "
            "flags: child_domains.parquet) or area_domains_path (route b, area-level "
            "shares: child_area_domains.parquet), both written by the import."
        )
    path = Path(child_domains_path if child_domains_path is not None else area_domains_path)
    route = "household" if child_domains_path is not None else "area"
    if not path.is_file():
        raise LACohortError(
            f"{path}: no such file. The import writes child_domains.parquet when "
            "sources['household_domains'] is given (route a) and child_area_domains.parquet "
            "when sources['child_lsoa'] and sources['lsoa_counts'] are (route b)."
        )
    df = pd.read_parquet(path)
    need = (
        ("pupil_id", "household_id", *DOMAINS)
        if route == "household"
        else ("pupil_id", "lsoa_code", *AREA_COLUMNS)
    )
    require_columns(df, str(path), need, LACohortError, "Use the file the import wrote.")
    dup = df["pupil_id"].duplicated(keep=False) & df["pupil_id"].notna()
    if dup.any():
        raise LACohortError(
            f"{path}, column pupil_id: {int(dup.sum())} rows repeat a pupil, e.g. "
            f"{_examples(df.loc[dup, 'pupil_id'])}. A child belongs to one household; "
            "fix the local domain file and import again."
        )
    return df[list(need)].copy(), route


def local_domain_paths(import_dir: Path, domains: str = "household_flags") -> dict:
    """The domain-file argument of :func:`derive_children_la` for an import folder.

    ``domains``: ``household_flags`` (route a: ``child_domains.parquet``) or
    ``area_level`` (route b: ``child_area_domains.parquet``), as the ``la_import.domains``
    setting. Returns ``{"child_domains_path": ...}`` or ``{"area_domains_path": ...}``.
    """
    import_dir = Path(import_dir)
    if domains == "household_flags":
        return {"child_domains_path": import_dir / "child_domains.parquet"}
    if domains == "area_level":
        return {"area_domains_path": import_dir / "child_area_domains.parquet"}
    raise LACohortError(f"domains={domains!r}: choose household_flags or area_level.")


def derive_children_la(
    contract_dir: Path,
    *,
    reference_date,
    child_domains_path=None,
    area_domains_path=None,
    characteristics_path=None,
    min_age: int = 5,
    max_age: int = 15,
    fsm_measure: str = "fsm_at_reference",
    follow_up_years: float = 5,
    prior_contact: str = "adjust",
    extract_date=None,
    outcomes_scope: str = "residents",
    end_age: int | None = None,
):
    """The children table of a local authority from its imported, validated returns.

    ``contract_dir``: the tables of the import validated with
    ``validate_folder(..., tables=LA_ROUTE_TABLES, unmatched_pupils="keep")``.
    ``child_domains_path`` (route a) or ``area_domains_path`` (route b): the import's local
    domain file. ``characteristics_path``: the import's ``pupil_characteristics.parquet``
    (default: beside the domain file). ``reference_date`` (required: an authority has no
    census day), ``min_age``, ``max_age``, ``fsm_measure``, ``follow_up_years``,
    ``prior_contact``, ``extract_date`` and ``end_age`` mean what they mean in the contract
    route;
    ``outcomes_scope``: ``residents`` or ``all_pupils`` (module docstring, point 5).

    Method: cohort and differences from the census cohort in the module docstring; FSM
    from :func:`child_mdh.derive.fsm.fsm_measures` (NPD FSMeligible / EVERFSM_6 windows) and
    outcomes from :func:`child_mdh.derive.outcomes.build_outcomes`, as in the contract route.

    Returns ``(children, report)``: the children table (columns of the contract route's,
    in its order; route b adds the area-level columns) and a JSON-able report counting
    every pupil left out and why.
    """
    if reference_date is None or reference_date == "":
        raise LACohortError(
            "the local-authority route needs a reference date (population.reference_date, "
            "YYYY-MM-DD): there is no census day to default to. Use the date the ages, FSM "
            "and follow-up should refer to, e.g. the census day 2021-03-21."
        )
    if fsm_measure not in FSM_MEASURES:
        raise LACohortError(
            f"fsm_measure={fsm_measure!r}: choose one of {', '.join(FSM_MEASURES)}."
        )
    if outcomes_scope not in OUTCOME_SCOPES:
        raise LACohortError(
            f"outcomes_scope={outcomes_scope!r}: choose one of {', '.join(OUTCOME_SCOPES)}."
        )
    if not 0 <= min_age <= max_age:
        raise LACohortError(
            f"ages {min_age}-{max_age}: min_age must be at least 0 and at most max_age."
        )
    ref = as_reference_date(reference_date)
    domains, route = _read_domains(child_domains_path, area_domains_path)
    if characteristics_path is None:
        characteristics_path = Path(child_domains_path or area_domains_path).with_name(
            f"{CHARACTERISTICS}.parquet"
        )
    chars = read_characteristics(characteristics_path)
    t = {
        name: read_validated_table(contract_dir, name)
        for name in ("areas", "pupil_census", *SOCIAL_CARE_TABLES)
    }
    pc = t["pupil_census"]
    if pc.empty:
        raise LACohortError(
            "table pupil_census has no rows: the cohort is the pupils on the "
            "school roll, so import the school census."
        )

    census = latest_census(pc, ref)
    on_roll = pc[pd.to_datetime(pc["census_date"]) == census][["pupil_id", "la_code"]]
    kids = on_roll.merge(chars, on="pupil_id", how="left", validate="one_to_one")
    kids["age"] = age_on(kids["date_of_birth"], ref)
    no_dob = kids["age"].isna()
    in_age = ~no_dob & (kids["age"] >= min_age) & (kids["age"] <= max_age)
    counts = {
        "pupils_on_roll_n": len(kids),
        "no_date_of_birth_n": int(no_dob.sum()),
        "outside_ages_n": int((~no_dob & ~in_age).sum()),
    }
    kids = kids[in_age.to_numpy()].reset_index(drop=True)
    kids["age"] = kids["age"].astype("int64")

    listed = kids["pupil_id"].isin(domains["pupil_id"]).to_numpy()
    kids = kids.merge(domains, on="pupil_id", how="left", validate="one_to_one")
    if route == "household":
        for d in DOMAINS:
            kids[d] = kids[d].astype("boolean")
        block = kids[list(DOMAINS)]
        kids["n_domains"] = (
            block.astype("Int64").sum(axis=1).astype("Int64").mask(block.isna().any(axis=1))
        )
        kids["lsoa_code"] = pd.Series(None, index=kids.index, dtype="str")
    else:
        for d in DOMAINS:
            kids[d] = pd.array([pd.NA] * len(kids), dtype="boolean")
        kids["n_domains"] = pd.array([pd.NA] * len(kids), dtype="Int64")
        kids["household_id"] = pd.Series(None, index=kids.index, dtype="str")
        kids["area_matched"] = kids["area_matched"].astype("boolean").fillna(False).astype(bool)

    fsm = fsm_measures(pc, ref)
    f = fsm[["pupil_id", fsm_measure, "fsm_share"]].rename(columns={fsm_measure: "fsm"})
    kids = kids.merge(f, on="pupil_id", how="left", validate="one_to_one")
    kids["fsm"] = kids["fsm"].astype("boolean")
    kids["person_id"] = kids["pupil_id"]
    kids["census_year"] = pd.array([pd.NA] * len(kids), dtype="Int64")
    kids["ethnic_group"] = pd.Series(None, index=kids.index, dtype="str")
    kids["linked"] = True
    kids["household_id"] = (
        kids["household_id"].astype("str").fillna(UNLISTED_HOUSEHOLD + kids["pupil_id"])
    )
    extra = list(AREA_COLUMNS) if route == "area" else []
    kids = kids[list(LEAD_COLUMNS) + extra]

    extract = as_reference_date(extract_date) if extract_date else _latest_date(t)
    scoped = (
        kids
        if outcomes_scope == "all_pupils"
        else kids.assign(pupil_id=kids["pupil_id"].where(listed))
    )
    out = build_outcomes(
        scoped,
        t["cin_referrals"],
        t["child_protection_plans"],
        t["looked_after_episodes"],
        ref,
        follow_up_years=follow_up_years,
        prior_contact=prior_contact,
        extract_date=extract,
        end_age=end_age,
    )
    outcome_report = out.attrs.get("report", {})
    out.attrs = {}
    out["pupil_id"] = out["person_id"]
    areas = t["areas"][["la_code", "la_name", "region_code", "region_name"]]
    out = out.merge(areas, on="la_code", how="left", validate="many_to_one")
    if extra:
        out = out[[c for c in out.columns if c not in extra] + extra]
    out = conform_children(out, "local-authority")

    report = {
        "route": "la_returns",
        "domains": "household flags (route a)"
        if route == "household"
        else "area-level shares (route b)",
        "reference_date": ref.date().isoformat(),
        "school_census": census.date().isoformat(),
        "extract_date": None if extract is None else extract.date().isoformat(),
        "extract_date_given": bool(extract_date),
        "min_age": int(min_age),
        "max_age": int(max_age),
        "fsm_measure": fsm_measure,
        "outcomes_scope": outcomes_scope,
        "cohort": {
            **counts,
            "children_n": len(out),
            "in_domain_file_n": int(listed.sum()),
            "not_in_domain_file_n": int((~listed).sum()),
            "domains_missing_n": int(out["n_domains"].isna().sum()),
            "fsm_missing_n": int(out["fsm"].isna().sum()),
            "outcomes_missing_n": int((~out["linked"]).sum()),
        },
        "outcomes": outcome_report,
        "caveats": [AREA_LEVEL_CAVEAT] if route == "area" else [],
    }
    if not extract_date:
        report["caveats"].append(
            "extract date not given: the follow-up ends at the latest date in the "
            "authority's social care tables; give outcomes.extract_date (the date the "
            "returns were extracted) if that is earlier than the end of the data."
        )
    return out.reset_index(drop=True), report


def _latest_date(t: dict) -> pd.Timestamp | None:

    d = latest_social_care_date(t)
    return None if d is None else pd.Timestamp(d).normalize()


__all__ = [
    "OUTCOME_SCOPES",
    "LACohortError",
    "age_on",
    "derive_children_la",
    "latest_census",
    "local_domain_paths",
    "read_characteristics",
]
