"""Writing the profiles: tables once, then pages for chunks of local authorities.

Every file goes through the disclosure-control writers of :mod:`child_mdh.release.sdc` and into
the step's :class:`~child_mdh.release.sdc.Manifest`:

1. :func:`write_profile_tables` (once): ``<out_dir>/tables/`` -- ``area_statistics``
   (protected here: threshold, secondary suppression, rounding), ``children_left_out``,
   ``indicators`` (the long form), the funnel limits and the councils' local indicators
   (status 'review'), as CSV and XLSX;
2. :func:`build_profiles` (per chunk): for each local authority ``areas/<code>.html``,
   ``areas/<code>_indicators.csv``/``.xlsx`` and four PNG figures, all drawn from the
   protected tables only (read back from ``tables/`` or passed in memory);
3. :func:`build_index_page` (once): ``index.html`` and England's page.

Layout of the release's profile folder (``out_dir``)::

    index.html
    tables/area_statistics.csv|.xlsx, indicators.csv|.xlsx, children_left_out.csv|.xlsx,
           funnel_limits_prevalence.csv, funnel_limits_rate.csv, local_indicators.csv|.xlsx
    areas/<code>.html, <code>_indicators.csv|.xlsx, <code>_<figure>.png
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from child_mdh.aggregates.profiles.measures import KEY_COLUMNS
from child_mdh.aggregates.profiles.statistics import (
    DEFAULT_FUNNEL_RATE,
    add_labels,
    funnel_tables,
)
from child_mdh.contract.vocabulary import ENGLAND_CODE
from child_mdh.release.profiles import chartdata, html
from child_mdh.release.profiles.figures import png_bytes, png_funnel, png_panels
from child_mdh.release.profiles.indicators import LONG_SPEC, long_indicators
from child_mdh.release.profiles.local import (
    LOCAL_COLUMNS,
    check_local_text,
    local_rows,
    read_local_indicators,
)
from child_mdh.release.profiles.selfcontained import external_references
from child_mdh.release.profiles.tables import (
    FUNNEL_LIMIT_SPEC,
    _release_config,
    rounded_statistics,
    table_specs,
)
from child_mdh.release.sdc import (
    Manifest,
    TableSpec,
    mark_synthetic,
    protect_table,
    write_release_figure,
    write_release_table,
    write_release_text,
)
from child_mdh.release.sdc.withheld import emptied_cells
from child_mdh.release.workbook import withheld_through

#: key of the profile tables' dict holding the protected tables' withheld cells (name ->
#: [row, column] pairs): how the views drawn from them tell [c] from [x] in a workbook.
#: Not in ``DataFrame.attrs``, which pandas deep-copies on every operation.
WITHHELD_KEY = "_withheld"
#: columns with nothing to give on England's own rows ([z] in the workbooks)
_ENGLAND_NOT_APPLICABLE = (
    "region_code",
    "region_name",
    "england_count_n",
    "england_denominator_n",
    "england_value",
)

TABLES_DIR = "tables"
AREAS_DIR = "areas"
TABLE_FILES = {
    "area_statistics": "area_statistics.csv",
    "children_left_out": "children_left_out.csv",
    "indicators": "indicators.csv",
    "funnel_limits_prevalence": "funnel_limits_prevalence.csv",
    "funnel_limits_rate": "funnel_limits_rate.csv",
    "local_indicators": "local_indicators.csv",
}
#: Columns read back as text (codes, names, labels), never as numbers.
TEXT_COLUMNS = (
    frozenset(KEY_COLUMNS)
    | (frozenset(LOCAL_COLUMNS) - {"value"})
    | {"section", "indicator_label", "group", "unit", "statistic"}
)
FIGURES = ("funnel_prevalence", "funnel_rate", "domains", "contacts")
LOCAL_SPEC = TableSpec(
    key_columns=("la_code", "indicator", "unit", "period", "source", "statement")
)
LOCAL_COMMENT = (
    "local information supplied by councils (their own published figures, "
    "not computed by child-mdh): check that each value is published by the "
    "council and that no statement identifies a person"
)

METHODS = {
    "area_statistics": "Child-MDH profile statistics per local authority and England: counts, "
    "prevalence (Wilson), H/A/M0 (linearised), indicator headcounts and "
    "contributions (Alkire-Foster), contact rates per 10,000 (Byar/exact), "
    "rate ratios, comparisons with England at 95% and 99.8%, funnel labels",
    "children_left_out": "children left out of the profile because an index indicator or an "
    "outcome is unknown, per local authority and England",
    "indicators": "the profile statistics as one row per area and indicator beside England's "
    "(a re-arrangement of area_statistics and children_left_out as released)",
    "funnel_limits_prevalence": "funnel plot control limits (95%, 99.8%) around England's "
    "Child-MDH prevalence (Spiegelhalter 2005; PHEindicatormethods)",
    "funnel_limits_rate": "funnel plot control limits (95%, 99.8%) around England's contact "
    "rate (exact Poisson; Spiegelhalter 2005)",
}
FUNNEL_COMMENT = (
    "control limits computed from England's published value over a grid of "
    "denominators (the grid's end is 1.05 x the largest local authority's "
    "published number of children); no counts"
)


def _tables_dir(out_dir: Path, tables_dir) -> Path:
    return Path(tables_dir) if tables_dir is not None else Path(out_dir) / TABLES_DIR


def _uid(manifest: Manifest, path: Path) -> str:
    return manifest.relative_name(path)


# --------------------------------------------------------------------------------------
# tables
# --------------------------------------------------------------------------------------
def write_profile_tables(
    statistics: Mapping[str, pd.DataFrame],
    out_dir: str | Path,
    manifest: Manifest,
    *,
    local_indicators=None,
    areas=None,
    xlsx: bool = True,
) -> dict[str, pd.DataFrame]:
    """Protect, check and write the profile tables; return them as released.

    ``statistics`` is :func:`~child_mdh.aggregates.profiles.statistics.profile_statistics` output
    (secure, full precision). ``area_statistics`` and ``children_left_out`` are
    protected by :func:`child_mdh.release.sdc.write_release_table` (the manifest records what
    was suppressed and why); the long ``indicators`` table is built from them as
    released and checked as given; funnel limits hold no counts (status 'review' with a
    note for the output checker); ``local_indicators`` (a path or DataFrame, checked by
    :func:`~child_mdh.release.profiles.local.read_local_indicators`) is written with status
    'review'. The disclosure settings are the manifest's. Returns the released tables
    (what :func:`read_profile_tables` reads back), by name.
    """
    config = _release_config(manifest.config)
    folder = _tables_dir(Path(out_dir), None)
    ready = rounded_statistics(statistics)
    specs = table_specs(ready)
    released: dict = {}
    withheld: dict[str, list] = {}
    uids = {}
    funnel_rate = ready["area_statistics"].attrs.get("funnel_rate", DEFAULT_FUNNEL_RATE)
    for name in ("area_statistics", "children_left_out"):
        path = folder / TABLE_FILES[name]
        relabel = (lambda t: add_labels(t, funnel_rate)) if name == "area_statistics" else None
        entry = write_release_table(
            ready[name],
            path,
            specs[name],
            manifest,
            method=METHODS[name],
            xlsx=xlsx,
            after_protect=relabel,
            title=TITLES[name],
            not_applicable=england_not_applicable,
        )
        uids[name] = entry["uid"]
        released[name] = protect_table(ready[name], specs[name], config, table=entry["uid"]).table
        if relabel is not None:
            released[name] = relabel(released[name])
        withheld[name] = emptied_cells(entry["files"][0]["sdc"])
    # funnel limits around England's published value, over the published denominators
    ready.update(rounded_statistics(funnel_tables(released["area_statistics"], funnel_rate)))
    for name in ("funnel_limits_prevalence", "funnel_limits_rate"):
        if name in ready:
            write_release_table(
                ready[name],
                folder / TABLE_FILES[name],
                FUNNEL_LIMIT_SPEC,
                manifest,
                method=METHODS[name],
                comment=FUNNEL_COMMENT,
                mitigate=False,
                backed_by=[uids["area_statistics"]],
            )
            released[name] = ready[name].reset_index(drop=True)
    long = long_indicators(released)
    write_release_table(
        long,
        folder / TABLE_FILES["indicators"],
        LONG_SPEC,
        manifest,
        method=METHODS["indicators"],
        mitigate=False,
        xlsx=xlsx,
        backed_by=[uids["area_statistics"], uids["children_left_out"]],
        title="Child-MDH local profiles: every area's indicators, one row each",
        withheld=long_withheld({**released, WITHHELD_KEY: withheld}),
        not_applicable=england_not_applicable,
    )
    released["indicators"] = long
    if local_indicators is not None:
        local = read_local_indicators(local_indicators, areas)
        write_release_table(
            local,
            folder / TABLE_FILES["local_indicators"],
            LOCAL_SPEC,
            manifest,
            method="councils' own indicators, as supplied",
            comment=LOCAL_COMMENT,
            mitigate=False,
            xlsx=xlsx,
        )
        released["local_indicators"] = local
    released[WITHHELD_KEY] = withheld
    return released


TITLES = {
    "area_statistics": "Child-MDH local profiles: every area's statistics",
    "children_left_out": "Children left out of the local profiles, by local authority",
}


def england_not_applicable(table: pd.DataFrame) -> dict:
    """England's own rows: its region, its comparison with England and its funnel
    position have nothing to give ([z] in the workbooks)."""
    own = table["la_code"].astype("str") == ENGLAND_CODE
    return {
        c: own
        for c in table.columns
        if c in _ENGLAND_NOT_APPLICABLE or "vs_england" in c or str(c).endswith("funnel")
    }


def long_withheld(tables: Mapping, la_codes=None) -> pd.DataFrame:
    """Which cells of :func:`long_indicators` show a cell withheld in the tables it is
    drawn from (``tables[WITHHELD_KEY]``): a boolean frame like its result."""
    sources = {k: tables[k] for k in ("area_statistics", "children_left_out") if k in tables}
    cells = tables.get(WITHHELD_KEY) or {}
    return withheld_through(lambda t: long_indicators(t, la_codes), sources, cells)


def withheld_from_manifest(manifest: Manifest, tables_dir: str | Path) -> dict[str, list]:
    """The withheld cells of the protected profile tables, from the (secure) manifest
    part of the step that wrote them: name -> [row, column] pairs."""
    out = {}
    for name in ("area_statistics", "children_left_out"):
        uid = _uid(manifest, Path(tables_dir) / TABLE_FILES[name])
        entry = manifest.results.get(uid)
        if entry is not None:
            out[name] = emptied_cells(entry["files"][0]["sdc"])
    return out


def read_profile_tables(tables_dir: str | Path, withheld: Mapping[str, list] | None = None) -> dict:
    """Read the released profile tables back from ``tables_dir`` (the CSV files).

    Codes, names and labels are read as text and empty cells as missing, so the pages
    drawn from them show exactly what was released. ``withheld`` (name -> cells, see
    :func:`withheld_from_manifest`), kept under ``WITHHELD_KEY``, says which empty cells
    disclosure control emptied.
    """
    folder = Path(tables_dir)
    out = {}
    for name, file in TABLE_FILES.items():
        path = folder / file
        if not path.is_file():
            if name in ("area_statistics", "funnel_limits_prevalence"):
                raise FileNotFoundError(f"{path}: not found; run write_profile_tables first")
            continue
        header = pd.read_csv(path, nrows=0).columns
        text = [c for c in header if c in TEXT_COLUMNS or "vs_england" in c or c.endswith("funnel")]
        out[name] = pd.read_csv(path, dtype=dict.fromkeys(text, "str"))
    out[WITHHELD_KEY] = {k: list(v) for k, v in (withheld or {}).items()}
    return out


def _load(tables) -> tuple[dict[str, pd.DataFrame], Path | None]:
    if isinstance(tables, (str, Path)):
        return read_profile_tables(tables), Path(tables)
    return dict(tables), None


def profile_la_codes(tables) -> list[str]:
    """The local authorities with a profile (England excluded), in table order."""
    tables, _ = _load(tables)
    codes = tables["area_statistics"]["la_code"].astype("str")
    return [c for c in codes if c != ENGLAND_CODE]


def la_chunks(la_codes: Sequence[str], n_chunks: int) -> list[list[str]]:
    """Split ``la_codes`` into ``n_chunks`` near-equal lists (for a scatter-gather)."""
    if n_chunks < 1:
        raise ValueError("n_chunks must be at least 1")
    return [
        list(part) for part in np.array_split(np.asarray(list(la_codes), dtype=object), n_chunks)
    ]


# --------------------------------------------------------------------------------------
# pages
# --------------------------------------------------------------------------------------
def _settings(manifest: Manifest) -> tuple[int, int]:
    config = manifest.config
    return config.rounding_base, config.threshold


def _local_from(tables: dict, local_indicators, areas=None) -> pd.DataFrame | None:
    if local_indicators is not None:
        if isinstance(local_indicators, pd.DataFrame) and list(local_indicators.columns) == list(
            LOCAL_COLUMNS
        ):
            check_local_text(local_indicators)
            return local_indicators
        return read_local_indicators(local_indicators, areas)
    return tables.get("local_indicators")


def _rel(target: Path, start: Path) -> str:
    return Path(os.path.relpath(target, start)).as_posix()


def _write_page(text: str, path: Path, manifest: Manifest, **kwargs) -> dict:
    """Write a page through the release writer after checking it loads nothing."""
    problems = external_references(text)
    if problems:
        raise ValueError(
            f"{path}: the page would load {', '.join(problems[:5])}; profile "
            "pages must be self-contained (inline styles and images only)"
        )
    return write_release_text(text, path, manifest, output_type="html", **kwargs)


def _write_area(
    tables: dict,
    code: str,
    out_dir: Path,
    tables_dir: Path,
    manifest: Manifest,
    *,
    local,
    provenance,
    caveats,
    is_synthetic,
    png: bool,
    xlsx: bool,
    period: Mapping | None = None,
) -> Path:
    base, threshold = _settings(manifest)
    areas_dir = out_dir / AREAS_DIR
    area_uid = _uid(manifest, tables_dir / TABLE_FILES["area_statistics"])
    left_uid = _uid(manifest, tables_dir / TABLE_FILES["children_left_out"])
    backing = [area_uid, left_uid]
    wide = tables["area_statistics"]
    name = str(chartdata.area_row(wide, code)["la_name"])
    downloads: list[tuple[str, str]] = []

    long = tables.get("indicators")
    if long is None:
        long = long_indicators(tables)
        tables["indicators"] = long
    here = (long["la_code"] == code).to_numpy()
    rows = long[here].reset_index(drop=True)
    csv = areas_dir / f"{code}_indicators.csv"
    withheld = None
    if xlsx:
        if "_long_withheld" not in tables:
            tables["_long_withheld"] = long_withheld(tables)
        withheld = tables["_long_withheld"][here].reset_index(drop=True)
    write_release_table(
        rows,
        csv,
        LONG_SPEC,
        manifest,
        mitigate=False,
        xlsx=xlsx,
        method=f"{name}: profile indicators beside England's",
        backed_by=backing,
        title=f"Child-MDH local profile: {name}",
        withheld=withheld,
        not_applicable=england_not_applicable,
    )
    downloads.append(("This profile's figures (CSV)", csv.name))
    if xlsx:
        downloads.append(("This profile's figures (Excel)", csv.with_suffix(".xlsx").name))

    if png:
        highlight = None if code == ENGLAND_CODE else code
        figures = {
            "funnel_prevalence": chartdata.prevalence_funnel(tables, highlight, base, threshold),
            "funnel_rate": chartdata.rate_funnel(tables, highlight, base, threshold),
        }
        made = {}
        for key, data in figures.items():
            if data is not None and len(data.points):
                made[key] = png_funnel(data)
        made["domains"] = png_panels(
            chartdata.domain_panels(tables, code),
            title=f"Deprivation indicators, {name}",
            threshold=threshold,
        )
        made["contacts"] = png_panels(
            chartdata.contact_panels(tables, code, base, threshold),
            title=f"Contacts with children's social care, {name} (per 10,000)",
            threshold=threshold,
        )
        labels = {
            "funnel_prevalence": "Funnel plot: Child-MDH prevalence (PNG)",
            "funnel_rate": "Funnel plot: contact rate (PNG)",
            "domains": "Deprivation indicators chart (PNG)",
            "contacts": "Social care contacts chart (PNG)",
        }
        for key in FIGURES:
            if key not in made:
                continue
            path = areas_dir / f"{code}_{key}.png"
            if is_synthetic:
                mark_synthetic(made[key])
            write_release_figure(
                png_bytes(made[key]),
                path,
                None,
                manifest,
                backed_by=[area_uid],
                method=f"{name}: {labels[key][:-6].lower()}",
            )
            downloads.append((labels[key], path.name))
    rel_tables = _rel(tables_dir, areas_dir)
    for label, name_ in (
        ("All areas' statistics (Excel)", "area_statistics.xlsx"),
        ("All areas' indicators, one row each (CSV)", "indicators.csv"),
    ):
        if xlsx or name_.endswith(".csv"):
            downloads.append((label, f"{rel_tables}/{name_}"))

    lrows = local_rows(local, code)
    if len(lrows):
        backing.append(_uid(manifest, tables_dir / TABLE_FILES["local_indicators"]))
    context = html.area_page_context(
        tables,
        code,
        base=base,
        threshold=threshold,
        links={"index": _rel(out_dir / "index.html", areas_dir), "england": f"{ENGLAND_CODE}.html"},
        local=lrows,
        provenance=provenance,
        caveats=caveats,
        is_synthetic=is_synthetic,
        downloads=downloads,
        period=period,
    )
    page = areas_dir / f"{code}.html"
    text = html.render("profile.html", context)
    if len(lrows):
        _write_page(
            text,
            page,
            manifest,
            status="review",
            backed_by=backing,
            method=f"{name}: Child-MDH local profile page",
            comment="the page shows local information supplied by the council: " + LOCAL_COMMENT,
        )
    else:
        _write_page(
            text, page, manifest, backed_by=backing, method=f"{name}: Child-MDH local profile page"
        )
    return page


def build_profiles(
    tables,
    la_codes: Sequence[str],
    out_dir: str | Path,
    manifest: Manifest,
    *,
    tables_dir: str | Path | None = None,
    provenance: Mapping | None = None,
    caveats: Sequence[str] = (),
    is_synthetic: bool = False,
    local_indicators=None,
    png: bool = True,
    xlsx: bool = True,
    period: Mapping | None = None,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Path]:
    """Write the profile of each local authority in ``la_codes``; return code -> page.

    ``tables``: the folder the tables were written to (read back) or the dict returned
    by :func:`write_profile_tables` (then ``tables_dir`` says where they were written;
    default ``<out_dir>/tables``). Per local authority: ``areas/<code>.html`` (self-
    contained), ``areas/<code>_indicators.csv`` (+ ``.xlsx``) and, with ``png``, four PNG
    figures. ``provenance`` (data source, run date, code version; see
    :func:`child_mdh.release.profiles.html.provenance_summary`), ``caveats`` and
    ``is_synthetic`` are printed on every page, and so is what the figures cover: the
    ages, follow-up and index definition from ``provenance['config']`` and the dates of
    ``period`` (``reference_date``, ``extract_date``, ``census_year``; see
    :func:`child_mdh.release.profiles.html.period_items`). England's page is written by
    :func:`build_index_page`. ``progress(n)`` is called after each page with the number
    of pages written so far.
    """
    loaded, folder = _load(tables)
    out_dir = Path(out_dir)
    tables_dir = _tables_dir(out_dir, tables_dir if tables_dir is not None else folder)
    if ENGLAND_CODE in la_codes:
        raise ValueError(
            f"{ENGLAND_CODE}: England's page is written by build_index_page; "
            "pass local authority codes only"
        )
    known = set(loaded["area_statistics"]["la_code"].astype("str"))
    unknown = [c for c in la_codes if c not in known]
    if unknown:
        raise ValueError(
            f"local authorities {', '.join(unknown[:5])} are not in "
            "area_statistics (no children in the profile, or wrong codes)"
        )
    local = _local_from(loaded, local_indicators)
    pages = {}
    for done, code in enumerate(la_codes, start=1):
        pages[code] = _write_area(
            loaded,
            code,
            out_dir,
            tables_dir,
            manifest,
            local=local,
            provenance=provenance,
            caveats=caveats,
            is_synthetic=is_synthetic,
            png=png,
            xlsx=xlsx,
            period=period,
        )
        if progress is not None:
            progress(done)
    return pages


def build_index_page(
    tables,
    out_dir: str | Path,
    manifest: Manifest,
    *,
    tables_dir: str | Path | None = None,
    provenance: Mapping | None = None,
    caveats: Sequence[str] = (),
    is_synthetic: bool = False,
    png: bool = True,
    xlsx: bool = True,
    period: Mapping | None = None,
) -> Path:
    """Write England's profile page and ``index.html`` (every local authority, linked).

    The index links to ``areas/<code>.html`` for every local authority in the tables
    (written by :func:`build_profiles`, possibly in other jobs). Returns the index path.
    """
    loaded, folder = _load(tables)
    out_dir = Path(out_dir)
    tables_dir = _tables_dir(out_dir, tables_dir if tables_dir is not None else folder)
    _write_area(
        loaded,
        ENGLAND_CODE,
        out_dir,
        tables_dir,
        manifest,
        local=None,
        provenance=provenance,
        caveats=caveats,
        is_synthetic=is_synthetic,
        png=png,
        xlsx=xlsx,
        period=period,
    )
    base, threshold = _settings(manifest)
    codes = loaded["area_statistics"]["la_code"].astype("str")
    links = {c: f"{AREAS_DIR}/{c}.html" for c in codes}
    rel_tables = _rel(tables_dir, out_dir)
    downloads = [
        (f"{label}", f"{rel_tables}/{file}")
        for label, file in (
            ("All areas' statistics (CSV)", "area_statistics.csv"),
            ("All areas' indicators, one row each (CSV)", "indicators.csv"),
            ("Children left out (CSV)", "children_left_out.csv"),
        )
    ]
    if xlsx:
        downloads += [
            ("All areas' statistics (Excel)", f"{rel_tables}/area_statistics.xlsx"),
            ("All areas' indicators (Excel)", f"{rel_tables}/indicators.xlsx"),
        ]
    context = html.index_page_context(
        loaded,
        base=base,
        threshold=threshold,
        page_links=links,
        provenance=provenance,
        caveats=caveats,
        is_synthetic=is_synthetic,
        downloads=downloads,
        period=period,
    )
    page = out_dir / "index.html"
    _write_page(
        html.render("index.html", context),
        page,
        manifest,
        backed_by=[_uid(manifest, tables_dir / TABLE_FILES["area_statistics"])],
        method="index of the Child-MDH local profiles",
    )
    return page


def build_all(
    statistics: Mapping[str, pd.DataFrame],
    out_dir: str | Path,
    manifest: Manifest,
    *,
    local_indicators=None,
    areas=None,
    provenance: Mapping | None = None,
    caveats: Sequence[str] = (),
    is_synthetic: bool = False,
    png: bool = True,
    xlsx: bool = True,
    period: Mapping | None = None,
) -> Path:
    """Tables, every local authority's page and the index in one process (small runs).

    The workflow runs the same three steps as separate jobs (tables, chunks of pages,
    index). Returns the index page.
    """
    released = write_profile_tables(
        statistics, out_dir, manifest, local_indicators=local_indicators, areas=areas, xlsx=xlsx
    )
    kwargs = dict(
        provenance=provenance,
        caveats=caveats,
        is_synthetic=is_synthetic,
        png=png,
        xlsx=xlsx,
        period=period,
    )
    build_profiles(released, profile_la_codes(released), out_dir, manifest, **kwargs)
    return build_index_page(released, out_dir, manifest, **kwargs)
