"""Profiles count as MDH exactly the children the index identified."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from child_mdh.aggregates.index.tables import child_index
from child_mdh.aggregates.profiles.statistics import ProfileInputError, profile_statistics

from profile_inputs import WEIGHTS, K, profile_areas, profile_children


def _england(stats: dict) -> pd.Series:
    return stats["area_statistics"].set_index("la_code").loc["E92000001"]


def test_the_index_output_gives_the_same_profile_as_identifying_here():
    children = profile_children()
    index = child_index(children.assign(person_id=np.arange(len(children)).astype(str)), WEIGHTS, K)
    own = profile_statistics(children, profile_areas(), WEIGHTS, K)
    read = profile_statistics(children, profile_areas(), WEIGHTS, K, mdh_flags=index["mdh"])
    pd.testing.assert_frame_equal(own["area_statistics"], read["area_statistics"])
    assert _england(read)["mdh_n"] > 0


def test_the_flags_given_are_the_ones_counted():
    children = profile_children()
    none = pd.Series(False, index=children.index, dtype="boolean")
    stats = profile_statistics(children, profile_areas(), WEIGHTS, K, mdh_flags=none)
    assert _england(stats)["mdh_n"] == 0


def test_flags_that_do_not_fit_the_children_are_refused():
    children = profile_children()
    with pytest.raises(ProfileInputError, match="rerun the index step"):
        profile_statistics(
            children, profile_areas(), WEIGHTS, K, mdh_flags=pd.Series([True] * (len(children) - 1))
        )
    gaps = pd.Series(pd.NA, index=children.index, dtype="boolean")
    with pytest.raises(ProfileInputError, match="no MDH identification from the index"):
        profile_statistics(children, profile_areas(), WEIGHTS, K, mdh_flags=gaps)
