"""Profile statistics checked against hand-computed values on a tiny children table.

Three local authorities, equal weights 0.2 over five indicators, k = 0.4:

- E06000001: 40 children; 12 deprived in employment and education (score 0.4, MDH),
  28 deprived in nothing. Referred: 6 of the 12 MDH, 3 of the 28 others.
- E06000002: 60 children; 15 deprived in employment, health and housing (score 0.6,
  MDH), 45 deprived in FSM only (score 0.2, not MDH). Referred: 5 MDH, 5 others.
- E06000003: 50 children; 40 deprived in all five (score 1.0, MDH), 10 in nothing.
  Referred: 20 MDH, 2 others.

England: n = 150, q = 67, H = 67/150 = 0.446667. Every referred child has one referral;
every child has 2 years of follow-up; no child in need, plan or care.
"""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from child_mdh.aggregates.profiles.statistics import ProfileInputError, profile_statistics
from child_mdh.release.profiles.tables import profile_tables, protect_profile_tables

from profile_inputs import INDICATORS, WEIGHTS, K, make_areas, make_children

Z95 = 1.959963984540054
Z998 = 3.090232306167813
CODES = ["E06000001", "E06000002", "E06000003"]


def block(code, n, deprived, referred):
    """n children of one LA deprived in ``deprived``, the first ``referred`` referred."""
    ref = np.arange(n) < referred
    return pd.DataFrame(
        {
            "la_code": code,
            **{i: pd.array([i in deprived] * n, dtype="boolean") for i in INDICATORS},
            "any_referral": pd.array(ref, dtype="boolean"),
            "any_cin": pd.array([False] * n, dtype="boolean"),
            "any_cpp": pd.array([False] * n, dtype="boolean"),
            "entered_care": pd.array([False] * n, dtype="boolean"),
            "n_referrals": ref.astype("int64"),
            "exposure_years": 2.0,
        }
    )


def tiny_children():
    return pd.concat(
        [
            block("E06000001", 12, {"employment", "education"}, 6),
            block("E06000001", 28, set(), 3),
            block("E06000002", 15, {"employment", "health", "housing"}, 5),
            block("E06000002", 45, {"fsm"}, 5),
            block("E06000003", 40, set(INDICATORS), 20),
            block("E06000003", 10, set(), 2),
        ],
        ignore_index=True,
    )


@pytest.fixture(scope="module")
def wide():
    st = profile_statistics(tiny_children(), make_areas(CODES), WEIGHTS, K, interval="wald")
    return st["area_statistics"].set_index("la_code")


def wilson(x, n, z):
    """Wilson score interval in %, written out independently of child_mdh.aggregates.stats."""
    centre, half = 2 * x + z * z, z * math.sqrt(z * z + 4 * x * (1 - x / n))
    return (centre - half) / (2 * (n + z * z)) * 100, (centre + half) / (2 * (n + z * z)) * 100


def test_counts_and_prevalence_with_wilson_intervals(wide):
    assert wide["children_n"].tolist() == [150, 40, 60, 50]
    assert wide["mdh_n"].tolist() == [67, 12, 15, 40]
    assert wide["non_mdh_n"].tolist() == [83, 28, 45, 10]
    # E06000001: 12/40 = 30%. Wilson 95%: z^2 = 3.841459; centre 2x + z^2 = 27.841459;
    # half z sqrt(z^2 + 4x(1 - x/n)) = 1.959964 sqrt(3.841459 + 33.6) = 11.992910;
    # denominator 2(n + z^2) = 87.682918 -> (15.848549, 39.834369)/87.682918
    # = 18.0748% to 45.4300%.
    la = wide.loc["E06000001"]
    assert la["mdh_pct"] == pytest.approx(30.0)
    assert la["mdh_pct_lower_95"] == pytest.approx(18.07485, abs=1e-4)
    assert la["mdh_pct_upper_95"] == pytest.approx(45.43002, abs=1e-4)
    for code, x, n in (("E06000002", 15, 60), ("E06000003", 40, 50), ("E92000001", 67, 150)):
        row = wide.loc[code]
        assert row["mdh_pct"] == pytest.approx(100 * x / n)
        lo, hi = wilson(x, n, Z95)
        assert (row["mdh_pct_lower_95"], row["mdh_pct_upper_95"]) == pytest.approx((lo, hi))
        lo, hi = wilson(x, n, Z998)
        assert (row["mdh_pct_lower_99_8"], row["mdh_pct_upper_99_8"]) == pytest.approx((lo, hi))


