"""Disclosure control of the profile tables: small areas, margins, derived statistics."""

import numpy as np
import pandas as pd
import pytest

from child_mdh.aggregates.profiles.measures import GROUPS, OUTCOMES, count_column, rate_column
from child_mdh.aggregates.profiles.statistics import profile_statistics
from child_mdh.release.profiles.tables import (
    area_table_spec,
    profile_tables,
    protect_profile_tables,
)
from child_mdh.release.sdc import ColumnMargin, check_table

from profile_inputs import (
    FEW_MDH_LA,
    SMALL_LA,
    WEIGHTS,
    K,
    children_block,
    make_areas,
    make_children,
    profile_areas,
    profile_children,
)


def published(df, col):
    return df[col].notna().to_numpy()


def test_small_la_shows_suppressed_values(protected_tables):
    wide = protected_tables["area_statistics"].set_index("la_code")
    row = wide.loc[SMALL_LA]
    # 7 children: every count, statistic and comparison of the area is empty
    counts = [c for c in wide.columns if c.endswith("_n")]
    assert row[counts].isna().all()
    stats = [
        c
        for c in wide.columns
        if c not in counts and c not in ("la_name", "region_code", "region_name", "area_level")
    ]
    assert row[stats].isna().all()
    # and England minus the other areas cannot give it back: another area's number of
    # children is empty too
    assert wide["children_n"].isna().sum() >= 2


def test_mdh_plus_other_equals_all_is_protected(protected_tables):
    wide = protected_tables["area_statistics"].set_index("la_code")
    # E06000005: 6 MDH children of 500. MDH suppressed, so MDH + other = all must not
    # leave exactly one of the three empty.
    row = wide.loc[FEW_MDH_LA, ["mdh_n", "non_mdh_n", "children_n"]]
    assert pd.isna(row["mdh_n"]) and row.isna().sum() >= 2
    for parts, total in [(("mdh_n", "non_mdh_n"), "children_n")] + [
        ((count_column(o.key, "mdh"), count_column(o.key, "non_mdh")), count_column(o.key, "all"))
        for o in OUTCOMES
    ]:
        empty = wide[[*parts, total]].isna().sum(axis=1)
        assert not (empty == 1).any(), f"{parts} -> {total} leaves one empty cell"
    # every count column: local authorities add up to England, so never one empty alone
    for col in [c for c in wide.columns if c.endswith("_n")]:
        las = wide.drop(index="E92000001")[col]
        empties = las.isna().sum() + int(pd.isna(wide.loc["E92000001", col]))
        assert empties != 1, col


def test_large_area_with_few_mdh_children_keeps_its_total():
    # without the 7-child area, E06000005 keeps its number of children; the other
    # part of MDH + other = all is hidden instead
    codes = ["E06000001", "E06000002", FEW_MDH_LA]
    children = pd.concat(
        [
            make_children({"E06000001": 900, "E06000002": 700}, seed=2),
            children_block(FEW_MDH_LA, 6, {"employment", "fsm", "housing"}),
            children_block(FEW_MDH_LA, 494, set(), referred=40),
        ],
        ignore_index=True,
    )
    wide = profile_tables(children, make_areas(codes), WEIGHTS, K, {"mitigation": "suppress"})[
        "area_statistics"
    ].set_index("la_code")
    row = wide.loc[FEW_MDH_LA]
    assert pd.isna(row["mdh_n"]) and pd.isna(row["non_mdh_n"])
    assert row["children_n"] == 500
    assert pd.isna(row["mdh_pct"]) and pd.isna(row["H"]) and pd.isna(row["M0"])
    assert row["referral_all_n"] == 40 and row["referral_all_rate"] == pytest.approx(800.0)
    # the MDH column cannot be recovered from England either
    assert wide["mdh_n"].isna().sum() >= 2


def test_rate_ratio_suppressed_when_either_rate_is(protected_tables):
    wide = protected_tables["area_statistics"]
    for o in OUTCOMES:
        mdh = published(wide, rate_column(o.key, "mdh"))
        non = published(wide, rate_column(o.key, "non_mdh"))
        ratio = published(wide, f"{o.key}_rate_ratio")
        assert not (ratio & ~(mdh & non)).any(), o.key
        assert (ratio == (mdh & non)).all(), o.key


