"""What every page of a run draws from the same released table, computed once per table.

The pages of a chunk are built from one dict of released tables; what does not depend
on the local authority (England's row, where each area's row is, the funnel points, the
spine chart's ranges) is kept here against the table it came from, for as long as that
table object lives. The tables are never changed in place once read, so a page built
after others is the page built alone.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Hashable
from typing import Any

_MEMO: dict[tuple[int, Hashable], tuple[weakref.ref, Any]] = {}


def _forget(key: tuple[int, Hashable]) -> Callable[[weakref.ref], None]:
    return lambda _ref: _MEMO.pop(key, None)


def per_table(table: Any, key: Hashable, compute: Callable[[], Any]) -> Any:
    """``compute()`` the first time for this ``table`` object and ``key``, the kept
    value after (dropped when the table is garbage-collected)."""
    slot = (id(table), key)
    hit = _MEMO.get(slot)
    if hit is not None and hit[0]() is table:
        return hit[1]
    value = compute()
    _MEMO[slot] = (weakref.ref(table, _forget(slot)), value)
    return value


def clear() -> None:
    """Forget every kept value."""
    _MEMO.clear()
