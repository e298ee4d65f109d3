"""Fidelity of a synthetic England: the written tables against the published figures.

:func:`fidelity_report` recomputes every achieved value from the files in a data folder
(the contract tables and ``truth_households.parquet``), never from the generator's
internal state; only the lifetime risks before 18, which a window of at most ten years
cannot measure, are taken from ``truth.json`` and say so. Each row has a target, its
source, the achieved value and a tolerance band. Bands are built as

    target +/- (3 standard errors of the achieved value at this size + calibration slack)

with the standard error computed from the achieved counts (binomial, Poisson, or clustered
by household or child where rows are not independent) and the slack stated in the note.
Targets that change by year (FSM at each census, the 31 March stocks) are the published
value where the date has one (for the 2021 preset: FSM in January 2021 and children in
need at 31 March 2021, with the publication and table as the row's source; for the 2011
preset: FSM in January 2011 for primary and secondary pupils in two rows, children in need,
on a plan and looked after at 31 March 2011 and referrals in 2010-11), never an
interpolation; otherwise the note says that the target is interpolated between published
years, held, or assumed (:func:`child_mdh.sources.synthetic.calibration.fsm_target_detail`,
``stock_target_detail``). Slack: small (0.002-0.005, or 2%) where the generator calibrates to the quantity itself, the
published range where one is published, and an explicit allowance where the target is a
guide from another population or year. All targets are non-negative, so bands start at 0
at the lowest.
Every achieved value is an aggregate; no person-level row leaves this module.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pyarrow.parquet as pq

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from child_mdh.contract import tables as contract
from child_mdh.contract.vocabulary import DOMAINS
from child_mdh.files import read_raw
from child_mdh.sources.synthetic import areas as areas_mod
from child_mdh.sources.synthetic import calibration
from child_mdh.sources.synthetic.dates import day_number
from child_mdh.sources.synthetic.measures import (
    OPEN,
    children_open_on,
    person_years_year_before_census,
    rereferral,
)

COLUMNS = [
    "target",
    "source",
    "target_value",
    "achieved",
    "tolerance_low",
    "tolerance_high",
    "within_tolerance",
    "note",
]
Z = 3.0
#: Targets the data-generating process is known not to meet, with the reason (docs); none at
#: present (the ever-referred risk before 18 is met since referrals were concentrated by
#: late re-referrals, see docs/synthetic-data.md).
KNOWN_LIMITATIONS: dict[str, str] = {}
LA_MIN_EXPECTED = 50
LA_MIN_COUNT = 100


def _days(s: pd.Series) -> np.ndarray:
    """datetime Series -> day numbers; NaT -> OPEN."""
    values = s.to_numpy(dtype="datetime64[ns]")
    out = values.astype("datetime64[D]").astype(np.int64)
    return np.where(np.isnat(values), OPEN, out)


def _row(target, source, target_value, achieved, low, high, note="") -> dict:
    within = (
        pd.NA if achieved is None or not np.isfinite(achieved) else bool(low <= achieved <= high)
    )
    return {
        "target": target,
        "source": source,
        "target_value": target_value,
        "achieved": np.nan if achieved is None else float(achieved),
        "tolerance_low": max(float(low), 0.0),
        "tolerance_high": float(high),
        "within_tolerance": within,
        "note": note,
    }


def _cluster_se(y: np.ndarray, cluster: np.ndarray) -> float:
    """Standard error of the share mean(y) with rows clustered (linearisation)."""
    if len(y) == 0:
        return float("nan")
    p = y.mean()
    _, inv = np.unique(cluster, return_inverse=True)
    resid = np.bincount(inv, weights=y - p)
    return float(np.sqrt((resid**2).sum()) / len(y))


def _read(data_dir: Path, name: str, columns: list[str] | None = None) -> pd.DataFrame:
    """One table of the folder (only ``columns`` when given, to keep memory low)."""
    path = data_dir / f"{name}.parquet"
    if not path.exists():
        raise FileNotFoundError(
            f"{path} is missing: fidelity_report needs a folder written by child_mdh.sources.synthetic.generate "
            "(the contract tables and truth_households.parquet)"
        )
    if columns is None:
        return read_raw(path)
    return pq.read_table(path, columns=columns).to_pandas()


def fidelity_report(data_dir: Path, truth: dict) -> pd.DataFrame:
    """One row per calibration target: target, source, achieved value and tolerance band.

    ``data_dir`` holds the tables written by :func:`child_mdh.sources.synthetic.generate`; ``truth`` is
    its ``truth.json`` (for the census year, dates and the documented shift). Columns:
    target, source, target_value, achieved, tolerance_low, tolerance_high,
    within_tolerance (nullable: empty when the size of the data cannot measure it), note.
    """
    data_dir = Path(data_dir)
    year = int(truth["census_year"])
    census = contract.CENSUS_DAY[year]
    census_day = day_number(census)
    extract = dt.date.fromisoformat(truth["extract_date"])
    households = _read(data_dir, "households", ["household_id", "la_code"])
    persons = _read(data_dir, "persons", ["person_id", "household_id", "age"])
    pupils = _read(
        data_dir, "pupil_census", ["census_date", "la_code", "school_id", "fsm_eligible"]
    )
    link = _read(data_dir, "census_npd_link")
    refs = _read(data_dir, "cin_referrals")
    plans = _read(data_dir, "child_protection_plans")
    episodes = _read(data_dir, "looked_after_episodes")
    flags = _read(data_dir, "truth_households")
    la = areas_mod.load_la_counts(year)

    rows: list[dict] = []
    rows += _household_rows(households, persons, flags, la, truth, year)
    rows += _fsm_rows(pupils)
    children = persons[persons["age"] <= 17]
    rows += _social_care_rows(
        children,
        persons,
        link,
        flags,
        refs,
        plans,
        episodes,
        year,
        census_day,
        day_number(extract),
        truth,
    )
    child_la = children["household_id"].map(households.set_index("household_id")["la_code"])
    rows += _la_range_rows(
        child_la.to_numpy(dtype=object), refs, episodes, day_number(dt.date(year, 3, 31))
    )
    rows += _lifetime_rows(truth)
    report = pd.DataFrame(rows, columns=COLUMNS)
    report["within_tolerance"] = report["within_tolerance"].astype("boolean")
    return report


def _household_rows(households, persons, flags, la, truth, year) -> list[dict]:
    rows = []
    delta = float(truth["households"]["count_shift_cumulative_logit"])
    source = f"{areas_mod.SOURCE_TABLE[year]} LA counts, shifted for households with children (assumption)"
    weights = la[list(areas_mod.COUNT_COLUMNS)].to_numpy(dtype=float).sum(axis=1)
    expected = areas_mod.shift_count_distribution(areas_mod.count_shares(la), delta)
    national = (weights[:, None] * expected).sum(axis=0) / weights.sum()
    hh_count = (
        flags.set_index("household_id").loc[households["household_id"], "n_domains"].to_numpy()
    )
    n_hh = len(hh_count)
    for c in range(5):
        p = national[c]
        achieved = float((hh_count == c).mean())
        half = Z * np.sqrt(p * (1 - p) / n_hh) + 0.002
        rows.append(
            _row(
                f"households_with_children_{c}_dimensions_share",
                source,
                p,
                achieved,
                p - half,
                p + half,
                "slack 0.002 (expected value of the model, exact)",
            )
        )

    # children in households deprived in >= 1 dimension
    hh_of_child = persons.loc[persons["age"] <= 17, "household_id"].to_numpy()
    count_by_hh = pd.Series(flags["n_domains"].to_numpy(), index=flags["household_id"].to_numpy())
    ge1 = (count_by_hh.loc[hh_of_child].to_numpy() >= 1).astype(float)
    se = _cluster_se(ge1, hh_of_child)
    if year == 2011:
        target = calibration.CHILDREN_GE1_DOMAIN_2011.value
        src = calibration.CHILDREN_GE1_DOMAIN_2011.source
        slack, note = 0.005, "slack 0.005 (the shift is solved on expected values)"
    else:
        params = truth["parameters"]
        target = areas_mod.children_share_ge1(la, delta, params)
        src = "2011 shift applied to " + areas_mod.SOURCE_TABLE[year] + " (assumption)"
        slack, note = 0.005, "expected value under the documented shift; slack 0.005"
    rows.append(
        _row(
            "children_in_households_ge1_dimension_share",
            src,
            target,
            float(ge1.mean()),
            target - Z * se - slack,
            target + Z * se + slack,
            note + "; SE clustered by household",
        )
    )

    # LA structure: correlation of synthetic LA shares with the census LA shares
    la_codes = la["la_code"].to_numpy(dtype=object)
    hh_la = np.searchsorted(la_codes, households["la_code"].to_numpy(dtype=object))
    n_la = np.bincount(hh_la, minlength=len(la_codes)).astype(float)
    ge1_la = np.bincount(hh_la, weights=(hh_count >= 1), minlength=len(la_codes))
    use = n_la >= 20
    exp_ge1 = 1 - expected[:, 0]
    if use.sum() >= 10:
        achieved = float(np.corrcoef(ge1_la[use] / n_la[use], exp_ge1[use])[0, 1])
        var_true = np.var(exp_ge1[use])
        noise = np.mean(exp_ge1[use] * (1 - exp_ge1[use]) / n_la[use])
        expected_r = float(np.sqrt(var_true / (var_true + noise)))
        low = max(expected_r - 0.15, 0.0)
    else:
        achieved, expected_r, low = None, float("nan"), 0.0
    rows.append(
        _row(
            "la_share_households_ge1_dimension_correlation",
            source,
            1.0,
            achieved,
            low,
            1.0,
            f"Pearson r over LAs with >= 20 households; expected r at this size "
            f"{expected_r:.2f} (sampling noise attenuates it); slack 0.15",
        )
    )
    share_syn = n_la / n_la.sum()
    share_census = weights / weights.sum()
    achieved = float(np.corrcoef(share_syn, share_census)[0, 1])
    n_total = n_la.sum()
    noise = np.mean(share_census * (1 - share_census) / n_total)
    expected_r = float(np.sqrt(np.var(share_census) / (np.var(share_census) + noise)))
    rows.append(
        _row(
            "la_share_of_households_correlation",
            areas_mod.SOURCE_TABLE[year] + " household counts",
            1.0,
            achieved,
            max(expected_r - 0.05, 0.0),
            1.0,
            f"households allocated to LAs in proportion to all households; expected r "
            f"{expected_r:.3f}; slack 0.05",
        )
    )
    return rows


def _fsm_rows(pupils) -> list[dict]:
    rows = []
    days = pupils["census_date"].to_numpy(dtype="datetime64[D]")
    fsm = pupils["fsm_eligible"].to_numpy(dtype=bool)
    order = np.argsort(days, kind="stable")
    days, fsm = days[order], fsm[order]
    unique, starts = np.unique(days, return_index=True)
    ends = np.r_[starts[1:], len(days)]
    la_codes = pupils["la_code"].to_numpy(dtype=object)[order]
    # phase from the synthetic school identifier: <LA code>P<n> primary, <LA code>S<n>
    # secondary
    secondary = (
        (pupils["school_id"].astype(str).str[9] == "S").to_numpy()[order]
        if "school_id" in pupils
        else None
    )
    for d, s, e in zip(unique, starts, ends):
        date = pd.Timestamp(d).date()
        phases = calibration.fsm_phase_targets(date)
        if phases is not None:
            if secondary is None:
                raise ValueError(
                    f"the {date} census has targets by phase: the pupils need their school_id"
                )
            for name, members in (("primary", ~secondary[s:e]), ("secondary", secondary[s:e])):
                t = phases[name]
                p = t.value
                n = int(members.sum())
                achieved = float(fsm[s:e][members].mean()) if n else None
                half = Z * np.sqrt(p * (1 - p) / max(n, 1)) + 0.002
                rows.append(
                    _row(
                        f"fsm_rate_{name}_{date.isoformat()}",
                        t.source,
                        p,
                        achieved,
                        p - half,
                        p + half,
                        f"target: {t.how}; {name} pupils (state-funded {name} schools); "
                        f"tolerance +/-{half:.4f} = 3 binomial SE given the latent model "
                        "(alpha solved on these pupils) + slack 0.002",
                    )
                )
            continue
        t = calibration.fsm_target_detail(date)
        p = t.value
        n = e - s
        achieved = float(fsm[s:e].mean())
        half = Z * np.sqrt(p * (1 - p) / n) + 0.002
        rows.append(
            _row(
                f"fsm_rate_{date.isoformat()}",
                t.source,
                p,
                achieved,
                p - half,
                p + half,
                f"target: {t.how}; tolerance +/-{half:.4f} = 3 binomial SE given the latent "
                "model (alpha solved on these pupils) + slack 0.002",
            )
        )
        if date.year == 2025 and date.month == 1:
            rates = pd.Series(fsm[s:e]).groupby(la_codes[s:e]).agg(["mean", "size"])
            big = rates[rates["size"] >= 500]
            measured = len(big) >= LA_MIN_COUNT
            lo_t, hi_t = calibration.FSM_LA_RANGE_2025
            note = (
                "LAs with >= 500 pupils; extremes of one year's LAs, slack +/-50%"
                if measured
                else f"not measured: needs >= 500 pupils in >= {LA_MIN_COUNT} LAs"
            )
            rows.append(
                _row(
                    "fsm_la_minimum_2025",
                    calibration.DFE_SPC + " (Wokingham)",
                    lo_t / 100,
                    float(big["mean"].min()) if measured else None,
                    lo_t / 100 * 0.5,
                    lo_t / 100 * 1.5,
                    note,
                )
            )
            rows.append(
                _row(
                    "fsm_la_maximum_2025",
                    calibration.DFE_SPC + " (Manchester)",
                    hi_t / 100,
                    float(big["mean"].max()) if measured else None,
                    hi_t / 100 * 0.5,
                    hi_t / 100 * 1.5,
                    note,
                )
            )
    return rows


def _social_care_rows(
    children, persons, link, flags, refs, plans, episodes, year, census_day, extract_day, truth
) -> list[dict]:
    rows = []
    n_children = len(children)
    ages = children["age"].to_numpy()
    march31 = day_number(dt.date(year, 3, 31))

    ref_child = refs["pupil_id"].to_numpy(dtype=object)
    ref_day = _days(refs["referral_date"])
    ref_close = _days(refs["cin_closure_date"])
    nfa = refs["referral_nfa"].to_numpy(dtype=bool)
    _, ref_child_code = np.unique(ref_child, return_inverse=True)

    # referrals per 10,000 children per year, year before census day
    w0, w1 = census_day - 365, census_day
    in_year = (ref_day >= w0) & (ref_day < w1)
    person_years = person_years_year_before_census(ages)
    count = int(in_year.sum())
    rate = 10_000 * count / person_years
    per_child = np.bincount(ref_child_code[in_year])
    se = 10_000 * np.sqrt((per_child.astype(float) ** 2).sum()) / person_years
    t = calibration.referrals_target(year)
    rows.append(
        _row(
            "referrals_per_10000_per_year",
            t.source,
            t.value,
            rate,
            t.value - Z * se - 0.05 * t.value,
            t.value + Z * se + 0.05 * t.value,
            "year before census day, all children 0-17 in the denominator; SE clustered by "
            "child; slack 5% (person-years from ages, not dates of birth; the published "
            "figure counts the year ending 31 March)",
        )
    )

    rr = rereferral(ref_child_code, ref_day)
    share = float(rr[in_year].mean()) if count else None
    t = calibration.REREFERRAL_SHARE
    se = _cluster_se(rr[in_year].astype(float), ref_child_code[in_year]) if count else 0.0
    rows.append(
        _row(
            "rereferral_share",
            t.source,
            t.value,
            share,
            t.low - Z * se,
            t.high + Z * se,
            "referrals in the year before census day with a referral 1-365 days earlier; "
            "published range 22-26% plus 3 SE (clustered by child)",
        )
    )

    # stocks at 31 March
    cin = ~nfa
    for name, child_code, start, end in (
        ("cin", ref_child_code[cin], ref_day[cin], ref_close[cin]),
        ("cpp", *_coded(plans, "cpp_start_date", "cpp_end_date")),
        ("cla", *_coded(episodes, "episode_start", "episode_end")),
    ):
        k = children_open_on(child_code, start, end, march31)
        value = 10_000 * k / n_children
        se = 10_000 * np.sqrt(max(k, 1)) / n_children
        t = calibration.stock_target_detail(year, name)
        half = Z * se + 0.02 * t.value
        rows.append(
            _row(
                f"{name}_per_10000_at_31_march_{year}",
                t.source,
                t.value,
                value,
                t.value - half,
                t.value + half,
                f"target: {t.how}; distinct children open on 31 March / children aged "
                f"0-17 on census day; tolerance +/-{half:.1f} = 3 Poisson SE + slack 2% "
                "(durations are calibrated to this stock)",
            )
        )

    # primary need among CIN referrals (not NFA) in the year before census
    need = refs["primary_need_code"].to_numpy(dtype=object)
    sel = in_year & cin
    for code, t in (("N1", calibration.N1_SHARE), ("N5", calibration.N5_SHARE)):
        share = float((need[sel] == code).mean()) if sel.any() else None
        se = np.sqrt(t.value * (1 - t.value) / max(sel.sum(), 1))
        low = (t.low if t.low is not None else t.value - 0.02) - Z * se
        high = (t.high if t.high is not None else t.value + 0.02) + Z * se
        rows.append(
            _row(
                f"primary_need_{code}_share",
                t.source,
                t.value,
                share,
                low,
                high,
                "CIN referrals (not NFA) in the year before census day; published range, "
                "or +/- 0.02 where none, plus 3 binomial SE",
            )
        )

    rows += _gradient_rows(persons, link, flags, plans, census_day, extract_day)
    rows += _care_age_rows(persons, link, episodes, census_day, truth)
    return rows


def _coded(df, start_col, end_col):
    _, code = np.unique(df["pupil_id"].to_numpy(dtype=object), return_inverse=True)
    return code, _days(df[start_col]), _days(df[end_col])


def _linked_children(persons, link, flags):
    """Linked children with their household's true flags (one row per linked child)."""
    kids = persons.loc[persons["age"] <= 17, ["person_id", "household_id", "age"]]
    kids = kids.merge(link, on="person_id", how="inner")
    return kids.merge(
        flags[["household_id", *DOMAINS, "n_domains"]],
        on="household_id",
        how="left",
    )


