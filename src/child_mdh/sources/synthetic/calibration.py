"""Published figures the synthetic England is calibrated against, with their sources.

Every number the generator is tuned to, and that the fidelity report compares with, lives
here once, with the publication it comes from. Where no figure was published, the value is
a documented assumption and its source says so.

Figures that change by year (FSM in January, the 31 March stocks) are tables of published
years, linearly interpolated between them. Where a preset's own date has a published value
(census 2021: FSM at the January 2021 school census, children in need at 31 March 2021)
that value is an explicit target with its publication and table (``PUBLISHED_FSM_JANUARY``,
``PUBLISHED_STOCKS_31_MARCH``), enters the tables, and is what both the generator and the
fidelity report use: never an interpolation (before, they used 19.9% and 336.85, the
interpolations between 2020 and 2022). :func:`fsm_target_detail` and
:func:`stock_target_detail` say, for any date, whether its target is published, interpolated,
held from the nearest published year or assumed. Census 2011 (the Growing Up in England
preset, ``config/examples/guie_2011.yaml``) has its own published targets: FSM in January
2011 by phase (``PUBLISHED_FSM_JANUARY_BY_PHASE``: state-funded primary and secondary
separately, each calibrated and reported on its own), the three stocks at 31 March 2011
and the referrals of 2010-11 (``PUBLISHED_REFERRALS_YEAR``). Each source string says
what could be checked against the publication and what could not.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Target:
    """One published figure: its value, an accepted range where published, and its source."""

    value: float
    source: str
    low: float | None = None
    high: float | None = None


DFE_CIN = "DfE, Characteristics of children in need (annual statistics)"
DFE_CLA = "DfE, Children looked after in England including adoptions"
DFE_SPC = "DfE, Schools, pupils and their characteristics (January school census)"
JAY_2025 = "Jay et al. 2025, International Journal of Population Data Science 10(1)"
WALES_COHORT = (
    "Welsh birth cohort 2010-12 linked to 2011 Census household deprivation (SAIL), "
    "'Household Socioeconomic Circumstances and Age of First Registration on the Welsh Child "
    "Protection Register' (provisional estimates)"
)

#: Share of children in households deprived in at least one dimension (2011 Census).
CHILDREN_GE1_DOMAIN_2011 = Target(0.418, WALES_COHORT + ": 37,282 of 89,191 children")

DFE_SPC_2021 = (
    DFE_SPC + ", academic year 2020/21 (January 2021 census): headline facts and table "
    "'Pupil characteristics - Free school meals', 20.8% of pupils known to be eligible "
    "(1.74 million)"
)
DFE_CIN_2024 = (
    DFE_CIN + ", reporting year 2024: table 'Number and rate (per 10,000 children) of "
    "children in need at 31 March, 2020 to 2024', 329.6 in 2021 (rates on the ONS mid-year "
    "estimates revised after Census 2021; the 2021 release gave 321.2 on the earlier ones)"
)

DFE_SFR12_2011 = (
    "DfE SFR 12/2011 'Schools, Pupils and their Characteristics, January 2011' (22 June "
    "2011), pupils known to be eligible for and claiming free school meals"
)
CHECKED_FSM_2011 = (
    "; verified against the next year's release, DfE SFR 10/2012 'Schools, pupils and their "
    "characteristics, January 2012' (21 June 2012), key points citing its table 3b: 'an "
    "increase from 19.2 per cent in 2011' (maintained nursery and state-funded primary) "
    "and 'from 15.9 per cent in 2011' (state-funded secondary); January 2010 gave 18.5% "
    "and 15.4% as reported at the time"
)
DFE_SFR26_2011 = "DfE SFR 26/2011 'Characteristics of children in need in England, 2010-11' (final)"
DFE_SFR21_2011 = (
    "DfE SFR 21/2011 'Children looked after in England (including adoption and care "
    "leavers) year ending 31 March 2011' (28 September 2011)"
)

#: Published values at the dates the presets use, as explicit targets (% of pupils eligible
#: and claiming in the January census; per 10,000 children aged 0-17 at 31 March).
PUBLISHED_FSM_JANUARY = {2021: Target(20.8, DFE_SPC_2021)}
#: January censuses whose published values are by phase (state-funded primary: reception
#: to year 6; state-funded secondary: years 7-11), % of pupils. Such a census is calibrated
#: and reported phase by phase, with no national figure of its own.
PUBLISHED_FSM_JANUARY_BY_PHASE = {
    2011: {
        "primary": Target(
            19.2, DFE_SFR12_2011 + ", state-funded primary schools: 19.2%" + CHECKED_FSM_2011
        ),
        "secondary": Target(
            15.9,
            DFE_SFR12_2011 + ", state-funded secondary schools: 15.9%" + CHECKED_FSM_2011,
        ),
    }
}
PUBLISHED_STOCKS_31_MARCH = {
    2011: {
        "cin": Target(
            346.2,
            DFE_SFR26_2011 + ": 382,400 children in need at 31 March 2011, 346.2 per 10,000 "
            "(the count is confirmed by the time series of SFR 41/2015, 'Characteristics of "
            "children in need: 2014 to 2015'; the rate was not verified)",
        ),
        "cpp": Target(
            37.8,
            DFE_SFR26_2011 + ": 42,700 children the subject of a child protection plan at 31 "
            "March 2011, 37.8 per 10,000 (neither verified against a stored copy of the "
            "release; NSPCC evidence to the Education Committee, September 2011, cites "
            "42,300 from the earlier figures)",
        ),
        "cla": Target(
            59.0,
            DFE_SFR21_2011 + ": 65,520 children looked after at 31 March 2011, 59 per 10,000 "
            "(the release and its date are confirmed; the rate was not verified. The count is "
            "as reported at the time, 'There were 65,520 looked after children as at 31 "
            "March 2011', and by the BBC in 2012, 'rose by 2% from 65,520 last year to "
            "67,050'; the DfE series later revised it to 65,510, as reported by Children & "
            "Young People Now)",
        ),
    },
    2021: {"cin": Target(329.6, DFE_CIN_2024)},
}
#: Referrals per 10,000 children in the year ending 31 March of a census year, where
#: published for a preset (the fidelity report measures the 365 days before census day).
PUBLISHED_REFERRALS_YEAR = {
    2011: Target(
        557.1,
        DFE_SFR26_2011 + ": 615,000 referrals in 2010-11, 557.1 per 10,000 (not verified "
        "against a stored copy of the release; the next years' releases give 605,100 in "
        "2011-12 and 593,500 in 2012-13)",
    )
}

#: Pupils eligible for and claiming free school meals, January census, % of pupils.
#: 2011-2014: only 'roughly 16-18%' is published; 17.0 is the documented assumption, also
#: used for earlier years. After 2025 the 2025 value is held.
FSM_ASSUMED_YEARS = frozenset({2014})
FSM_RATE_BY_YEAR = {
    2014: 17.0,
    2015: 15.2,
    2018: 13.6,
    2020: 17.3,
    2022: 22.5,
    2024: 24.6,
    2025: 25.7,
    **{y: t.value for y, t in PUBLISHED_FSM_JANUARY.items()},
}
FSM_TABLE_SOURCE = (
    DFE_SPC + ": national January rates 15.2% (2015), 13.6% (2018), 17.3% (2020), "
    "20.8% (2021), 22.5% (2022), 24.6% (2024), 25.7% (2025)"
)
FSM_ASSUMPTION_SOURCE = (
    "assumption: 17.0% for 2014 and earlier, within the 'roughly 16-18%' "
    "published for 2011-2014 (" + DFE_SPC + ", pupil numbers only)"
)
FSM_SOURCE = FSM_TABLE_SOURCE + "; " + FSM_ASSUMPTION_SOURCE
FSM_LA_RANGE_2025 = (10.2, 47.0)  # Wokingham to Manchester, January 2025
#: Share of entitled pupils not registered for free school meals (2012).
FSM_UNDERCLAIM = Target(0.14, "DfE 2013, Iniesta-Martinez & Evans, pupils not claiming FSM (2012)")

#: Children in need at 31 March per 10,000 children.
CIN_STOCK_BY_YEAR = {
    2013: 331.0,
    2020: 330.0,
    2022: 343.7,
    2024: 332.9,
    **{y: t["cin"].value for y, t in PUBLISHED_STOCKS_31_MARCH.items() if "cin" in t},
}
#: Child protection plans at 31 March per 10,000 (about 43; 51,510 in 2020).
CPP_STOCK_BY_YEAR = {
    2020: 43.0,
    **{y: t["cpp"].value for y, t in PUBLISHED_STOCKS_31_MARCH.items() if "cpp" in t},
}
#: Children looked after at 31 March per 10,000 (about 60 in 2012-2015, 70 in 2024).
CLA_STOCK_BY_YEAR = {
    2012: 60.0,
    2015: 60.0,
    2024: 70.0,
    **{y: t["cla"].value for y, t in PUBLISHED_STOCKS_31_MARCH.items() if "cla" in t},
}
#: Referrals per 10,000 children per year (621,880 in 2023-24).
REFERRALS_PER_10000 = Target(520.0, DFE_CIN + ": about 600,000-660,000 referrals a year")
#: Share of referrals within 12 months of a previous referral.
REREFERRAL_SHARE = Target(0.24, DFE_CIN, low=0.22, high=0.26)
#: Primary need at assessment.
N1_SHARE = Target(0.49, DFE_CIN + ": abuse or neglect 47-51%", low=0.47, high=0.51)
N5_SHARE = Target(0.18, DFE_CIN + ": family dysfunction about 18%")
#: LA ranges per 10,000.
CIN_LA_RANGE = (150.0, 785.0)  # Wokingham to Middlesbrough, 2013-14
CLA_LA_RANGE = (25.0, 191.0)  # 2024
#: Cumulative incidence before age 18 (a birth cohort followed to 18).
CUMULATIVE_INCIDENCE = {
    "referral": Target(0.354, JAY_2025),
    "cin": Target(0.253, JAY_2025),
    "cpp": Target(0.069, JAY_2025),
    "cla": Target(0.035, JAY_2025 + ": 3-4% looked after", low=0.03, high=0.04),
}
#: Hazard ratios of first child protection registration by the number of deprived
#: dimensions (versus none), and the employment + health profile, with 95% CIs.
WELSH_HAZARD_RATIOS = {
    "1": (1.88, 1.60, 2.22),
    "2": (2.60, 2.18, 3.11),
    "3": (3.42, 2.78, 4.21),
    "4": (4.04, 2.75, 5.94),
    "employment_health": (3.39, 2.72, 4.21),
}
#: Independent school pupils, share of all pupils (England, about 6-7%).
PRIVATE_SCHOOL_SHARE = Target(0.065, "Independent Schools Council / DfE: about 6-7% of pupils")


def referrals_target(census_year: int) -> Target:
    """Referrals per 10,000 children a year for a census year: the published figure of the
    year ending 31 March of that year where there is one, otherwise the general guide
    ``REFERRALS_PER_10000``."""
    return PUBLISHED_REFERRALS_YEAR.get(int(census_year), REFERRALS_PER_10000)


def fsm_phase_targets(date: dt.date) -> dict[str, DatedTarget] | None:
    """Published FSM targets (0-1) by phase ('primary', 'secondary') for a January census
    whose figures are published by phase, else None."""
    if date.month != 1 or date.year not in PUBLISHED_FSM_JANUARY_BY_PHASE:
        return None
    label = f"the {date.strftime('%B %Y')} census"
    return {
        phase: DatedTarget(
            t.value / 100.0, "published", f"published {phase} value for {label}", t.source
        )
        for phase, t in PUBLISHED_FSM_JANUARY_BY_PHASE[date.year].items()
    }


def interpolate_by_year(table: dict[int, float], year: float) -> float:
    """Linear interpolation of a year -> value table; the end values are held outside it."""
    years = np.array(sorted(table), dtype=float)
    values = np.array([table[int(y)] for y in years], dtype=float)
    return float(np.interp(year, years, values))


def fractional_year(date: dt.date) -> float:
    """A census date as a fractional year, January = whole year (2015-01 -> 2015.0)."""
    return date.year + (date.month - 1) / 12.0


def fsm_target(date: dt.date) -> float:
    """Target share of pupils recorded as eligible for FSM on a census date (0-1): the
    published value where the date has one, otherwise interpolated (see
    :func:`fsm_target_detail`)."""
    return fsm_target_detail(date).value


def stock_targets(year: int) -> dict[str, float]:
    """Per-10,000 stocks at 31 March of ``year`` (CIN, CPP, CLA): the published value where
    ``year`` has one, otherwise interpolated (see :func:`stock_target_detail`)."""
    return {name: stock_target_detail(year, name).value for name in STOCK_TABLES}


#: The 31 March stock tables, with the source of their table values.
STOCK_TABLES = {
    "cin": (
        CIN_STOCK_BY_YEAR,
        DFE_CIN + " (about 331 in 2013; 330 in 2020, 343.7 in 2022, 332.9 in 2024)",
    ),
    "cpp": (CPP_STOCK_BY_YEAR, DFE_CIN + " (about 43 per 10,000; 51,510 children in 2020)"),
    "cla": (CLA_STOCK_BY_YEAR, DFE_CLA + " (about 60 per 10,000 in 2012-2015, 70 in 2024)"),
}


@dataclass(frozen=True)
class DatedTarget:
    """The target for one date, what it rests on, and its source.

    ``basis`` is 'published' (a published value for this date), 'interpolated' (linear
    between two published years), 'held' (the nearest published year's value, outside the
    published years) or 'assumed' (a documented assumption); ``how`` says it in words.
    """

    value: float
    basis: str
    how: str
    source: str


def _dated(
    table: dict[int, float],
    y: float,
    label: str,
    source: str,
    assumed: frozenset = frozenset(),
    assumed_source: str = "",
) -> DatedTarget:
    """Target, basis and wording for fractional year ``y`` in a year -> value table
    (``assumed``: table years whose value is an assumption, with ``assumed_source``)."""
    years = sorted(table)
    value = interpolate_by_year(table, y)
    if y in table:
        if int(y) in assumed:
            return DatedTarget(value, "assumed", f"assumed value for {label}", assumed_source)
        return DatedTarget(value, "published", f"published value for {label}", source)
    if y < years[0] or y > years[-1]:
        end = years[0] if y < years[0] else years[-1]
        if end in assumed:
            return DatedTarget(
                value,
                "assumed",
                f"no published value used for {label}; the value assumed for {end} is used",
                assumed_source,
            )
        return DatedTarget(
            value,
            "held",
            f"no published value used for {label}; the published {end} value is held",
            source,
        )
    lo = max(t for t in years if t < y)
    hi = min(t for t in years if t > y)
    return DatedTarget(
        value,
        "interpolated",
        f"no published value used for {label}; "
        f"interpolated linearly between {lo} ({table[lo]:g}) and {hi} ({table[hi]:g})",
        source,
    )


def fsm_target_detail(date: dt.date) -> DatedTarget:
    """Target share (0-1) of pupils recorded as eligible for FSM on a census date, with its
    basis and source. A January census of a year in ``PUBLISHED_FSM_JANUARY`` gets that
    publication as its source."""
    y = fractional_year(date)
    label = f"the {date.strftime('%B %Y')} census"
    if date.month == 1 and date.year in PUBLISHED_FSM_JANUARY:
        t = PUBLISHED_FSM_JANUARY[date.year]
        return DatedTarget(t.value / 100.0, "published", f"published value for {label}", t.source)
    d = _dated(
        FSM_RATE_BY_YEAR, y, label, FSM_TABLE_SOURCE, FSM_ASSUMED_YEARS, FSM_ASSUMPTION_SOURCE
    )
    return DatedTarget(d.value / 100.0, d.basis, d.how, d.source)


def stock_target_detail(year: int, name: str) -> DatedTarget:
    """Target per 10,000 children of stock ``name`` ('cin', 'cpp', 'cla') at 31 March of
    ``year``, with its basis and source."""
    published = PUBLISHED_STOCKS_31_MARCH.get(year, {})
    label = f"31 March {year}"
    if name in published:
        t = published[name]
        return DatedTarget(t.value, "published", f"published value for {label}", t.source)
    table, source = STOCK_TABLES[name]
    return _dated(table, year, label, source)
