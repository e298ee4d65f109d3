"""What a local-area profile reports: outcomes, groups, column names and labels.

One place names every statistic of the profile tables, so the statistics
(:mod:`~child_mdh.aggregates.profiles.statistics`), the disclosure declarations, the long indicator
table (:mod:`~child_mdh.release.profiles.indicators`) and the pages agree on them.
"""

from __future__ import annotations

from dataclasses import dataclass

#: ONS code of England, the total row of every profile table.

#: Confidence levels and their column suffixes (95% and 99.8%, as Fingertips).
LEVELS = (("95", 0.95), ("99_8", 0.998))

#: Rates are expressed per this many children (or child-years).
PER = 10_000


@dataclass(frozen=True)
class Outcome:
    """A social care outcome of the children table and how the profile reports it.

    ``column`` is the children-table column; ``events`` is True when the column counts
    events (referrals) whose rate is per 10,000 child-years of follow-up, False when it
    flags children (a rate per 10,000 children). ``children_key`` names the outcome that
    counts the children behind the events (the threshold applies to them too).
    """

    key: str
    column: str
    label: str
    unit: str
    events: bool = False
    children_key: str | None = None


OUTCOMES: tuple[Outcome, ...] = (
    Outcome(
        "referral",
        "any_referral",
        "Children referred to children's social care",
        "per 10,000 children",
    ),
    Outcome(
        "cin",
        "any_cin",
        "Children in need (a referral not closed with no further action)",
        "per 10,000 children",
    ),
    Outcome("cpp", "any_cpp", "Children starting a child protection plan", "per 10,000 children"),
    Outcome("care", "entered_care", "Children starting to be looked after", "per 10,000 children"),
    Outcome(
        "referrals",
        "n_referrals",
        "Referrals to children's social care",
        "per 10,000 child-years",
        events=True,
        children_key="referral",
    ),
)
OUTCOME_BY_KEY = {o.key: o for o in OUTCOMES}
OUTCOME_FLAG_COLUMNS = tuple(o.column for o in OUTCOMES if not o.events)
EXPOSURE_COLUMN = "exposure_years"

#: Groups of children: in multidimensionally disadvantaged households or not, and all.
GROUPS = ("mdh", "non_mdh", "all")
GROUP_LABELS = {
    "mdh": "MDH children",
    "non_mdh": "Other children",
    "all": "All children",
}
GROUP_DESCRIPTIONS = {
    "mdh": "children in multidimensionally disadvantaged households (Child-MDH)",
    "non_mdh": "children not in multidimensionally disadvantaged households",
    "all": "all children in the profile",
}
#: The count column holding each group's number of children (the rates' denominators).
GROUP_DENOMINATOR = {"mdh": "mdh_n", "non_mdh": "non_mdh_n", "all": "children_n"}

INDICATOR_LABELS = {
    "employment": "Employment",
    "education": "Education",
    "health": "Health and disability",
    "housing": "Housing",
    "fsm": "Free school meals",
}

#: Comparison labels (stats.compare_with_england) and funnel labels, in words.
COMPARISON_TEXT = {
    "higher": "Higher than England",
    "lower": "Lower than England",
    "similar": "Similar to England",
    "not compared": "Not compared",
}

KEY_COLUMNS = ("la_code", "la_name", "region_code", "region_name", "area_level")


def indicator_label(name: str) -> str:
    """Readable name of an index indicator (the column name when unknown)."""
    return INDICATOR_LABELS.get(name, name.replace("_", " ").capitalize())


def interval_columns(stat: str) -> list[str]:
    """The four interval-bound columns of ``stat``: lower/upper at 95% and 99.8%."""
    return [f"{stat}_{side}_{suffix}" for suffix, _ in LEVELS for side in ("lower", "upper")]


def comparison_columns(stat: str) -> list[str]:
    """The two 'compared with England' columns of ``stat`` (95% and 99.8%)."""
    return [f"{stat}_vs_england_{suffix}" for suffix, _ in LEVELS]


def rate_column(outcome: str, group: str) -> str:
    """Column of the rate of ``outcome`` in ``group`` (per 10,000)."""
    return f"{outcome}_{group}_rate"


def count_column(outcome: str, group: str) -> str:
    """Column of the number of children with ``outcome`` (or of events) in ``group``."""
    return f"{outcome}_{group}_n"


def outcome_backing(outcome: Outcome, group: str) -> tuple[str, ...]:
    """The count columns a rate of ``outcome`` in ``group`` is computed from.

    Events (referrals) also rest on the number of children with an event: twelve
    referrals of three children must not be published when three children may not.
    """
    backing = [count_column(outcome.key, group), GROUP_DENOMINATOR[group]]
    if outcome.children_key:
        backing.append(count_column(outcome.children_key, group))
    return tuple(backing)
