"""Repair of narrow ranges: the cell withheld to widen a narrowed count is one that bounds
it, not one of a long margin that bounds nothing.

The table is the linkage report's shape: children = linked + unlinked, linked = with FSM
+ without FSM, local authorities adding up to England. Authority S has 12 children, all
linked with FSM known: unlinked and without FSM are withheld (0), linked is withheld with
them. Rounded and with totals summed from rounded parts, the published children (10) and
linked with FSM (10) leave linked in [8, 14]: narrowed to a few values above zero.
"""

import numpy as np
import pandas as pd

from child_mdh.release.sdc import ColumnMargin, RowMargin, SDCConfig, TableSpec, protect_table
from child_mdh.release.sdc.interval_audit import audit_frame

COUNTS = ("children_n", "linked_n", "unlinked_n", "with_fsm_n", "without_fsm_n")
SPEC = TableSpec(
    key_columns=("la_code",),
    count_columns=COUNTS,
    margins=(
        RowMargin("la_code", total="ENG"),
        ColumnMargin(("linked_n", "unlinked_n"), "children_n"),
        ColumnMargin(("with_fsm_n", "without_fsm_n"), "linked_n"),
    ),
)


def linkage_table(n_large: int = 30, n_small: int = 15, seed: int = 3) -> pd.DataFrame:
    """Large authorities (every count at least 12), authorities of 50 to 150 children with
    a few unlinked and a few without FSM (withheld), and S."""
    rng = np.random.default_rng(seed)
    n = n_large + n_small
    with_fsm = np.r_[rng.integers(100, 900, n_large), rng.integers(50, 150, n_small)]
    without = np.r_[rng.integers(12, 40, n_large), rng.integers(1, 9, n_small)]
    unlinked = np.r_[rng.integers(12, 40, n_large), rng.integers(1, 9, n_small)]
    rows = pd.DataFrame(
        {
            "la_code": [f"L{i:02d}" for i in range(n)] + ["S"],
            "with_fsm_n": [*with_fsm, 12],
            "without_fsm_n": [*without, 0],
            "unlinked_n": [*unlinked, 0],
        }
    )
    rows["linked_n"] = rows["with_fsm_n"] + rows["without_fsm_n"]
    rows["children_n"] = rows["linked_n"] + rows["unlinked_n"]
    total = rows[list(COUNTS)].sum().to_frame().T.assign(la_code="ENG")
    return pd.concat([rows, total], ignore_index=True)[["la_code", *COUNTS]]


def test_a_narrowed_total_is_widened_within_its_own_row():
    config = SDCConfig(mitigation="both")
    out = protect_table(linkage_table(), SPEC, config)
    assert out.unresolved == []
    structure = {
        **SPEC.structure(out.table),
        "rounded": True,
        "rounding_base": 5,
        "additive": True,
    }
    report = audit_frame(out.table, structure, min_range=10)
    assert report.passed, report.findings
    # the small authority's own row is what bounds its linked count: the large
    # authorities and England keep their linked counts (withholding them, cells of
    # England's margin over 46 authorities, would not widen S's range: before, the repair
    # withheld every one of them, largest first)
    large = out.table.iloc[:30]
    assert large["linked_n"].notna().all()
    assert pd.notna(out.table["linked_n"].iloc[-1])
