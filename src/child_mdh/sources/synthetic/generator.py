"""Generate a synthetic England in the data contract's tables, with its truth.

Synthetic data: no row describes a real person, household, pupil or school. The structure
(local authorities, their sizes and deprivation distributions) comes from published ONS
census counts; everything else from a documented data-generating process calibrated to
published national figures (see ``docs/synthetic-data.md``).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np

from child_mdh.contract import tables as contract
from child_mdh.files import write_json
from child_mdh.sources.synthetic import areas as areas_mod
from child_mdh.sources.synthetic import truth as truth_mod
from child_mdh.sources.synthetic.data_card import write_data_card
from child_mdh.sources.synthetic.dates import add_years, day_number
from child_mdh.sources.synthetic.households import draw_dwellings, draw_households, draw_lsoas
from child_mdh.sources.synthetic.params import default_parameters
from child_mdh.sources.synthetic.persons import CHILD_SLOTS, draw_all_persons, reference_flags
from child_mdh.sources.synthetic.sampling import spawn_streams
from child_mdh.sources.synthetic.school_census import (
    build_school_records,
    history_start_for_school,
)
from child_mdh.sources.synthetic.social_care import Children, simulate_social_care
from child_mdh.sources.synthetic.tables import World, write_contract_tables, write_truth_tables

GENERATOR = "child-mdh synth"
OPTIONS = {
    "follow_up_years": 5,
    "history_years": 5,
    "school_census": "annual",
    "lsoa": True,
    "private_school_share": 0.065,
    "mismatch_rate": 0.04,
    "mismatch_per_domain": 0.0,
    "la_effects_seed": None,
    "school_census_from": None,
    "social_care_from": None,
    "extract_date": None,
}
DATE_OPTIONS = ("school_census_from", "social_care_from", "extract_date")
TRUTH_FILES = ("truth.json", "truth_households.parquet", "truth_children.parquet")


def _options(options: dict) -> dict:
    unknown = set(options) - set(OPTIONS)
    if unknown:
        raise TypeError(
            f"unknown option(s) {', '.join(sorted(unknown))}; the options are "
            + ", ".join(f"{k} (default {v!r})" for k, v in OPTIONS.items())
        )
    out = {**OPTIONS, **options}
    for key in ("follow_up_years", "history_years"):
        if not isinstance(out[key], (int, np.integer)) or not 1 <= out[key] <= 15:
            raise ValueError(
                f"{key} must be a whole number of years from 1 to 15, got {out[key]!r}"
            )
    if out["school_census"] not in ("annual", "termly"):
        raise ValueError(
            f"school_census must be 'annual' or 'termly', got {out['school_census']!r}"
        )
    for key in ("private_school_share", "mismatch_rate"):
        if not 0 < out[key] < 0.5:
            raise ValueError(f"{key} must be between 0 and 0.5, got {out[key]!r}")
    slope = out["mismatch_per_domain"]
    if isinstance(slope, bool) or not isinstance(slope, (int, float)) or not -3 <= slope <= 3:
        raise ValueError(f"mismatch_per_domain must be a number from -3 to 3, got {slope!r}")
    seed = out["la_effects_seed"]
    if seed is not None and (not isinstance(seed, (int, np.integer)) or seed < 0):
        raise ValueError(f"la_effects_seed must be a whole number or None, got {seed!r}")
    for key in DATE_OPTIONS:
        value = out[key]
        if value is None or isinstance(value, dt.date):
            continue
        try:
            out[key] = dt.date.fromisoformat(str(value))
        except ValueError:
            raise ValueError(f"{key} must be a date (YYYY-MM-DD) or None, got {value!r}") from None
    return out


def _windows(reference: dt.date, opts: dict) -> tuple[dt.date, dt.date, dt.date]:
    """(school census window start, social care history start, extract date) of a
    reference date under the options; raises ValueError when they are out of order."""
    extract = opts["extract_date"] or add_years(reference, opts["follow_up_years"])
    history_start = opts["social_care_from"] or add_years(reference, -opts["history_years"])
    school_first = history_start_for_school(
        reference, opts["history_years"], opts["school_census_from"]
    )
    if not reference < extract <= add_years(reference, 15):
        raise ValueError(
            f"extract_date {extract} must be after the reference date {reference} and at "
            "most 15 years after it"
        )
    if not add_years(reference, -18) <= history_start < reference:
        raise ValueError(
            f"social_care_from {history_start} must be before the reference date {reference} "
            "and at most 18 years before it"
        )
    if not add_years(reference, -18) <= school_first < add_years(reference, -1):
        raise ValueError(
            f"school_census_from {school_first} must be at least a year before the reference "
            f"date {reference} (a school census on or before it is needed) and at most 18 "
            "years before it"
        )
    return school_first, history_start, extract


def _draw_la_effects(
    la, delta: float, params: dict, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """LA-level effects, always drawn in this order and size (independent of N).

    The FSM effect has a random part and a part that rises with the LA's expected share of
    households with children deprived in >= 1 dimension (so LAs with more deprived
    households have more FSM pupils beyond their households' own flags).
    """
    sp = params["social_care"]
    clip = sp["la_effect_clip_sd"]
    n_la = len(la)
    weights = la[list(areas_mod.COUNT_COLUMNS)].to_numpy(dtype=float).sum(axis=1)
    ge1 = 1 - areas_mod.shift_count_distribution(areas_mod.count_shares(la), delta)[:, 0]
    ge1_centred = ge1 - np.average(ge1, weights=weights)
    return {
        "fsm": rng.normal(0.0, params["fsm"]["la_sd"], n_la)
        + params["fsm"]["la_deprivation"] * ge1_centred,
        "referral": np.clip(rng.normal(0.0, 1.0, n_la), -clip, clip) * sp["la_referral_sd"],
        "cla": np.clip(rng.normal(0.0, 1.0, n_la), -clip, clip) * sp["la_cla_sd"],
        "mismatch": rng.normal(0.0, params["school"]["mismatch"]["la_sd"], n_la),
    }


def generate(n_children: int, seed: int, out_dir: Path, census_year: int = 2021, **options) -> dict:
    """Write a synthetic England for ``n_children`` children aged 0-17 on census day.

    Writes every contract table as ``<table>.parquet`` (metadata ``synthetic: true``, the
    generator, seed, N, census year and contract version), ``truth.json`` (every parameter
    of the data-generating process and the realised true quantities),
    ``truth_households.parquet`` (each household's four true deprivation flags),
    ``truth_children.parquet`` (each child's true FSM at the reference census, MDH status
    and linear predictor) and ``DATA_CARD.md``. Same seed and N give identical files.

    Options: ``follow_up_years`` (5) after census day, which is also the reference date,
    to the extract date; ``history_years`` (5) of social care history before it (school
    censuses go back at least 6 years, for EVERFSM_6); ``school_census`` 'annual' (spring,
    January) or 'termly' (autumn, spring, summer); ``lsoa`` (True) to assign LSOA codes;
    ``private_school_share`` (0.065); ``mismatch_rate`` (0.04) of state pupils not linked
    to their census record; ``mismatch_per_domain`` (0.0): log-odds of a state pupil not
    being linked added per census domain the household is deprived in (besides the fixed
    terms of ``params["school"]["mismatch"]``; the intercept is solved again so that
    ``mismatch_rate`` holds), to study non-linkage that depends on deprivation;
    ``la_effects_seed`` (None): draw the local authorities'
    effects (FSM, linkage, social care) from this seed instead of ``seed``, so that
    Englands of different seeds share them (a study of local-authority estimates holds
    them fixed); ``school_census_from`` (None): the school censuses are those after this
    date (YYYY-MM-DD) instead of the six (or ``history_years``) years before the reference
    date; ``social_care_from`` (None): the social care records start on this date instead
    of ``history_years`` before the reference date (the CIN census began in 2008/09:
    referrals from it, or still open as a child in need on it, plans and periods of care
    open on or after it); ``extract_date`` (None): the records end on this date instead of
    ``follow_up_years`` after the reference date. The Growing Up in England preset
    (census 2011) uses school censuses from 2001/02, social care from 1 April 2008 and an
    extract date of 31 March 2015.

    Returns ``{"rows": {table: n_rows}, "out_dir": ..., "files": [...], "truth": ...}``.
    """
    if not isinstance(n_children, (int, np.integer)) or n_children < 1:
        raise ValueError(f"n_children must be a positive whole number, got {n_children!r}")
    opts = _options(options)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    world = simulate(int(n_children), seed, census_year, opts)
    metadata = {
        "synthetic": True,
        "generator": GENERATOR,
        "seed": int(seed),
        "n_children": int(n_children),
        "census_year": int(census_year),
        "contract_version": contract.CONTRACT_VERSION,
    }
    files, rows, ids = write_contract_tables(world, out_dir, metadata)
    files += write_truth_tables(world, ids, out_dir, {**metadata, "truth": True})
    truth = truth_mod.assemble(
        world, metadata=metadata, options=opts, outcome_realised=truth_mod.window_outcomes_of(world)
    )
    files.append(write_json(truth, out_dir / "truth.json"))
    files.append(write_data_card(out_dir / "DATA_CARD.md", truth, rows))
    return {
        "rows": rows,
        "out_dir": str(out_dir),
        "files": [str(f) for f in files],
        "truth": str(out_dir / "truth.json"),
    }


def simulate(n_children: int, seed: int, census_year: int, opts: dict) -> World:
    """Draw the whole synthetic England in memory (no file is written)."""
    params = default_parameters()
    rngs = spawn_streams(seed)

    la = areas_mod.load_la_counts(census_year)
    reference = contract.CENSUS_DAY[census_year]
    school_first, history_start, extract = _windows(reference, opts)
    census_day = day_number(reference)
    la_codes = la["la_code"].to_numpy(dtype=object)
    region_codes = sorted(la["region_code"].unique())
    la_region = np.searchsorted(region_codes, la["region_code"].to_numpy(dtype=object))
    la_households = la[list(areas_mod.COUNT_COLUMNS)].to_numpy(dtype=float).sum(axis=1)
    delta = areas_mod.solve_child_shift(params)
    la_rng = (
        rngs["la_effects"]
        if opts["la_effects_seed"] is None
        else spawn_streams(int(opts["la_effects_seed"]))["la_effects"]
    )
    la_effects = _draw_la_effects(la, delta, params, la_rng)

    # --- households and persons ---------------------------------------------------------
    hh = draw_households(int(n_children), la, delta, params, rngs["households"])
    draw_dwellings(hh, params, region_codes, rngs["dwellings"])
    if opts["lsoa"]:
        draw_lsoas(hh, la, areas_mod.load_lsoa_counts(census_year), rngs["lsoa"])
    persons = draw_all_persons(hh, params, region_codes, census_day, rngs["persons"])
    recomputed = reference_flags(
        persons, hh.occupancy_rating_rooms, hh.shared_dwelling, hh.central_heating, len(hh)
    )
    if not np.array_equal(recomputed, hh.flags):  # pragma: no cover - guarded by tests
        bad = np.flatnonzero((recomputed != hh.flags).any(axis=1))[:5]
        raise RuntimeError(
            f"internal: persons do not reproduce household flags, e.g. households {bad}"
        )

    # --- children: school census, FSM, linkage ----------------------------------------------
    is_child = persons.slot >= CHILD_SLOTS[0]
    child_person = np.flatnonzero(is_child)
    child_hh = persons.household[child_person]
    child_dob = persons.dob[child_person]
    child_la = hh.la_index[child_hh]
    child_domains = hh.flags[child_hh]
    school = build_school_records(
        child_dob=child_dob,
        child_la=child_la,
        child_region=hh.region_index[child_hh],
        child_domains=child_domains,
        child_type=hh.household_type[child_hh],
        region_codes=region_codes,
        la_codes=la_codes,
        la_households=la_households,
        la_region=la_region,
        reference=reference,
        first=school_first,
        extract=extract,
        frequency=opts["school_census"],
        params=params,
        rngs=rngs,
        la_effects=la_effects,
        private_share=opts["private_school_share"],
        mismatch_rate=opts["mismatch_rate"],
        mismatch_per_domain=float(opts["mismatch_per_domain"]),
    )

    # --- Child-MDH (default index) and the LA context ------------------------------------
    mdh = (child_domains.sum(axis=1) + school.fsm_reference) >= 2
    kids_per_la = np.bincount(child_la, minlength=len(la))
    mdh_per_la = np.bincount(child_la, weights=mdh, minlength=len(la))
    la_prevalence = np.divide(mdh_per_la, kids_per_la, out=np.zeros(len(la)), where=kids_per_la > 0)
    national_prevalence = float(mdh.mean())
    la_context = np.where(kids_per_la > 0, la_prevalence - national_prevalence, 0.0)

    children = Children(
        dob=child_dob,
        la=child_la,
        male=persons.male[child_person],
        domains=child_domains,
        fsm=school.fsm_reference,
        context=la_context[child_la],
        observed=school.has_record,
        age_at_census=persons.age[child_person],
    )
    care = simulate_social_care(
        children,
        la_effects,
        params,
        census_day,
        day_number(history_start),
        day_number(extract),
        census_year,
        rngs,
    )
    return World(
        census_year=census_year,
        reference=reference,
        history_start=history_start,
        extract=extract,
        params=params,
        delta=delta,
        la=la,
        la_effects=la_effects,
        hh=hh,
        persons=persons,
        child_person=child_person,
        school=school,
        mdh=mdh,
        la_prevalence=la_prevalence,
        national_prevalence=national_prevalence,
        care=care,
    )


__all__ = ["GENERATOR", "OPTIONS", "TRUTH_FILES", "generate", "simulate"]
