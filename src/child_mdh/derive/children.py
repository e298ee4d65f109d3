"""The children table: one row per child of the analysis, from either cohort.

The contract route (:func:`derive_children`): ONS household domains
(:mod:`child_mdh.derive.domains`), FSM measures at the reference date
(:mod:`child_mdh.derive.fsm`), the census cohort and its linkage report
(:mod:`child_mdh.derive.population`) and social care outcomes in the follow-up window
(:mod:`child_mdh.derive.outcomes`). The local-authority route
(:func:`derive_children_from_la_import`): the pupil cohort of
:mod:`child_mdh.derive.la_cohort`. Both give the table declared in
:mod:`child_mdh.contract.children`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd
import pyarrow as pa

from child_mdh.contract.children import conform_children
from child_mdh.contract.tables import CENSUS_DAY
from child_mdh.contract.vocabulary import DOMAINS
from child_mdh.derive.domains import (
    DEFAULT_LEVEL2_CODES,
    household_deprivation,
    missing_domains_summary,
)
from child_mdh.derive.fsm import fsm_measures
from child_mdh.derive.la_cohort import derive_children_la, local_domain_paths
from child_mdh.derive.outcomes import build_outcomes
from child_mdh.derive.population import build_children, linkage_report
from child_mdh.derive.social_care import SOCIAL_CARE_DATES, latest_social_care_date
from child_mdh.errors import UserError
from child_mdh.validation.folder import read_validated_table


class DeriveInputError(UserError):
    """The validated tables cannot define one analysis; the message says how to fix it."""


#: the only columns of the school census the derivation uses (its FSM measures): its
#: other columns (school, local authority) are not read
FSM_COLUMNS = {"pupil_census": ("pupil_id", "census_date", "fsm_eligible")}


#: the persons' columns the cohort is built from (after the household domains)
COHORT_PERSON_COLUMNS = ("person_id", "household_id", "age", "sex", "ethnic_group")


def _release_unused() -> None:
    """Give the memory of freed Arrow buffers back to the system now rather than later."""
    pa.default_memory_pool().release_unused()


def census_year_of(households: pd.DataFrame) -> int:
    """The one census year of the households (a run analyses one census)."""
    years = sorted(households["census_year"].dropna().unique().tolist())
    if len(years) != 1:
        raise DeriveInputError(
            f"households: census_year holds {years}; one run analyses one census. Split the "
            "input folder by census year and run the workflow once per year."
        )
    return int(years[0])


def derive_children(
    contract_dir: Path,
    *,
    reference_date=None,
    qualification_level2=None,
    min_age: int = 5,
    max_age: int = 15,
    unlinked: str = "exclude",
    fsm_measure: str = "fsm_at_reference",
    follow_up_years: float = 5,
    prior_contact: str = "adjust",
    extract_date=None,
    end_age: int | None = None,
):
    """Build the children table from validated tables; returns (children, household
    domains, linkage report, run report). ``end_age``: the follow-up also ends at the
    child's ``end_age``-th birthday (18: children's social care ends at 18), see
    :func:`child_mdh.derive.outcomes.build_outcomes`."""
    t = {
        name: read_validated_table(contract_dir, name, columns=FSM_COLUMNS.get(name))
        for name in (
            "areas",
            "households",
            "persons",
            "pupil_census",
            "census_npd_link",
            *SOCIAL_CARE_DATES,
        )
    }
    census_year = census_year_of(t["households"])
    reference = (
        pd.Timestamp(reference_date) if reference_date else pd.Timestamp(CENSUS_DAY[census_year])
    )
    household_domains = household_deprivation(
        t["persons"],
        t["households"],
        qualification_level2=tuple(qualification_level2 or DEFAULT_LEVEL2_CODES),
    )
    # the persons' columns behind the domains are done with: keep those of the cohort
    persons = t["persons"]
    t["persons"] = persons[[c for c in COHORT_PERSON_COLUMNS if c in persons.columns]]
    del persons
    _release_unused()
    # each large table is let go as soon as its last use is done, so that the peak of
    # the joins below does not hold the school census (the largest table) as well
    fsm = fsm_measures(t.pop("pupil_census"), reference)
    _release_unused()
    children, linkage = build_children(
        t["persons"],
        t["households"],
        t["census_npd_link"],
        fsm,
        household_domains,
        reference,
        census_year,
        min_age=min_age,
        max_age=max_age,
        unlinked=unlinked,
        fsm_measure=fsm_measure,
    )
    del fsm
    for name in ("persons", "households", "census_npd_link"):
        del t[name]
    _release_unused()
    population_report = dict(children.attrs)
    extract = pd.Timestamp(extract_date) if extract_date else latest_social_care_date(t)
    children = build_outcomes(
        children,
        t["cin_referrals"],
        t["child_protection_plans"],
        t["looked_after_episodes"],
        reference,
        follow_up_years=follow_up_years,
        prior_contact=prior_contact,
        extract_date=extract,
        end_age=end_age,
    )
    outcome_report = children.attrs.get("report", {})
    areas = t["areas"][["la_code", "la_name", "region_code", "region_name"]]
    children = children.merge(areas, on="la_code", how="left", validate="many_to_one")
    children.attrs = {}
    children = conform_children(children, "census")
    report = {
        "census_year": census_year,
        "reference_date": reference.date().isoformat(),
        "extract_date": None if extract is None else pd.Timestamp(extract).date().isoformat(),
        "children_n": len(children),
        "population": population_report,
        "household_domains_missing": missing_domains_summary(household_domains).to_dict("records"),
        "outcomes": outcome_report,
    }
    return children, household_domains, linkage, report


def derive_children_from_la_import(
    contract_dir: Path, la_import: Mapping, population: Mapping, outcomes: Mapping
):
    """The local-authority route's children table
    (:func:`child_mdh.derive.la_cohort.derive_children_la`) with the same companions as
    :func:`derive_children`; the arguments are the workflow's ``la_import``,
    ``population`` and ``outcomes`` configuration blocks."""
    la = la_import
    if not population["reference_date"]:
        raise DeriveInputError(
            "population.reference_date is empty: with input.source la_returns there is no "
            "census to take it from. Set it (YYYY-MM-DD), e.g. the census day 2021-03-21."
        )
    import_dir = Path(la["out_dir"])
    children, report = derive_children_la(
        contract_dir,
        reference_date=population["reference_date"],
        characteristics_path=import_dir / "pupil_characteristics.parquet",
        min_age=population["min_age"],
        max_age=population["max_age"],
        fsm_measure=population["fsm_measure"],
        follow_up_years=outcomes["follow_up_years"],
        prior_contact=outcomes["prior_contact"],
        extract_date=outcomes["extract_date"],
        end_age=outcomes.get("end_age"),
        outcomes_scope=la["outcomes_scope"],
        **local_domain_paths(import_dir, la["domains"]),
    )
    household_domains = children[["household_id", *DOMAINS, "n_domains"]].drop_duplicates(
        "household_id"
    )
    return children, household_domains, linkage_report(children), report
