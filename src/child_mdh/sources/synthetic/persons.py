"""Household members whose attributes reproduce the household's deprivation flags exactly.

ONS household deprivation dimensions (Census 2011 QS119EW, Census 2021 TS011):

- employment: any member who is not a full-time student is unemployed or long-term sick or
  disabled (contract code ``inactive_long_term_sick_or_disabled``);
- education: no member has at least a level 2 qualification AND no member aged 16-18 is a
  full-time student (level 2 or above: level2, apprenticeship, level3, level4_plus);
- health: any member has general health bad or very bad (4, 5) OR day-to-day activities
  limited a lot or a little;
- housing: see :func:`child_mdh.sources.synthetic.households.draw_dwellings`.

Members are laid out in ten slots per household (parent 1, parent 2, two grandparents, an
adult child aged 18-24, and up to five dependent children aged 0-17). Attributes are drawn
from role-specific distributions and then constrained, household by household and fully
vectorised: a deprived household gets a designated member who carries the deprivation; a
household that is not deprived has every member's attribute restricted so it cannot be.
Noise that leaves the flags unchanged is kept on purpose: full-time students who are
unemployed, retired grandparents, fair health (3), 'other' and 'unknown' qualifications,
students aged 19-24, and not_applicable codes under 16.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from child_mdh.contract import tables as contract
from child_mdh.sources.synthetic.dates import add_years, age_on, day_number, to_date
from child_mdh.sources.synthetic.households import Households
from child_mdh.sources.synthetic.sampling import categorical, grouped_categorical

P1, P2, G1, G2, S = 0, 1, 2, 3, 4
CHILD_SLOTS = (5, 6, 7, 8, 9)
N_SLOTS = 10
SLOT_ROLES = (
    "parent1",
    "parent2",
    "grandparent",
    "grandparent",
    "adult_child",
    "child",
    "child",
    "child",
    "child",
    "child",
)

ACT = {c: i for i, c in enumerate(contract.ECONOMIC_ACTIVITY_CODES)}
QUAL = {c: i for i, c in enumerate(contract.QUALIFICATION_CODES)}
DIS = {c: i for i, c in enumerate(contract.DISABILITY_CODES)}
LEVEL2_PLUS = ("level2", "apprenticeship", "level3", "level4_plus")
LEVEL2_PLUS_IDX = np.array([QUAL[c] for c in LEVEL2_PLUS])
ETHNIC = contract.ETHNIC_GROUP_CODES


@dataclass
class Persons:
    """Person-level arrays in household order (slot order within a household)."""

    household: np.ndarray  # household index
    slot: np.ndarray
    age: np.ndarray
    dob: np.ndarray  # day number; children only (-1 for adults)
    male: np.ndarray
    full_time_student: np.ndarray
    economic_activity: np.ndarray  # index into ECONOMIC_ACTIVITY_CODES
    highest_qualification: np.ndarray  # index into QUALIFICATION_CODES
    general_health: np.ndarray
    disability: np.ndarray  # index into DISABILITY_CODES
    ethnic_group: np.ndarray  # index into ETHNIC_GROUP_CODES

    def __len__(self) -> int:
        return len(self.household)


def _probs(table: dict, codes: dict) -> np.ndarray:
    p = np.zeros(len(codes))
    for k, v in table.items():
        p[codes[k]] = v
    return p / p.sum()


def _activity_variants(table: dict) -> np.ndarray:
    """Rows: not employment-deprived; deprived but not health-deprived; deprived in both.

    Not employment-deprived: no unemployed and no long-term sick member (among non-students).
    Long-term sick also needs health deprivation (the person is given a limiting condition).
    """
    base = _probs(table, ACT)
    no_emp = base.copy()
    no_emp[[ACT["unemployed"], ACT["inactive_long_term_sick_or_disabled"]]] = 0
    emp_only = base.copy()
    emp_only[ACT["inactive_long_term_sick_or_disabled"]] = 0
    return np.vstack([no_emp / no_emp.sum(), emp_only / emp_only.sum(), base])


def draw_children_dob(
    hh: Households, params: dict, census_day: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Dates of birth of the dependent children, (H, 5) day numbers (-1 where absent).

    Siblings are spaced by 300 days plus a gamma-distributed gap; the oldest child's date of
    birth is uniform over the window that keeps every child aged 0-17 on census day. Returns
    (dob, span_days) where span is the oldest-to-youngest spacing.
    """
    gp = params["households"]["sibling_gap_days"]
    n = len(hh)
    earliest = day_number(add_years(to_date(census_day), -18)) + 1  # aged 17 on census day
    window = census_day - earliest
    gaps = gp["minimum"] + rng.gamma(gp["gamma_shape"], gp["gamma_scale"], size=(n, 4))
    offsets = np.concatenate([np.zeros((n, 1)), np.cumsum(gaps, axis=1)], axis=1)
    last = hh.n_children - 1
    span = offsets[np.arange(n), last]
    scale = np.minimum(1.0, 0.95 * window / np.maximum(span, 1.0))
    offsets = np.floor(offsets * scale[:, None]).astype(np.int64)
    span = offsets[np.arange(n), last]
    oldest = earliest + np.floor(rng.random(n) * (window - span + 1)).astype(np.int64)
    dob = oldest[:, None] + offsets
    present = np.arange(5)[None, :] < hh.n_children[:, None]
    return np.where(present, dob, -1), span


