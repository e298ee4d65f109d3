"""Local-area statistics: hand-worked examples and England's public-health reference values."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from child_mdh.aggregates import stats

from paths import shared_fixture

Z95 = 1.959963984540054  # Phi^-1(0.975)


def reference_file(name: str) -> Path:
    return shared_fixture("reference_values", name)


# ---------------------------------------------------------------- hand-worked examples
def test_z_values():
    assert stats.z_value(0.95) == pytest.approx(Z95, abs=1e-12)
    assert stats.z_value(0.998) == pytest.approx(3.090232306, abs=1e-9)
    with pytest.raises(ValueError, match="fraction"):
        stats.z_value(95)


def test_wilson_at_zero_and_at_n():
    # x = 0: lower = (z^2 - z*sqrt(z^2)) / (2(n + z^2)) = 0;
    #        upper = 2 z^2 / (2(n + z^2)) = 3.8414588 / 23.8414588 = 0.1611252
    # x = n = 20: 4x(1 - x/n) = 0, so lower = (2n + z^2 - z^2)/(2(n + z^2)) = 20/23.8414588
    lo, hi = stats.wilson_interval(np.array([0, 20]), 20)
    np.testing.assert_allclose(lo, [0.0, 0.8388748], atol=1e-7)
    np.testing.assert_allclose(hi, [0.1611252, 1.0], atol=1e-7)


def test_wilson_general_case_by_hand():
    # x = 65, n = 100, 95%: 2x + z^2 = 133.8414588; 4x(1 - x/n) = 91;
    # z sqrt(3.8414588 + 91) = 1.9599640 * 9.7386580 = 19.0874190; 2(n + z^2) = 207.6829176
    # lower = 114.7540398 / 207.6829176 = 0.5525444; upper = 152.9288778 / 207.6829176 = 0.7363575
    lo, hi = stats.wilson_interval(65, 100)
    assert lo == pytest.approx(0.5525444, abs=1e-7)
    assert hi == pytest.approx(0.7363575, abs=1e-7)
    lo_pct, hi_pct = stats.wilson_interval(65, 100, multiplier=100)
    assert (lo_pct, hi_pct) == pytest.approx((55.25444, 73.63575), abs=1e-5)


def test_byar_by_hand():
    # x = 100, 95%: lower = 100 (1 - 1/900 - 1.959964/30)^3 = 100 * 0.9335568^3 = 81.36211
    # upper = 101 (1 - 1/909 + 1.959964/(3 sqrt(101)))^3 = 101 * 1.0639078^3 = 121.62794
    lo, hi = stats.byar_interval(100)
    assert lo == pytest.approx(81.36211, abs=1e-5)
    assert hi == pytest.approx(121.62794, abs=1e-5)
    # as a rate per 10,000 of a population of 50,000: divide by 50,000, times 10,000
    lo_r, hi_r = stats.rate_interval(100, 50_000, per=10_000)
    assert (lo_r, hi_r) == pytest.approx((16.272421, 24.325588), abs=1e-6)


def test_exact_poisson_by_hand():
    # chi-square with 2 df is exponential with mean 2, so chi2(q; 2)/2 = -ln(1 - q):
    # x = 0: lower 0, upper = chi2(0.975; 2)/2 = -ln(0.025) = 3.6888795
    # x = 1: lower = chi2(0.025; 2)/2 = -ln(0.975) = 0.0253178
    lo, hi = stats.byar_interval(np.array([0.0, 1.0]))
    assert lo[0] == 0.0
    assert hi[0] == pytest.approx(3.6888795, abs=1e-7)
    assert lo[1] == pytest.approx(0.0253178, abs=1e-7)


def test_auto_switches_from_exact_to_byar_at_ten():
    lo_auto, hi_auto = stats.byar_interval(np.array([9.0, 10.0]))
    lo_ex, hi_ex = stats.byar_interval(np.array([9.0, 10.0]), method="exact")
    lo_by, hi_by = stats.byar_interval(np.array([9.0, 10.0]), method="byar")
    assert lo_auto[0] == lo_ex[0] and hi_auto[0] == hi_ex[0]
    assert lo_auto[1] == lo_by[1] and hi_auto[1] == hi_by[1]
    assert lo_ex[1] != lo_by[1]


def _byar_relative_to_exact(confidence: float):
    """Counts 1..100 and Byar's limits relative to the exact Poisson limits (Byar / exact - 1).

    The exact (Garwood) limits are computed here from scipy's chi-square quantiles, not
    with the code under test: chi2(alpha/2; 2x)/2 and chi2(1 - alpha/2; 2x + 2)/2.
    """
    x = np.arange(1, 101, dtype=float)
    alpha = 1 - confidence
    exact_lo = sps.chi2.ppf(alpha / 2, 2 * x) / 2
    exact_hi = sps.chi2.ppf(1 - alpha / 2, 2 * x + 2) / 2
    byar_lo, byar_hi = stats.byar_interval(x, 1, confidence, method="byar")
    return x, byar_lo / exact_lo - 1, byar_hi / exact_hi - 1


def _below_from(x, rel, threshold) -> int:
    """The smallest count from which |rel| < threshold for every count up to 100."""
    bad = np.flatnonzero(np.abs(rel) >= threshold)
    return int(x[bad[-1]]) + 1 if len(bad) else int(x[0])


# level, limit, relative difference at 10 and at 100 events, below 1% from, below 0.1% from
BYAR_VS_EXACT = [
    (0.95, "lower", -0.0017, -0.00002, 5, 13),
    (0.95, "upper", +0.00006, +0.00001, 1, 2),
    (0.998, "lower", -0.0149, -0.00025, 13, 44),
    (0.998, "upper", +0.0025, +0.00014, 2, 23),
]


@pytest.mark.parametrize("confidence, limit, at10, at100, below_1pct, below_01pct", BYAR_VS_EXACT)
def test_byar_against_exact_poisson_as_documented(
    confidence, limit, at10, at100, below_1pct, below_01pct
):
    # the figures stated in docs/statistics.md ('What is approximate'), rounded as stated
    x, rel_lo, rel_hi = _byar_relative_to_exact(confidence)
    rel = rel_lo if limit == "lower" else rel_hi
    assert rel[9] == pytest.approx(at10, abs=5e-5 if abs(at10) >= 1e-3 else 5e-6)
    assert rel[99] == pytest.approx(at100, abs=5e-6)
    assert _below_from(x, rel, 0.01) == below_1pct
    assert _below_from(x, rel, 0.001) == below_01pct


def test_byar_interval_is_wider_than_exact_from_six_events():
    for confidence, upper_above_from in ((0.95, 6), (0.998, 1)):
        x, rel_lo, rel_hi = _byar_relative_to_exact(confidence)
        assert (rel_lo < 0).all()
        assert (rel_hi[x >= upper_above_from] > 0).all() and (
            rel_hi[x < upper_above_from] < 0
        ).all()
    # the 99.8% lower limit at 10, 11 and 12 events: 1.49%, 1.23%, 1.04% below the exact one
    _, rel_lo, _ = _byar_relative_to_exact(0.998)
    np.testing.assert_allclose(rel_lo[9:12], [-0.0149, -0.0123, -0.0104], atol=5e-5)


def test_rate_per():
    # 330 children in need among 100,000 children = 33 per 10,000
    assert stats.rate_per(330, 100_000) == pytest.approx(33.0)
    assert stats.rate_per(330, 100_000, per=1000) == pytest.approx(3.3)


def test_rate_ratio_lognormal_by_hand():
    # 20/1000 vs 10/1000: RR = 2; SE(log RR) = sqrt(1/20 + 1/10) = 0.3872983;
    # z SE = 0.7590908; limits 2 exp(-/+0.7590908) = 2 * 0.4680918 = 0.9361837 and 2 * 2.1363330
    rr, lo, hi = stats.rate_ratio(20, 1000, 10, 1000, method="lognormal")
    assert rr == pytest.approx(2.0)
    assert lo == pytest.approx(0.9361837, abs=1e-7)
    assert hi == pytest.approx(4.2726659, abs=1e-7)


def test_rate_ratio_exact_by_hand():
    # x1 = x2 = 1, equal populations: x1 | N = 2 is Binomial(2, pi). Clopper-Pearson:
    # Beta(1, 2) has cdf 1 - (1 - p)^2, so pi_L = 1 - sqrt(0.975) = 0.0125791;
    # Beta(2, 1) has cdf p^2, so pi_U = sqrt(0.975) = 0.9874209.
    # RR = pi/(1 - pi): 0.0125791/0.9874209 = 0.0127394 and 0.9874209/0.0125791 = 78.4968353
    rr, lo, hi = stats.rate_ratio(1, 500, 1, 500)
    assert rr == pytest.approx(1.0)
    assert lo == pytest.approx(0.0127394, abs=1e-7)
    assert hi == pytest.approx(78.4968353, abs=1e-6)
    # with no events in the comparison group the upper limit is infinite
    _, lo0, hi0 = stats.rate_ratio(3, 100, 0, 100)
    assert np.isinf(hi0) and lo0 > 0


def test_rate_ratio_auto_uses_exact_for_small_counts():
    _rr, lo, _hi = stats.rate_ratio(np.array([5, 50]), 1000, np.array([50, 50]), 1000)
    _, lo_ex, _ = stats.rate_ratio(5, 1000, 50, 1000, method="exact")
    _, lo_ln, _ = stats.rate_ratio(50, 1000, 50, 1000, method="lognormal")
    assert lo[0] == pytest.approx(lo_ex) and lo[1] == pytest.approx(lo_ln)


def test_compare_with_england():
    lower = pd.Series([10.0, 21.0, 12.0, np.nan, 20.0], index=list("abcde"))
    upper = pd.Series([30.0, 25.0, 19.0, 30.0, 22.0], index=list("abcde"))
    got = stats.compare_with_england(lower, upper, 20.0)
    assert list(got.index) == list("abcde")
    # 20 in [10, 30] similar; [21, 25] wholly above -> higher; [12, 19] below -> lower;
    # missing limit -> not compared; a limit equal to England's value counts as inside
    assert got.tolist() == ["similar", "higher", "lower", "not compared", "similar"]
    good = stats.compare_with_england(lower, upper, 20.0, polarity="low_is_good")
    assert good.tolist() == ["similar", "worse", "better", "not compared", "similar"]
    assert stats.compare_with_england(21.0, 25.0, 20.0, polarity="high_is_good") == "better"


def test_funnel_limits_proportion_by_hand():
    # p0 = 0.2, n = 100: z sqrt(0.2 * 0.8 / 100) = 1.959964 * 0.04 = 0.0783986
    lo, hi = stats.funnel_limits_proportion(0.2, 100)
    assert lo == pytest.approx(0.1216014, abs=1e-7)
    assert hi == pytest.approx(0.2783986, abs=1e-7)
    # an area exactly on the limit has a Wilson interval that touches the baseline
    _, wilson_hi = stats.wilson_interval(lo * 100, 100)
    assert wilson_hi == pytest.approx(0.2, abs=1e-12)


def test_funnel_limits_rate_touch_the_exact_interval():
    # At the denominator where the exact upper limit of O = 7 events equals the expected
    # count, the lower funnel limit is exactly 7 events: n = chi2(0.975; 16)/2 / baseline.
    baseline = 330.0  # per 10,000
    upper_7 = sps.chi2.ppf(0.975, 16) / 2
    n = upper_7 / (baseline / 10_000)
    lo, _ = stats.funnel_limits_rate(baseline, n)
    assert lo == pytest.approx(7 / n * 10_000, rel=1e-9)
    # and where the exact lower limit of 30 events equals the expected count, the upper
    # limit is 30 events: n = chi2(0.025; 60)/2 / baseline
    n2 = sps.chi2.ppf(0.025, 60) / 2 / (baseline / 10_000)
    _, hi = stats.funnel_limits_rate(baseline, n2)
    assert hi == pytest.approx(30 / n2 * 10_000, rel=1e-9)


def test_funnel_rate_lower_limit_is_zero_when_no_count_could_be_low():
    # With E below -ln(0.025) = 3.689 even 0 events have an upper limit above E
    lo, hi = stats.funnel_limits_rate(330.0, 100)  # E = 3.3
    assert lo == 0.0 and hi > 330.0


def test_funnel_ratio_limits_around_one():
    lo, hi = stats.funnel_limits_ratio(np.array([5.0, 50.0, 500.0]))
    assert np.all(lo < 1) and np.all(hi > 1)
    assert np.all(np.diff(hi) < 0) and np.all(np.diff(lo) > 0)  # the funnel narrows


def test_funnel_significance_rates_agree_with_exact_intervals():
    x = np.array([2, 30, 60, 33])
    n = np.array([1000, 1000, 1000, 1000])
    labels = stats.funnel_significance(x, n, baseline=33.0, statistic="rate", per=1000)
    # 2/1000: exact 99.8% upper = chi2(0.999; 6)/2 = 11.23 < 33 -> Low (0.001)
    # 60/1000: exact 99.8% lower = chi2(0.001; 120)/2 = 41.8 > 33 -> High (0.001)
    assert labels.tolist()[0] == "Low (0.001)"
    assert labels.tolist()[2] == "High (0.001)"
    assert labels.tolist()[3] == "Not significant"


def test_series_in_series_out_and_missing_values():
    x = pd.Series([5, None, 50], index=["E1", "E2", "E3"], dtype="Int64")
    n = pd.Series([100, 100, 100], index=["E1", "E2", "E3"])
    lo, hi = stats.wilson_interval(x, n)
    assert list(lo.index) == ["E1", "E2", "E3"]
    assert np.isnan(lo["E2"]) and np.isnan(hi["E2"])
    lo_r, _ = stats.rate_interval(x, n)
    assert np.isnan(lo_r["E2"]) and lo_r["E1"] > 0


def test_bad_input_names_the_argument_and_position():
    with pytest.raises(ValueError, match="x: counts must be zero or more.*position 1"):
        stats.wilson_interval([1, -2], [10, 10])
    with pytest.raises(ValueError, match="n: denominators must be greater than zero"):
        stats.byar_interval([1, 2], [10, 0])
    with pytest.raises(ValueError, match="cannot exceed its denominator"):
        stats.wilson_interval([11], [10])


def test_summaries_have_profile_columns():
    out = stats.proportion_summary([65], [100])
    assert list(out.columns) == ["value", "lower_95", "upper_95", "lower_99_8", "upper_99_8"]
    assert out.loc[0, "lower_95"] == pytest.approx(55.25444, abs=1e-5)
    rates = stats.rate_summary([100], [50_000])
    assert rates.loc[0, "value"] == pytest.approx(20.0)
    assert rates.loc[0, "lower_95"] == pytest.approx(16.272421, abs=1e-6)


def test_vectorised_on_a_million_rows():
    rng = np.random.default_rng(0)
    n = rng.integers(1, 5000, size=1_000_000)
    x = rng.binomial(n, 0.2)
    lo, hi = stats.wilson_interval(x, n)
    blo, bhi = stats.rate_interval(x, n)
    assert lo.shape == (1_000_000,) and np.all(lo <= x / n) and np.all(hi >= x / n)
    assert np.all(blo <= bhi)


# ---------------------------------------------------------------- reference values
def _level(text: str) -> float:
    return {"95%": 0.95, "99.8%": 0.998}[text]


def test_reference_byars_and_wilson():
    df = pd.read_excel(reference_file("testdata_Byars_Wilson.xlsx")).dropna(how="all")
    checked = 0
    for row in df.itertuples():
        conf = _level(row.confidence)
        if row.method == "Wilson":
            lo, hi = stats.wilson_interval(row.x, row.n, conf)
        else:
            lo, hi = stats.byar_interval(row.x, 1, conf, method="byar")
        if not np.isnan(row.lowercl):  # Byar's lower limit is undefined for x=1 at 99.8%
            assert lo == pytest.approx(row.lowercl, rel=1e-9)
        assert hi == pytest.approx(row.uppercl, rel=1e-9)
        checked += 1
    assert checked == 13


@pytest.mark.parametrize("sheet", ["testdata_Prop", "testdata_Prop_g"])
def test_reference_proportions(sheet):
    df = pd.read_excel(reference_file("testdata_Proportion.xlsx"), sheet_name=sheet)
    df = df.dropna(subset=["Numerator", "Denominator"])
    if sheet == "testdata_Prop":
        levels = {0.95: ("lower95_0cl", "upper95_0cl"), 0.998: ("lower99_8cl", "upper99_8cl")}
    else:
        levels = {0.95: ("lowercl", "uppercl")}
    for conf, (lo_col, hi_col) in levels.items():
        lo, hi = stats.wilson_interval(
            df["Numerator"], df["Denominator"], conf, multiplier=df["multiplier"].to_numpy()
        )
        np.testing.assert_allclose(lo, df[lo_col], rtol=1e-9)
        np.testing.assert_allclose(hi, df[hi_col], rtol=1e-9)
    summary = stats.proportion_summary(df["Numerator"], df["Denominator"], multiplier=1)
    np.testing.assert_allclose(summary["value"] * df["multiplier"], df["value"], rtol=1e-12)


@pytest.mark.parametrize("sheet", ["testdata_Rate", "testdata_Rate_g"])
def test_reference_rates(sheet):
    df = pd.read_excel(reference_file("testdata_Rate.xlsx"), sheet_name=sheet)
    df = df.dropna(subset=["Numerator", "Denominator"])
    if sheet == "testdata_Rate":
        levels = {0.95: ("lower95_0cl", "upper95_0cl"), 0.998: ("lower99_8cl", "upper99_8cl")}
    else:
        levels = {0.95: ("lowercl", "uppercl")}
    # the reference switches from exact to Byar's at 10 events, as method='auto'
    assert set(df.loc[df["Numerator"] < 10, "method"]) == {"Exact"}
    for conf, (lo_col, hi_col) in levels.items():
        lo, hi = stats.rate_interval(
            df["Numerator"], df["Denominator"], per=df["multiplier"].to_numpy(), confidence=conf
        )
        np.testing.assert_allclose(lo, df[lo_col], rtol=1e-9)
        np.testing.assert_allclose(hi, df[hi_col], rtol=1e-9)
    np.testing.assert_allclose(
        stats.rate_per(df["Numerator"], df["Denominator"], per=df["multiplier"].to_numpy()),
        df["value"],
        rtol=1e-12,
    )


def test_reference_funnel_limits_for_proportions():
    inputs = pd.read_csv(reference_file("testdata_funnel_prop_inputs.csv"), encoding="utf-8-sig")
    expected = pd.read_csv(reference_file("testdata_funnel_prop_outputs.csv"), encoding="utf-8-sig")
    axis = stats.funnel_axis(inputs["denominator"])
    np.testing.assert_array_equal(axis, expected["Population"].to_numpy(dtype=float))
    baseline = inputs["numerator"].sum() / inputs["denominator"].sum()
    got = stats.funnel_limits_table(baseline, axis, multiplier=100)
    # the reference file is written to 6 decimal places
    for ours, theirs in [
        ("lower_95", "Lower2s0025limit"),
        ("upper_95", "Upper2s0025limit"),
        ("lower_99_8", "Lower3s0001limit"),
        ("upper_99_8", "Upper3s0001limit"),
        ("baseline", "Baseline"),
    ]:
        np.testing.assert_allclose(got[ours], expected[theirs], atol=1e-6)


def test_reference_funnel_significance_for_proportions():
    inputs = pd.read_csv(reference_file("testdata_funnel_prop_inputs.csv"), encoding="utf-8-sig")
    labels = stats.funnel_significance(inputs["numerator"], inputs["denominator"])
    assert len(labels) == 303
    assert labels.tolist() == inputs["significance"].tolist()


def test_a_formula_to_no_digits_gives_whole_numbers():
    """A difference of published counts (a formula to 0 digits) is written as a count,
    with nothing where a count it reads is withheld."""
    from child_mdh.aggregates.formulas import Formula, apply_formulas

    df = pd.DataFrame({"children_n": [490.0, 1235.0, np.nan], "index_n": [450.0, 1135.0, 20.0]})
    out = apply_formulas(df, {"unknown_n": Formula("children_n - index_n", 0)})
    assert str(out["unknown_n"].dtype) == "Int64"
    assert out["unknown_n"].tolist()[:2] == [40, 100] and pd.isna(out["unknown_n"].iloc[2])
    assert out.to_csv(index=False).splitlines()[1] == "490.0,450.0,40"