def _gradient_rows(persons, link, flags, plans, census_day, extract_day) -> list[dict]:
    """Crude rate ratios of any plan started in the follow-up window, by deprivation count."""
    rows = []
    kids = _linked_children(persons, link, flags)
    starts = _days(plans["cpp_start_date"])
    in_window = (starts >= census_day) & (starts <= extract_day)
    with_plan = set(plans["pupil_id"].to_numpy(dtype=object)[in_window])
    y = kids["pupil_id"].isin(with_plan).to_numpy()
    count = kids["n_domains"].to_numpy()
    profile = (
        kids["employment"] & kids["health"] & ~kids["education"] & ~kids["housing"]
    ).to_numpy()
    n0, a0 = (count == 0).sum(), y[count == 0].sum()
    groups = [(str(c), count == c) for c in range(1, 5)] + [("employment_health", profile)]
    for key, mask in groups:
        hr, lo_ci, hi_ci = calibration.WELSH_HAZARD_RATIOS[key]
        n1, a1 = mask.sum(), y[mask].sum()
        label = (
            f"cpp_rate_ratio_{key}_dimensions_vs_none"
            if key != "employment_health"
            else "cpp_rate_ratio_employment_health_profile_vs_none"
        )
        if a1 == 0 or a0 == 0:
            rows.append(
                _row(
                    label,
                    calibration.WALES_COHORT,
                    hr,
                    None,
                    lo_ci,
                    hi_ci,
                    "not measured: no plan in a group at this size",
                )
            )
            continue
        ratio = (a1 / n1) / (a0 / n0)
        se_log = np.sqrt(1 / a1 - 1 / n1 + 1 / a0 - 1 / n0)
        half = np.log(hi_ci / lo_ci) / 2
        low, high = hr * np.exp(-(half + Z * se_log)), hr * np.exp(half + Z * se_log)
        rows.append(
            _row(
                label,
                calibration.WALES_COHORT,
                hr,
                float(ratio),
                low,
                high,
                "crude ratio of any plan started in the follow-up window, linked children; "
                "slack = half the published 95% CI on the log scale, plus 3 SE",
            )
        )
    return rows


