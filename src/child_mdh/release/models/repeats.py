"""Counts of the model tables that are counts of the local profiles, declared as such.

The models are fitted on England's children, and their tables repeat counts that
``profiles/tables/area_statistics.csv`` publishes for England (population ``profile
children``, dimension ``area``): the children modelled and the children with the outcome
(or the referrals); on the MDH term, and in the predicted rates and marginal effects by
MDH, the MDH and other children and their outcomes; on an indicator's term, the children
deprived in it. Each
such cell is declared to be that count (:class:`~child_mdh.release.sdc.spec.CountSum`
with one selected row), so the release-wide audit reads the model tables and the local
profiles together.

A cell is declared only where its exact count, in the secure table, equals the exact
count of the local profiles computed from the same children (:func:`england_counts`):
a model fitted on fewer children (a covariate unknown), the person-periods of the
hazard models or a pooled level count other children and are not declared. The
equation then holds for the true counts, which is all the audit needs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from child_mdh.aggregates.models.prepare import attach_index
from child_mdh.aggregates.profiles.measures import EXPOSURE_COLUMN, OUTCOMES
from child_mdh.contract.vocabulary import ENGLAND_CODE
from child_mdh.release.sdc import CountSum

POPULATION = "profile children"
#: model outcome -> the local profiles' outcome key (its counts are ``<key>_<group>_n``)
OUTCOME_KEYS = {o.column: o.key for o in OUTCOMES} | {"first_referral": "referral"}
MDH_TERM = "mdh[T.True]"


def england_counts(
    children: pd.DataFrame, indicators: Sequence[str], child_index: pd.DataFrame | None = None
) -> dict[str, int]:
    """England's exact counts of the local profiles' children (every indicator, outcome
    and exposure known): children, MDH and other children, deprived and censored
    children per indicator, and per outcome the children with it (events for referrals)
    among all, MDH and other children. Empty when the
    children table lacks a column the profiles need."""
    if child_index is not None and "mdh" not in children.columns:
        children = attach_index(children, child_index)
    need = [*indicators, *(o.column for o in OUTCOMES), EXPOSURE_COLUMN, "mdh"]
    if any(c not in children.columns for c in need):
        return {}
    known = children[need].notna().all(axis=1).to_numpy()
    mdh = children["mdh"].astype("boolean").fillna(False).to_numpy(dtype=bool) & known
    other = known & ~mdh
    out = {"children_n": int(known.sum()), "mdh_n": int(mdh.sum()), "non_mdh_n": int(other.sum())}
    for i in indicators:
        deprived = known & (children[i].astype("float64").fillna(0).to_numpy() == 1)
        out[f"deprived_{i}_n"] = int(deprived.sum())
        out[f"censored_{i}_n"] = int((deprived & mdh).sum())
    for o in OUTCOMES:
        x = children[o.column].astype("float64").fillna(0).to_numpy()
        for group, rows in (("all", known), ("mdh", mdh), ("non_mdh", other)):
            out[f"{o.key}_{group}_n"] = round(float(x[rows].sum()))
    return out


def _pairs(row: Mapping, columns) -> list[tuple[str, str]]:
    """(count column of the row, count of the local profiles it may repeat)."""
    key = OUTCOME_KEYS.get(str(row.get("outcome")))
    if key is None:
        return []
    out: list[tuple[str, str]] = []
    if "term" in columns:
        out += [
            ("children_n", "children_n"),
            ("observations_n", "children_n"),
            ("events_n", f"{key}_all_n"),
        ]
        term = str(row.get("term"))
        if term == MDH_TERM:
            out += [("term_observations_n", "mdh_n"), ("term_events_n", f"{key}_mdh_n")]
        elif term.endswith("[T.True]"):  # an indicator's term: the children deprived in it
            out.append(("term_observations_n", f"deprived_{term[: -len('[T.True]')]}_n"))
    if "variable" in columns and row.get("variable") == "mdh":
        level = str(row.get("level")) == "True"
        group, reference = ("mdh", "non_mdh") if level else ("non_mdh", "mdh")
        out += [("children_n", f"{group}_n"), ("events_n", f"{key}_{group}_n")]
        out += [
            ("reference_children_n", f"{reference}_n"),
            ("reference_events_n", f"{key}_{reference}_n"),
        ]
    if "term" not in columns and "variable" not in columns:  # one row per model
        out += [("children_n", "children_n"), ("events_n", f"{key}_all_n")]
    return [(part, total) for part, total in out if part in columns]


def _repeated_cells(table: pd.DataFrame, key_columns: Sequence[str], exact: Mapping[str, int]):
    """(row position, model column, local profiles' count, row selection) of each cell of
    ``table`` whose exact count is England's count ``exact[...]`` of the local profiles;
    rows their key columns do not single out are left out."""
    if not exact or table.empty:
        return
    keys = list(key_columns)
    ids = table[keys].astype("str")
    unique = ~ids.duplicated(keep=False)
    for i, row in enumerate(table.to_dict("records")):
        if not unique.iloc[i]:
            continue
        where = {k: (ids.iloc[i][k],) for k in keys}
        for part, total in _pairs(row, table.columns):
            value = pd.to_numeric(pd.Series([row.get(part)]), errors="coerce").iloc[0]
            if total in exact and np.isfinite(value) and round(float(value)) == exact[total]:
                yield i, part, total, where


def model_repeats(
    table: pd.DataFrame, key_columns: Sequence[str], exact: Mapping[str, int]
) -> tuple[CountSum, ...]:
    """The cells of the model table ``table`` (secure, exact counts) that are England's
    counts of the local profiles (``exact``, :func:`england_counts`), each declared as
    that count; a row its key columns do not single out is left out."""
    return tuple(
        CountSum(POPULATION, total, part, where, at={"area": ENGLAND_CODE})
        for _, part, total, where in _repeated_cells(table, key_columns, exact)
    )


def published_repeats(
    table: pd.DataFrame,
    key_columns: Sequence[str],
    exact: Mapping[str, int],
    published: Mapping[str, float],
) -> tuple[pd.DataFrame, tuple[CountSum, ...]]:
    """The model table with each repeated count of the local profiles (as
    :func:`model_repeats` finds them) replaced by the value the local profiles publish
    for England (``published``, :func:`published_england_counts`), declared a view of it.
    A count they withhold (NaN there) is withheld here too, so the statistics resting on
    it are emptied when the table is protected; a count they do not publish at all keeps
    the table's own value, declared as the same count.

    One count, one published value: rounded again on its own here, England's children
    with an outcome (and the MDH and other children with it, which the local profiles
    add up to it) would be three roundings of counts that must add up, and read together
    they pin one another (521 rounded counts of the model tables on the test workflow's
    release). A view publishes the local profiles' number, which the release audit
    reads as no bound of its own (:class:`~child_mdh.release.sdc.spec.CountSum`
    ``view``). Withholding what they withhold keeps their protection whole: on the test
    workflow's release the models published England's children with a child protection
    plan and those of them not MDH, which the local profiles withhold, and the
    difference put the MDH children with a plan, withheld everywhere, in 8-12."""
    out = table.copy()
    sums = []
    for i, part, total, where in _repeated_cells(table, key_columns, exact):
        view = total in published
        if view:
            out.iloc[i, out.columns.get_loc(part)] = published[total]
        sums.append(CountSum(POPULATION, total, part, where, at={"area": ENGLAND_CODE}, view=view))
    return out, tuple(sums)


def published_england_counts(area_statistics: Path | str) -> dict[str, float]:
    """England's counts as ``profiles/tables/area_statistics.csv`` publishes them (the
    protected file): count column -> value, NaN where withheld."""
    path = Path(area_statistics)
    if not path.is_file():
        return {}
    table = pd.read_csv(path, dtype={"la_code": "string"})
    row = table[table["la_code"] == ENGLAND_CODE]
    if row.empty:
        return {}
    counts = [c for c in table.columns if c.endswith("_n")]
    values = row.iloc[0][counts].apply(pd.to_numeric, errors="coerce")
    return {c: float(v) for c, v in values.items()}


__all__ = [
    "england_counts",
    "model_repeats",
    "published_england_counts",
    "published_repeats",
]
