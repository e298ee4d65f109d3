"""Where the tests find the repository, their own data and the shared reference fixtures.

The shared fixtures (``../shared/fixtures/`` beside the clone: published reference values,
census counts and files in local authorities' formats, under their own licences) are not
part of the project. A test that needs them calls :func:`shared_fixture`: it skips where
they are absent (a user's clone), and fails instead when ``CHILD_MDH_REQUIRE_REFERENCE=1``
(set by ``.ci/run`` wherever the fixtures exist), so a broken path can never turn a
reference test into a silent skip.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TEST_DATA = REPO / "tests" / "data"
SHARED_FIXTURES = REPO.parent / "shared" / "fixtures"
REQUIRE_REFERENCE = "CHILD_MDH_REQUIRE_REFERENCE"


def shared_fixture(*parts: str) -> Path:
    """The path of a shared fixture; skip (or fail, under the CI switch) when absent."""
    path = SHARED_FIXTURES.joinpath(*parts)
    if not path.exists():
        message = f"shared reference fixture not available: {path}"
        if os.environ.get(REQUIRE_REFERENCE) == "1":
            pytest.fail(f"{message} ({REQUIRE_REFERENCE}=1: reference tests must run)")
        pytest.skip(message)
    return path
