"""The parameters of the data-generating process, in one place.

Every value is either calibrated at run time (marked 'calibrated' in truth.json) or a
documented assumption. ``default_parameters()`` returns plain dicts and lists so that the
whole set is written, unchanged, into ``truth.json``. Domain order everywhere:
employment, education, health, housing.
"""

from __future__ import annotations

import copy

HOUSEHOLD_TYPES = ("couple", "lone_parent", "multigenerational")
REGION_CODES = {
    "E12000001": "North East",
    "E12000002": "North West",
    "E12000003": "Yorkshire and The Humber",
    "E12000004": "East Midlands",
    "E12000005": "West Midlands",
    "E12000006": "East of England",
    "E12000007": "London",
    "E12000008": "South East",
    "E12000009": "South West",
}

_PARAMETERS = {
    "households": {
        "note": (
            "Households with dependent children. The count of deprived dimensions per LA is the "
            "real all-household distribution shifted by one common constant on the cumulative-"
            "logit scale; the shift is solved so that 41.8% of children (2011) live in a "
            "household deprived in >= 1 dimension, and the same shift is applied in 2021."
        ),
        # P(type | count of deprived dimensions 0..4), types as HOUSEHOLD_TYPES
        "type_given_count": [
            [0.83, 0.13, 0.04],
            [0.72, 0.22, 0.06],
            [0.55, 0.37, 0.08],
            [0.45, 0.45, 0.10],
            [0.40, 0.48, 0.12],
        ],
        # P(1..5 dependent children | type)
        "children_given_type": {
            "couple": [0.40, 0.41, 0.14, 0.04, 0.01],
            "lone_parent": [0.52, 0.33, 0.11, 0.03, 0.01],
            "multigenerational": [0.45, 0.37, 0.13, 0.04, 0.01],
        },
        "lone_parent_female": 0.90,
        "multigenerational_couple_parents": 0.55,
        "multigenerational_two_grandparents": 0.40,
        "adult_child_18_24": 0.12,
        "sibling_gap_days": {"minimum": 300, "gamma_shape": 2.0, "gamma_scale": 400.0},
        "mother_age_at_first_birth": {"mean": 27.0, "sd": 5.5, "min": 16, "max": 44},
    },
    "domain_patterns": {
        "note": (
            "Which dimensions, given the count: P(pattern | count, region) is proportional to "
            "exp(sum_j a_j s_j + sum_{j<k} b_jk s_j s_k + h_region s_housing) over the patterns "
            "s with that count (a log-linear model over the 16 combinations)."
        ),
        "main": {"employment": 0.0, "education": -0.4, "health": 0.3, "housing": 0.5},
        "pairwise": {
            "employment:education": 0.9,
            "employment:health": 1.1,
            "education:health": 0.5,
            "employment:housing": 0.3,
            "education:housing": 0.1,
            "health:housing": 0.0,
        },
        "region_housing": {
            "E12000007": 1.0,  # London: overcrowding
            "E12000005": 0.2,
            "E12000002": 0.1,
            "E12000003": 0.1,
        },
    },
    "dwellings": {
        # reason for housing deprivation: overcrowded, no central heating, shared dwelling
        "housing_reason": {"default": [0.70, 0.26, 0.04], "E12000007": [0.84, 0.11, 0.05]},
        "extra_reason_probability": 0.05,
        "overcrowded_rating": {"-1": 0.72, "-2": 0.21, "-3": 0.07},
        "not_overcrowded_rating": {"0": 0.25, "1": 0.35, "2": 0.25, "3": 0.10, "4": 0.05},
    },
    "persons": {
        "student_16_17": 0.90,
        "student_18_21": 0.55,
        "student_22_24": 0.25,
        "student_parent": 0.03,
        "designated_employment_partner": 0.35,
        "lts_given_employment_and_health": 0.5,
        "student_activity": {"inactive_student": 0.78, "in_employment": 0.19, "unemployed": 0.03},
        # economic activity of members who are not full-time students, before the domain
        # constraints (unemployed and long-term sick are removed when not employment-
        # deprived; long-term sick also needs health deprivation)
        "activity": {
            "parent1": {
                "in_employment": 0.70,
                "inactive_looking_after_home": 0.16,
                "inactive_other": 0.03,
                "unemployed": 0.04,
                "inactive_long_term_sick_or_disabled": 0.05,
                "inactive_retired": 0.02,
            },
            "parent2": {
                "in_employment": 0.85,
                "inactive_looking_after_home": 0.03,
                "inactive_other": 0.02,
                "unemployed": 0.05,
                "inactive_long_term_sick_or_disabled": 0.05,
            },
            "grandparent_under_66": {
                "in_employment": 0.55,
                "inactive_retired": 0.20,
                "inactive_long_term_sick_or_disabled": 0.08,
                "inactive_looking_after_home": 0.07,
                "unemployed": 0.04,
                "inactive_other": 0.06,
            },
            "grandparent_66_plus": {
                "inactive_retired": 0.85,
                "in_employment": 0.08,
                "inactive_long_term_sick_or_disabled": 0.04,
                "inactive_looking_after_home": 0.03,
            },
            "adult_child": {
                "in_employment": 0.75,
                "unemployed": 0.12,
                "inactive_other": 0.08,
                "inactive_long_term_sick_or_disabled": 0.02,
                "inactive_looking_after_home": 0.03,
            },
            "child_16_17": {
                "in_employment": 0.50,
                "unemployed": 0.20,
                "inactive_other": 0.25,
                "inactive_looking_after_home": 0.03,
                "inactive_long_term_sick_or_disabled": 0.02,
            },
        },
        "qualification_education_deprived": {
            "none": 0.40,
            "level1": 0.32,
            "other": 0.16,
            "unknown": 0.12,
        },
        "qualification_education_deprived_16_17": {"none": 0.45, "level1": 0.55},
        "qualification": {
            "parent": {
                "none": 0.06,
                "level1": 0.09,
                "level2": 0.14,
                "apprenticeship": 0.05,
                "level3": 0.18,
                "level4_plus": 0.40,
                "other": 0.05,
                "unknown": 0.03,
            },
            "parent_multiply_deprived": {
                "none": 0.14,
                "level1": 0.16,
                "level2": 0.22,
                "apprenticeship": 0.06,
                "level3": 0.17,
                "level4_plus": 0.14,
                "other": 0.08,
                "unknown": 0.03,
            },
            "grandparent": {
                "none": 0.25,
                "level1": 0.12,
                "level2": 0.14,
                "apprenticeship": 0.06,
                "level3": 0.10,
                "level4_plus": 0.20,
                "other": 0.10,
                "unknown": 0.03,
            },
            "adult_child": {
                "none": 0.04,
                "level1": 0.06,
                "level2": 0.15,
                "apprenticeship": 0.05,
                "level3": 0.40,
                "level4_plus": 0.25,
                "other": 0.03,
                "unknown": 0.02,
            },
            "child_16_17": {"none": 0.08, "level1": 0.27, "level2": 0.55, "level3": 0.10},
            "forced_level2_plus": {
                "level2": 0.35,
                "apprenticeship": 0.10,
                "level3": 0.30,
                "level4_plus": 0.25,
            },
        },
        # general health 1..5 and disability (limited a lot, a little) before constraints
        "general_health": {
            "child": [0.72, 0.23, 0.04, 0.008, 0.002],
            "adult_under_50": [0.45, 0.37, 0.12, 0.045, 0.015],
            "adult_50_64": [0.30, 0.38, 0.20, 0.09, 0.03],
            "adult_65_plus": [0.20, 0.35, 0.28, 0.13, 0.04],
        },
        "disability": {
            "child": [0.015, 0.035],
            "adult_under_50": [0.04, 0.09],
            "adult_50_64": [0.08, 0.13],
            "adult_65_plus": [0.15, 0.18],
        },
        # who carries the household's health deprivation when no long-term sick member does
        "health_designated_weights": {
            "parent1": 0.50,
            "parent2": 0.20,
            "grandparent": 0.15,
            "child": 0.15,
        },
        "health_designated_by_disability": 0.6,
        "ethnic_group": {
            "default": {"white": 0.78, "mixed": 0.06, "asian": 0.10, "black": 0.04, "other": 0.02},
            "E12000007": {
                "white": 0.45,
                "mixed": 0.10,
                "asian": 0.22,
                "black": 0.17,
                "other": 0.06,
            },
            "E12000005": {
                "white": 0.66,
                "mixed": 0.07,
                "asian": 0.19,
                "black": 0.06,
                "other": 0.02,
            },
        },
    },
    "school": {
        "note": (
            "A child is a pupil at a census when aged 4-15 on the 31 August that starts the "
            "academic year (reception to year 11) and not at an independent school."
        ),
        "primary_schools_per_household": 7.2e-4,
        "secondary_schools_per_household": 1.45e-4,
        "cross_border": {"primary": 0.02, "secondary": 0.05, "london_multiplier": 2.0},
        # independent school: logit P = a (calibrated) + region + deprivation terms
        "private": {
            "region": {"E12000007": 0.9, "E12000008": 0.7, "E12000006": 0.3, "E12000009": 0.3},
            "any_domain": -1.0,
            "two_plus_domains": -0.8,
        },
        # census-to-NPD non-linkage among state pupils: logit P = b (calibrated) + ...
        "mismatch": {
            "target_rate": 0.04,
            "la_sd": 0.4,
            "two_plus_domains": 0.5,
            "lone_parent": 0.4,
            "multigenerational": 0.3,
        },
    },
    "fsm": {
        "note": (
            "Entitlement at census t: logistic(alpha_t + x'beta + v_LA + u_child); recorded "
            "FSM = entitled AND claims (a persistent child trait). alpha_t is solved so the "
            "recorded rate among the pupils of census t equals the published national rate."
        ),
        "coefficients": {
            "employment": 1.8,
            "education": 0.6,
            "health": 0.3,
            "housing": 0.4,
            "lone_parent": 1.0,
        },
        "child_sd": 1.6,
        "la_sd": 0.45,
        # LA logit shift per unit of (LA share of households deprived in >= 1 dimension -
        # household-weighted national share), expected values of the shifted census counts
        "la_deprivation": 8.0,
        "claim_probability": 0.86,
    },
    "social_care": {
        "note": (
            "Primary referrals: Poisson process in calendar time from birth with intensity "
            "lambda0(age) exp(eta). Marks by independent thinning: CIN (not NFA) with "
            "p_cin exp(gamma_cin'x); given CIN, a protection plan with p_cpp exp(gamma_cpp'x) "
            "and, independently, entry to care with p_cla r_cla(age) exp(gamma_cla'x + v_LA). "
            "Re-referrals: Poisson(m_early) offspring per primary 7-365 days later and "
            "Poisson(m_late) 366-1461 days later, independent of x; an offspring is a CIN "
            "episode only when its primary was (probability q), and never starts a plan or "
            "care. The primary scale is calibrated to the risk of a referral before 18, "
            "m_early and m_late to the referral rate and the re-referral share."
        ),
        # lambda0(age) = scale * shape[age], age in years = days / 365.25
        "referral_age_shape": [
            1.60,
            1.00,
            0.95,
            0.90,
            0.90,
            0.95,
            0.95,
            0.95,
            0.95,
            0.95,
            1.00,
            1.05,
            1.15,
            1.25,
            1.35,
            1.35,
            1.20,
            0.90,
        ],
        "cla_age_shape": [
            2.5,
            1.4,
            1.0,
            0.8,
            0.7,
            0.6,
            0.6,
            0.6,
            0.6,
            0.6,
            0.7,
            0.8,
            1.0,
            1.3,
            1.6,
            1.8,
            1.6,
            0.5,
        ],
        "log_hazard_ratio_referral": {
            "employment": 0.05,
            "education": 0.0,
            "health": 0.05,
            "housing": 0.0,
            "any_domain": 0.40,
            "fsm": 0.90,
            "employment:health": 0.15,
            "sex_male": 0.05,
            "la_mdh_prevalence_centred": -1.6,
            "mdh:la_mdh_prevalence_centred": -1.0,
        },
        "log_mark_cin": {"employment": 0.05, "fsm": 0.10},
        "log_mark_cpp": {"health": 0.05, "any_domain": 0.05, "fsm": 0.10},
        "log_mark_cla": {
            "employment": 0.15,
            "health": 0.10,
            "fsm": 0.15,
            "employment:health": 0.10,
        },
        "la_referral_sd": 0.45,
        "la_cla_sd": 0.25,
        "la_effect_clip_sd": 2.0,
        "rereferral_target_share": 0.24,
        "offspring_cin_probability": 0.6,
        "offspring_delay_days": [7, 365],
        "late_offspring_delay_days": [366, 1461],
        "nfa_closure_days": [0, 10],
        "cpp_delay_days": [10, 60],
        "cla_delay_days": [0, 90],
        "cin_duration_sd_log": 1.0,
        "cpp_duration_sd_log": 0.6,
        "cla_short_share": 0.35,
        "cla_short_median_days": 60,
        "cla_short_sd_log": 0.8,
        "cla_long_sd_log": 0.9,
        "cla_changes_per_year": 1.0,
        "primary_need_cin": {
            "N1": 0.49,
            "N2": 0.10,
            "N3": 0.04,
            "N4": 0.10,
            "N5": 0.18,
            "N6": 0.03,
            "N7": 0.005,
            "N8": 0.045,
            "N9": 0.01,
        },
        "primary_need_nfa": {"N0": 0.60, "N9": 0.20, "N1": 0.08, "N4": 0.06, "N5": 0.06},
        "primary_need_n1_when_plan_or_care": 0.85,
        "cla_start_legal_status": {
            "under_1": {"C1": 0.45, "V2": 0.35, "L2": 0.10, "L1": 0.10},
            "1_12": {"V2": 0.45, "C1": 0.35, "L1": 0.12, "L2": 0.08},
            "13_plus": {"V2": 0.65, "C1": 0.15, "L1": 0.10, "J1": 0.06, "J2": 0.04},
        },
        "cla_change_reason": {"P": 0.62, "L": 0.20, "T": 0.12, "U": 0.06},
    },
}


def default_parameters() -> dict:
    """A deep copy of the default data-generating parameters (see module docstring)."""
    return copy.deepcopy(_PARAMETERS)