def _care_age_rows(persons, link, episodes, census_day, truth) -> list[dict]:
    """Entries to care by age: higher before age 2 and around 16 than in middle childhood."""
    kids = persons.loc[persons["age"] <= 17, ["person_id", "age"]].merge(link, on="person_id")
    starts = episodes[episodes["reason_new_episode"] == "S"]
    history = day_number(dt.date.fromisoformat(truth["history_start"]))
    extract = day_number(dt.date.fromisoformat(truth["extract_date"]))
    s_day = _days(starts["episode_start"])
    keep = (s_day >= history) & (s_day <= extract)
    entries = pd.DataFrame(
        {"pupil_id": starts["pupil_id"].to_numpy(dtype=object)[keep], "day": s_day[keep]}
    )
    entries = entries.merge(kids, on="pupil_id", how="inner")
    # age at entry ~ age on census day + years since census day (whole years, clipped)
    years_since_census = (entries["day"].to_numpy() - census_day) / 365.25
    age_entry = np.clip(np.floor(entries["age"].to_numpy() + 0.5 + years_since_census), 0, 17)
    ev = np.bincount(age_entry.astype(np.int64), minlength=18).astype(float)
    # child-years at each age within the window, from ages on census day
    hist_years = (census_day - history) / 365.25
    fu_years = (extract - census_day) / 365.25
    offsets = np.arange(-int(np.ceil(hist_years)), int(np.ceil(fu_years)) + 1)
    exposure = np.zeros(18)
    age_counts = np.bincount(kids["age"].to_numpy(), minlength=18)
    for off in offsets:
        for a in range(18):
            b = a + off
            if 0 <= b <= 17:
                exposure[b] += age_counts[a]
    middle = ev[5:11].sum() / max(exposure[5:11].sum(), 1)
    rows = []
    for label, ages, text in (
        ("care_entry_rate_ratio_under2_vs_5to10", slice(0, 2), "before age 2"),
        ("care_entry_rate_ratio_14to16_vs_5to10", slice(14, 17), "around 16"),
    ):
        num = ev[ages].sum() / max(exposure[ages].sum(), 1)
        measured = ev[ages].sum() >= 5 and ev[5:11].sum() >= 5
        value = num / middle if measured and middle > 0 else None
        rows.append(
            _row(
                label,
                calibration.JAY_2025 + f": many first entries {text}",
                np.nan,
                value,
                1.0,
                np.inf,
                "qualitative: the rate exceeds that of ages 5-10 (ratio > 1); "
                "entries with RNE S, linked children, ages approximated from age on census day"
                if measured
                else "not measured: fewer than 5 entries in an age group",
            )
        )
    return rows