def test_comparison_labels_at_two_levels(wide):
    # England 44.667%. E06000001 95% CI 18.07-45.43 contains it: similar (both levels).
    # E06000002 95% CI 15.78-37.23 lies below: lower; 99.8% CI 12.02-44.84 contains it:
    # similar. E06000003 95% CI 66.96-88.76 and 99.8% CI 58.46-91.91 lie above: higher.
    got = wide[["mdh_pct_vs_england_95", "mdh_pct_vs_england_99_8"]]
    assert got.loc["E06000001"].tolist() == ["similar", "similar"]
    assert got.loc["E06000002"].tolist() == ["lower", "similar"]
    assert got.loc["E06000003"].tolist() == ["higher", "higher"]
    assert got.loc["E92000001"].isna().all()  # England is not compared with itself


def test_funnel_labels(wide):
    # limits p0 -/+ z sqrt(p0 (1 - p0)/n), p0 = 0.446667, p0(1 - p0) = 0.247156.
    # E06000003 (n 50): 99.8% upper 0.446667 + 3.090232 x 0.070307 = 0.663932 < 0.8.
    # E06000002 (n 60): 95% lower 0.446667 - 1.959964 x 0.064181 = 0.320875 > 0.25,
    #   99.8% lower 0.446667 - 3.090232 x 0.064181 = 0.248333 < 0.25.
    # E06000001 (n 40): 95% lower 0.446667 - 1.959964 x 0.078606 = 0.292601 < 0.30.
    assert wide.loc["E06000003", "mdh_pct_funnel"] == "High (0.001)"
    assert wide.loc["E06000002", "mdh_pct_funnel"] == "Low (0.025)"
    assert wide.loc["E06000001", "mdh_pct_funnel"] == "Not significant"


def test_logit_intervals_of_h_a_m0_stay_in_range_and_match_the_index_formula():
    """The default shape (``index.interval: logit``), worked by hand for E06000001: the
    same published design factor, the half-width z deft sqrt(p (1 - p) / n) divided by
    p (1 - p) on the logit scale; A = 0.4 sits at the cut-off k = 0.4, the end of its
    range (k, 1], where the interval is Clopper-Pearson's for 0 of the 12 MDH children."""
    st = profile_statistics(tiny_children(), make_areas(CODES), WEIGHTS, K)
    la = st["area_statistics"].set_index("la_code").loc["E06000001"]
    assert la["H_deft_95"] == 1.05
    half = Z95 * 1.05 * math.sqrt(0.21 / 40) / 0.21
    logit = math.log(0.3 / 0.7)
    expit = lambda x: 1 / (1 + math.exp(-x))  # noqa: E731
    assert la["H_lower_95"] == pytest.approx(expit(logit - half), abs=1e-12)
    assert la["H_upper_95"] == pytest.approx(expit(logit + half), abs=1e-12)
    assert la["H_lower_95"] > 0.3 - Z95 * 1.05 * math.sqrt(0.21 / 40)  # not symmetric
    assert abs(K - 0.4) < 1e-12
    edge = 1 - 0.025 ** (1 / 12)
    assert la["A_lower_95"] == pytest.approx(0.4)
    assert la["A_upper_95"] == pytest.approx(0.4 + 0.6 * edge)
    every = st["area_statistics"]
    for m, lo in (("H", 0.0), ("A", K), ("M0", 0.0)):
        for level in ("95", "99_8"):
            bounds = every[[f"{m}_lower_{level}", f"{m}_upper_{level}"]].dropna()
            assert (bounds >= lo - 1e-12).all().all() and (bounds <= 1 + 1e-12).all().all()


