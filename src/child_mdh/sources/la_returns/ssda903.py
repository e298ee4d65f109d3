"""SSDA903 (children looked after) returns: CSV tables or the XML form.

Source formats: the DfE SSDA903 return as local authorities export it, in the column
layout used by the data-to-insight SSDA903 validator (``lac_validator/config.py``) and
the liia-tools SSDA903 pipeline (schemas versioned by collection year). CSV tables are
identified by their header row (case, spaces and a byte-order mark do not matter), not
by their file name. The XML form has the root ``EXPSSDA903`` with one ``CHILD`` per child
holding a ``HEADER`` (``CHILDID``, ``UPN``, ``SEX``, ``DOB`` ...) and ``EPISODE`` elements.

What the contract needs:

- episodes -> ``looked_after_episodes``: CHILD (the child), DECOM -> ``episode_start``,
  DEC -> ``episode_end`` (empty while open), LS -> ``legal_status``,
  RNE -> ``reason_new_episode``;
- header -> the child lookup used to link children across returns: CHILD, UPN, SEX, DOB.

Dates are dd/mm/yyyy. An impossible date (``31/02/2020``, ``02/01/20251``) is reported
with its file and row, and the row is quarantined (a header row keeps the child, with the
date of birth empty). Last year's files (names with ``_last``/``_prev``/``previous``, or
``sources['ssda903_previous']``) are read too: an episode in both is taken from the most
recent return.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd

from child_mdh.contract import tables as contract
from child_mdh.sources.la_returns.errors import FILE_SKIPPED, KEPT, NOTED, VALUE_EMPTIED
from child_mdh.sources.la_returns.files import (
    TEXT_TABLE_SUFFIXES,
    add_format_note,
    is_previous_year_name,
    list_source_files,
    normalise_header,
    read_tables,
    require_suffix,
    spreadsheet_rows,
    year_from_name,
    year_in_text,
)
from child_mdh.sources.la_returns.plausibility import check_episodes
from child_mdh.sources.la_returns.records import (
    USED,
    ReturnData,
    empty_records,
    keep_latest,
    quarantine,
    start_records,
)
from child_mdh.sources.la_returns.values import (
    blank_to_na,
    clean_code,
    clean_ids,
    normalise_upn,
    parse_dates,
    two_digit_reason,
    upn_format_ok,
)

RETURN_NAME = "ssda903"

_BASE_TABLES: dict[str, tuple[str, ...]] = {
    "header": ("CHILD", "SEX", "DOB", "ETHNIC", "UPN", "MOTHER", "MC_DOB"),
    "episodes": (
        "CHILD",
        "DECOM",
        "RNE",
        "LS",
        "CIN",
        "PLACE",
        "PLACE_PROVIDER",
        "DEC",
        "REC",
        "REASON_PLACE_CHANGE",
        "HOME_POST",
        "PL_POST",
        "URN",
    ),
    "uasc": ("CHILD", "SEX", "DOB", "DUC"),
    "missing": ("CHILD", "DOB", "MISSING", "MIS_START", "MIS_END"),
    "reviews": ("CHILD", "DOB", "REVIEW", "REVIEW_CODE"),
    "oc2": (
        "CHILD",
        "DOB",
        "SDQ_SCORE",
        "SDQ_REASON",
        "CONVICTED",
        "HEALTH_CHECK",
        "IMMUNISATIONS",
        "TEETH_CHECK",
        "HEALTH_ASSESSMENT",
        "SUBSTANCE_MISUSE",
        "INTERVENTION_RECEIVED",
        "INTERVENTION_OFFERED",
    ),
    "oc3": ("CHILD", "DOB", "IN_TOUCH", "ACTIV", "ACCOM"),
    "ad1": (
        "CHILD",
        "DOB",
        "DATE_INT",
        "DATE_MATCH",
        "FOSTER_CARE",
        "NB_ADOPTR",
        "SEX_ADOPTR",
        "LS_ADOPTR",
    ),
    "placed_adoption": (
        "CHILD",
        "DOB",
        "DATE_PLACED",
        "DATE_PLACED_CEASED",
        "REASON_PLACED_CEASED",
    ),
    "prev_perm": ("CHILD", "DOB", "PREV_PERM", "LA_PERM", "DATE_PERM"),
}

#: The SSDA903 CSV tables and their columns by collection year (the year the return is
#: made, e.g. 2024 for 2023-24). A year uses the latest schema at or before it. Columns
#: per the data-to-insight validator config and the liia-tools headers by year: the
#: tables are unchanged from 2017 except the social worker table added for 2024.
SSDA903_SCHEMAS: dict[int, dict[str, tuple[str, ...]]] = {
    2017: dict(_BASE_TABLES),
    2024: {
        **_BASE_TABLES,
        "social_worker": ("CHILD", "DOB", "SW_ID", "SW_DECOM", "SW_DEC", "SW_REASON"),
    },
}

#: Other spellings of column names seen in exports (the XML element names, older
#: layouts), mapped to the CSV names above. Keys are normalised (upper case, underscores).
SSDA903_COLUMN_ALIASES = {
    "CHILDID": "CHILD",
    "CHILD_ID": "CHILD",
    "PL": "PLACE",
    "GENDER": "SEX",
    "PLACEMENT": "PLACE",
}

#: The tables whose rows the contract needs, and the columns that must be present.
NEEDED_COLUMNS = {
    "header": ("CHILD", "UPN"),
    "episodes": ("CHILD", "DECOM", "DEC", "LS", "RNE"),
}

DATE_FORMAT = "%d/%m/%Y"
#: Other date layouts accepted (and reported) when a file was re-saved by a spreadsheet.
#: ``dd/mm/yyyy hh:mm`` is how Excel shows (and saves) a date cell with a time format.
DATE_ALTERNATIVES = (
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d-%m-%Y",
)

#: SSDA903 SEX codes: 1 male, 2 female.
SEX_CODES = {"1": "M", "2": "F", "M": "M", "F": "F"}

EPISODE_FIELDS = ("DECOM", "DEC", "LS", "RNE")
HEADER_FIELDS = ("UPN", "SEX", "DOB")


def schema_for_year(year: int | None) -> tuple[int, dict[str, tuple[str, ...]]]:
    """The SSDA903 schema that applies to collection ``year`` (the latest one if None)."""
    years = sorted(SSDA903_SCHEMAS)
    if year is None:
        return years[-1], SSDA903_SCHEMAS[years[-1]]
    usable = [y for y in years if y <= year] or years[:1]
    return usable[-1], SSDA903_SCHEMAS[usable[-1]]


def identify_table(columns, year: int | None = None) -> tuple[str | None, list[str], list[str]]:
    """Which SSDA903 table a header row belongs to: (table, missing columns, extra columns).

    Column names are normalised (case, spaces, byte-order mark) and aliases applied.
    A table matches when all its columns are present (the one with most columns wins);
    failing that, one of the tables the contract needs matches when its needed columns
    are present (the other columns are reported missing). Returns (None, [], []) when
    nothing matches.
    """
    cols = [SSDA903_COLUMN_ALIASES.get(normalise_header(c), normalise_header(c)) for c in columns]
    have = set(cols)
    _, schema = schema_for_year(year)
    full = [(len(spec), name) for name, spec in schema.items() if set(spec) <= have]
    if full:
        name = max(full)[1]
        return name, [], sorted(have - set(schema[name]))
    partial = [
        (len(set(schema[name]) & have), name)
        for name, needed in NEEDED_COLUMNS.items()
        if set(needed) <= have
    ]
    if partial:
        name = max(partial)[1]
        return name, sorted(set(schema[name]) - have), sorted(have - set(schema[name]))
    return None, [], []


def _rename_columns(frame: pd.DataFrame) -> pd.DataFrame:
    cols = [
        SSDA903_COLUMN_ALIASES.get(normalise_header(c), normalise_header(c)) for c in frame.columns
    ]
    out = frame.copy()
    out.columns = cols
    return out.loc[:, ~out.columns.duplicated()]


def return_order(year: int | None, previous: bool, position: int) -> int:
    """The rank of a return (or of a row of a stacked file): collection year, then this
    year's return after last year's, then the position of the file in the listing."""
    return ((year or 0) * 2 + (0 if previous else 1)) * 100_000 + position


def read_ssda903(paths, *, previous_paths=None, collection_year: int | None = None) -> ReturnData:
    """Read SSDA903 files (CSV tables and/or XML) into episode and child records.

    ``paths`` and ``previous_paths``: a file, a folder or a list of them (``previous_paths``
    holds last year's return). ``collection_year`` is used for files whose name has no
    year. Returns a :class:`ReturnData` with tables ``episodes`` (DECOM, DEC, LS, RNE
    parsed, one record per row read) and ``children`` (child_ref, upn, dob, sex), every
    problem logged; nothing raises for a bad file (it is logged as skipped).
    """
    data = ReturnData(RETURN_NAME)
    current = list_source_files(paths, "ssda903", data.problems, RETURN_NAME)
    previous = list_source_files(previous_paths, "ssda903_previous", data.problems, RETURN_NAME)
    files = [(p, False) for p in current] + [(p, True) for p in previous]
    # return order: collection year, then current after previous, then file position
    keyed = []
    for pos, (path, prev_flag) in enumerate(files):
        prev = prev_flag or is_previous_year_name(path)
        year = year_from_name(path) or collection_year
        if prev and year_from_name(path) is None and year is not None:
            year = year - 1
        keyed.append((path, year, prev, pos))

    episodes, headers = [], []
    for path, year, prev, pos in keyed:
        order = return_order(year, prev, pos)
        why = require_suffix(path, (*TEXT_TABLE_SUFFIXES, ".xml"))
        if why:
            data.problems.add(
                return_name=RETURN_NAME, file=str(path), problem=why, action=FILE_SKIPPED
            )
            data.add_file(path, "", 0, year=year, note="skipped: " + why)
            continue
        if path.name.lower().endswith(".xml"):
            got = _read_xml(path, order, year, data)
        else:
            got = _read_csv(path, order, year, data, prev=prev, pos=pos)
        for table, records in got:
            (episodes if table == "episodes" else headers).append(records)
    data.tables["episodes"] = _finish_episodes(episodes, data)
    data.children = _finish_headers(headers, data)
    _report_children_without_header(data)
    check_episodes(data.tables["episodes"], data.children, data.problems, RETURN_NAME)
    return data


def without_header(data: ReturnData) -> pd.Series:
    """Mask of the used episodes whose CHILD has no header row in any file read: those
    children have no UPN here and cannot be linked to other returns."""
    ep = data.tables["episodes"]
    known = data.children["child_ref"].dropna() if data.children is not None else []
    return (ep["status"] == USED) & ep["child_ref"].notna() & ~ep["child_ref"].isin(known)


def _report_children_without_header(data: ReturnData) -> None:
    """Name, by file and child, the episodes whose child has no header row, with the
    likely cause and the fix; the episodes are used, but the child is not linked."""
    mask = without_header(data)
    if not mask.any():
        return
    ep = data.tables["episodes"]
    known = data.children["child_ref"].dropna().drop_duplicates()
    no_zeros = dict(zip(known.str.lstrip("0"), known))
    stripped = (
        ep["child_ref"]
        .where(mask)
        .map(lambda c: no_zeros.get(c.lstrip("0")) if isinstance(c, str) else None)
    )
    zeros = mask & stripped.notna()
    causes = [
        (
            mask & (len(known) == 0),
            "the child has no header row because no SSDA903 header table was read (the "
            "header file is missing, or could not be read: see the files not used). The "
            "episode is used, but the child has no UPN and is not linked to other returns. "
            "Fix: add the header file of the return",
        ),
        (
            zeros,
            "the child has no header row with this CHILD, but one whose CHILD differs only in "
            "leading zeros: a spreadsheet dropped the zeros in one of the files (ids stored as "
            "numbers). The episode is used, but the child is not linked. Fix: re-export both "
            "files with CHILD as text, so the ids agree",
        ),
        (
            mask & (len(known) > 0) & ~zeros,
            "the child has no header row in the return: the episode is used, but the child "
            "has no UPN and is not linked to other returns. Fix: add the child's header row "
            "(every child with an episode needs one) or correct CHILD",
        ),
    ]
    for which, problem in causes:
        data.problems.add_rows(
            ep,
            which,
            return_name=RETURN_NAME,
            table="episodes",
            field="CHILD",
            problem=problem,
            action=KEPT,
        )


def _read_csv(path: Path, order: int, year, data: ReturnData, *, prev=False, pos=0):
    """Read one text table or workbook (every sheet a table): [(table, raw records)]."""
    out = []
    for tt in read_tables(path):
        out.extend(_read_text_table(tt, order, year, data, prev=prev, pos=pos))
    return out


def _read_text_table(tt, order: int, year, data: ReturnData, *, prev=False, pos=0):
    """Read one table: [(table, raw records)] for a needed table, else [].

    A file holding several collection years (a ``YEAR`` column, as when an analyst
    stacks the returns of several years) ranks each row by its own year, so that an
    episode in several years is taken from the latest one.
    """
    path = tt.path
    if tt.error:
        data.problems.add(
            return_name=RETURN_NAME, file=str(path), problem=tt.error, action=FILE_SKIPPED
        )
        data.add_file(path, "", 0, year=year, note="skipped: could not be read")
        return []
    if tt.blank == "empty file":
        data.problems.add(
            return_name=RETURN_NAME,
            file=str(path),
            problem="blank file (no bytes): nothing to read",
            action=NOTED,
            rows_affected=0,
        )
        data.add_file(path, "", 0, year=year, note="blank file")
        return []
    table, missing, _extra = identify_table(tt.frame.columns, year)
    if table is None and _keyed_by_child(tt.frame.columns):
        return _other_table(tt, path, year, data)
    if table is None:
        _, schema = schema_for_year(year)
        expected = "; ".join(
            f"{n}: {', '.join(c)}" for n, c in schema.items() if n in NEEDED_COLUMNS
        )
        why = (
            f"the header row ({', '.join(map(str, tt.frame.columns))}) does not match any "
            f"SSDA903 table, so the file was not read. Expected, for example, {expected}. "
            "Check that the first row of the file is the header row."
        )
        if tt.sheet is not None:  # a workbook's other sheets (notes, pivots) are no error
            why = (
                f"sheet {tt.sheet!r} is not a table of the SSDA903 return (its header row: "
                f"{', '.join(map(str, tt.frame.columns))}), so it was not read; if it should "
                f"be, its header row needs the columns of a table, e.g. {expected}"
            )
        data.problems.add(
            return_name=RETURN_NAME,
            file=str(path),
            problem=why,
            action=NOTED if tt.sheet is not None else FILE_SKIPPED,
            rows_affected=len(tt.frame),
        )
        data.add_file(
            path,
            "",
            len(tt.frame),
            not_needed=len(tt.frame),
            year=year,
            note="skipped: table not recognised",
        )
        return []
    add_format_note(tt, data.problems, RETURN_NAME, table)
    if tt.had_bom:
        data.problems.add(
            return_name=RETURN_NAME,
            file=str(path),
            table=table,
            problem="file starts with a UTF-8 byte-order mark (Excel 'CSV UTF-8'); removed",
            action=NOTED,
            rows_affected=0,
        )
    raw_cols = [str(c) for c in tt.frame.columns]
    if any(
        normalise_header(c) != c or normalise_header(c) in SSDA903_COLUMN_ALIASES for c in raw_cols
    ):
        data.problems.add(
            return_name=RETURN_NAME,
            file=str(path),
            table=table,
            problem="header spelled differently from the specification "
            f"({', '.join(raw_cols)}); read as the {table} table",
            action=NOTED,
            rows_affected=0,
        )
    if missing:
        data.problems.add(
            return_name=RETURN_NAME,
            file=str(path),
            table=table,
            problem=f"columns missing from the {table} table: {', '.join(missing)} "
            "(not needed here, so the file is still used)",
            action=NOTED,
            rows_affected=0,
        )
    if tt.blank == "header only":
        data.problems.add(
            return_name=RETURN_NAME,
            file=str(path),
            table=table,
            problem="blank file: only a header row",
            action=NOTED,
            rows_affected=0,
        )
    frame = _rename_columns(tt.frame)
    n = len(frame)
    if table not in NEEDED_COLUMNS:
        data.add_file(
            path, table, n, not_needed=n, year=year, note="not needed for the contract tables"
        )
        return []
    data.add_file(path, table, n, year=year)
    fields = EPISODE_FIELDS if table == "episodes" else HEADER_FIELDS
    values = pd.DataFrame(
        {
            f: frame[f] if f in frame else pd.Series(pd.NA, index=frame.index, dtype="str")
            for f in fields
        }
    )
    child_ref, mended = clean_ids(frame["CHILD"])
    records = start_records(
        values,
        source_file=path,
        source_row=spreadsheet_rows(frame),
        child_ref=child_ref,
        order=order,
    )
    records["year"] = "" if year is None else str(year)
    if "YEAR" in frame.columns:
        _rank_stacked_rows(frame["YEAR"], records, path, table, year, data, prev=prev, pos=pos)
    data.problems.add_summary(
        records,
        mended,
        return_name=RETURN_NAME,
        table=table,
        field="CHILD",
        problem="child ids written as numbers with '.0' (a spreadsheet "
        "turned them into decimals); read without the '.0'",
        action=NOTED,
    )
    return [(table, records)]


def _rank_stacked_rows(
    given: pd.Series, records: pd.DataFrame, path: Path, table: str, year, data, *, prev, pos
) -> None:
    """Set the year and rank of each row of a stacked file from its YEAR cell (in place).

    A YEAR that is not a year (``2024``, ``2023-24``) keeps the file's year and is
    reported with the rows."""
    text = blank_to_na(given)
    years = text.map(lambda v: year_in_text(v) if isinstance(v, str) else None)
    ok = years.notna()
    row_years = years.where(ok, year)
    records["year"] = row_years.map(lambda y: "" if pd.isna(y) else str(int(y))).to_numpy()
    records["order"] = [return_order(None if pd.isna(y) else int(y), prev, pos) for y in row_years]
    found = sorted({int(y) for y in years[ok]})
    data.problems.add(
        return_name=RETURN_NAME,
        file=str(path),
        table=table,
        field="YEAR",
        problem=f"a file of several collection years ({', '.join(map(str, found))}, from its "
        "YEAR column): each row is ranked by its own year, so an episode or child in "
        "several years is taken from the latest",
        action=NOTED,
        rows_affected=0,
    )
    data.problems.add_rows(
        records,
        pd.Series(text.notna() & ~ok, index=records.index),
        return_name=RETURN_NAME,
        table=table,
        field="YEAR",
        problem="YEAR is not a collection year (2024 or 2023-24): the row keeps the file's "
        "year; correct the cell",
        action=KEPT,
    )


def _keyed_by_child(columns) -> bool:
    """Whether a header has the CHILD column every SSDA903 table has (so it is a table of
    the return the import does not know, or does not know for this year)."""
    return "CHILD" in {
        SSDA903_COLUMN_ALIASES.get(normalise_header(c), normalise_header(c)) for c in columns
    }


def _other_table(tt, path: Path, year, data: ReturnData):
    """Report and skip an SSDA903 table the contract does not need and the import does not
    know (a table added to the return, or one from another year's schema): its rows are
    counted as not needed, and the import carries on."""
    cols = {
        SSDA903_COLUMN_ALIASES.get(normalise_header(c), normalise_header(c))
        for c in tt.frame.columns
    }
    known = sorted(
        (y, name)
        for y, schema in SSDA903_SCHEMAS.items()
        for name, spec in schema.items()
        if set(spec) <= cols
    )
    n = len(tt.frame)
    if known:
        since, name = known[0]
        what = (
            f"the {name} table, which the SSDA903 return has from {since} on "
            f"(this file is for {year})"
        )
    else:
        name = "other"
        what = "an SSDA903 table (it has CHILD) that the import does not know (a new table?)"
    data.problems.add(
        return_name=RETURN_NAME,
        file=str(path),
        table=name,
        problem=f"{what}; not needed for the contract tables, so its {n} rows are counted as "
        "not needed and the import carries on",
        action=NOTED,
        rows_affected=n,
    )
    data.add_file(path, name, n, not_needed=n, year=year, note="table not needed: skipped")
    return []


def _text(elem, tag: str):
    found = elem.find(tag)
    if found is None or found.text is None:
        return None
    return found.text


def _read_xml(path: Path, order: int, year, data: ReturnData):
    """Read the SSDA903 XML form: [(header, records), (episodes, records)]; other blocks
    (reviews, missing, UASC) are counted as not needed."""
    header_rows, episode_rows = [], []
    counts = {"reviews": 0, "missing": 0, "uasc": 0}
    try:
        context = ET.iterparse(path, events=("start", "end"))
        _, root = next(context)
        if root.tag.upper() != "EXPSSDA903":
            hint = (
                " It looks like a CIN census file: list it under 'cin_census'."
                if root.tag == "Message"
                else ""
            )
            why = (
                f"{path}: the XML root element is <{root.tag}>, not <EXPSSDA903>, so it is "
                f"not an SSDA903 return.{hint}"
            )
            data.problems.add(
                return_name=RETURN_NAME, file=str(path), problem=why, action=FILE_SKIPPED
            )
            data.add_file(path, "", 0, year=year, note="skipped: not SSDA903 XML")
            return []
        n_child = 0
        for event, elem in context:
            if event != "end" or elem.tag.upper() != "CHILD":
                continue
            n_child += 1
            head = elem.find("HEADER")
            head = head if head is not None else elem
            child = _text(head, "CHILDID") or _text(head, "CHILD")
            header_rows.append(
                (
                    f"child {n_child}",
                    child,
                    _text(head, "UPN"),
                    _text(head, "SEX"),
                    _text(head, "DOB"),
                )
            )
            counts["reviews"] += len(head.findall("AREVIEW"))
            counts["missing"] += len(head.findall("AMISSING"))
            counts["uasc"] += int(bool((_text(head, "DUC") or "").strip()))
            for i, ep in enumerate(elem.findall("EPISODE"), start=1):
                episode_rows.append(
                    (
                        f"child {n_child}, episode {i}",
                        child,
                        _text(ep, "DECOM"),
                        _text(ep, "DEC"),
                        _text(ep, "LS"),
                        _text(ep, "RNE"),
                    )
                )
            elem.clear()
            root.clear()
    except ET.ParseError as err:
        why = (
            f"{path}: not well-formed XML ({err}). Re-export the SSDA903 XML from the "
            "case management system, or open it in a browser to see the broken line."
        )
        data.problems.add(return_name=RETURN_NAME, file=str(path), problem=why, action=FILE_SKIPPED)
        data.add_file(path, "", 0, year=year, note="skipped: not well-formed XML")
        return []
    headers = pd.DataFrame(
        header_rows, columns=["source_row", "CHILD", *HEADER_FIELDS], dtype="str"
    )
    episodes = pd.DataFrame(
        episode_rows, columns=["source_row", "CHILD", *EPISODE_FIELDS], dtype="str"
    )
    data.add_file(path, "header", len(headers), year=year)
    data.add_file(path, "episodes", len(episodes), year=year)
    for table, n in counts.items():
        if n:
            data.add_file(
                path, table, n, not_needed=n, year=year, note="not needed for the contract tables"
            )
    out = []
    for frame, fields in ((headers, HEADER_FIELDS), (episodes, EPISODE_FIELDS)):
        child_ref, _ = clean_ids(frame["CHILD"])
        rec = start_records(
            frame[list(fields)],
            source_file=path,
            source_row=frame["source_row"],
            child_ref=child_ref,
            order=order,
        )
        rec["year"] = "" if year is None else str(year)
        out.append(rec)
    return [("header", out[0]), ("episodes", out[1])]


def _finish_episodes(parts: list[pd.DataFrame], data: ReturnData) -> pd.DataFrame:
    """Parse and check episode values; quarantine bad rows; de-duplicate across returns."""
    if not parts:
        return empty_records(("episode_start", "episode_end", "legal_status", "reason_new_episode"))
    rec = pd.concat(parts, ignore_index=True)
    log, t = data.problems, "episodes"
    quarantine(
        rec,
        rec["child_ref"].isna(),
        "no CHILD id",
        log,
        return_name=RETURN_NAME,
        table=t,
        field="CHILD",
    )
    start = parse_dates(rec["DECOM"], DATE_FORMAT, DATE_ALTERNATIVES)
    end = parse_dates(rec["DEC"], DATE_FORMAT, DATE_ALTERNATIVES)
    quarantine(
        rec,
        blank_to_na(rec["DECOM"]).isna(),
        "no DECOM (start of the episode)",
        log,
        return_name=RETURN_NAME,
        table=t,
        field="DECOM",
    )
    for field, parsed in (("DECOM", start), ("DEC", end)):
        # a two-digit year has its own reason and fix; any other unreadable date is impossible
        for mask, reason in (
            (parsed.two_digit_year, two_digit_reason(field)),
            (
                parsed.bad & ~parsed.two_digit_year,
                f"impossible date: {field} is not a real dd/mm/yyyy date",
            ),
        ):
            quarantine(
                rec,
                mask,
                reason,
                log,
                return_name=RETURN_NAME,
                table=t,
                field=field,
                value_column=field,
            )
    quarantine(
        rec,
        end.dates < start.dates,
        "DEC (end of the episode) is before DECOM",
        log,
        return_name=RETURN_NAME,
        table=t,
        field="DEC",
        value_column="DEC",
    )
    alt = start.alternative | end.alternative
    log.add_summary(
        rec,
        alt,
        return_name=RETURN_NAME,
        table=t,
        field="DECOM, DEC",
        problem="dates not written as dd/mm/yyyy (a spreadsheet re-saved them); read as "
        "yyyy-mm-dd, dd/mm/yyyy hh:mm (time dropped) or a spreadsheet serial number",
        action=NOTED,
    )
    rec["episode_start"] = start.dates
    rec["episode_end"] = end.dates
    rec["legal_status"] = clean_code(rec["LS"])
    rec["reason_new_episode"] = clean_code(rec["RNE"])
    quarantine(
        rec,
        ~rec["legal_status"].isin(contract.LEGAL_STATUS_CODES),
        "LS is not an SSDA903 legal status code (C1, C2, D1, E1, J1-J3, L1-L3, V2-V4)",
        log,
        return_name=RETURN_NAME,
        table=t,
        field="LS",
        value_column="LS",
    )
    quarantine(
        rec,
        ~rec["reason_new_episode"].isin(contract.REASON_NEW_EPISODE_CODES),
        "RNE is not an SSDA903 reason-for-new-episode code (S, L, P, T, U, B)",
        log,
        return_name=RETURN_NAME,
        table=t,
        field="RNE",
        value_column="RNE",
    )
    keep_latest(
        rec,
        ["child_ref", "episode_start"],
        log,
        return_name=RETURN_NAME,
        table=t,
        what="episode (same CHILD and DECOM)",
    )
    return rec


def _finish_headers(parts: list[pd.DataFrame], data: ReturnData) -> pd.DataFrame:
    """Parse header rows into the child lookup: child_ref, upn, dob, sex."""
    if not parts:
        return empty_records(("upn", "dob", "sex"))
    rec = pd.concat(parts, ignore_index=True)
    log, t = data.problems, "header"
    quarantine(
        rec,
        rec["child_ref"].isna(),
        "no CHILD id",
        log,
        return_name=RETURN_NAME,
        table=t,
        field="CHILD",
    )
    upn, unknown = normalise_upn(rec["UPN"])
    rec["upn"] = upn
    log.add_summary(
        rec,
        unknown,
        return_name=RETURN_NAME,
        table=t,
        field="UPN",
        problem="UPN recorded as unknown (UN1-UN10): these children cannot be "
        "linked to other returns",
        action=NOTED,
    )
    log.add_summary(
        rec,
        upn.notna() & ~upn_format_ok(upn),
        return_name=RETURN_NAME,
        table=t,
        field="UPN",
        problem="UPN not in the DfE 13-character format; still used for linking, but check it",
        action=KEPT,
    )
    dob = parse_dates(rec["DOB"], DATE_FORMAT, DATE_ALTERNATIVES)
    log.add_rows(
        rec,
        dob.bad,
        return_name=RETURN_NAME,
        table=t,
        field="DOB",
        problem="impossible date: DOB is not a real dd/mm/yyyy date",
        action=VALUE_EMPTIED,
        value_column="DOB",
    )
    rec["dob"] = dob.dates
    rec["sex"] = clean_code(rec["SEX"]).map(SEX_CODES)
    keep_latest(
        rec, ["child_ref"], log, return_name=RETURN_NAME, table=t, what="child (same CHILD id)"
    )
    return rec


__all__ = [
    "NEEDED_COLUMNS",
    "SSDA903_COLUMN_ALIASES",
    "SSDA903_SCHEMAS",
    "identify_table",
    "read_ssda903",
    "schema_for_year",
    "without_header",
]