def _la_range_rows(children_la, refs, episodes, march31) -> list[dict]:
    """LA ranges of CIN and looked-after rates at 31 March.

    Only LAs large enough to expect >= 50 children at the national rate are compared (the
    extremes of small LAs are Poisson noise), and only when >= 100 LAs are that large.
    """
    rows = []
    kids = pd.Series(children_la).value_counts()
    cin = refs[~refs["referral_nfa"]]
    for name, df, start, end, (lo_t, hi_t), source in (
        (
            "cin",
            cin,
            "referral_date",
            "cin_closure_date",
            calibration.CIN_LA_RANGE,
            calibration.DFE_CIN + ", 2013-14 (Wokingham to Middlesbrough)",
        ),
        (
            "cla",
            episodes,
            "episode_start",
            "episode_end",
            calibration.CLA_LA_RANGE,
            calibration.DFE_CLA + ", 2024",
        ),
    ):
        open_ = (_days(df[start]) <= march31) & (_days(df[end]) > march31)
        counts = df.loc[open_, ["la_code", "pupil_id"]].drop_duplicates().groupby("la_code").size()
        national = counts.sum() / max(kids.sum(), 1)
        big = kids[kids * national >= LA_MIN_EXPECTED]
        measured = len(big) >= LA_MIN_COUNT
        rates = 10_000 * counts.reindex(big.index, fill_value=0) / big
        note = (
            f"{len(big)} LAs expecting >= {LA_MIN_EXPECTED} children at the national rate; "
            "the extremes of one year's LAs: slack +/-50%"
            if measured
            else f"not measured: needs >= {LA_MIN_COUNT} LAs expecting >= {LA_MIN_EXPECTED} "
            f"children at the national rate (found {len(big)})"
        )
        for label, target, value in (
            ("minimum", lo_t, rates.min() if measured else None),
            ("maximum", hi_t, rates.max() if measured else None),
        ):
            rows.append(
                _row(
                    f"{name}_per_10000_la_{label}",
                    source,
                    target,
                    value,
                    target * 0.5,
                    target * 1.5,
                    note,
                )
            )
    return rows