def test_h_a_m0_and_linearised_intervals(wide):
    la = wide.loc["E06000001"]
    # H = 12/40 = 0.3; every MDH child scores 0.4, so A = 0.4 and M0 = 0.12.
    assert (la["H"], la["A"], la["M0"]) == pytest.approx((0.3, 0.4, 0.12))
    # Independent children: V(H) = n/(n-1) sum z_i^2 with z_i = (y_i - H)/n, which is
    # H(1 - H)/(n - 1) = 0.21/39 = 0.0053846, se 0.073380; t(39, 0.975) = 2.022691.
    # Design factor t se / (z sqrt(H(1 - H)/n)) = 2.022691 x 0.073380 / (1.959964 x
    # 0.072457) = 1.0451, published as 1.05; the interval 0.3 -/+ z 1.05 sqrt(0.21/40).
    srs = math.sqrt(0.21 / 40)
    assert la["H_deft_95"] == round(2.022691 * math.sqrt(0.21 / 39) / (Z95 * srs), 2) == 1.05
    assert la["H_lower_95"] == pytest.approx(0.3 - Z95 * 1.05 * srs, abs=1e-9)
    assert la["H_upper_95"] == pytest.approx(0.3 + Z95 * 1.05 * srs, abs=1e-9)
    # M0: y_i = 0.4 for the 12 MDH, 0 otherwise. sum (y - M0)^2 = 12 x 0.28^2 + 28 x 0.12^2
    # = 1.344; V = 1.344 / (40 x 39) = 0.00086154, se 0.029352; against the binomial-like
    # sqrt(M0 (1 - M0) / n) = sqrt(0.1056 / 40) the design factor at 99.8% is
    # t(39, 0.999) se / (z(0.999) sqrt(0.1056 / 40)).
    se = math.sqrt(1.344 / (40 * 39))
    t998 = sps.t.ppf(0.999, 39)
    z998 = sps.norm.ppf(0.999)
    deft = round(t998 * se / (z998 * math.sqrt(0.1056 / 40)), 2)
    assert la["M0_deft_99_8"] == deft
    assert la["M0_lower_99_8"] == pytest.approx(
        0.12 - z998 * deft * math.sqrt(0.1056 / 40), abs=1e-9
    )
    # A has no spread within E06000001 (all MDH score 0.4): a zero-width interval.
    assert la["A_lower_95"] == pytest.approx(0.4) and la["A_upper_95"] == pytest.approx(0.4)
    eng = wide.loc["E92000001"]
    # England: sum of censored scores 12 x 0.4 + 15 x 0.6 + 40 x 1.0 = 53.8;
    # A = 53.8/67 = 0.802985, M0 = 53.8/150 = 0.358667.
    assert (eng["H"], eng["A"], eng["M0"]) == pytest.approx((67 / 150, 53.8 / 67, 53.8 / 150))


def test_indicator_headcounts_and_contributions(wide):
    la1, la2 = wide.loc["E06000001"], wide.loc["E06000002"]
    assert la1["deprived_employment_pct"] == pytest.approx(30.0)  # 12/40
    assert la1["censored_employment_pct"] == pytest.approx(30.0)
    # M0 = 0.2 x 0.3 (employment) + 0.2 x 0.3 (education) = 0.12: each contributes 50%.
    assert la1["contribution_employment_pct"] == pytest.approx(50.0)
    assert la1["contribution_fsm_pct"] == pytest.approx(0.0)
    # E06000002: 45/60 deprived in FSM, none of them MDH: uncensored 75%, censored 0.
    assert la2["deprived_fsm_pct"] == pytest.approx(75.0)
    assert la2["censored_fsm_pct"] == pytest.approx(0.0)
    # three indicators at 15/60 each: 0.2 x 0.25 / 0.15 = 1/3 each.
    assert la2["contribution_health_pct"] == pytest.approx(100 / 3)
    contributions = [f"contribution_{i}_pct" for i in INDICATORS]
    assert wide[contributions].sum(axis=1).to_numpy() == pytest.approx(100.0)


