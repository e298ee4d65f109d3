"""A local authority's own returns -> the data contract's tables.

An authority holds its statutory returns (SSDA903 children looked after, CIN census) and
its school census extracts, but no census microdata. This package reads those files as
analysts hold them, links the children across them by UPN under one pseudonymised id,
and writes the contract tables with an import report (``docs/la-returns.md``)::

    from child_mdh.sources.la_returns import import_la
    report = import_la({"ssda903": "returns/903/", "cin_census": "returns/cin/",
                        "school_census": "returns/census/"},
                       la_code="E08000004", out_dir=Path("la_import"), salt=secret)
    print(report.summary_text())

Local equivalents of the census domains: household flags derived by the authority
(``sources['household_domains']`` -> ``child_domains.parquet``), or the area-level
fallback from published LSOA counts (:func:`area_level_domains`, which carries
:data:`AREA_LEVEL_CAVEAT`).

From the imported tables to the children table of the analysis:
:func:`child_mdh.derive.la_cohort.derive_children_la` (the local-authority cohort).
Synthetic data in the authority formats, for testing the route end to end:
:mod:`child_mdh.sources.synthetic.la_formats`. The import configuration of ``child-mdh import-la``:
:func:`load_import_config`, :func:`import_la_from_config` (:mod:`.import_config`).
"""

from child_mdh.sources.la_returns.cin_census import read_cin_census
from child_mdh.sources.la_returns.errors import LAReturnError, ProblemLog
from child_mdh.sources.la_returns.import_config import (
    import_la_from_config,
    load_import_config,
)
from child_mdh.sources.la_returns.importer import (
    SOURCE_KEYS,
    ImportReport,
    import_la,
    pupil_characteristics,
)
from child_mdh.sources.la_returns.linkage import assign_pupil_ids, pseudonymise
from child_mdh.sources.la_returns.local_domains import (
    AREA_LEVEL_CAVEAT,
    area_level_domains,
    read_household_domains,
    read_lsoa_counts,
)
from child_mdh.sources.la_returns.school_census import (
    census_day,
    fsm_eligible_on,
    read_school_census,
)
from child_mdh.sources.la_returns.ssda903 import SSDA903_SCHEMAS, identify_table, read_ssda903

__all__ = [
    "AREA_LEVEL_CAVEAT",
    "SOURCE_KEYS",
    "SSDA903_SCHEMAS",
    "ImportReport",
    "LAReturnError",
    "ProblemLog",
    "area_level_domains",
    "assign_pupil_ids",
    "census_day",
    "fsm_eligible_on",
    "identify_table",
    "import_la",
    "import_la_from_config",
    "load_import_config",
    "pseudonymise",
    "pupil_characteristics",
    "read_cin_census",
    "read_household_domains",
    "read_lsoa_counts",
    "read_school_census",
    "read_ssda903",
]
