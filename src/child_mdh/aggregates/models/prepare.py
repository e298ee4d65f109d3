"""The analysis frame of the models: exposures added to the children table, sparse levels pooled.

From the children table (one row per child, ``steps/derive.py``) and the person-level
Child-MDH identification (``results/secure/child_index.parquet``):

- ``mdh``: the child's Child-MDH status (nullable boolean; missing where an indicator is);
- ``any_domain``: deprived in at least one of the four census domains (the synthetic
  generator's ``any_domain`` term);
- ``deprivation_count``: the number of the index's indicators (those with a positive
  weight: by default the four census domains and free school meals) in which the child
  is deprived, missing when any of them is missing (missing is not 'not deprived',
  methods.md section 6);
- ``la_mdh_prevalence_centred``: the local authority's share of MDH children among the
  children modelled, minus the national share (:func:`~child_mdh.aggregates.models.add_area_prevalence`).

Sparse levels are pooled before any model is fitted, so that every coefficient of a
categorical variable rests on enough children, events and non-events for the models to
be estimable and for their results to pass disclosure control (a count below the
threshold is suppressed, and a coefficient resting on it with it):

- the deprivation count is top-coded ("3+") at the largest level such that every level,
  including the pooled one, has at least ``min_count`` children, events and non-events
  in each of the ``outcomes`` given (the models stage prepares one frame per outcome,
  so each is pooled on its own events);
- ordered integer covariates (age in years) are grouped into bands of adjacent years
  ("5-6"), built from the youngest up until each band meets the same rule (a short
  last band joins the one before);
- other categorical covariates (sex, prior-contact flags) have failing levels merged
  into one "other" level, or into their most frequent level when that still fails; a
  covariate left with one level is dropped from the models.

Every decision is recorded as a plain-English note (without counts) for the model
summary. Pooling works on level counts (``groupby`` sums), never loops over children.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from child_mdh.aggregates.models.specs import add_area_prevalence
from child_mdh.contract.vocabulary import DOMAINS
from child_mdh.errors import UserError

CENSUS_DOMAINS = DOMAINS
PREVALENCE = "la_mdh_prevalence_centred"
COUNT = "deprivation_count"


class ModelInputError(UserError):
    """The children table (or the index) cannot be modelled; the message says how to fix it."""


@dataclass
class ModelData:
    """The analysis frame and what the models should use from it.

    ``frame`` has one row per child with the added columns; ``indicators`` are the
    index's indicators (the domain specification); ``adjust`` the covariates kept after
    pooling; ``prior`` the prior-contact flags kept; ``count_levels`` the labels of the
    (pooled) deprivation count, empty when no pooling makes it estimable; ``notes``
    plain-English notes on pooling and dropped terms.
    """

    frame: pd.DataFrame
    indicators: tuple[str, ...]
    outcomes: tuple[str, ...]
    adjust: tuple[str, ...]
    prior: tuple[str, ...]
    count_levels: tuple[str, ...]
    notes: list[str] = field(default_factory=list)


def attach_index(children: pd.DataFrame, child_index: pd.DataFrame) -> pd.DataFrame:
    """Add the Child-MDH status (``mdh``) of ``child_index`` to ``children`` by person_id.

    ``child_index`` is the person-level output of the index step (person_id, la_code,
    score, mdh). Every child must appear exactly once, in the same local authority.
    """
    for name, df, cols in (
        ("children", children, ("person_id", "la_code")),
        ("child_index", child_index, ("person_id", "la_code", "mdh")),
    ):
        absent = [c for c in cols if c not in df.columns]
        if absent:
            raise ModelInputError(
                f"table {name}: column(s) {', '.join(absent)} missing (it has "
                f"{', '.join(map(str, df.columns[:20]))}). Rebuild it with the derive and "
                "index steps of this version."
            )
    dup = child_index["person_id"].duplicated(keep=False)
    if dup.any():
        ex = child_index.loc[dup, "person_id"].head(5).tolist()
        raise ModelInputError(
            f"table child_index: person_id is repeated (e.g. {ex}). Rebuild it with the "
            "index step from one children table."
        )
    idx = child_index[["person_id", "la_code", "mdh"]].rename(columns={"la_code": "_la"})
    out = children.drop(columns=[c for c in ("mdh",) if c in children.columns])
    out = out.merge(idx, on="person_id", how="left", validate="many_to_one")
    absent = out["_la"].isna()
    wrong = ~absent & (out["_la"].astype(str) != out["la_code"].astype(str))
    if absent.any() or wrong.any():
        bad = out.loc[absent | wrong, ["person_id", "la_code", "_la"]].head(5)
        raise ModelInputError(
            f"table child_index: {int(absent.sum())} children of the children table are "
            f"missing from it and {int(wrong.sum())} are in another local authority "
            f"(e.g. rows {bad.to_dict('records')}). The two files come from different "
            "runs: rerun the index step on the current children table."
        )
    out["mdh"] = out["mdh"].astype("boolean")
    return out.drop(columns="_la")


def deprivation_count(frame: pd.DataFrame, indicators: Sequence[str]) -> pd.Series:
    """Number of ``indicators`` in which each child is deprived (Int64; missing when any
    indicator is missing)."""
    g = np.column_stack(
        [frame[c].astype("Float64").to_numpy(dtype=float, na_value=np.nan) for c in indicators]
    )
    total = g.sum(axis=1)
    return pd.Series(
        pd.array(np.where(np.isnan(total), pd.NA, total), dtype="Int64"),
        index=frame.index,
        name=COUNT,
    )


def level_counts(frame: pd.DataFrame, column: str, outcomes: Sequence[str]) -> pd.DataFrame:
    """Per level of ``column``: children, and the events and non-events of each outcome
    among the children with that outcome known (columns ``children``, ``<o>_events``,
    ``<o>_nonevents``). Levels are in sorted order."""
    key = frame[column]
    out = {"children": key.groupby(key, observed=True, sort=True).size()}
    for o in outcomes:
        y = frame[o].astype("Float64")
        known = y.notna() & key.notna()
        ev = y[known].groupby(key[known], observed=True, sort=True).sum()
        n = y[known].groupby(key[known], observed=True, sort=True).size()
        out[f"{o}_events"] = ev
        out[f"{o}_nonevents"] = n - ev
    return pd.DataFrame(out).fillna(0).astype(float)


def _passes(counts: pd.DataFrame, min_count: int) -> pd.Series:
    return (counts >= min_count).all(axis=1)


def top_code(
    frame: pd.DataFrame, column: str, outcomes: Sequence[str], min_count: int
) -> tuple[pd.Series | None, list[str]]:
    """Top-code an integer ``column`` at the largest level L such that every level below
    L and the pooled level 'L+' pass ``min_count`` (children, events, non-events of every
    outcome). Returns an ordered categorical of labels ('0', '1', '2+'), or None when
    even 'L+' at the second level fails."""
    counts = level_counts(frame, column, outcomes)
    levels = list(counts.index)
    if len(levels) < 2:
        return None, []
    ok = _passes(counts, min_count)
    cum_from_top = counts[::-1].cumsum()[::-1]
    for i in range(len(levels) - 1, 0, -1):
        top_ok = bool(_passes(cum_from_top.iloc[[i]], min_count).iloc[0])
        if top_ok and bool(ok.iloc[:i].all()):
            cap = levels[i]
            labels = [str(int(v)) for v in levels[:i]] + (
                [str(int(cap))] if i == len(levels) - 1 else [f"{int(cap)}+"]
            )
            codes = np.minimum(
                frame[column].astype("Float64").to_numpy(dtype=float, na_value=np.nan), float(cap)
            )
            pos = np.searchsorted(np.asarray(levels[: i + 1], dtype=float), codes)
            cat = pd.Categorical.from_codes(
                np.where(np.isnan(codes), -1, pos), labels, ordered=True
            )
            notes = (
                []
                if i == len(levels) - 1
                else [
                    f"{column.replace('_', ' ')}: levels {int(cap)} and above pooled as "
                    f"'{int(cap)}+' (fewer than {min_count} children, events or non-events in "
                    "a level above it)"
                ]
            )
            return pd.Series(cat, index=frame.index, name=column), notes
    return None, [
        f"{column.replace('_', ' ')}: no pooling gives every level {min_count} "
        "children, events and non-events; its models are not fitted"
    ]


def band_adjacent(
    frame: pd.DataFrame, column: str, outcomes: Sequence[str], min_count: int
) -> tuple[pd.Series | None, list[str]]:
    """Group the sorted integer levels of ``column`` into bands of adjacent levels, each
    passing ``min_count`` (see the module docstring). Returns the column unchanged when
    every level passes, an ordered categorical of band labels ('5-6') otherwise, or None
    when one band is all there is (the covariate cannot be adjusted for)."""
    counts = level_counts(frame, column, outcomes)
    if bool(_passes(counts, min_count).all()):
        return frame[column], []
    levels = list(counts.index)
    bands: list[list] = []
    current: list = []
    acc = None
    for lv in levels:
        current.append(lv)
        acc = counts.loc[lv] if acc is None else acc + counts.loc[lv]
        if bool((acc >= min_count).all()):
            bands.append(current)
            current, acc = [], None
    if current:
        if not bands:
            return None, [
                f"{column}: fewer than {min_count} events or non-events in total "
                "in some outcome; it is left out of the models"
            ]
        bands[-1].extend(current)
    if len(bands) < 2:
        return None, [
            f"{column}: no two bands of adjacent values reach {min_count} "
            "children, events and non-events; it is left out of the models"
        ]

    def label(b):
        return str(int(b[0])) if len(b) == 1 else f"{int(b[0])}-{int(b[-1])}"

    labels = [label(b) for b in bands]
    edges = np.array([b[0] for b in bands], dtype=float)
    v = frame[column].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    pos = np.searchsorted(edges, v, side="right") - 1
    cat = pd.Categorical.from_codes(np.where(np.isnan(v), -1, pos), labels, ordered=True)
    return (
        pd.Series(cat, index=frame.index, name=column),
        [
            f"{column}: grouped into bands {', '.join(labels)} (fewer than {min_count} "
            "children, events or non-events in some single values)"
        ],
    )


def merge_sparse(
    frame: pd.DataFrame, column: str, outcomes: Sequence[str], min_count: int
) -> tuple[pd.Series | None, list[str]]:
    """Merge the failing levels of a categorical ``column`` (see the module docstring).
    Returns the column unchanged when every level passes, or None when it is dropped."""
    counts = level_counts(frame, column, outcomes)
    ok = _passes(counts, min_count)
    if bool(ok.all()):
        return frame[column], []
    name = column.replace("_", " ")
    failing = list(counts.index[~ok])
    if int(ok.sum()) < 1 or (int(ok.sum()) == 1 and len(counts) == 2):
        return None, [
            f"{name}: a level has fewer than {min_count} children, events or "
            "non-events; it is left out of the models"
        ]
    values = frame[column].astype(object)
    pooled = counts.loc[failing].sum()
    target = (
        "other"
        if len(failing) > 1 and bool((pooled >= min_count).all())
        else counts.loc[ok, "children"].idxmax()
    )
    merged = values.where(~values.isin(failing), target)
    merged = merged.where(frame[column].notna(), None).astype("str")
    if merged.dropna().nunique() < 2:
        return None, [f"{name}: left out of the models (one level after pooling)"]
    return merged.rename(column), [f"{name}: sparse levels merged into '{target}'"]


def prepare_model_data(
    children: pd.DataFrame,
    *,
    indicators: Sequence[str] = (*CENSUS_DOMAINS, "fsm"),
    outcomes: Sequence[str] = ("any_referral", "any_cin", "any_cpp", "entered_care"),
    covariates: Sequence[str] = ("age", "sex"),
    prior: Sequence[str] = (),
    min_count: int = 10,
    area: str = "la_code",
) -> ModelData:
    """The analysis frame: ``children`` (with ``mdh``, see :func:`attach_index`) plus the
    exposures of the module docstring, with sparse levels pooled so that every level of
    the deprivation count, the covariates and the prior-contact flags has at least
    ``min_count`` children, events and non-events in each of ``outcomes``. The frame is
    a shallow copy of ``children``: only the added and pooled columns are new.

    Raises :class:`ModelInputError` naming the columns when the children table lacks
    any the models need.
    """
    indicators, outcomes = tuple(indicators), tuple(outcomes)
    need = [*indicators, *CENSUS_DOMAINS, "mdh", area, *outcomes, *covariates, *prior]
    absent = [c for c in dict.fromkeys(need) if c not in children.columns]
    if absent:
        raise ModelInputError(
            f"table children: column(s) {', '.join(absent)} are needed by the models but "
            f"missing (it has {', '.join(map(str, children.columns[:40]))}). Build the "
            "children table with the derive step and add mdh with attach_index, or change "
            "the models' covariates in the configuration."
        )
    frame = children.copy(deep=False)  # new and pooled columns only: the rest is shared
    n_dom = deprivation_count(frame, CENSUS_DOMAINS)
    frame["any_domain"] = pd.array(
        np.where(n_dom.isna(), pd.NA, n_dom.fillna(0) >= 1), dtype="boolean"
    )
    frame[COUNT] = deprivation_count(frame, indicators)
    frame = add_area_prevalence(frame, "mdh", area=area, name=PREVALENCE)
    notes: list[str] = []
    pooled, more = top_code(frame, COUNT, outcomes, min_count)
    notes += more
    count_levels: tuple[str, ...] = ()
    if pooled is not None:
        frame[COUNT] = pooled
        count_levels = tuple(pooled.cat.categories)
    adjust = []
    for c in covariates:
        s = frame[c]
        if pd.api.types.is_float_dtype(s.dtype):
            adjust.append(c)
            continue
        ordered = pd.api.types.is_integer_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype)
        new, more = (band_adjacent if ordered else merge_sparse)(frame, c, outcomes, min_count)
        notes += more
        if new is not None:
            frame[c] = new
            adjust.append(c)
    kept_prior = []
    for c in prior:
        new, more = merge_sparse(frame, c, outcomes, min_count)
        notes += more
        if new is not None:
            frame[c] = new
            kept_prior.append(c)
    return ModelData(
        frame=frame,
        indicators=indicators,
        outcomes=outcomes,
        adjust=tuple(adjust),
        prior=tuple(kept_prior),
        count_levels=count_levels,
        notes=notes,
    )


def indicators_of(weights: Mapping[str, float]) -> tuple[str, ...]:
    """The index's indicators: those with a positive weight, in the weights' order."""
    return tuple(k for k, v in weights.items() if float(v) > 0)
