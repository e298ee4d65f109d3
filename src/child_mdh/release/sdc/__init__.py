"""Statistical disclosure control for everything that leaves the secure environment.

- :mod:`~child_mdh.release.sdc.config`: the settings (ACRO defaults) and the chosen mitigation;
- :mod:`~child_mdh.release.sdc.spec`: what a release table holds (counts, derived statistics,
  margins, structural zeros, magnitude contributions);
- :mod:`~child_mdh.release.sdc.rules`: threshold, rounding, dominance, residual df;
- :mod:`~child_mdh.release.sdc.margins` and :mod:`~child_mdh.release.sdc.suppression`: primary and
  secondary suppression with an exact check that margins give nothing back;
  :mod:`~child_mdh.release.sdc.controlled_rounding`: one published total for breakdowns
  that share it, their parts rounded up or down to add up to it;
- :mod:`~child_mdh.release.sdc.checks`: pass / review / fail checks of a table as released;
- :mod:`~child_mdh.release.sdc.manifest`: the output list for the output checker (outputs.json);
- :mod:`~child_mdh.release.sdc.withheld`: emptied cells are released as withheld, never with
  the rule that emptied them (the reasons stay in the secure area);
- :mod:`~child_mdh.release.sdc.release`: the only functions that write to the release folder;
- :mod:`~child_mdh.release.sdc.audit`: the walk that re-checks every released file;
  :mod:`~child_mdh.release.sdc.checksums`: the ``checksums/`` folder SACRO Viewer reads;
- :mod:`~child_mdh.release.sdc.publish`: the release step (merge, audit, secure reasons,
  :mod:`~child_mdh.release.sdc.checker_summary` page, checksums);
  :mod:`~child_mdh.release.sdc.audit_cli`: ``child-mdh audit DIR``;
- :mod:`~child_mdh.release.sdc.text_safety`: text cells made inert for spreadsheets, and free
  text searched for identifiers.

See ``docs/disclosure-control.md``.
"""

from child_mdh.release.sdc.audit import Problem, audit_release, write_audit
from child_mdh.release.sdc.checks import OUTPUT_TYPES, check_table, table_status
from child_mdh.release.sdc.config import MITIGATIONS, SDCConfig
from child_mdh.release.sdc.manifest import MANIFEST_NAME, Manifest, merge_manifests
from child_mdh.release.sdc.publish import publish_release
from child_mdh.release.sdc.release import (
    DisclosureError,
    finalise_release,
    mark_synthetic,
    write_release_figure,
    write_release_table,
    write_release_text,
)
from child_mdh.release.sdc.rules import (
    CheckResult,
    dominance_table,
    overall_status,
    residual_df_check,
    round_to_base,
    threshold_mask,
)
from child_mdh.release.sdc.spec import (
    ColumnMargin,
    Contributions,
    CountSum,
    RowMargin,
    TableSpec,
)
from child_mdh.release.sdc.suppression import (
    ProtectedTable,
    protect_table,
    secondary_suppression,
)
from child_mdh.release.sdc.text_safety import (
    IdentifierError,
    IdentifierFinding,
    check_free_text,
    find_identifiers,
    neutralise_formulas,
)

__all__ = [
    "MANIFEST_NAME",
    "MITIGATIONS",
    "OUTPUT_TYPES",
    "CheckResult",
    "ColumnMargin",
    "Contributions",
    "CountSum",
    "DisclosureError",
    "IdentifierError",
    "IdentifierFinding",
    "Manifest",
    "Problem",
    "ProtectedTable",
    "RowMargin",
    "SDCConfig",
    "TableSpec",
    "audit_release",
    "check_free_text",
    "check_table",
    "dominance_table",
    "finalise_release",
    "find_identifiers",
    "mark_synthetic",
    "merge_manifests",
    "neutralise_formulas",
    "overall_status",
    "protect_table",
    "publish_release",
    "residual_df_check",
    "round_to_base",
    "secondary_suppression",
    "table_status",
    "threshold_mask",
    "write_audit",
    "write_release_figure",
    "write_release_table",
    "write_release_text",
]