def draw_persons(
    hh: Households, params: dict, region_codes: list[str], census_day: int, rng: np.random.Generator
) -> Persons:
    """Every member of every household, consistent with the household's four flags."""
    pp = params["persons"]
    hp = params["households"]
    n = len(hh)
    E, ED, HE = hh.flags[:, 0], hh.flags[:, 1], hh.flags[:, 2]
    couple = hh.household_type == 0
    lone = hh.household_type == 1
    multi = hh.household_type == 2

    # --- who is present -------------------------------------------------------------------
    present = np.zeros((n, N_SLOTS), dtype=bool)
    present[:, P1] = True
    multi_couple = multi & (rng.random(n) < hp["multigenerational_couple_parents"])
    present[:, P2] = couple | multi_couple
    present[:, G1] = multi
    present[:, G2] = multi & (rng.random(n) < hp["multigenerational_two_grandparents"])
    present[:, S] = rng.random(n) < hp["adult_child_18_24"]
    for k, slot in enumerate(CHILD_SLOTS):
        present[:, slot] = hh.n_children > k

    # --- ages and sex -----------------------------------------------------------------------
    dob_children, span = draw_children_dob(hh, params, census_day, rng)
    age = np.zeros((n, N_SLOTS), dtype=np.int64)
    dob = np.full((n, N_SLOTS), -1, dtype=np.int64)
    child_age = np.where(dob_children >= 0, age_on(np.maximum(dob_children, 0), census_day), 0)
    age[:, 5:] = child_age
    dob[:, 5:] = dob_children
    oldest_age = child_age[:, 0]
    ma = hp["mother_age_at_first_birth"]
    at_first = np.clip(rng.normal(ma["mean"], ma["sd"], n), ma["min"], ma["max"])
    at_first = np.maximum(np.minimum(at_first, 47 - span / 365.25), ma["min"])
    age[:, S] = rng.integers(18, 25, n)
    p1_age = oldest_age + np.round(at_first).astype(np.int64)
    p1_age = np.where(present[:, S], np.maximum(p1_age, age[:, S] + 17), p1_age)
    age[:, P1] = p1_age
    age[:, P2] = np.clip(p1_age + np.round(rng.normal(2.5, 4.0, n)).astype(np.int64), 18, 85)
    g1 = p1_age + np.clip(np.round(rng.normal(27, 5, n)), 17, 45).astype(np.int64)
    age[:, G1] = np.minimum(g1, 100)
    age[:, G2] = np.clip(g1 + np.round(rng.normal(2, 3, n)).astype(np.int64), 35, 100)

    male = np.zeros((n, N_SLOTS), dtype=bool)
    p1_female = np.where(lone, rng.random(n) < hp["lone_parent_female"], rng.random(n) < 0.985)
    male[:, P1] = ~p1_female
    male[:, P2] = np.where(rng.random(n) < 0.98, p1_female, ~p1_female)
    male[:, G1] = rng.random(n) < 0.4
    male[:, G2] = ~male[:, G1]
    male[:, S] = rng.random(n) < 0.512
    male[:, 5:] = rng.random((n, 5)) < 0.512

    adult = age >= 16

    # --- full-time students ---------------------------------------------------------------
    u = rng.random((n, N_SLOTS))
    student = np.zeros((n, N_SLOTS), dtype=bool)
    child_block = age[:, 5:]
    student[:, 5:] = np.where(child_block >= 16, u[:, 5:] < pp["student_16_17"], child_block >= 5)
    p_s = np.where(age[:, S] <= 21, pp["student_18_21"], pp["student_22_24"])
    student[:, S] = u[:, S] < p_s
    student[:, P1] = u[:, P1] < pp["student_parent"]
    student[:, P2] = u[:, P2] < pp["student_parent"]
    # education-deprived: no member aged 16-18 may be a full-time student
    student &= ~(ED[:, None] & (age >= 16) & (age <= 18))
    student &= present

    # --- economic activity ----------------------------------------------------------------
    # designated member carrying employment deprivation: parent 2 sometimes, else parent 1
    designated_emp = np.where(
        present[:, P2] & (rng.random(n) < pp["designated_employment_partner"]), P2, P1
    )
    rows = np.arange(n)
    student[rows[E], designated_emp[E]] = False

    variant = np.where(~E, 0, np.where(HE, 2, 1))
    act = np.full((n, N_SLOTS), ACT["not_applicable"], dtype=np.int64)
    acts = pp["activity"]
    role_tables = {
        P1: acts["parent1"],
        P2: acts["parent2"],
        S: acts["adult_child"],
    }
    for slot, table in role_tables.items():
        act[:, slot] = grouped_categorical(rng, variant, _activity_variants(table))
    for slot in (G1, G2):
        young = grouped_categorical(rng, variant, _activity_variants(acts["grandparent_under_66"]))
        old = grouped_categorical(rng, variant, _activity_variants(acts["grandparent_66_plus"]))
        act[:, slot] = np.where(age[:, slot] >= 66, old, young)
    for slot in CHILD_SLOTS:
        act[:, slot] = grouped_categorical(rng, variant, _activity_variants(acts["child_16_17"]))
    student_act = _probs(pp["student_activity"], ACT)
    act = np.where(student, categorical(rng, student_act, n * N_SLOTS).reshape(n, N_SLOTS), act)
    lts_designated = HE & (rng.random(n) < pp["lts_given_employment_and_health"])
    designated_code = np.where(
        lts_designated, ACT["inactive_long_term_sick_or_disabled"], ACT["unemployed"]
    )
    act[rows[E], designated_emp[E]] = designated_code[E]
    act = np.where(adult & present, act, ACT["not_applicable"])

    # --- qualifications ----------------------------------------------------------------------
    qp = pp["qualification"]
    multiply = hh.n_domains >= 2
    ed_any = categorical(rng, _probs(pp["qualification_education_deprived"], QUAL), n * N_SLOTS)
    ed_young = categorical(
        rng, _probs(pp["qualification_education_deprived_16_17"], QUAL), n * N_SLOTS
    )
    ed_draw = np.where(age.ravel() <= 17, ed_young, ed_any).reshape(n, N_SLOTS)
    parent_variant = multiply.astype(np.int64)
    parent_tables = np.vstack(
        [_probs(qp["parent"], QUAL), _probs(qp["parent_multiply_deprived"], QUAL)]
    )
    ok = np.zeros((n, N_SLOTS), dtype=np.int64)
    for slot in (P1, P2):
        ok[:, slot] = grouped_categorical(rng, parent_variant, parent_tables)
    for slot in (G1, G2):
        ok[:, slot] = categorical(rng, _probs(qp["grandparent"], QUAL), n)
    ok[:, S] = categorical(rng, _probs(qp["adult_child"], QUAL), n)
    ok[:, 5:] = categorical(rng, _probs(qp["child_16_17"], QUAL), n * 5).reshape(n, 5)
    # a parent aged 16-17 draws from the parent table: fine, any code is allowed at 16+
    qual = np.where(ED[:, None], ed_draw, ok)
    qual = np.where(adult & present, qual, QUAL["not_applicable"])
    has_level2 = (np.isin(qual, LEVEL2_PLUS_IDX) & present).any(axis=1)
    has_student_16_18 = (student & (age >= 16) & (age <= 18) & present).any(axis=1)
    need = ~ED & ~has_level2 & ~has_student_16_18
    designated_edu = np.where(present[:, P2] & (rng.random(n) < 0.5), P2, P1)
    forced = categorical(rng, _probs(qp["forced_level2_plus"], QUAL), n)
    qual[rows[need], designated_edu[need]] = forced[need]

    # --- health and disability -------------------------------------------------------------
    gh_tables = pp["general_health"]
    dis_tables = pp["disability"]
    groups = ("child", "adult_under_50", "adult_50_64", "adult_65_plus")
    age_group = np.select([age < 16, age < 50, age < 65], [0, 1, 2], 3)
    gh_probs = np.vstack([np.asarray(gh_tables[g]) / np.sum(gh_tables[g]) for g in groups])
    gh = grouped_categorical(rng, age_group.ravel(), gh_probs).reshape(n, N_SLOTS) + 1
    dis_probs = np.vstack(
        [[dis_tables[g][0], dis_tables[g][1], 1 - sum(dis_tables[g])] for g in groups]
    )
    dis = grouped_categorical(rng, age_group.ravel(), dis_probs).reshape(n, N_SLOTS)
    lts = (act == ACT["inactive_long_term_sick_or_disabled"]) & present
    lts_dis = categorical(rng, [0.6, 0.4, 0.0], n * N_SLOTS).reshape(n, N_SLOTS)
    lts_gh = categorical(rng, [0, 0, 0.3, 0.5, 0.2], n * N_SLOTS).reshape(n, N_SLOTS) + 1
    dis = np.where(lts, lts_dis, dis)
    gh = np.where(lts, lts_gh, gh)
    # not health-deprived: nobody in bad health or limited
    gh = np.where(HE[:, None], gh, np.minimum(gh, 3))
    dis = np.where(HE[:, None], dis, DIS["not_limited"])
    # health-deprived without a long-term sick member: a designated member carries it
    need_h = HE & ~lts.any(axis=1)
    w = pp["health_designated_weights"]
    cand = np.column_stack(
        [
            np.full(n, w["parent1"]),
            np.where(present[:, P2], w["parent2"], 0.0),
            np.where(present[:, G1], w["grandparent"], 0.0),
            np.full(n, w["child"]),
        ]
    )
    cand_slot = np.array([P1, P2, G1, CHILD_SLOTS[0]])
    cum = np.cumsum(cand / cand.sum(axis=1, keepdims=True), axis=1)
    pick = (rng.random(n)[:, None] >= cum).sum(axis=1).clip(0, 3)
    designated_h = cand_slot[pick]
    by_dis = rng.random(n) < pp["health_designated_by_disability"]
    d_dis = categorical(rng, [0.45, 0.55], n)  # limited a lot / a little
    d_gh_dis = categorical(rng, [0, 0.1, 0.4, 0.35, 0.15], n) + 1
    d_gh_bad = np.where(rng.random(n) < 0.75, 4, 5)
    hr = rows[need_h]
    hs = designated_h[need_h]
    dis[hr, hs] = np.where(by_dis[need_h], d_dis[need_h], dis[hr, hs])
    gh[hr, hs] = np.where(by_dis[need_h], d_gh_dis[need_h], d_gh_bad[need_h])

    # --- ethnic group (one per household) -------------------------------------------------
    eg = pp["ethnic_group"]
    eg_probs = np.vstack(
        [
            _probs(eg.get(code, eg["default"]), {c: i for i, c in enumerate(ETHNIC)})
            for code in region_codes
        ]
    )
    ethnic = grouped_categorical(rng, hh.region_index, eg_probs)

    # --- long format (compact dtypes) ------------------------------------------------------
    hidx, slot = np.nonzero(present)
    return Persons(
        household=hidx.astype(np.int64),
        slot=slot.astype(np.int8),
        age=age[hidx, slot].astype(np.int16),
        dob=dob[hidx, slot],
        male=male[hidx, slot],
        full_time_student=student[hidx, slot],
        economic_activity=act[hidx, slot].astype(np.int8),
        highest_qualification=qual[hidx, slot].astype(np.int8),
        general_health=gh[hidx, slot].astype(np.int8),
        disability=dis[hidx, slot].astype(np.int8),
        ethnic_group=ethnic[hidx].astype(np.int8),
    )


