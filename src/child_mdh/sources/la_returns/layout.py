"""The folder layout of a local authority's returns as ``la_import.formats_dir`` reads them.

:func:`child_mdh.sources.synthetic.la_formats.write_la_formats` writes this layout from the
synthetic England; :func:`la_format_sources` gives the ``sources`` of an import from it.
"""

from __future__ import annotations

from pathlib import Path

from child_mdh.sources.la_returns.errors import LAReturnError

#: Folder and file names of the layout.
SSDA903_DIR, CIN_DIR, SCHOOL_DIR, LOCAL_DIR = "ssda903", "cin_census", "school_census", "local"
HOUSEHOLD_FILE = "household_domains_synthetic.csv"


CHILD_LSOA_FILE = "child_lsoa_synthetic.csv"


def la_format_sources(out_dir: Path, route: str = "household") -> dict:
    """The ``sources`` of :func:`child_mdh.sources.la_returns.import_la` for a folder written by
    :func:`child_mdh.sources.synthetic.la_formats.write_la_formats`: the three returns and the local domain files of ``route``
    (``household``: the household flags of route a; ``area``: the child LSOAs and LSOA
    counts of route b)."""
    out_dir = Path(out_dir)
    sources = {
        "ssda903": out_dir / SSDA903_DIR,
        "cin_census": out_dir / CIN_DIR,
        "school_census": out_dir / SCHOOL_DIR,
    }
    if route == "household":
        sources["household_domains"] = out_dir / LOCAL_DIR / HOUSEHOLD_FILE
    elif route == "area":
        counts = sorted((out_dir / LOCAL_DIR).glob("lsoa_household_deprivation_*.csv"))
        if not counts:
            raise LAReturnError(f"{out_dir / LOCAL_DIR}: no LSOA counts file written")
        sources["child_lsoa"] = out_dir / LOCAL_DIR / CHILD_LSOA_FILE
        sources["lsoa_counts"] = counts[-1]
    else:
        raise ValueError("route must be 'household' or 'area'")
    return sources
