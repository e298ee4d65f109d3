"""Counts of the model tables that repeat the local profiles' England counts are declared
as those counts (verified on the exact counts), and the release audit reads them
together."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from child_mdh.contract.vocabulary import ENGLAND_CODE
from child_mdh.release.models.outputs import table_specs
from child_mdh.release.models.repeats import (
    england_counts,
    model_repeats,
    published_england_counts,
    published_repeats,
)
from child_mdh.release.sdc import ColumnMargin, TableSpec
from child_mdh.release.sdc.audit import interval_audit

INDICATORS = ("x", "y")


def _children():
    # 12 children: 4 MDH (2 referred), 8 not (3 referred); one more with y unknown
    n = 13
    mdh = np.array([True] * 4 + [False] * 9)
    referral = np.array([1, 1, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 1], dtype=bool)
    return pd.DataFrame(
        {
            "person_id": [f"p{i}" for i in range(n)],
            "x": [1.0] * 4 + [0.0] * 9,
            "y": [1.0] * 12 + [np.nan],
            "mdh": mdh,
            "any_referral": referral,
            "any_cin": referral,
            "any_cpp": False,
            "entered_care": False,
            "n_referrals": referral.astype(int),
            "exposure_years": 1.0,
        }
    )


def test_england_counts_are_the_local_profiles_children():
    exact = england_counts(_children(), INDICATORS)
    assert (exact["children_n"], exact["mdh_n"], exact["non_mdh_n"]) == (12, 4, 8)
    assert (exact["referral_all_n"], exact["referral_mdh_n"], exact["referral_non_mdh_n"]) == (
        5,
        2,
        3,
    )
    assert england_counts(_children().drop(columns="exposure_years"), INDICATORS) == {}


def _binary(children_n=12):
    return pd.DataFrame(
        {
            "specification": "mdh",
            "model": "any_referral_mdh_logit",
            "outcome": "any_referral",
            "term": ["Intercept", "mdh[T.True]", "x[T.True]"],
            "children_n": children_n,
            "observations_n": children_n,
            "events_n": 5,
            "term_observations_n": [children_n, 4, 4],
            "term_events_n": [5, 2, 2],
        }
    )


def test_only_cells_equal_to_the_exact_counts_are_declared():
    exact = england_counts(_children(), INDICATORS)
    spec = table_specs({})["binary"]
    declared = {
        (s.where["term"][0], s.parts, s.column)
        for s in model_repeats(_binary(), spec.key_columns, exact)
    }
    assert ("mdh[T.True]", "term_observations_n", "mdh_n") in declared
    assert ("mdh[T.True]", "term_events_n", "referral_mdh_n") in declared
    assert ("Intercept", "children_n", "children_n") in declared
    assert ("x[T.True]", "term_observations_n", "deprived_x_n") in declared
    # a model of other children (one more, say): none of its model-level counts
    other = {(s.parts, s.column) for s in model_repeats(_binary(13), spec.key_columns, exact)}
    assert ("children_n", "children_n") not in other
    assert ("term_observations_n", "mdh_n") in other  # the MDH term still counts the same


def test_a_model_table_repeating_the_profiles_gives_a_withheld_count_back(tmp_path):
    # local profiles, England: 20 children, MDH and other children withheld; the model
    # publishes its MDH term's children (7). Alone each leaves the others open; read
    # together they are 20 - 7 = 13
    local = pd.DataFrame(
        {"la_code": [ENGLAND_CODE], "children_n": [20], "mdh_n": [np.nan], "non_mdh_n": [np.nan]}
    )
    local_spec = TableSpec(
        key_columns=("la_code",),
        population="profile children",
        dimensions={"la_code": "area"},
        margins=(ColumnMargin(("mdh_n", "non_mdh_n"), "children_n"),),
    )
    binary = _binary().assign(children_n=np.nan, observations_n=np.nan, events_n=np.nan)
    binary["term_observations_n"] = [np.nan, 7.0, np.nan]
    binary["term_events_n"] = np.nan
    spec = table_specs({})["binary"]
    exact = {"mdh_n": 7}
    declared = model_repeats(binary, spec.key_columns, exact)
    assert [s.column for s in declared] == ["mdh_n"]

    def audit(sums):
        results = {}
        for name, df, s in (
            ("local.csv", local, local_spec),
            ("binary.csv", binary, replace(spec, sums=sums)),
        ):
            df.to_csv(tmp_path / name, index=False)
            structure = s.structure(df)
            structure.update({"rounded": False, "rounding_base": 5, "threshold": 10})
            results[name] = {"files": [{"name": name}], "structure": structure}
        return interval_audit(tmp_path, {"disclosure": {"threshold": 10}, "results": results})

    assert audit(()).passed
    found = {(f.file, f.column, f.kind, f.lower) for f in audit(declared).findings}
    assert ("local.csv", "non_mdh_n", "exact", 13.0) in found


def test_repeats_publish_the_local_profiles_values_as_views():
    exact = england_counts(_children(), INDICATORS)
    spec = table_specs({})["binary"]
    # England's row as the local profiles publish it: 12 children as 10 (a sum of
    # rounded parts), MDH children 5; referrals of MDH children not in it
    published = {"children_n": 10.0, "mdh_n": 5.0, "referral_all_n": 5.0}
    table, sums = published_repeats(_binary(), spec.key_columns, exact, published)
    mdh = table[table["term"] == "mdh[T.True]"].iloc[0]
    assert table["children_n"].tolist() == [10, 10, 10]
    assert table["events_n"].tolist() == [5, 5, 5]
    assert mdh["term_observations_n"] == 5
    assert mdh["term_events_n"] == 2  # not published there: the table's own count
    views = {(s.where["term"][0], s.parts): s.view for s in sums}
    assert views[("mdh[T.True]", "term_observations_n")] is True
    assert views[("mdh[T.True]", "term_events_n")] is False
    assert views[("Intercept", "children_n")] is True
    # a cell that is not a repeat keeps its value and gets no declaration
    other = table[table["term"] == "x[T.True]"].iloc[0]
    assert other["term_events_n"] == 2 and ("x[T.True]", "term_events_n") not in views
    # withheld there (NaN): withheld here too, still a view of it
    table, sums = published_repeats(
        _binary(), spec.key_columns, exact, {**published, "referral_mdh_n": np.nan}
    )
    mdh = table[table["term"] == "mdh[T.True]"].iloc[0]
    assert np.isnan(mdh["term_events_n"])
    assert {(s.where["term"][0], s.parts): s.view for s in sums}[("mdh[T.True]", "term_events_n")]


def test_published_england_counts_reads_the_protected_row(tmp_path):
    path = tmp_path / "area_statistics.csv"
    pd.DataFrame(
        {
            "la_code": ["E06000001", ENGLAND_CODE],
            "children_n": [40, 1860],
            "cpp_mdh_n": [np.nan, np.nan],
            "mdh_pct": [10.0, 16.1],
        }
    ).to_csv(path, index=False)
    counts = published_england_counts(path)
    assert counts["children_n"] == 1860.0 and np.isnan(counts["cpp_mdh_n"])
    assert set(counts) == {"children_n", "cpp_mdh_n"}
    assert published_england_counts(tmp_path / "missing.csv") == {}


def test_views_of_the_profiles_leave_nothing_pinned(tmp_path):
    """England's referrals and those of MDH and other children, rounded on their own in
    the model tables (60, 20 and 35 for 59, 22 and 37) while the local profiles add the
    parts up: the total is at most 22 + 37 = 59 (its rounding allows 58-62) and MDH at
    least 58 - 37 = 21 (its rounding allows 18-22): both pinned. Published as the local
    profiles publish them (views: 60, 20, 40, the sums of their rounded authorities),
    nothing is pinned."""
    local = pd.DataFrame(
        {
            "la_code": ["A", "B", ENGLAND_CODE],
            "referral_mdh_n": [10.0, 10.0, 20.0],
            "referral_non_mdh_n": [15.0, 25.0, 40.0],
            "referral_all_n": [25.0, 35.0, 60.0],
        }
    )
    # true: A 11 + 14, B 11 + 23: MDH 22, other 37, all 59
    from child_mdh.release.sdc import RowMargin

    local_spec = TableSpec(
        key_columns=("la_code",),
        population="profile children",
        dimensions={"la_code": "area"},
        margins=(
            RowMargin("la_code", total=ENGLAND_CODE),
            ColumnMargin(("referral_mdh_n", "referral_non_mdh_n"), "referral_all_n"),
        ),
    )
    exact = {"referral_all_n": 59, "referral_mdh_n": 22, "referral_non_mdh_n": 37}
    effects = pd.DataFrame(
        {
            "outcome": ["any_referral"],
            "variable": ["mdh"],
            "level": ["True"],
            "events_n": [22],
            "reference_events_n": [37],
        }
    )
    totals = pd.DataFrame({"outcome": ["any_referral"], "events_n": [59]})
    eff_spec = TableSpec(key_columns=("outcome", "variable", "level"))
    tot_spec = TableSpec(key_columns=("outcome",))

    def audit(as_views):
        results = {}
        files = [("local.csv", local, local_spec, True)]
        for name, df, spec in (
            ("effects.csv", effects, eff_spec),
            ("totals.csv", totals, tot_spec),
        ):
            if as_views:
                df, sums = published_repeats(
                    df, spec.key_columns, exact, {k: float(local.iloc[2][k]) for k in exact}
                )
            else:
                sums = model_repeats(df, spec.key_columns, exact)
                df = df.copy()
                for c in ("events_n", "reference_events_n"):
                    if c in df:
                        df[c] = 5 * np.floor(df[c] / 5 + 0.5)
            files.append((name, df, replace(spec, sums=sums), False))
        for name, df, spec, additive in files:
            df.to_csv(tmp_path / name, index=False)
            structure = spec.structure(df)
            structure.update(
                {"rounded": True, "rounding_base": 5, "threshold": 10, "additive": additive}
            )
            results[name] = {"files": [{"name": name}], "structure": structure}
        return interval_audit(tmp_path, {"disclosure": {"threshold": 10}, "results": results})

    own = audit(False)
    assert own.pinned > 0, own.findings
    assert audit(True).passed
