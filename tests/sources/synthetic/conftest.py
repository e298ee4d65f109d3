"""Shared synthetic folders: generated once per test session, small enough to be quick."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from child_mdh.sources.synthetic import generate

#: The calibration checks run at this size (about 2 seconds to generate).
CALIBRATION_N = 30_000
CALIBRATION_SEED = 20240601


@pytest.fixture(scope="session")
def synth_dir(tmp_path_factory) -> Path:
    """A synthetic England of CALIBRATION_N children (census 2021, default options)."""
    out = tmp_path_factory.mktemp("synth") / "england"
    generate(CALIBRATION_N, CALIBRATION_SEED, out)
    return out


@pytest.fixture(scope="session")
def truth(synth_dir) -> dict:
    return json.loads((synth_dir / "truth.json").read_text())


@pytest.fixture(scope="session")
def small_2011(tmp_path_factory) -> Path:
    """A small 2011-census England with termly school censuses."""
    out = tmp_path_factory.mktemp("synth2011") / "england"
    generate(
        3_000, 7, out, census_year=2011, school_census="termly", follow_up_years=3, history_years=4
    )
    return out
