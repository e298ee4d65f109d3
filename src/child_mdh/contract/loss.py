"""The systematic-loss rule every input route applies.

Row checks set single bad rows aside (quarantine) so that the rest can be used. When a
table, or a link between tables, loses a large share of its rows that way, the cause is
not in single rows but in a whole file or column (a wrong date format, ids a spreadsheet
changed, a missing file), and analysing what is left would be biased without a word.
So the run stops, naming the table, the causes and the fix: on the contract route
(:func:`child_mdh.validation.folder.validate_folder`) and on the local-authority route
(:func:`child_mdh.sources.la_returns.import_la`).
"""

from __future__ import annotations

#: The largest share of a table's rows that row checks (and their cascades) may take.
MAX_LOSS_SHARE = 0.05
#: Fewer lost rows than this never stop a run, whatever the share (a tiny table).
MIN_LOST_ROWS = 10


def is_systematic_loss(lost: int, rows: int, max_share: float = MAX_LOSS_SHARE) -> bool:
    """Whether losing ``lost`` of ``rows`` rows is systematic: more than ``max_share`` of
    them, and at least :data:`MIN_LOST_ROWS`."""
    return lost >= MIN_LOST_ROWS and lost > max_share * rows


def check_share(value, where: str = "max_loss_share") -> float:
    """``value`` as a share from 0 to 1; raises ValueError naming ``where`` otherwise."""
    try:
        share = float(value)
    except (TypeError, ValueError):
        share = -1.0
    if not 0 <= share <= 1:
        raise ValueError(f"{where} must be a share from 0 to 1 (e.g. 0.05), not {value!r}")
    return share
