"""Finding and reading the files of a local authority's returns.

Files are identified by what is in them (their header row, or the root element of an
XML file), never by their name. Names are only used for what a file cannot say about
itself: the collection year (a four-digit year such as ``SSDA903_2025_header.csv``),
whether it is last year's return (``_last``, ``_prev``, ``previous``) and the school
census term (``2024_autumn_pupilonroll.csv``).

CSV files are read by the reader every route shares (:func:`child_mdh.files.read_csv_text`):
cells as text so identifiers keep their leading zeros; a UTF-8 byte-order mark is
removed and reported; a blank file (no bytes, or only a header row) is reported and read
as a table with no rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from child_mdh import files as io
from child_mdh.sources.la_returns.errors import NOTED, LAReturnError, ProblemLog

_YEAR_IN_NAME = re.compile(r"(?<!\d)(20\d{2})(?!\d)")
_YEAR_SPAN = re.compile(r"(?<!\d)(20\d{2})[-_/ ]?((?:20)?\d{2})(?!\d)")
_PREVIOUS_IN_NAME = re.compile(
    r"(?i)(?:^|[_\-\s.])(last|prev|previous|prior|last_year|lastyear)(?:[_\-\s.]|$)"
)


#: Files that sit beside data but are not data (any ending): skipped in folders.
NOT_DATA_STEMS = ("LICENSE", "LICENCE", "README", "NOTICE")


def _is_data_file(path: Path) -> bool:
    return (
        path.is_file()
        and not path.name.startswith(".")
        and path.suffix.lower() != ".md"
        and path.stem.upper() not in NOT_DATA_STEMS
    )


def list_source_files(
    spec, source_name: str, problems: ProblemLog | None = None, return_name: str = ""
) -> list[Path]:
    """The files named by one entry of ``sources``: a file, a folder, or a list of them.

    A folder contributes its files and those of its sub-folders, at any depth (a folder of
    year or term sub-folders is the usual layout), sorted by path, skipping hidden files
    and folders and the text files that usually sit beside data (README, LICENSE,
    NOTICE, *.md). With ``problems``, each sub-folder read is noted with its files, so
    the report shows where every file came from. Raises :class:`LAReturnError` naming the
    entry when a path does not exist.
    """
    if spec is None:
        return []
    items = spec if isinstance(spec, (list, tuple)) else [spec]
    out: list[Path] = []
    for item in items:
        p = Path(item)
        if not p.exists():
            raise LAReturnError(
                f"sources[{source_name!r}]: {p} does not exist. Check the path in the import "
                "configuration (a file, a folder, or a list of them)."
            )
        if not p.is_dir():
            out.append(p)
            continue
        found = sorted(
            f
            for f in p.rglob("*")
            if _is_data_file(f)
            and not any(part.startswith(".") for part in f.relative_to(p).parts[:-1])
        )
        out.extend(found)
        if problems is None:
            continue
        by_folder: dict[Path, int] = {}
        for f in found:
            if f.parent != p:
                by_folder[f.parent] = by_folder.get(f.parent, 0) + 1
        for folder, n in by_folder.items():
            problems.add(
                return_name=return_name or source_name,
                file=str(folder),
                problem=f"sub-folder {folder.relative_to(p)} of {p} read: {n} file(s)",
                action=NOTED,
                rows_affected=0,
            )
    return out


def year_in_text(text: str) -> int | None:
    """The collection year a name or value gives, or None.

    A DfE-style span of years names the year the collection ends: ``2023-24``,
    ``2023_24``, ``2023-2024`` and ``202324`` are 2024 (the 2023-24 return is the 2024
    collection). Otherwise the last four-digit year 2000-2099 is taken.
    """
    spans = [
        int(a) + 1
        for a, b in _YEAR_SPAN.findall(str(text))
        if int(b[-2:]) == (int(a) + 1) % 100 and (len(b) == 2 or int(b) == int(a) + 1)
    ]
    if spans:
        return spans[-1]
    found = _YEAR_IN_NAME.findall(str(text))
    return int(found[-1]) if found else None


def year_from_name(path: Path) -> int | None:
    """The collection year in the file name (:func:`year_in_text`), else in the name of
    the folder holding it (``ssda903/2024/header.csv``), or None."""
    for name in (path.name, path.parent.name):
        year = year_in_text(name)
        if year is not None:
            return year
    return None


def collection_year_of(value, where: str = "collection_year") -> int | None:
    """A configured collection year as a number: ``2024``, ``"2024"`` (quoted in YAML) or
    ``"2023-24"`` (the DfE's span, the year it ends). Raises :class:`LAReturnError` with
    the fix for anything else."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, int) and not isinstance(value, bool) and 2000 <= value <= 2099:
        return value
    text = str(value).strip()
    year = year_in_text(text) if isinstance(value, str) else None
    if year is None or not re.fullmatch(r"20\d{2}([-_/ ]?(20)?\d{2})?", text):
        raise LAReturnError(
            f"{where}: {value!r} is not a collection year. Write the year the collection "
            'ends, e.g. collection_year: 2024 for the 2023-24 return ("2024" and '
            '"2023-24" are read too).'
        )
    return year


def is_previous_year_name(path: Path) -> bool:
    """True when the file name marks last year's return (``_last``, ``_prev``, ``previous``)."""
    return bool(_PREVIOUS_IN_NAME.search(path.stem))


def normalise_header(name: str, case: str = "upper") -> str:
    """A column name stripped of a byte-order mark and spaces, with inner spaces or
    hyphens as underscores, in upper or lower case (:func:`child_mdh.files.normalise_header`)."""
    return io.normalise_header(name, case)


@dataclass
class TextTable:
    """A CSV file as read: its rows (all text), and what was noticed while reading."""

    path: Path
    frame: pd.DataFrame | None
    had_bom: bool = False
    #: "" for a file with rows, "empty file" (no bytes) or "header only"
    blank: str = ""
    #: a plain-English reason the file could not be read, or None
    error: str | None = None
    #: how the text was written (encoding, delimiter), as the shared reader found it
    text_format: io.TextFormat | None = None
    #: the sheet's name when the table is a sheet of a workbook
    sheet: str | None = None
    #: rows above a sheet's header (a title, an export note): read, not data
    title_rows: int = 0


def read_text_table(path: Path) -> TextTable:
    """Read a CSV (``.csv`` or ``.csv.gz``) with every cell as text; never raises for bad files.

    Reading is the shared reader's (:func:`child_mdh.files.read_csv_text`); a file that
    cannot be read comes back with ``error`` set to its plain-English message (for
    example: not UTF-8 -> "open it in Notepad and save it with the encoding UTF-8").
    """
    path = Path(path)
    try:
        df, fmt = io.read_csv_text(path)
    except io.InputFileError as err:
        return TextTable(path, None, error=str(err))
    utf8_bom = fmt.had_bom and fmt.encoding == "utf-8"
    if df.shape[1] == 0:
        return TextTable(path, df, utf8_bom, blank="empty file", text_format=fmt)
    blank = "header only" if len(df) == 0 else ""
    return TextTable(path, df, utf8_bom, blank=blank, text_format=fmt)


def read_tables(path: Path) -> list[TextTable]:
    """The tables of one file: a text table, or every sheet of an Excel workbook (each
    named ``<file>[<sheet>]`` in reports). Never raises for bad files."""
    path = Path(path)
    if not io.is_workbook(path):
        return [read_text_table(path)]
    try:
        sheets = io.read_workbook(path)
    except io.InputFileError as err:
        return [TextTable(path, None, error=str(err))]
    out = []
    for name, frame in sheets:
        label = Path(f"{path}[{name}]")
        blank = "empty file" if frame.shape[1] == 0 else "header only" if frame.empty else ""
        title_rows = int(frame.attrs.get("title_rows", 0))
        frame.attrs = {}
        out.append(TextTable(label, frame, blank=blank, sheet=name, title_rows=title_rows))
    return out


def format_note(tt: TextTable) -> str | None:
    """A note for the report when a text table is not comma-separated UTF-8, or a sheet
    has title rows above its header (counted as not needed), else None."""
    notes = []
    fmt = tt.text_format
    if fmt is not None and not (fmt.encoding == "utf-8" and fmt.delimiter == ","):
        notes.append(f"read as {fmt.describe()} text (found from the file's bytes and header line)")
    if tt.title_rows:
        notes.append(f"{tt.title_rows} title row(s) above the header: read, not needed (not data)")
    return "; ".join(notes) or None


def add_format_note(tt: TextTable, problems: ProblemLog, return_name: str, table: str) -> None:
    """Note in ``problems`` how a text table was written when it is not comma-separated UTF-8."""
    note = format_note(tt)
    if note:
        problems.add(
            return_name=return_name,
            file=str(tt.path),
            table=table,
            problem=note,
            action=NOTED,
            rows_affected=tt.title_rows,
        )


def spreadsheet_rows(frame: pd.DataFrame) -> pd.Series:
    """The row numbers a spreadsheet shows for the data rows (the header is row 1)."""
    return pd.Series(range(2, len(frame) + 2), index=frame.index).astype("str")


#: The endings (any case) of the tables the returns are read from: text tables and Excel
#: workbooks (every sheet a table).
TEXT_TABLE_SUFFIXES = io.TEXT_SUFFIXES + io.WORKBOOK_SUFFIXES


def require_suffix(path: Path, allowed: tuple[str, ...]) -> str | None:
    """None when the file's type is one of ``allowed`` (any case); otherwise a plain-English
    reason."""
    name = path.name.lower()
    if any(name.endswith(s) for s in allowed):
        return None
    if name.endswith((".xlsx", ".xls", ".xlsm")):
        return (
            f"{path}: an Excel workbook in the old .xls format. Save it as .xlsx (Excel "
            "Workbook) from Excel's 'Save As', or save each sheet as 'CSV UTF-8 (comma "
            "delimited)', and import that."
        )
    return f"{path}: not a {' or '.join(allowed)} file, so it was not read."