def test_rate_ratio_empty_when_only_one_rate_is_published():
    # A deliberate one-sided case: the CPP total of one area is unavailable, so its small
    # MDH count (8) is suppressed and closes its own equation while the other children's
    # rate stays published; the ratio of the two must then be empty.
    st = profile_statistics(profile_children(), profile_areas(), WEIGHTS, K)
    a = st["area_statistics"].copy()
    a.loc[a["la_code"] == "E06000001", "cpp_all_n"] = np.nan
    w = protect_profile_tables({**st, "area_statistics": a}, {"mitigation": "both"})[
        "area_statistics"
    ].set_index("la_code")
    row = w.loc["E06000001"]
    assert pd.isna(row["cpp_mdh_rate"]) and pd.notna(row["cpp_non_mdh_rate"])
    assert pd.isna(row["cpp_rate_ratio"])


def test_statistics_and_labels_are_empty_with_their_counts(protected_tables):
    wide = protected_tables["area_statistics"]
    spec = area_table_spec(wide.columns)
    for stat, backing in spec.derived.items():
        behind = wide[list(backing)].isna().any(axis=1).to_numpy()
        assert not (published(wide, stat) & behind).any(), stat
    # comparison labels in words exist only beside a published interval
    for o in OUTCOMES:
        for g in GROUPS:
            col = rate_column(o.key, g)
            assert not (
                published(wide, f"{col}_vs_england_95") & ~published(wide, f"{col}_lower_95")
            ).any()


def test_published_counts_pass_the_threshold_and_are_rounded(protected_tables):
    wide = protected_tables["area_statistics"]
    values = wide[[c for c in wide.columns if c.endswith("_n")]].to_numpy(
        dtype="float64", na_value=np.nan
    )
    shown = values[~np.isnan(values)]
    assert shown.size > 50
    assert (shown >= 10).all() and (shown % 5 == 0).all()
    left = protected_tables["children_left_out"]["left_out_n"]
    assert left.isna().all()  # nobody left out: zeros are disclosive, so empty


def test_protected_table_passes_the_disclosure_checks(protected_tables, sdc_config):
    wide = protected_tables["area_statistics"]
    results = check_table(wide, area_table_spec(wide.columns), sdc_config, rounded=True)
    failed = [r.name for r in results if r.status == "fail"]
    assert failed == []
    # the exact recoverability check, on the same cells without rounding's shortcut
    exact = check_table(
        wide, area_table_spec(wide.columns), {"mitigation": "suppress"}, rounded=False
    )
    assert [r.status for r in exact if r.name == "secondary"] == ["pass"]


def test_unprotected_statistics_would_fail(protected_tables):
    # the checks can fail: the raw statistics of the same children are refused
    from profile_inputs import profile_areas, profile_children

    raw = profile_statistics(profile_children(), profile_areas(), WEIGHTS, K)
    wide = raw["area_statistics"]
    results = check_table(wide, area_table_spec(wide.columns), {"mitigation": "suppress"})
    assert {r.name for r in results if r.status == "fail"} >= {"threshold", "derived"}


def test_column_margins_are_declared():
    wide = profile_statistics(
        make_children({"E06000001": 100}), make_areas(["E06000001"]), WEIGHTS, K
    )["area_statistics"]
    spec = area_table_spec(wide.columns)
    column_margins = {(m.parts, m.total) for m in spec.margins if isinstance(m, ColumnMargin)}
    assert (("mdh_n", "non_mdh_n"), "children_n") in column_margins
    assert (("care_mdh_n", "care_non_mdh_n"), "care_all_n") in column_margins


@pytest.mark.slow
def test_same_input_gives_the_same_suppression(protected_tables):
    from profile_inputs import profile_areas, profile_children

    again = profile_tables(profile_children(), profile_areas(), WEIGHTS, K, {"mitigation": "both"})[
        "area_statistics"
    ]
    pd.testing.assert_frame_equal(again, protected_tables["area_statistics"])
    st = profile_statistics(profile_children(), profile_areas(), WEIGHTS, K)
    assert protect_profile_tables(st, {"mitigation": "both"})["area_statistics"].equals(again)