def test_rates_with_exact_and_byar_intervals(wide):
    la1, la3 = wide.loc["E06000001"], wide.loc["E06000003"]
    # E06000001 MDH: 6 referred of 12: 5,000 per 10,000. Fewer than 10 events: exact,
    # chi2(0.025; 12)/2 = 2.201894 and chi2(0.975; 14)/2 = 13.059474 (tables), / 12 x 10^4.
    assert la1["referral_mdh_rate"] == pytest.approx(5000.0)
    assert la1["referral_mdh_rate_lower_95"] == pytest.approx(1834.912, abs=0.01)
    assert la1["referral_mdh_rate_upper_95"] == pytest.approx(10882.895, abs=0.01)
    assert la1["referral_non_mdh_rate"] == pytest.approx(3 / 28 * 1e4)
    # E06000003 MDH: 20 of 40, 10 events or more: Byar.
    # lower 20 (1 - 1/180 - 1.959964/(3 sqrt 20))^3 = 20 x 0.848357^3 = 12.21133
    # upper 21 (1 - 1/189 + 1.959964/(3 sqrt 21))^3 = 21 x 1.137276^3 = 30.88985
    # per 10,000 of 40: 3052.83 and 7722.46.
    lo = 20 * (1 - 1 / 180 - Z95 / (3 * math.sqrt(20))) ** 3 / 40 * 1e4
    hi = 21 * (1 - 1 / 189 + Z95 / (3 * math.sqrt(21))) ** 3 / 40 * 1e4
    assert la3["referral_mdh_rate_lower_95"] == pytest.approx(lo)
    assert la3["referral_mdh_rate_upper_95"] == pytest.approx(hi)
    assert lo == pytest.approx(3052.83, abs=0.05) and hi == pytest.approx(7722.46, abs=0.05)
    # referrals per 10,000 child-years: 6 referrals over 12 x 2 years = 2,500.
    assert la1["referrals_mdh_rate"] == pytest.approx(2500.0)


def test_rate_ratios_exact_and_lognormal(wide):
    # E06000003: (20/40)/(2/10) = 2.5; 2 events < 10: exact, conditional on 22 events:
    # pi = Clopper-Pearson limits of 20/22, RR = pi/(1 - pi) x n2/n1 = pi/(1 - pi) x 0.25.
    la3 = wide.loc["E06000003"]
    assert la3["referral_rate_ratio"] == pytest.approx(2.5)
    p_lo, p_hi = sps.beta.ppf(0.025, 20, 3), sps.beta.ppf(0.975, 21, 2)
    assert la3["referral_rate_ratio_lower_95"] == pytest.approx(p_lo / (1 - p_lo) * 0.25)
    assert la3["referral_rate_ratio_upper_95"] == pytest.approx(p_hi / (1 - p_hi) * 0.25)
    # England: MDH 31/67, other 10/83, both >= 10: log-normal.
    # RR = 0.462687/0.120482 = 3.840299; se = sqrt(1/31 + 1/10) = 0.363673;
    # 3.840299 exp(-/+ 1.959964 x 0.363673 = 0.712786): x 0.490276 = 1.88281,
    # x 2.039666 = 7.83293.
    eng = wide.loc["E92000001"]
    assert eng["referral_rate_ratio"] == pytest.approx(3.840299, abs=1e-6)
    assert eng["referral_rate_ratio_lower_95"] == pytest.approx(1.88281, abs=1e-4)
    assert eng["referral_rate_ratio_upper_95"] == pytest.approx(7.83293, abs=1e-4)


def test_rate_comparison_with_england(wide):
    # England MDH referral rate 31/67 x 10^4 = 4626.9; E06000001's exact 95% interval
    # (1834.9 to 10882.9) contains it: similar.
    assert wide.loc["E06000001", "referral_mdh_rate_vs_england_95"] == "similar"
    # England, all children: 41 of 150 = 2733.3 per 10,000.
    # E06000002, all children: 10 of 60 = 1666.7; Byar 95%:
    # lower 10 (1 - 1/90 - 1.959964/(3 sqrt 10))^3 / 60 x 10^4 = 797.9,
    # upper 11 (1 - 1/99 + 1.959964/(3 sqrt 11))^3 / 60 x 10^4 = 3065.2: contains 2733.3.
    assert wide.loc["E06000002", "referral_all_rate_vs_england_95"] == "similar"
    # E06000003, all children: 22 of 50 = 4400; Byar 95% lower
    # 22 (1 - 1/198 - 1.959964/(3 sqrt 22))^3 / 50 x 10^4 = 2756.5 > 2733.3: higher.
    lo = 22 * (1 - 1 / 198 - Z95 / (3 * math.sqrt(22))) ** 3 / 50 * 1e4
    assert lo == pytest.approx(2756.5, abs=0.1) and lo > 41 / 150 * 1e4
    assert wide.loc["E06000003", "referral_all_rate_vs_england_95"] == "higher"


