"""Counts of the model tables that repeat the local profiles' England counts are declared
as those counts (verified on the exact counts), and the release audit reads them
together."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from child_mdh.contract.vocabulary import ENGLAND_CODE
from child_mdh.release.models.outputs import table_specs
from child_mdh.release.models.repeats import england_counts, model_repeats
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
