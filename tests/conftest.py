"""Test-wide set-up: the shared builders in ``tests/support/`` are importable everywhere,
and numerical libraries use one BLAS thread."""

import sys
from pathlib import Path

import pytest
from threadpoolctl import threadpool_limits

SUPPORT = Path(__file__).resolve().parent / "support"
if str(SUPPORT) not in sys.path:
    sys.path.insert(0, str(SUPPORT))


@pytest.fixture(autouse=True, scope="session")
def _one_blas_thread():
    """Model fits use one BLAS thread: the machines tests run on are
    shared, and thread contention slows small matrix products by an order of magnitude."""
    with threadpool_limits(limits=1):
        yield
