"""The shared input check names the table, the missing columns and the fix."""

import pandas as pd
import pytest

from child_mdh.contract.columns import require_columns


class _CheckError(ValueError):
    pass


def test_missing_columns_are_named_with_the_fix():
    df = pd.DataFrame({"a": [1], "b": [2]})
    with pytest.raises(
        _CheckError, match=r"table t: column\(s\) c, d missing \(found: a, b\)\. Do X\."
    ):
        require_columns(df, "t", ["a", "c", "d"], _CheckError, "Do X.")


def test_present_columns_pass():
    require_columns(pd.DataFrame({"a": [1]}), "t", ["a"], _CheckError, "unused")
