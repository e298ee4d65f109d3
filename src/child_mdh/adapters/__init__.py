"""A local authority's own returns -> the data contract's tables.

An authority holds its statutory returns (SSDA903 children looked after, CIN census) and
its school census extracts, but no census microdata. This package reads those files as
analysts hold them, links the children across them by UPN under one pseudonymised id,
and writes the contract tables with an import report (``docs/la-returns.md``)::

    from child_mdh.adapters import import_la
    report = import_la({"ssda903": "returns/903/", "cin_census": "returns/cin/",
                        "school_census": "returns/census/"},
                       la_code="E08000004", out_dir=Path("la_import"), salt=secret)
    print(report.summary_text())

Local equivalents of the census domains: household flags derived by the authority
(``sources['household_domains']`` -> ``child_domains.parquet``), or the area-level
fallback from published LSOA counts (:func:`area_level_domains`, which carries
:data:`AREA_LEVEL_CAVEAT`).

From the imported tables to the children table of the analysis:
:func:`derive_children_la` (the local-authority cohort, :mod:`.cohort`). Synthetic data
in the authority formats, for testing the route end to end: :func:`write_la_formats`
(:mod:`.writers`). The import configuration of ``child-mdh import-la``:
:func:`load_import_config`, :func:`import_la_from_config` (:mod:`.import_config`).
"""

from child_mdh.adapters.cin_census import read_cin_census
from child_mdh.adapters.cohort import LACohortError, derive_children_la
from child_mdh.adapters.errors import LAReturnError, ProblemLog
from child_mdh.adapters.import_config import import_la_from_config, load_import_config
from child_mdh.adapters.la_returns import (
    SOURCE_KEYS,
    ImportReport,
    import_la,
    pupil_characteristics,
)
from child_mdh.adapters.linkage import assign_pupil_ids, pseudonymise
from child_mdh.adapters.local_domains import (
    AREA_LEVEL_CAVEAT,
    area_level_domains,
    read_household_domains,
    read_lsoa_counts,
)
from child_mdh.adapters.school_census import census_day, fsm_eligible_on, read_school_census
from child_mdh.adapters.ssda903 import SSDA903_SCHEMAS, identify_table, read_ssda903

#: Names of :mod:`.writers`, imported on first use so that
#: ``python -m child_mdh.adapters.writers`` runs the module cleanly.
_WRITERS = ("la_format_sources", "upn_lookup", "write_la_formats")


def __getattr__(name):
    if name in _WRITERS:
        from child_mdh.adapters import writers

        return getattr(writers, name)
    raise AttributeError(f"module 'child_mdh.adapters' has no attribute {name!r}")


__all__ = [
    "AREA_LEVEL_CAVEAT",
    "SOURCE_KEYS",
    "SSDA903_SCHEMAS",
    "ImportReport",
    "LACohortError",
    "LAReturnError",
    "ProblemLog",
    "area_level_domains",
    "assign_pupil_ids",
    "census_day",
    "derive_children_la",
    "fsm_eligible_on",
    "identify_table",
    "import_la",
    "import_la_from_config",
    "la_format_sources",
    "load_import_config",
    "pseudonymise",
    "pupil_characteristics",
    "read_cin_census",
    "read_household_domains",
    "read_lsoa_counts",
    "read_school_census",
    "read_ssda903",
    "upn_lookup",
    "write_la_formats",
]
