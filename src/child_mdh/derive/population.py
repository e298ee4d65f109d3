"""The analysis cohort: school-age children in census households, with their household's
deprivation domains, their linkage to the National Pupil Database and their FSM measure.

Scope: usual residents aged ``min_age`` to ``max_age`` on census day (default 4-15, the
compulsory school ages) in households of the chosen census. Each child inherits the ONS
domains of their household (:mod:`child_mdh.derive.domains`) and, when linked to a pupil record,
the configured FSM measure at the reference date (:mod:`child_mdh.derive.fsm`).

Children who are not linked to a pupil record (privately educated, home educated, or
not matched) have no FSM information. Two rules are offered:

- ``unlinked="exclude"`` (default): they leave the cohort. This is a selection: children
  at independent schools (mostly from better-off families, and not in the school
  census) and children whose records failed to match (more often mobile, recently
  arrived or in complex households) drop out, so the cohort's deprivation rates are
  those of linked, state-educated children, not of all children.
- ``unlinked="fsm_missing"``: they stay, with ``fsm`` missing. Measures that use FSM
  (the five-indicator Child-MDH index) then exclude them, by the index's rule that a
  child with any missing indicator is left out and counted; measures that do not use
  FSM (the four census domains) include them. FSM is never imputed as 'not eligible'
  and weights are not re-normalised (re-normalising would score these children on a
  different index).

In both cases missing stays distinct from 'not deprived' and is counted in the linkage
report.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from child_mdh.contract.columns import require_columns
from child_mdh.contract.vocabulary import DOMAINS, ENGLAND_CODE, FSM_MEASURES
from child_mdh.errors import UserError

UNLINKED_RULES = ("exclude", "fsm_missing")


class PopulationInputError(UserError):
    """Inputs to the cohort cannot be combined as given; the message says how to fix it."""


def _require(df: pd.DataFrame, table: str, columns) -> None:
    require_columns(
        df,
        table,
        columns,
        PopulationInputError,
        f"Produce {table} with the contract or module columns before building the cohort.",
    )


def _dup_error(df: pd.DataFrame, table: str, column: str) -> None:
    dup = df[column].notna() & df[column].duplicated(keep=False)
    if dup.any():
        ex = ", ".join(map(str, df.loc[dup, column].head(5)))
        raise PopulationInputError(
            f"table {table}, column {column}: {int(dup.sum())} rows repeat an identifier "
            f"(e.g. {ex}). Each must appear once; resolve the duplicate links or records "
            "first."
        )


def build_children(
    persons: pd.DataFrame,
    households: pd.DataFrame,
    link: pd.DataFrame,
    fsm: pd.DataFrame,
    household_domains: pd.DataFrame,
    reference_date,
    census_year: int,
    min_age: int = 4,
    max_age: int = 15,
    unlinked: str = "exclude",
    fsm_measure: str = "fsm_at_reference",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Build the children table and the linkage report.

    Parameters
    ----------
    persons, households, link
        Contract tables ``persons``, ``households`` and ``census_npd_link``.
    fsm
        Output of :func:`child_mdh.derive.fsm.fsm_measures` (one row per pupil).
    household_domains
        Output of :func:`child_mdh.derive.domains.household_deprivation`.
    reference_date
        The date the FSM measures refer to; must match ``fsm.attrs["reference_date"]``
        when the FSM table carries it.
    census_year
        Which census's households form the cohort (2011 or 2021).
    min_age, max_age
        Inclusive age range on census day (default 4-15).
    unlinked
        ``"exclude"`` or ``"fsm_missing"`` (module docstring).
    fsm_measure
        Column of ``fsm`` used as the child's FSM indicator: ``fsm_at_reference``
        (default), ``ever_fsm_6`` or ``ever_fsm_all`` (boolean); ``fsm_share`` is carried
        as well.

    Returns
    -------
    children
        One row per child kept: ``person_id``, ``household_id``, ``la_code``,
        ``lsoa_code`` (if present), ``census_year``, ``age``, ``sex``, ``ethnic_group`` (if
        present), ``pupil_id`` (NA when unlinked), ``linked``, the four domains,
        ``n_domains``, ``fsm`` (nullable boolean), ``fsm_share``. Settings are in
        ``children.attrs``.
    linkage_report
        One row per local authority plus England (``la_code`` = E92000001,
        ``area_level`` = 'england'): ``children_n`` in scope, ``linked_n``,
        ``unlinked_n``, ``linked_with_fsm_n``, ``linked_without_fsm_n``,
        ``domains_missing_n``, ``kept_n`` (in the children table under the rule),
        ``share_linked``.
    """
    if unlinked not in UNLINKED_RULES:
        raise PopulationInputError(
            f"unlinked={unlinked!r}: choose one of {', '.join(UNLINKED_RULES)}."
        )
    if not (0 <= min_age <= max_age):
        raise PopulationInputError(
            f"ages {min_age}-{max_age}: min_age must be at least 0 and at most max_age."
        )
    _require(persons, "persons", ("person_id", "household_id", "age", "sex"))
    _require(households, "households", ("household_id", "census_year", "la_code"))
    _require(link, "census_npd_link", ("person_id", "pupil_id"))
    _require(fsm, "fsm", ("pupil_id", fsm_measure))
    _require(household_domains, "household_domains", ("household_id", *DOMAINS, "n_domains"))
    if fsm_measure not in FSM_MEASURES:
        raise PopulationInputError(
            f"fsm_measure={fsm_measure!r}: choose fsm_at_reference, ever_fsm_6 or "
            "ever_fsm_all (a yes/no measure; fsm_share is carried alongside)."
        )
    ref = pd.Timestamp(reference_date).normalize()
    fsm_ref = fsm.attrs.get("reference_date")
    if fsm_ref is not None and pd.Timestamp(fsm_ref).normalize() != ref:
        raise PopulationInputError(
            f"the FSM table was computed for reference date {fsm_ref}, but the cohort uses "
            f"{ref.date()}. Recompute fsm_measures(pupil_census, {ref.date()})."
        )
    _dup_error(households, "households", "household_id")
    _dup_error(persons, "persons", "person_id")
    _dup_error(link, "census_npd_link", "person_id")
    _dup_error(link, "census_npd_link", "pupil_id")
    _dup_error(fsm, "fsm", "pupil_id")
    _dup_error(household_domains, "household_domains", "household_id")

    known_hh = pd.Index(households["household_id"])
    orphan = known_hh.get_indexer(persons["household_id"]) < 0
    if orphan.any():
        ex = ", ".join(map(str, persons.loc[orphan, "person_id"].head(5)))
        raise PopulationInputError(
            f"table persons, column household_id: {int(orphan.sum())} person(s) belong to no "
            f"household in the households table (e.g. person_id {ex}). Add the households "
            "or drop the persons before building the cohort."
        )

    hh_cols = ["household_id", "la_code"] + (["lsoa_code"] if "lsoa_code" in households else [])
    hh = households.loc[pd.to_numeric(households["census_year"]) == census_year, hh_cols]
    if hh.empty:
        years = ", ".join(map(str, sorted(pd.unique(households["census_year"]))))
        raise PopulationInputError(
            f"no households from census {census_year} (the households table has: {years}). "
            "Set census_year to the census of the input data."
        )
    age = pd.to_numeric(persons["age"], errors="coerce")
    in_age = (age >= min_age) & (age <= max_age)
    p_cols = ["person_id", "household_id", "age", "sex"] + (
        ["ethnic_group"] if "ethnic_group" in persons else []
    )
    kids = persons.loc[in_age.to_numpy(), p_cols].merge(hh, on="household_id", how="inner")

    dom_cols = ["household_id", *DOMAINS, "n_domains"]
    if "census_year" in household_domains:
        other = household_domains["census_year"].notna() & (
            pd.to_numeric(household_domains["census_year"]) != census_year
        )
        # checked only when there are such households: isin on Arrow strings goes
        # through Python objects, 16 of 19 CPU s of this function at 1 million children
        other_ids = pd.Index(household_domains.loc[other, "household_id"])
        if len(other_ids) and other_ids.isin(kids["household_id"]).any():
            raise PopulationInputError(
                f"household_domains has domains derived under another census year for "
                f"households of census {census_year}. Re-derive the domains from the same "
                "households table."
            )
    kids = kids.merge(
        household_domains[dom_cols], on="household_id", how="left", validate="many_to_one"
    )
    for d in DOMAINS:
        kids[d] = kids[d].astype("boolean")
    kids["n_domains"] = kids["n_domains"].astype("Int64")

    kids = kids.merge(
        link[["person_id", "pupil_id"]], on="person_id", how="left", validate="one_to_one"
    )
    kids["linked"] = kids["pupil_id"].notna().to_numpy()
    fsm_cols = ["pupil_id", fsm_measure] + (["fsm_share"] if "fsm_share" in fsm else [])
    f = fsm[fsm_cols].rename(columns={fsm_measure: "fsm"})
    linked_rows = kids["linked"].to_numpy()
    kids = kids.merge(f, on="pupil_id", how="left", validate="many_to_one")
    kids["fsm"] = kids["fsm"].astype("boolean")
    # a child with no link row never takes an FSM value, whatever the pupil table holds
    kids.loc[~linked_rows, "fsm"] = pd.NA
    if "fsm_share" not in kids:
        kids["fsm_share"] = np.nan
    kids["census_year"] = np.int64(census_year)

    order = (
        ["person_id", "household_id", "la_code"]
        + (["lsoa_code"] if "lsoa_code" in kids else [])
        + ["census_year", "age", "sex"]
        + (["ethnic_group"] if "ethnic_group" in kids else [])
        + ["pupil_id", "linked", *DOMAINS, "n_domains", "fsm", "fsm_share"]
    )
    kids = kids[order]

    report = linkage_report(kids)
    children = kids.loc[kids["linked"]] if unlinked == "exclude" else kids
    children = children.reset_index(drop=True)
    kept = children.groupby("la_code", observed=True).size()
    report["kept_n"] = report["la_code"].map(kept).fillna(0).astype("int64")
    report.loc[report["area_level"] == "england", "kept_n"] = len(children)
    children.attrs.update(
        {
            "census_year": int(census_year),
            "reference_date": ref.date().isoformat(),
            "min_age": int(min_age),
            "max_age": int(max_age),
            "unlinked": unlinked,
            "fsm_measure": fsm_measure,
            "children_in_scope_n": len(kids),
            "unlinked_excluded_n": int((~kids["linked"]).sum()) if unlinked == "exclude" else 0,
        }
    )
    return children, report


