"""School census (the National Pupil Database), free school meals and census-NPD linkage.

- Census days: spring census on the third Thursday of January (default, one per academic
  year); with ``frequency='termly'`` also autumn (first Thursday of October) and summer
  (third Thursday of May), as in the DfE school census.
- A child is on roll at a census when aged 4-15 on the 31 August that starts the academic
  year (reception to year 11) and not at an independent school. Independent-school pupils
  (about 6.5% of pupils; more in London, the South East and affluent households) have no
  pupil record.
- Free school meals: entitlement at census t is Bernoulli(logistic(alpha_t + x'beta + v_LA +
  u_child)) with a persistent child effect u_child; the recorded FSM flag is entitlement AND
  claiming, claiming a persistent child trait (86%: about 14% of entitled pupils were not
  registered in 2012, DfE). alpha_t is solved so that the recorded rate among that census's
  pupils equals the national rate published for that January (DfE 'Schools, pupils and
  their characteristics'; January 2021: 20.8%), interpolated between published years where
  a date has no published value (:func:`child_mdh.sources.synthetic.calibration.fsm_target_detail`).
  Where a January's figures are published by phase (January 2011: state-funded primary
  19.2%, secondary 15.9%), alpha_t is solved for primary pupils (aged 4-10 on the 31
  August that starts the year) and secondary pupils (11-15) separately
  (:func:`child_mdh.sources.synthetic.calibration.fsm_phase_targets`).
- Linkage: every state pupil has one pupil record; a few percent are not linked to their
  census record (higher for households deprived in two or more dimensions, lone-parent and
  multigenerational households, and varying by LA). There are no false links.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from child_mdh.sources.synthetic import calibration
from child_mdh.sources.synthetic.dates import add_years, age_on, day_number, nth_weekday
from child_mdh.sources.synthetic.sampling import expit, solve_increasing

THURSDAY = 3


def census_dates(
    reference: dt.date, first: dt.date, last: dt.date, frequency: str = "annual"
) -> list[dt.date]:
    """School census days in (first, last]: spring only, or autumn, spring and summer."""
    if frequency not in ("annual", "termly"):
        raise ValueError(f"school census frequency must be 'annual' or 'termly', got {frequency!r}")
    out = []
    for year in range(first.year - 1, last.year + 2):
        days = [nth_weekday(year, 1, THURSDAY, 3)]
        if frequency == "termly":
            days += [nth_weekday(year, 5, THURSDAY, 3), nth_weekday(year, 10, THURSDAY, 1)]
        out.extend(d for d in days if first < d <= last)
    return sorted(out)


def academic_year_start(date: dt.date) -> dt.date:
    """1 September that starts the academic year containing ``date``."""
    return dt.date(date.year if date.month >= 9 else date.year - 1, 9, 1)


def reference_census(dates: list[dt.date], reference: dt.date) -> dt.date:
    """The latest census on or before the reference date (NPD 'at reference' convention)."""
    before = [d for d in dates if d <= reference]
    if not before:
        raise ValueError("no school census on or before the reference date")
    return before[-1]


@dataclass
class SchoolRecords:
    """Pupil-census rows and the per-child school and linkage facts."""

    child: np.ndarray  # row -> child index
    census_day: np.ndarray  # row -> day number
    school_la: np.ndarray  # row -> LA index of the school
    school: np.ndarray  # row -> index into school_ids
    fsm: np.ndarray  # row -> recorded FSM
    school_ids: np.ndarray  # object array of school identifiers
    private: np.ndarray  # child -> independent school
    has_record: np.ndarray  # child -> at least one pupil row
    linked: np.ndarray  # child -> has a census_npd_link row
    pupil_number: np.ndarray  # child -> pupil number (-1 if no record)
    fsm_reference: np.ndarray  # child -> FSM recorded-or-latent at the reference census
    truth: dict


def _solve_intercept(lin: np.ndarray, weight: np.ndarray, target: float) -> float:
    """alpha such that mean(weight * expit(alpha + lin)) == target (logit(target) if no rows)."""
    if len(lin) == 0:
        return float(np.log(target / (1 - target)))
    return solve_increasing(
        lambda a: float(np.mean(weight * expit(a + lin))) - target, -30.0, 30.0, xtol=1e-10
    )


def build_school_records(
    child_dob: np.ndarray,
    child_la: np.ndarray,
    child_region: np.ndarray,
    child_domains: np.ndarray,
    child_type: np.ndarray,
    region_codes: list[str],
    la_codes: np.ndarray,
    la_households: np.ndarray,
    la_region: np.ndarray,
    reference: dt.date,
    first: dt.date,
    extract: dt.date,
    frequency: str,
    params: dict,
    rngs: dict,
    la_effects: dict,
    private_share: float,
    mismatch_rate: float,
    mismatch_per_domain: float = 0.0,
) -> SchoolRecords:
    """Pupil rows for every state-educated child at every census in (first, extract]."""
    sp = params["school"]
    fp = params["fsm"]
    rng = rngs["school"]
    n = len(child_dob)
    n_domains = child_domains.sum(axis=1)

    # independent schools: logit P = a + region + deprivation terms, a solved for the share
    pv = sp["private"]
    region_term = np.array([pv["region"].get(code, 0.0) for code in region_codes])[child_region]
    lin_private = (
        region_term
        + pv["any_domain"] * (n_domains >= 1)
        + pv["two_plus_domains"] * (n_domains >= 2)
    )
    a_private = _solve_intercept(lin_private, np.ones(n), private_share)
    private = rng.random(n) < expit(a_private + lin_private)

    # schools per LA (real-scale counts), and each child's primary and secondary school
    n_primary = np.maximum(1, np.round(la_households * sp["primary_schools_per_household"])).astype(
        np.int64
    )
    n_secondary = np.maximum(
        1, np.round(la_households * sp["secondary_schools_per_household"])
    ).astype(np.int64)
    ids = []
    primary_offset = np.zeros(len(la_codes), dtype=np.int64)
    secondary_offset = np.zeros(len(la_codes), dtype=np.int64)
    pos = 0
    for i, code in enumerate(la_codes):
        primary_offset[i] = pos
        ids.extend(f"{code}P{k + 1:03d}" for k in range(n_primary[i]))
        pos += n_primary[i]
        secondary_offset[i] = pos
        ids.extend(f"{code}S{k + 1:03d}" for k in range(n_secondary[i]))
        pos += n_secondary[i]
    school_ids = np.array(ids, dtype=object)

    cb = sp["cross_border"]
    london = np.array([code == "E12000007" for code in region_codes])[child_region]
    mult = np.where(london, cb["london_multiplier"], 1.0)

    def school_la(p_cross):
        crosses = rng.random(n) < p_cross * mult
        # another LA in the same region, uniformly (a stand-in for a neighbouring LA)
        other = child_la.copy()
        for r in np.unique(child_region[crosses]):
            region_las = np.flatnonzero(la_region == r)
            if len(region_las) < 2:
                continue
            who = np.flatnonzero(crosses & (child_region == r))
            # uniform over the region's other LAs: draw among n-1 positions, skip the own
            pick_pos = rng.integers(0, len(region_las) - 1, len(who))
            own_pos = np.searchsorted(region_las, child_la[who])
            other[who] = region_las[pick_pos + (pick_pos >= own_pos)]
        return other

    primary_la = school_la(cb["primary"])
    secondary_la = school_la(cb["secondary"])
    primary_school = primary_offset[primary_la] + np.floor(
        rng.random(n) * n_primary[primary_la]
    ).astype(np.int64)
    secondary_school = secondary_offset[secondary_la] + np.floor(
        rng.random(n) * n_secondary[secondary_la]
    ).astype(np.int64)

    # FSM latent model
    frng = rngs["fsm"]
    coef = fp["coefficients"]
    lone = child_type == 1
    lin_fsm = (
        coef["employment"] * child_domains[:, 0]
        + coef["education"] * child_domains[:, 1]
        + coef["health"] * child_domains[:, 2]
        + coef["housing"] * child_domains[:, 3]
        + coef["lone_parent"] * lone
        + la_effects["fsm"][child_la]
        + frng.normal(0.0, fp["child_sd"], n)
    )
    claims = frng.random(n) < fp["claim_probability"]

    dates = census_dates(reference, first, extract, frequency)
    ref_date = reference_census(dates, reference)
    rows_child, rows_day, rows_la, rows_school, rows_fsm = [], [], [], [], []
    alphas, targets, achieved, n_pupils, phase_truth = {}, {}, {}, {}, {}
    fsm_reference = np.zeros(n, dtype=bool)
    calib_cap = 400_000
    for d in dates:
        ay = academic_year_start(d)
        age_aug = age_on(child_dob, day_number(ay - dt.timedelta(days=1)))
        on_roll = (age_aug >= 4) & (age_aug <= 15) & ~private
        who = np.flatnonzero(on_roll)
        key = d.isoformat()
        phases = calibration.fsm_phase_targets(d)
        if phases is None:
            target = calibration.fsm_target(d)
            sample = who[:calib_cap]
            alpha = _solve_intercept(lin_fsm[sample], claims[sample].astype(float), target)
        else:
            # one intercept per phase; the census's target is their pupil-weighted mean
            secondary_all = age_aug >= 11
            alpha = np.zeros(n)
            phase_alpha, weighted = {}, 0.0
            for name, mask in (("primary", ~secondary_all), ("secondary", secondary_all)):
                members = who[mask[who]]
                sample = members[:calib_cap]
                a = _solve_intercept(
                    lin_fsm[sample], claims[sample].astype(float), phases[name].value
                )
                alpha[mask] = a
                phase_alpha[name] = a
                weighted += phases[name].value * len(members)
            target = weighted / max(len(who), 1)
            phase_truth[key] = {
                "alpha": phase_alpha,
                "target_rate": {k: t.value for k, t in phases.items()},
                "primary": "aged 4-10 on the 31 August that starts the academic year",
                "secondary": "aged 11-15 on that day",
            }
        if d == ref_date:
            u_all = frng.random(n)
            fsm_reference = claims & (u_all < expit(alpha + lin_fsm))
            fsm = fsm_reference[who]
        else:
            fsm = claims[who] & (
                frng.random(len(who)) < expit(np.broadcast_to(alpha, (n,))[who] + lin_fsm[who])
            )
        secondary = age_aug[who] >= 11
        rows_child.append(who.astype(np.int32))
        rows_day.append(np.full(len(who), day_number(d), dtype=np.int32))
        rows_la.append(np.where(secondary, secondary_la[who], primary_la[who]).astype(np.int16))
        rows_school.append(
            np.where(secondary, secondary_school[who], primary_school[who]).astype(np.int32)
        )
        rows_fsm.append(fsm)
        alphas[key] = float(alpha) if np.ndim(alpha) == 0 else phase_truth[key]["alpha"]
        targets[key] = target
        achieved[key] = float(fsm.mean()) if len(fsm) else None
        if key in phase_truth:
            phase_truth[key]["achieved_rate"] = {
                "primary": float(fsm[~secondary].mean()) if (~secondary).any() else None,
                "secondary": float(fsm[secondary].mean()) if secondary.any() else None,
            }
        n_pupils[key] = len(who)

    child = np.concatenate(rows_child) if rows_child else np.zeros(0, dtype=np.int64)
    has_record = np.bincount(child, minlength=n) > 0

    # pupil numbers: a random permutation, so identifiers carry no order
    lrng = rngs["linkage"]
    pupils = np.flatnonzero(has_record)
    pupil_number = np.full(n, -1, dtype=np.int64)
    pupil_number[pupils] = lrng.permutation(len(pupils))

    mp = sp["mismatch"]
    lin_mis = (
        la_effects["mismatch"][child_la]
        + mp["two_plus_domains"] * (n_domains >= 2)
        + mp["lone_parent"] * (child_type == 1)
        + mp["multigenerational"] * (child_type == 2)
    )
    if mismatch_per_domain:  # an option: adding 0.0 would change nothing but is skipped
        lin_mis = lin_mis + mismatch_per_domain * n_domains
    b_mis = (
        _solve_intercept(lin_mis[pupils], np.ones(len(pupils)), mismatch_rate)
        if len(pupils)
        else 0.0
    )
    mismatch = lrng.random(n) < expit(b_mis + lin_mis)
    linked = has_record & ~mismatch

    truth = {
        "census_dates": [d.isoformat() for d in dates],
        "frequency": frequency,
        "reference_census": ref_date.isoformat(),
        "private_school": {
            "model": "logit P(independent school) = a + region + any_domain*(n>=1) + two_plus*(n>=2)",
            "intercept_calibrated": a_private,
            "target_share": private_share,
            "realised_share_children": float(private.mean()),
        },
        "fsm": {
            "alpha_by_census": alphas,
            "target_rate_by_census": targets,
            "achieved_rate_by_census": achieved,
            "pupils_by_census": n_pupils,
            "by_phase": phase_truth,
            "reference_census_rate_all_children_latent": float(fsm_reference.mean()),
        },
        "linkage": {
            "model": "logit P(not linked | state pupil) = b + LA effect + terms "
            "+ per_domain * n_domains",
            "per_domain": mismatch_per_domain,
            "intercept_calibrated": b_mis,
            "target_rate": mismatch_rate,
            "children_with_pupil_record": int(has_record.sum()),
            "children_linked": int(linked.sum()),
            "mismatch_rate_among_pupils": (
                float(1 - linked[has_record].mean()) if has_record.any() else None
            ),
            "children_without_pupil_record": int((~has_record).sum()),
        },
        "schools": {"primary": int(n_primary.sum()), "secondary": int(n_secondary.sum())},
    }
    return SchoolRecords(
        child=child,
        census_day=np.concatenate(rows_day) if rows_day else np.zeros(0, dtype=np.int64),
        school_la=np.concatenate(rows_la) if rows_la else np.zeros(0, dtype=np.int64),
        school=np.concatenate(rows_school) if rows_school else np.zeros(0, dtype=np.int64),
        fsm=np.concatenate(rows_fsm) if rows_fsm else np.zeros(0, dtype=bool),
        school_ids=school_ids,
        private=private,
        has_record=has_record,
        linked=linked,
        pupil_number=pupil_number,
        fsm_reference=fsm_reference,
        truth=truth,
    )


def history_start_for_school(
    reference: dt.date, history_years: int, school_census_from: dt.date | None = None
) -> dt.date:
    """Start of the school-census window: ``school_census_from`` when given (the censuses
    are those after it), else six years before the reference date (EVERFSM_6), or further
    back when the social care history is longer."""
    if school_census_from is not None:
        return school_census_from
    return add_years(reference, -max(6, history_years))