def _lifetime_rows(truth) -> list[dict]:
    rows = []
    model = truth["social_care"]["realised"]["lifetime_risk_before_18_model_based"]
    for name, t in calibration.CUMULATIVE_INCIDENCE.items():
        label = f"lifetime_risk_{name}_before_18"
        low = t.low if t.low is not None else t.value * 0.9
        high = t.high if t.high is not None else t.value * 1.1
        note = (
            "model-based from truth.json (a window of at most ten years cannot measure it): "
            "the mean over children of 1 - exp(-cumulative hazard to 18); published range, or "
            "+/-10% where none"
        )
        if label in KNOWN_LIMITATIONS:
            note = KNOWN_LIMITATIONS[label] + "; " + note
        rows.append(_row(label, t.source, t.value, float(model[name]), low, high, note))
    return rows


def fidelity_figure(report: pd.DataFrame, path: Path) -> Path:
    """Target and achieved value of every measured target, side by side, as a PNG.

    Values are shown relative to the target (achieved / target, tolerance band / target)
    so targets on different scales share one axis; qualitative targets (no target value)
    are shown relative to their lower bound.
    """
    rep = report[report["achieved"].notna()].reset_index(drop=True)
    ref = (
        rep["target_value"]
        .where(rep["target_value"].notna(), rep["tolerance_low"])
        .to_numpy(dtype=float)
    )
    ref = np.where(ref == 0, 1.0, ref)
    ach = rep["achieved"].to_numpy(dtype=float) / ref
    lo = rep["tolerance_low"].to_numpy(dtype=float) / ref
    hi = np.minimum(
        rep["tolerance_high"].to_numpy(dtype=float) / ref, np.nanmax(np.r_[ach, 2.0]) * 1.2
    )
    y = np.arange(len(rep))[::-1]
    fig, ax = plt.subplots(figsize=(9, 0.32 * len(rep) + 1.5))
    ok = rep["within_tolerance"].fillna(False).to_numpy(dtype=bool)
    ax.hlines(y, lo, hi, color="0.8", linewidth=6, label="tolerance band")
    ax.scatter(np.ones(len(rep)), y - 0.15, marker="|", s=120, color="black", label="target")
    ax.scatter(ach[ok], y[ok] + 0.15, color="tab:blue", s=18, label="achieved (within)")
    ax.scatter(ach[~ok], y[~ok] + 0.15, color="tab:red", s=18, label="achieved (outside)")
    ax.set_yticks(y)
    ax.set_yticklabels(rep["target"], fontsize=7)
    ax.set_xlabel("value relative to the target (qualitative targets: to the lower bound)")
    ax.set_title("Synthetic data: published targets and achieved values")
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


__all__ = ["COLUMNS", "KNOWN_LIMITATIONS", "fidelity_figure", "fidelity_report"]


#: Significant figures of the achieved values and tolerance bands as released.
RELEASE_SIGNIFICANT_FIGURES = 3


def rounded_for_release(
    report: pd.DataFrame, figures: int = RELEASE_SIGNIFICANT_FIGURES
) -> pd.DataFrame:
    """The fidelity report with achieved values and bands to ``figures`` significant
    figures: a full-precision share of synthetic people is an exact fraction p/q of two
    person counts, and enough to read both counts back; three figures say whether a
    target is met and no more. ``within_tolerance`` is the full-precision verdict."""
    out = report.copy()
    for col in ("target_value", "achieved", "tolerance_low", "tolerance_high"):
        v = pd.to_numeric(out[col], errors="coerce").to_numpy(dtype="float64")
        with np.errstate(divide="ignore", invalid="ignore"):
            digits = np.where(
                (v == 0) | ~np.isfinite(v),
                0,
                figures - 1 - np.floor(np.log10(np.abs(np.where(v == 0, 1, v)))),
            )
        out[col] = [np.round(x, int(d)) if np.isfinite(x) else x for x, d in zip(v, digits)]
    return out
