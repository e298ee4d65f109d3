"""Small input checks shared by the analysis modules, with messages that say how to fix."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd


def require_columns(
    df: pd.DataFrame, table: str, columns: Iterable[str], error: type[Exception], fix: str
) -> None:
    """Raise ``error`` naming the table, the missing columns, the columns found and ``fix``
    when any of ``columns`` is not in ``df``."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise error(
            f"table {table}: column(s) {', '.join(missing)} missing (found: "
            f"{', '.join(map(str, df.columns))}). {fix}"
        )