#: Households per batch: bounds the memory of the ten-slot layout (fixed, so results
#: do not depend on anything but the seed and N).
BATCH_HOUSEHOLDS = 250_000


def draw_all_persons(
    hh: Households, params: dict, region_codes: list[str], census_day: int, rng: np.random.Generator
) -> Persons:
    """:func:`draw_persons` over batches of households, concatenated in household order."""
    parts = []
    for start in range(0, len(hh), BATCH_HOUSEHOLDS):
        part = draw_persons(
            hh.rows(start, start + BATCH_HOUSEHOLDS), params, region_codes, census_day, rng
        )
        part.household += start
        parts.append(part)
    return Persons(
        **{f: np.concatenate([getattr(p, f) for p in parts]) for f in Persons.__dataclass_fields__}
    )


def reference_flags(
    p: Persons, occupancy: np.ndarray, shared: np.ndarray, heating: np.ndarray, n_households: int
) -> np.ndarray:
    """The four flags recomputed from the generated members (ONS rules), (H, 4) bool.

    Used by the generator as an internal consistency check before anything is written.
    """
    not_student = ~p.full_time_student
    emp_person = not_student & np.isin(
        p.economic_activity, [ACT["unemployed"], ACT["inactive_long_term_sick_or_disabled"]]
    )
    l2_person = np.isin(p.highest_qualification, LEVEL2_PLUS_IDX)
    st_person = p.full_time_student & (p.age >= 16) & (p.age <= 18)
    h_person = (p.general_health >= 4) | np.isin(
        p.disability, [DIS["limited_a_lot"], DIS["limited_a_little"]]
    )

    def any_by_household(mask):
        return np.bincount(p.household[mask], minlength=n_households) > 0

    employment = any_by_household(emp_person)
    education = ~any_by_household(l2_person) & ~any_by_household(st_person)
    health = any_by_household(h_person)
    housing = (occupancy <= -1) | shared | ~heating
    return np.column_stack([employment, education, health, housing])
