"""Profile H/A/M0 intervals are clustered by household when households are known."""

import numpy as np
import pandas as pd

from child_mdh.aggregates.profiles.statistics import profile_statistics

from profile_inputs import WEIGHTS, K, profile_areas, profile_children


def _width(stats, code="E92000001"):
    a = stats["area_statistics"].set_index("la_code")
    return a.loc[code, "M0_upper_95"] - a.loc[code, "M0_lower_95"]


def test_one_child_per_household_matches_independent_children():
    kids = profile_children()
    alone = profile_statistics(kids, profile_areas(), WEIGHTS, K)
    own = profile_statistics(
        kids.assign(household_id=[f"h{i}" for i in range(len(kids))]), profile_areas(), WEIGHTS, K
    )
    assert np.isclose(_width(alone), _width(own), rtol=1e-9)


def test_siblings_sharing_domains_widen_the_interval():
    kids = profile_children()
    # every child duplicated as a sibling in the same household with the same domains:
    # twice the children, but no more independent information than before
    twins = pd.concat([kids, kids], ignore_index=True)
    households = np.tile([f"h{i}" for i in range(len(kids))], 2)
    clustered = profile_statistics(
        twins.assign(household_id=households), profile_areas(), WEIGHTS, K
    )
    independent = profile_statistics(twins, profile_areas(), WEIGHTS, K)
    # treating siblings as independent would shrink the interval by about sqrt(2)
    assert _width(clustered) > 1.3 * _width(independent)
