"""From marked referrals to CIN, protection-plan and looked-after records.

- A protection plan starts 10-60 days after a referral marked for one; a period of care
  starts 0-90 days after a referral marked for care (delays independent of x, so the
  hazards stay proportional). Starts after the 18th birthday or the extract date are not
  recorded; a second start on the same day for the same child is merged.
- Durations are log-normal; their medians are calibrated (bisection) so the number of
  children in need, on a plan and looked after on 31 March of the census year matches
  DfE (per 10,000 children), counted exactly as the fidelity report counts the tables.
  Ends are capped at the 18th birthday. A child's plans do not overlap, nor do periods of
  care: an earlier one ends the day before the next starts.
- A CIN episode (referral not NFA) stays open at least as long as the plan and the care
  it led to; an NFA referral closes within 10 days.
- Primary need: N1 (abuse or neglect) for 85% of referrals leading to a plan or care and
  a share of the others chosen so that N1 is 49% of CIN episodes overall (DfE 47-51%).
- Periods of care are split into contiguous SSDA903 episodes (see :func:`care_episodes`).
- The tables hold records of children with a pupil record, from the history start (or
  open at it) to the extract date; dates after the extract date are left empty (open).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from child_mdh.contract.tables import LEGAL_STATUS_CODES, PRIMARY_NEED_CODES
from child_mdh.sources.synthetic import calibration
from child_mdh.sources.synthetic.dates import age_on, birthday, day_number
from child_mdh.sources.synthetic.measures import (
    OPEN,
    children_open_on,
    person_years_year_before_census,
    rereferral,
    same_as_next,
    same_as_previous,
    truncate_overlaps,
)
from child_mdh.sources.synthetic.sampling import categorical, grouped_categorical

YEAR = 365.25


@dataclass
class Records:
    referrals: dict
    plans: dict
    episodes: dict
    truth: dict


def lognormal_days(log_median: float, sd: float, z: np.ndarray) -> np.ndarray:
    """Whole days exp(log_median + sd z), at least one."""
    return np.maximum(1, np.round(np.exp(log_median + sd * z))).astype(np.int64)


def bisect_increasing(f, lo: float, hi: float, iters: int = 40) -> float:
    """Root of an increasing (step) function on [lo, hi] by bisection, clamped to the ends."""
    if f(lo) >= 0:
        return lo
    if f(hi) <= 0:
        return hi
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        if f(mid) < 0:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def marked_starts(ref_child, ref_day, marked, delay, limit, rng):
    """Starts ``delay`` days after marked referrals, before ``limit[child]``, one per day.

    Returns (referral index, start day, child) sorted by child and start.
    """
    idx = np.flatnonzero(marked)
    start = ref_day[idx] + rng.integers(delay[0], delay[1] + 1, len(idx))
    child = ref_child[idx]
    ok = start < limit[child]
    idx, start, child = idx[ok], start[ok], child[ok]
    order = np.lexsort((start, child))
    idx, start, child = idx[order], start[order], child[order]
    first = ~same_as_previous(child, start)
    return idx[first], start[first], child[first]


def build_records(
    refs,
    ch,
    sp: dict,
    census_day: int,
    census_year: int,
    history_start: int,
    extract: int,
    rng: np.random.Generator,
) -> Records:
    """Plans, periods and episodes of care, CIN closures and needs; calibrated to the stocks."""
    bday18 = birthday(ch.dob, 18)
    limit = np.minimum(bday18, extract + 1)
    march31 = day_number(dt.date(census_year, 3, 31))
    stocks = calibration.stock_targets(census_year)
    n_children = len(ch.dob)

    def observed_stock(child, start, end):
        seen = ch.observed[child]
        return 10_000 * children_open_on(child[seen], start[seen], end[seen], march31) / n_children

    # protection plans
    cpp_ref, cpp_start, cpp_child = marked_starts(
        refs.child, refs.day, refs.cpp, sp["cpp_delay_days"], limit, rng
    )
    z_cpp = rng.standard_normal(len(cpp_ref))

    def cpp_ends(mu):
        end = np.minimum(
            cpp_start + lognormal_days(mu, sp["cpp_duration_sd_log"], z_cpp), bday18[cpp_child]
        )
        return truncate_overlaps(cpp_child, cpp_start, end)

    mu_cpp = bisect_increasing(
        lambda mu: observed_stock(cpp_child, cpp_start, cpp_ends(mu)) - stocks["cpp"],
        np.log(14),
        np.log(4000),
    )
    cpp_end = cpp_ends(mu_cpp)

    # periods of care: a mixture of short and long stays
    cla_ref, cla_start, cla_child = marked_starts(
        refs.child, refs.day, refs.cla, sp["cla_delay_days"], limit, rng
    )
    short = rng.random(len(cla_ref)) < sp["cla_short_share"]
    z_cla = rng.standard_normal(len(cla_ref))
    short_days = lognormal_days(np.log(sp["cla_short_median_days"]), sp["cla_short_sd_log"], z_cla)

    def cla_ends(mu):
        days = np.where(short, short_days, lognormal_days(mu, sp["cla_long_sd_log"], z_cla))
        end = np.minimum(cla_start + days, bday18[cla_child])
        return truncate_overlaps(cla_child, cla_start, end)

    mu_cla = bisect_increasing(
        lambda mu: observed_stock(cla_child, cla_start, cla_ends(mu)) - stocks["cla"],
        np.log(30),
        np.log(20000),
    )
    cla_end = cla_ends(mu_cla)

    # CIN episodes cover the plan and the care they led to; NFA referrals close quickly
    z_cin = rng.standard_normal(len(refs.child))
    covered = refs.day.copy()
    np.maximum.at(covered, cpp_ref, cpp_end)
    np.maximum.at(covered, cla_ref, cla_end)
    nfa_close = np.minimum(
        refs.day
        + rng.integers(sp["nfa_closure_days"][0], sp["nfa_closure_days"][1] + 1, len(refs.child)),
        extract,
    )
    cin = np.flatnonzero(refs.cin)

    def cin_closures(mu):
        own = refs.day + lognormal_days(mu, sp["cin_duration_sd_log"], z_cin)
        return np.where(
            refs.cin, np.minimum(np.maximum(own, covered), bday18[refs.child]), nfa_close
        )

    mu_cin = bisect_increasing(
        lambda mu: (
            observed_stock(refs.child[cin], refs.day[cin], cin_closures(mu)[cin]) - stocks["cin"]
        ),
        np.log(7),
        np.log(20000),
    )
    closure = cin_closures(mu_cin)

    serious = np.zeros(len(refs.child), dtype=bool)
    serious[cpp_ref] = True
    serious[cla_ref] = True
    need, need_truth = primary_need(refs.cin, serious, sp, rng)
    episodes = care_episodes(cla_child, cla_start, cla_end, ch.dob, sp, rng)

    # what the tables hold
    seen = ch.observed
    keep = seen[refs.child] & ((refs.day >= history_start) | (refs.cin & (closure > history_start)))
    referrals = {
        "child": refs.child[keep],
        "day": refs.day[keep],
        "need": need[keep],
        "closure": closure[keep],
        "nfa": ~refs.cin[keep],
    }
    keep = seen[cpp_child] & (cpp_end > history_start)
    plans = {"child": cpp_child[keep], "start": cpp_start[keep], "end": cpp_end[keep]}
    period_kept = seen[cla_child] & (cla_end > history_start)
    keep = period_kept[episodes["period"]] & (episodes["start"] <= extract)
    episodes = {k: v[keep] for k, v in episodes.items()}
    for rec, key in ((referrals, "closure"), (plans, "end"), (episodes, "end")):
        rec[key] = np.where(rec[key] > extract, OPEN, rec[key])

    in_year = seen[refs.child] & (refs.day >= census_day - 365) & (refs.day < census_day)
    rr = rereferral(refs.child[seen[refs.child]], refs.day[seen[refs.child]])
    rr_year = rr[in_year[seen[refs.child]]]
    truth = {
        "durations": {
            "cpp_log_median_days": mu_cpp,
            "cpp_sd_log": sp["cpp_duration_sd_log"],
            "cla_long_log_median_days": mu_cla,
            "cla_long_sd_log": sp["cla_long_sd_log"],
            "cla_short_share": sp["cla_short_share"],
            "cla_short_median_days": sp["cla_short_median_days"],
            "cin_log_median_days": mu_cin,
            "cin_sd_log": sp["cin_duration_sd_log"],
            "note": "ends are capped at the 18th birthday; a child's plans (and periods of care) "
            "do not overlap: an earlier one ends the day before the next starts",
        },
        "primary_need": need_truth,
        "realised": {
            "referrals_per_10000_year_before_census": 10_000
            * int(in_year.sum())
            / max(person_years_year_before_census(ch.age_at_census), 1e-12),
            "rereferral_share_year_before_census": float(rr_year.mean()) if len(rr_year) else None,
            "cin_per_10000_31_march": observed_stock(refs.child[cin], refs.day[cin], closure[cin]),
            "cpp_per_10000_31_march": observed_stock(cpp_child, cpp_start, cpp_end),
            "cla_per_10000_31_march": observed_stock(cla_child, cla_start, cla_end),
        },
    }
    return Records(referrals=referrals, plans=plans, episodes=episodes, truth=truth)


def primary_need(is_cin: np.ndarray, serious: np.ndarray, sp: dict, rng) -> tuple[np.ndarray, dict]:
    """Primary need code index of each referral (N0-N9), and the shares used."""
    codes = list(PRIMARY_NEED_CODES)
    cin_table = sp["primary_need_cin"]
    n1_serious = sp["primary_need_n1_when_plan_or_care"]
    f_serious = float(serious[is_cin].mean()) if is_cin.any() else 0.0
    n1_other = min(
        max((cin_table["N1"] - n1_serious * f_serious) / max(1 - f_serious, 1e-9), 0.0), 1.0
    )
    rest = {k: v for k, v in cin_table.items() if k != "N1"}

    def probs(n1):
        p = np.zeros(len(codes))
        p[codes.index("N1")] = n1
        for k, v in rest.items():
            p[codes.index(k)] = (1 - n1) * v / sum(rest.values())
        return p

    nfa = np.zeros(len(codes))
    for k, v in sp["primary_need_nfa"].items():
        nfa[codes.index(k)] = v
    group = np.where(~is_cin, 0, np.where(serious, 1, 2))
    need = grouped_categorical(rng, group, np.vstack([nfa, probs(n1_serious), probs(n1_other)]))
    return need, {"n1_share_with_plan_or_care": n1_serious, "n1_share_other_cin": n1_other}


def care_episodes(child, start, end, dob, sp: dict, rng: np.random.Generator) -> dict:
    """Contiguous SSDA903 episodes within each period of care.

    The first episode starts the period (RNE S) with a legal status drawn by age; changes
    arrive as a Poisson process (``cla_changes_per_year``) on distinct days inside the
    period, each a change of placement (P, U), of legal status (L) or both (T). An episode
    ends the day the next starts; the last ends with the period. Legal status moves
    V2 -> C1 -> C2 -> E1 (placement order, under-10s only), L1/L2 -> C1, J1/J2 -> V2.
    """
    n_periods = len(child)
    k = rng.poisson(sp["cla_changes_per_year"] * np.maximum(end - start, 0) / YEAR)
    period = np.repeat(np.arange(n_periods), k)
    span = (end - start)[period]
    offset = 1 + np.floor(rng.random(len(period)) * np.maximum(span - 1, 0)).astype(np.int64)
    period, offset = period[span >= 2], offset[span >= 2]
    order = np.lexsort((offset, period))
    period, offset = period[order], offset[order]
    distinct = ~same_as_previous(period, offset)
    period, offset = period[distinct], offset[distinct]

    ep_period = np.concatenate([np.arange(n_periods), period])
    ep_start = np.concatenate([start, start[period] + offset])
    order = np.lexsort((ep_start, ep_period))
    ep_period, ep_start = ep_period[order], ep_start[order]
    next_start = np.zeros(len(ep_start), dtype=np.int64)
    next_start[:-1] = ep_start[1:]
    ep_end = np.where(same_as_next(ep_period), next_start, end[ep_period])
    first = ~same_as_previous(ep_period)
    position = np.arange(len(ep_period))
    rank = position - np.maximum.accumulate(np.where(first, position, 0))

    reasons = np.array(list(sp["cla_change_reason"]), dtype=object)
    reason = reasons[categorical(rng, list(sp["cla_change_reason"].values()), len(ep_period))]
    reason = np.where(first, "S", reason).astype(object)

    ls_codes = list(LEGAL_STATUS_CODES)
    age = age_on(dob[child[ep_period]], ep_start)
    probs = np.zeros((3, len(ls_codes)))
    for g, name in enumerate(("under_1", "1_12", "13_plus")):
        for code, p in sp["cla_start_legal_status"][name].items():
            probs[g, ls_codes.index(code)] = p
    status = grouped_categorical(rng, np.select([age < 1, age <= 12], [0, 1], 2), probs)
    transition = np.arange(len(ls_codes))
    for a, b in {
        "V2": "C1",
        "C1": "C2",
        "C2": "E1",
        "E1": "C2",
        "L1": "C1",
        "L2": "C1",
        "J1": "V2",
        "J2": "V2",
    }.items():
        transition[ls_codes.index(a)] = ls_codes.index(b)
    c2 = ls_codes.index("C2")
    for r in range(1, int(rank.max()) + 1 if len(rank) else 0):
        at = np.flatnonzero(rank == r)
        prev = status[at - 1]
        changes = np.isin(reason[at], ["L", "T"])
        # placement orders are for young children: older children on a care order change
        # placement only
        blocked = changes & (prev == c2) & (age[at] >= 10)
        reason[at[blocked]] = "P"
        status[at] = np.where(changes & ~blocked, transition[prev], prev)
    return {
        "child": child[ep_period],
        "period": ep_period,
        "start": ep_start,
        "end": ep_end,
        "legal_status": np.array(ls_codes, dtype=object)[status],
        "reason": reason,
    }
