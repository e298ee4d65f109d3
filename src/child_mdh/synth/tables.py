"""Turn the generator's arrays into contract tables (string identifiers, dates, dtypes).

Identifiers and codes are built with pyarrow compute kernels and handed to pandas as its
default string dtype without a Python loop, so ten million rows take seconds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from child_mdh import contract
from child_mdh.synth.dates import to_datetime64
from child_mdh.synth.measures import OPEN


def id_strings(prefix: str, numbers: np.ndarray, width: int) -> pd.Series:
    """``prefix`` + zero-padded ``numbers`` as a pandas string Series (vectorised)."""
    digits = pc.utf8_lpad(pa.array(np.asarray(numbers, dtype=np.int64)).cast(pa.string()),
                          width=width, padding="0")
    joined = pc.binary_join_element_wise(pa.scalar(prefix), digits, "")
    return pd.Series(pd.array(joined, dtype="str"))


def take_strings(values, index: np.ndarray) -> pd.Series:
    """``values[index]`` as a pandas string Series (values: a list or object array)."""
    arr = pa.array(list(values), type=pa.string()).take(pa.array(np.asarray(index, dtype=np.int64)))
    return pd.Series(pd.array(arr, dtype="str"))


def dates(days: np.ndarray) -> pd.Series:
    """Day numbers as a datetime64[ns] Series; ``OPEN`` (and negative) days become NaT."""
    days = np.asarray(days, dtype=np.int64)
    missing = (days >= OPEN) | (days < -100_000)
    return pd.Series(to_datetime64(np.where(missing, 0, days), missing))


def id_width(n: int, minimum: int) -> int:
    """Digits needed for identifiers 0..n-1, at least ``minimum``."""
    return max(minimum, len(str(max(n - 1, 0))))


def frame(name: str, columns: dict) -> pd.DataFrame:
    """A contract table from column arrays, cast to the contract dtypes."""
    return contract.conform(pd.DataFrame(columns), name)
