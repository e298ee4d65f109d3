"""The spine chart: each indicator against the range of released local authority values."""

import re

import numpy as np
import pandas as pd
import pytest

from child_mdh.contract.vocabulary import ENGLAND_CODE
from child_mdh.release.profiles.build import read_profile_tables
from child_mdh.release.profiles.spine import WIDTH, spine_context, spine_rows, svg_spine


def _long(values: dict, england: float, labels: dict | None = None) -> pd.DataFrame:
    """A long indicator table of one indicator: la_code -> value (NaN: suppressed)."""
    rows = [(ENGLAND_CODE, england, None)] + [
        (code, v, (labels or {}).get(code)) for code, v in values.items()
    ]
    return pd.DataFrame(
        {
            "la_code": [r[0] for r in rows],
            "indicator": "mdh_prevalence",
            "indicator_label": "Child-MDH prevalence",
            "group": "All children",
            "unit": "%",
            "value": [r[1] for r in rows],
            "vs_england_95": [r[2] for r in rows],
        }
    )


def test_the_range_is_that_of_released_local_authority_values_only():
    long = _long(
        {"E1": 10.0, "E2": 20.0, "E3": 30.0, "E4": np.nan, "E5": 40.0},
        england=22.0,
        labels={"E2": "similar"},
    )
    (row,) = spine_rows(long, "E2")
    assert row.n_areas == 4  # E4 is suppressed: left out, not imputed
    assert (row.low, row.high, row.england, row.value) == (10.0, 40.0, 22.0, 20.0)
    assert (row.q25, row.q75) == (17.5, 32.5)
    assert row.comparison == "similar"
    # England at the centre; the area furthest from England reaches the end
    assert row.x(22.0) == WIDTH / 2
    assert row.x(40.0) == WIDTH - 10
    # a suppressed area keeps its row (the range is public) but has no marker
    (hidden,) = spine_rows(long, "E4")
    assert np.isnan(hidden.value)
    svg = svg_spine(hidden, "Area 4")
    assert "<circle" not in svg and "<polygon" not in svg
    assert "Area 4: suppressed" in svg
    (shown,) = spine_context(long, "E2", "Area 2")
    assert shown["value"] == "20.0%" and shown["low"] == "10.0%" and shown["high"] == "40.0%"
    assert "<circle" in str(shown["svg"]) and 'viewBox="0 0 300 26"' in str(shown["svg"])


def test_no_row_without_england_or_any_released_value():
    assert spine_rows(_long({"E1": np.nan, "E2": np.nan}, england=22.0), "E1") == []
    assert spine_rows(_long({"E1": 10.0, "E2": 12.0}, england=np.nan), "E1") == []


def test_markers_carry_the_comparison_by_shape():
    long = _long({"E1": 10.0, "E2": 30.0}, england=20.0, labels={"E1": "lower", "E2": "higher"})
    low, high = (svg_spine(spine_rows(long, c)[0], c) for c in ("E1", "E2"))
    assert "<polygon" in low and "#E69F00" in low
    assert "<polygon" in high and "#0072B2" in high


@pytest.mark.slow  # reads the built profiles' release (test_pages.py)
def test_pages_carry_a_spine_chart_of_released_values(built_release):
    tables = read_profile_tables(built_release["out"] / "tables")
    wide = tables["area_statistics"].set_index("la_code")
    released = wide.drop(index=ENGLAND_CODE)["mdh_pct"].dropna()
    text = (built_release["out"] / "areas" / "E06000001.html").read_text(encoding="utf-8")
    assert 'id="spine"' in text and "among the local authorities" in text
    assert text.count('class="spine"') >= 8  # prevalence, M0, five indicators, rates
    assert "spine-key" in text
    title = re.search(r"<title>Children in multidimensionally[^<]*</title>", text).group(0)
    low, high = (float(x) for x in re.search(r"range from ([\d.]+)% to ([\d.]+)%", title).groups())
    assert (low, high) == (released.min(), released.max())
    assert f"{len(released)} local authorities with a released value" in title
    england = (built_release["out"] / "areas" / f"{ENGLAND_CODE}.html").read_text(encoding="utf-8")
    assert 'class="spine"' in england
    # England's own page: the range and England's line, no area marker
    spine = england[england.index('id="spine"') : england.index('id="compare"')]
    rows = spine[spine.index("<table") :]
    assert "<circle" not in rows and "<polygon" not in rows and "<rect" in rows
