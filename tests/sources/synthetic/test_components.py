"""Building blocks of the generator, checked against values worked out by hand."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from child_mdh.sources.synthetic import (
    areas,
    dates,
    measures,
    sampling,
    school_census,
    social_care,
)
from child_mdh.sources.synthetic.params import default_parameters


def test_cumulative_logit_shift_by_hand():
    # shares 0.4/0.3/0.2/0.1/0 -> P(C>=1..4) = 0.6, 0.3, 0.1, 0.0
    # delta = log(2) doubles every odds: P(C>=1): odds 1.5 -> 3, P = 3/4;
    # P(C>=2): odds 3/7 -> 6/7, P = 6/13; P(C>=3): odds 1/9 -> 2/9, P = 2/11; 0 stays 0.
    got = areas.shift_count_distribution(np.array([[0.4, 0.3, 0.2, 0.1, 0.0]]), np.log(2))[0]
    expected = [1 - 0.75, 0.75 - 6 / 13, 6 / 13 - 2 / 11, 2 / 11, 0.0]
    assert got == pytest.approx(expected, abs=1e-12)
    assert got.sum() == pytest.approx(1.0)
    # zero shift changes nothing
    same = areas.shift_count_distribution(np.array([[0.4, 0.3, 0.2, 0.1, 0.0]]), 0.0)[0]
    assert same == pytest.approx([0.4, 0.3, 0.2, 0.1, 0.0])


def test_child_shift_reaches_the_welsh_figure_in_2011():
    params = default_parameters()
    delta = areas.solve_child_shift(params)
    assert delta < 0  # households with children are less often deprived than all households
    la = areas.load_la_counts(2011)
    assert areas.children_share_ge1(la, delta, params) == pytest.approx(0.418, abs=1e-9)


def test_packaged_la_tables_match_the_published_totals():
    la = areas.load_la_counts(2011)
    counts = la[list(areas.COUNT_COLUMNS)].to_numpy().sum(axis=0)
    assert counts.sum() == 22_063_368  # ONS QS119EW England households
    assert len(la) == 152 and len(areas.load_la_counts(2021)) == 153
    assert counts[0] / counts.sum() == pytest.approx(0.4254, abs=5e-5)


def test_grouped_categorical_frequencies():
    rng = np.random.default_rng(0)
    probs = np.array([[0.2, 0.8, 0.0], [0.0, 0.0, 1.0], [0.5, 0.25, 0.25]])
    group = np.repeat([0, 1, 2], 100_000)
    draws = sampling.grouped_categorical(rng, group, probs)
    for g in range(3):
        freq = np.bincount(draws[group == g], minlength=3) / 100_000
        assert freq == pytest.approx(probs[g], abs=0.006)
    assert draws[group == 0].max() < 2  # zero-probability category never drawn


def test_streams_are_independent_of_each_other():
    a = sampling.spawn_streams(3)
    b = sampling.spawn_streams(3)
    a["households"].random(1000)  # using one stream does not move another
    assert a["social_care"].random() == b["social_care"].random()
    assert sampling.spawn_streams(4)["households"].random() != b["households"].random()


def test_ages_and_birthdays_on_leap_days():
    dob = np.array([dates.day_number(dt.date(2004, 2, 29)), dates.day_number(dt.date(2003, 3, 22))])
    on = dates.day_number(dt.date(2021, 3, 21))
    assert dates.age_on(dob, on).tolist() == [17, 17]
    assert dates.age_on(dob[:1], dates.day_number(dt.date(2022, 2, 28))).tolist() == [17]
    assert dates.age_on(dob[:1], dates.day_number(dt.date(2022, 3, 1))).tolist() == [18]
    assert dates.to_date(dates.birthday(dob[:1], 18)[0]) == dt.date(2022, 3, 1)
    assert dates.to_date(dates.birthday(dob[1:], 18)[0]) == dt.date(2021, 3, 22)


def test_school_census_days():
    # spring census: third Thursday of January; 2021-01-21 and 2016-01-21 are Thursdays
    days = school_census.census_dates(
        dt.date(2021, 3, 21), dt.date(2015, 3, 21), dt.date(2026, 3, 21)
    )
    assert days[0] == dt.date(2016, 1, 21) and days[-1] == dt.date(2026, 1, 15)
    assert len(days) == 11 and all(d.weekday() == 3 for d in days)
    termly = school_census.census_dates(
        dt.date(2021, 3, 21), dt.date(2020, 9, 1), dt.date(2021, 9, 1), "termly"
    )
    # autumn: first Thursday of October; summer: third Thursday of May
    assert termly == [dt.date(2020, 10, 1), dt.date(2021, 1, 21), dt.date(2021, 5, 20)]
    assert school_census.reference_census(days, dt.date(2021, 3, 21)) == dt.date(2021, 1, 21)


def test_rereferral_and_overlap_helpers_by_hand():
    child = np.array([1, 1, 1, 2, 2])
    day = np.array([400, 10, 100, 5, 371])
    # child 1 sorted: 10, 100 (90 days after: re-referral), 400 (300 days after: re-referral)
    # child 2: 5, 371 (366 days after: not within 12 months)
    assert measures.rereferral(child, day).tolist() == [True, False, True, False, False]
    ends = measures.truncate_overlaps(
        np.array([1, 1, 2]), np.array([0, 50, 0]), np.array([100, 60, 10])
    )
    assert ends.tolist() == [49, 60, 10]
    assert (
        measures.children_open_on(
            np.array([1, 1, 2, 3]), np.array([0, 5, 0, 9]), np.array([5, 9, measures.OPEN, 12]), 5
        )
        == 2
    )
    assert measures.same_as_previous(np.array([], dtype=int)).shape == (0,)


def test_log_hazard_ratios_are_sums_of_coefficients():
    sp = default_parameters()["social_care"]
    lhr = social_care.log_hazard_ratios(sp)
    b, cin, cpp, cla = (
        sp["log_hazard_ratio_referral"],
        sp["log_mark_cin"],
        sp["log_mark_cpp"],
        sp["log_mark_cla"],
    )
    assert lhr["referral"]["fsm"] == b["fsm"]
    assert lhr["cpp"]["fsm"] == pytest.approx(b["fsm"] + cin.get("fsm", 0) + cpp.get("fsm", 0))
    assert lhr["cla"]["employment:health"] == pytest.approx(
        b["employment:health"] + cin.get("employment:health", 0) + cla.get("employment:health", 0)
    )
    assert set(lhr["cin"]) == set(social_care.TERMS)


def test_thinning_probabilities_are_checked():
    sp = default_parameters()["social_care"]
    sp["log_mark_cin"] = {"employment": 0.5, "fsm": 0.5}
    # largest exp(gamma'x): employment = fsm = 1 -> exp(1.0); p0 0.3 -> 0.3 e = 0.815
    maxima = social_care.mark_probability_maxima(sp, {"cin": 0.3, "cpp": 0.1, "cla": 0.01}, 0.0)
    assert maxima["cin"] == pytest.approx(0.3 * np.e)
    social_care.check_mark_probabilities(sp, {"cin": 0.3, "cpp": 0.1, "cla": 0.01}, 0.0)
    with pytest.raises(ValueError, match="above 1"):
        social_care.check_mark_probabilities(sp, {"cin": 0.4, "cpp": 0.1, "cla": 0.01}, 0.0)
    # care: p0 * max age shape * exp(max gamma'x) * exp(max LA effect)
    shape_max = max(sp["cla_age_shape"])
    with pytest.raises(ValueError, match="cla"):
        social_care.check_mark_probabilities(
            sp, {"cin": 0.1, "cpp": 0.1, "cla": 1.0 / shape_max}, 0.5
        )


def test_realised_thinning_probabilities_stay_below_one(truth):
    for name, value in truth["social_care"]["marks"]["maximum_probability"].items():
        assert 0 < value <= 1, name


def test_expected_offspring_in_window_by_hand():
    # delays 10..19 (10 values), window [100, 110)
    # primary on day 85: days 95..104 -> 100..104 in the window: 5 of 10 = 0.5
    # primary on day 95: days 105..114 -> 105..109: 0.5, but its child's end is day 108
    #   (exclusive) -> 105..107: 0.3
    # primary on day 50: days 60..69, none in the window: 0
    day = np.array([85, 95, 50])
    end = np.array([10_000, 108, 10_000])
    value = social_care.expected_offspring_in_window(day, end, (10, 19), 100, 110)
    assert value == pytest.approx(0.5 + 0.3 + 0.0)


def test_offspring_means_solve_count_and_share_by_hand():
    # count: 100 primaries + 50 m_e + 200 m_l = 520; share: primaries 10% re-referred,
    # early offspring 100%, late 30%, share window = count window:
    #   10 + 50 m_e + 60 m_l = 0.24 (100 + 50 m_e + 200 m_l)
    #   -> 38 m_e + 12 m_l = 14 and 50 m_e + 200 m_l = 420
    #   -> m_l = (420 - 50 m_e) / 200; 38 m_e + 12 (2.1 - 0.25 m_e) = 14
    #   -> 35 m_e = 14 - 25.2 < 0: the share is exceeded at m_e = 0, so m_e = 0 and
    #      m_l = 420 / 200 = 2.1
    m_e, m_l = social_care.solve_offspring_means(
        520, 100, (50, 200), 0.24, ((100, 0.10), (50, 1.0), (200, 0.30))
    )
    assert (m_e, m_l) == (0.0, pytest.approx(2.1))
    # late offspring 10% re-referred: 38 m_e - 28 m_l = 14, 50 m_e + 200 m_l = 420
    #   -> m_e = (14 + 28 m_l) / 38; 50 (14 + 28 m_l) / 38 + 200 m_l = 420
    #   -> 700 + 1400 m_l + 7600 m_l = 15960 -> m_l = 15260 / 9000 = 1.69556,
    #      m_e = (14 + 28 x 1.69556) / 38 = 1.61778
    m_e, m_l = social_care.solve_offspring_means(
        520, 100, (50, 200), 0.24, ((100, 0.10), (50, 1.0), (200, 0.10))
    )
    assert m_l == pytest.approx(15260 / 9000)
    assert m_e == pytest.approx((14 + 28 * 15260 / 9000) / 38)


def test_first_referral_is_primary_and_ever_referred_is_model_based():
    # a cohort followed from birth to 18 with the default shape: the share ever referred
    # equals the model-based 1 - exp(-exp(eta) scale R(18)) averaged, whatever the offspring
    rng = np.random.default_rng(5)
    n = 40_000
    dob = np.zeros(n, dtype=np.int64)
    eta = rng.normal(-0.2, 0.7, n)
    baseline = social_care.Baseline(default_parameters()["social_care"]["referral_age_shape"])
    ch = social_care.Children(
        dob=dob,
        la=np.zeros(n, dtype=np.int64),
        male=np.zeros(n, dtype=bool),
        domains=np.zeros((n, 4), dtype=bool),
        fsm=np.zeros(n, dtype=bool),
        context=np.zeros(n),
        observed=np.ones(n, dtype=bool),
        age_at_census=np.zeros(n, dtype=np.int64),
    )
    end = np.full(n, int(18 * social_care.YEAR))
    refs = social_care.simulate_referrals(
        ch,
        eta,
        0.02,
        baseline,
        np.full(n, 0.5),
        np.full(n, 0.2),
        lambda c, a: np.full(len(c), 0.1),
        (0.3, 1.5),
        0.6,
        end,
        ((7, 365), (366, 1461)),
        rng,
    )
    model = social_care.lifetime_risk(eta, 0.02, baseline.cum[-1], 1.0)
    ever = np.unique(refs.child).size / n
    # binomial SE at p ~ 0.3, n = 40,000: 0.0023
    assert abs(ever - model) < 4 * 0.0023
    order = np.lexsort((~refs.primary, refs.day, refs.child))
    first = order[~measures.same_as_previous(refs.child[order])]
    assert refs.primary[first].all()
    # re-referrals (early or late) never start a plan or care, and are never primaries
    assert not (refs.cpp | refs.cla)[~refs.primary].any()
    assert not (refs.late & refs.primary).any()
    assert refs.late.sum() > 0.5 * (~refs.primary).sum()


def test_la_effects_seed_shares_the_authorities_effects_across_seeds(tmp_path):
    import json

    from child_mdh.sources.synthetic import generate

    def effects(seed, **options):
        truth = generate(2000, seed, tmp_path / f"{seed}{options}", **options)["truth"]
        return {la: v["effects"] for la, v in json.loads(open(truth).read())["las"].items()}

    fixed_1, fixed_2 = effects(1, la_effects_seed=7), effects(2, la_effects_seed=7)
    assert fixed_1 == fixed_2
    assert effects(1) != fixed_1 and effects(1) != effects(2)