def test_missing_values_leave_the_profile_and_are_counted():
    children = tiny_children()
    children.loc[0:2, "health"] = pd.NA  # three E06000001 MDH children
    children.loc[50, "any_cin"] = pd.NA  # one E06000002 child
    st = profile_statistics(children, make_areas(CODES), WEIGHTS, K)
    wide = st["area_statistics"].set_index("la_code")
    left = st["children_left_out"].set_index("la_code")["left_out_n"]
    assert left.to_dict() == {"E92000001": 4, "E06000001": 3, "E06000002": 1, "E06000003": 0}
    assert wide.loc["E06000001", "children_n"] == 37 and wide.loc["E06000001", "mdh_n"] == 9


def test_input_errors_name_the_problem():
    children = tiny_children()
    areas = make_areas(CODES)
    bad = children.assign(la_code=children["la_code"].where(children.index != 5, "E09999999"))
    with pytest.raises(ProfileInputError, match="E09999999.*areas"):
        profile_statistics(bad, areas, WEIGHTS, K)
    bad = children.astype({"housing": "object"})
    bad.loc[3, "housing"] = "yes"
    with pytest.raises(ProfileInputError, match="housing.*row 3"):
        profile_statistics(bad, areas, WEIGHTS, K)
    with pytest.raises(ProfileInputError, match="exposure_years"):
        profile_statistics(children.drop(columns="exposure_years"), areas, WEIGHTS, K)
    with pytest.raises(ProfileInputError, match="funnel_rate"):
        profile_statistics(children, areas, WEIGHTS, K, funnel_rate=("referrals", "all"))


def test_round_only_mitigation_is_refused():
    st = profile_statistics(tiny_children(), make_areas(CODES), WEIGHTS, K, interval="wald")
    with pytest.raises(ProfileInputError, match="'both'"):
        protect_profile_tables(st, {"mitigation": "round"})


def test_vectorised_over_areas_agrees_with_one_area_at_a_time():
    codes = [f"E0800000{i}" for i in range(1, 6)]
    children = make_children(dict(zip(codes, [400, 250, 300, 150, 500])), seed=3)
    whole = profile_statistics(children, make_areas(codes), WEIGHTS, K)["area_statistics"]
    whole = whole.set_index("la_code")
    for code in codes[:2]:
        alone = profile_statistics(
            children[children["la_code"] == code], make_areas(codes), WEIGHTS, K
        )["area_statistics"]
        row = alone.set_index("la_code").loc[code]
        for col in (
            "mdh_pct",
            "mdh_pct_upper_99_8",
            "M0",
            "M0_lower_95",
            "A_upper_95",
            "cin_mdh_rate_lower_95",
            "referral_rate_ratio",
        ):
            assert whole.loc[code, col] == pytest.approx(row[col], nan_ok=True)


def test_profile_tables_round_counts_and_statistics(sdc_config):
    codes = [f"E0800000{i}" for i in range(1, 5)]
    children = make_children(dict(zip(codes, [1200, 800, 900, 1500])), seed=5)
    wide = profile_tables(children, make_areas(codes), WEIGHTS, K, sdc_config)["area_statistics"]
    counts = wide[[c for c in wide.columns if c.endswith("_n")]]
    values = counts.to_numpy(dtype="float64", na_value=np.nan)
    assert np.all(np.isnan(values) | (values % 5 == 0))
    rates = wide["referral_mdh_rate"].dropna().to_numpy()
    assert np.allclose(rates, np.round(rates, 1))


def test_profile_formulas_follow_the_table_order_of_indicators():
    # the statistics' columns (and so the released file) must not depend on set order
    from child_mdh.aggregates.profiles.statistics import profile_formulas

    columns = [
        "children_n",
        "mdh_n",
        "non_mdh_n",
        *[f"{p}_{i}_n" for i in ("housing", "employment", "fsm") for p in ("deprived", "censored")],
    ]
    weights = {"housing": 0.4, "employment": 0.3, "fsm": 0.3}
    contributions = [c for c in profile_formulas(columns, weights) if c.startswith("contribution_")]
    assert contributions == [
        "contribution_housing_pct",
        "contribution_employment_pct",
        "contribution_fsm_pct",
    ]