def linkage_report(children_in_scope: pd.DataFrame) -> pd.DataFrame:
    """Linkage counts by local authority and for England.

    For the children in scope (before the unlinked rule): ``children_n``, ``linked_n``,
    ``unlinked_n``, ``linked_with_fsm_n`` (linked and with a value of the configured FSM
    measure at the reference date), ``linked_without_fsm_n``, ``domains_missing_n`` (household domain count
    unknown) and ``share_linked`` = linked_n / children_n.
    """
    df = children_in_scope
    linked = df["linked"].to_numpy(dtype=bool)
    has_fsm = df["fsm"].notna().to_numpy()
    counts = pd.DataFrame(
        {
            "la_code": df["la_code"].to_numpy(),
            "children_n": 1,
            "linked_n": linked.astype("int64"),
            "unlinked_n": (~linked).astype("int64"),
            "linked_with_fsm_n": (linked & has_fsm).astype("int64"),
            "linked_without_fsm_n": (linked & ~has_fsm).astype("int64"),
            "domains_missing_n": df["n_domains"].isna().to_numpy().astype("int64"),
        }
    )
    by_la = counts.groupby("la_code", sort=True).sum().reset_index()
    by_la.insert(1, "area_level", "local_authority")
    total = counts.drop(columns="la_code").sum().to_frame().T
    total.insert(0, "la_code", ENGLAND_CODE)
    total.insert(1, "area_level", "england")
    out = pd.concat([by_la, total], ignore_index=True)
    for c in out.columns[2:]:
        out[c] = out[c].astype("int64")
    with np.errstate(invalid="ignore", divide="ignore"):
        out["share_linked"] = out["linked_n"] / out["children_n"].where(out["children_n"] > 0)
    return out
