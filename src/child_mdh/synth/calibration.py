"""Published figures the synthetic England is calibrated against, with their sources.

Every number the generator is tuned to, and that the fidelity report compares with, lives
here once, with the publication it comes from. Where no figure was published, the value is
a documented assumption and its source says so.
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

#: Pupils eligible for and claiming free school meals, January census, % of pupils.
#: 2011-2014: only 'roughly 16-18%' is published; 17.0 is the documented assumption, also
#: used for earlier years. After 2025 the 2025 value is held.
FSM_RATE_BY_YEAR = {2014: 17.0, 2015: 15.2, 2018: 13.6, 2020: 17.3, 2022: 22.5, 2024: 24.6, 2025: 25.7}
FSM_SOURCE = DFE_SPC + "; 2011-2014 and earlier: 17.0% assumed from the published 16-18%"
FSM_LA_RANGE_2025 = (10.2, 47.0)  # Wokingham to Manchester, January 2025
#: Share of entitled pupils not registered for free school meals (2012).
FSM_UNDERCLAIM = Target(0.14, "DfE 2013, Iniesta-Martinez & Evans, pupils not claiming FSM (2012)")

#: Children in need at 31 March per 10,000 children.
CIN_STOCK_BY_YEAR = {2013: 331.0, 2020: 330.0, 2022: 343.7, 2024: 332.9}
#: Child protection plans at 31 March per 10,000 (about 43; 51,510 in 2020).
CPP_STOCK_BY_YEAR = {2020: 43.0}
#: Children looked after at 31 March per 10,000 (about 60 in 2012-2015, 70 in 2024).
CLA_STOCK_BY_YEAR = {2012: 60.0, 2015: 60.0, 2024: 70.0}
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


def interpolate_by_year(table: dict[int, float], year: float) -> float:
    """Linear interpolation of a year -> value table; the end values are held outside it."""
    years = np.array(sorted(table), dtype=float)
    values = np.array([table[int(y)] for y in years], dtype=float)
    return float(np.interp(year, years, values))


def fractional_year(date: dt.date) -> float:
    """A census date as a fractional year, January = whole year (2015-01 -> 2015.0)."""
    return date.year + (date.month - 1) / 12.0


def fsm_target(date: dt.date) -> float:
    """Target share of pupils recorded as eligible for FSM on a census date (0-1)."""
    return interpolate_by_year(FSM_RATE_BY_YEAR, fractional_year(date)) / 100.0


def stock_targets(year: int) -> dict[str, float]:
    """Per-10,000 stocks at 31 March of ``year`` (CIN, CPP, CLA), interpolated."""
    return {
        "cin": interpolate_by_year(CIN_STOCK_BY_YEAR, year),
        "cpp": interpolate_by_year(CPP_STOCK_BY_YEAR, year),
        "cla": interpolate_by_year(CLA_STOCK_BY_YEAR, year),
    }
