"""Reading and writing tables at the edges of the pipeline: the one file reader of every route.

Every input route (an input folder of contract tables, a mapped extract, a local
authority's returns) reads its text files through :func:`read_csv_text`, so the rules are
the same everywhere:

- the text's form is found once per file (:func:`text_format`): UTF-8 (a byte-order
  mark, as Excel's "CSV UTF-8" writes, is removed and noted), UTF-16 with its mark
  (Excel's "Unicode Text") or Windows-1252 (Excel's plain "CSV" on English Windows); the
  delimiter is the comma, semicolon, tab or pipe that splits the header line;
- a blank file (zero bytes, or only a header) reads as a table with no rows;
- cells are read as text, so identifiers keep leading zeros (identifiers a spreadsheet
  turned into floats, ``123.0``, are mended by :func:`child_mdh.cells.clean_identifier`);
- column names are stripped of surrounding white space and any byte-order mark; a route
  that matches names loosely folds them further with :func:`normalise_header`.

Type coercion and checks live in :mod:`child_mdh.cells` and the routes; this module only
finds, reads and writes files. Parquet files written by the project carry key-value
metadata (for example ``synthetic: true``) so a file says what it is.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import gzip
import io
import json
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from child_mdh.errors import UserError

INPUT_SUFFIXES = (".parquet", ".csv", ".xlsx")
#: Endings of the text files read as tables (any case); ``.gz`` files are decompressed.
#: ``.txt`` and ``.tsv`` are what "Save as text" and database exports write.
TEXT_SUFFIXES = (".csv", ".csv.gz", ".txt", ".tsv")
_BOM = b"\xef\xbb\xbf"


class InputFileError(UserError):
    """An input file cannot be found or read; the message says which and how to fix it."""


@dataclass(frozen=True)
class TextFormat:
    """How a text file is written: its encoding, delimiter, and whether it began with a BOM."""

    encoding: str = "utf-8"
    delimiter: str = ","
    had_bom: bool = False

    def describe(self) -> str:
        """The form in words, for reports (``UTF-8 with byte-order mark, comma-separated``)."""
        names = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
        enc = {"utf-8": "UTF-8", "cp1252": "Windows-1252", "utf-16": "UTF-16"}.get(
            self.encoding, self.encoding
        )
        bom = " with byte-order mark" if self.had_bom else ""
        return f"{enc}{bom}, {names.get(self.delimiter, repr(self.delimiter))}-separated"


def is_text_table(path: Path) -> bool:
    """Whether the file name ends in one of :data:`TEXT_SUFFIXES` (any case)."""
    return path.name.lower().endswith(TEXT_SUFFIXES)


def _open_binary(path: Path):
    return gzip.open(path, "rb") if path.name.lower().endswith(".gz") else open(path, "rb")


def text_format(path: str | Path) -> TextFormat:
    """The encoding, delimiter and byte-order mark of a text file, found from its bytes.

    Encoding: a byte-order mark says UTF-8 or UTF-16 (Excel's "Unicode Text"); otherwise
    the whole file is checked as UTF-8 and, failing that, as Windows-1252 (what Excel and
    Notepad write on an English Windows: one no-break space or pound sign is enough to
    make a file not UTF-8). Delimiter: the one of comma, semicolon, tab or pipe that
    splits the header line into most fields (the comma when none does). Raises
    :class:`InputFileError` when the text is neither.
    """
    path = Path(path)
    try:
        with _open_binary(path) as fh:
            head = fh.read(4)
            encoding, had_bom = _encoding(path, fh, head)
    except (OSError, EOFError) as err:
        raise InputFileError(f"{path}: cannot be read ({err}).") from err
    fmt = TextFormat(encoding, ",", had_bom)
    with _open_binary(path) as fh:
        line = io.TextIOWrapper(fh, encoding=_codec(fmt), newline="").readline()
    return TextFormat(encoding, _delimiter(line, path), had_bom)


def _encoding(path: Path, fh, head: bytes) -> tuple[str, bool]:
    """(encoding, had a byte-order mark) of the open binary file ``fh`` after ``head``."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16", True
    had_bom = head.startswith(_BOM)
    utf8 = codecs.getincrementaldecoder("utf-8")()
    cp1252 = codecs.getincrementaldecoder("cp1252")()
    chunk, offset, is_utf8, first_bad = head, 0, True, None
    while True:
        if is_utf8:
            try:
                utf8.decode(chunk)
            except UnicodeDecodeError as err:
                is_utf8, first_bad = False, offset + err.start
        if not is_utf8:
            try:
                cp1252.decode(chunk)
            except UnicodeDecodeError as err:
                raise InputFileError(
                    f"{path}: neither UTF-8 nor Windows-1252 text (byte {first_bad} is not "
                    f"UTF-8, byte {offset + err.start} not Windows-1252). Open it in a text "
                    "editor (Notepad) and save it with the encoding 'UTF-8', then run again."
                ) from err
        offset += len(chunk)
        chunk = fh.read(1 << 24)
        if not chunk:
            break
    if is_utf8:
        try:
            utf8.decode(b"", final=True)
        except UnicodeDecodeError:
            is_utf8 = False
    return ("utf-8" if is_utf8 else "cp1252"), had_bom


_DELIMITERS = (",", ";", "\t", "|")


def _delimiter(line: str, path: Path) -> str:
    """The delimiter splitting the header ``line`` into most fields (comma by default)."""
    if path.name.lower().endswith(".tsv"):
        return "\t"
    counts = {}
    for d in _DELIMITERS:
        fields = next(csv.reader(io.StringIO(line), delimiter=d), [])
        counts[d] = len(fields) - 1
    best = max(_DELIMITERS, key=lambda d: (counts[d], d == ","))
    return best if counts[best] > 0 else ","


def normalise_header(name: str, case: str | None = None) -> str:
    """A column name stripped of a byte-order mark and surrounding spaces.

    With ``case`` (``"upper"`` or ``"lower"``) inner spaces and hyphens also become
    underscores and the name is folded to that case, for routes that match names loosely.
    """
    s = str(name).replace("\ufeff", "").strip()
    if case is None:
        return s
    s = re.sub(r"[\s\-]+", "_", s)
    return s.upper() if case == "upper" else s.lower()


def read_header(path: str | Path, fmt: TextFormat | None = None) -> list[str]:
    """Column names of a CSV or Parquet file (stripped of spaces and byte-order mark)."""
    path = Path(path)
    if path.name.lower().endswith(".parquet"):
        try:
            return list(pq.read_schema(path).names)
        except (pa.ArrowInvalid, OSError) as err:
            raise InputFileError(f"{path}: not a readable Parquet file ({err})") from err
    fmt = fmt or text_format(path)
    with _open_binary(path) as fh:
        line = io.TextIOWrapper(fh, encoding=_codec(fmt), newline="").readline()
    first = next(csv.reader(io.StringIO(line), delimiter=fmt.delimiter), None)
    if not first:
        raise InputFileError(f"{path} is empty: it has no header line")
    return [normalise_header(c) for c in first]


def _codec(fmt: TextFormat) -> str:
    return "utf-8-sig" if fmt.encoding == "utf-8" else fmt.encoding


def read_csv_text(
    path: str | Path, columns: list[str] | None = None, fmt: TextFormat | None = None
) -> tuple[pd.DataFrame, TextFormat]:
    """Read a text table with every cell as text (``str``; an empty cell is missing).

    Returns the frame and the file's :class:`TextFormat`. A blank file reads as a frame
    with no rows (no columns when it has no bytes). With ``columns`` (names as
    :func:`read_header` gives them) only those are read, through Arrow's CSV reader, so a
    wide file of tens of millions of rows costs the memory of the columns used. Raises
    :class:`InputFileError` with what to fix when the file cannot be read.
    """
    path = Path(path)
    if path.stat().st_size == 0:
        return pd.DataFrame(), TextFormat()
    fmt = fmt or text_format(path)
    if columns is not None:
        return _read_columns(path, columns, fmt), fmt
    try:
        # a row with more cells than the header must not shift the columns (pandas would
        # take the first as an index): index_col=False, and its warning is an error
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            df = pd.read_csv(
                path,
                dtype=str,
                keep_default_na=False,
                na_values=[""],
                encoding=_codec(fmt),
                sep=fmt.delimiter,
                compression="infer",
                index_col=False,
            )
    except pd.errors.EmptyDataError:
        return pd.DataFrame(), fmt
    except (
        pd.errors.ParserError,
        pd.errors.ParserWarning,
        OSError,
        EOFError,
        UnicodeDecodeError,
    ) as err:
        raise InputFileError(
            f"{path}: not a readable CSV file ({err}). Open it in Excel or a text editor, "
            "check that every row has the same number of delimiters as the header, and save "
            "it again as 'CSV UTF-8'."
        ) from err
    df.columns = [normalise_header(c) for c in df.columns]
    return df, fmt


def _read_columns(path: Path, columns: list[str], fmt: TextFormat) -> pd.DataFrame:
    wanted = list(dict.fromkeys(columns)) or read_header(path, fmt)[:1]
    header = read_header(path, fmt)
    convert = pacsv.ConvertOptions(
        include_columns=wanted,
        column_types={c: pa.string() for c in wanted},
        strings_can_be_null=True,
        null_values=[""],
        quoted_strings_can_be_null=True,
    )
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(
                encoding="utf8" if fmt.encoding == "utf-8" else fmt.encoding,
                column_names=header,
                skip_rows=1,
            ),
            parse_options=pacsv.ParseOptions(delimiter=fmt.delimiter, newlines_in_values=True),
            convert_options=convert,
        )
    except (pa.ArrowInvalid, OSError) as err:
        raise InputFileError(
            f"{path}: cannot be read as CSV ({err}); check it is delimited text with the same "
            "number of fields on every line"
        ) from err
    df = table.to_pandas()
    df.columns = wanted
    return df.reset_index(drop=True)


#: Endings of the spreadsheet workbooks read (one table per sheet); ``.xls`` (the old
#: binary format) is not among them.
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")


def is_workbook(path: Path) -> bool:
    """Whether the file name ends in one of :data:`WORKBOOK_SUFFIXES` (any case)."""
    return path.name.lower().endswith(WORKBOOK_SUFFIXES)


def read_workbook(path: str | Path) -> list[tuple[str, pd.DataFrame]]:
    """Every sheet of an Excel workbook as (sheet name, table of text cells).

    The header is the first of the top 20 rows that fills most cells (title rows above
    it, which fill fewer, are skipped and counted in ``frame.attrs["title_rows"]``); fully
    empty rows are dropped. Cells become the text a CSV export would hold: dates
    ``YYYY-MM-DD`` (with `` HH:MM:SS`` when the cell has a time of day), whole numbers
    without ``.0``, booleans ``true``/``false``, formulas their last computed value, and
    empty cells missing. Raises :class:`InputFileError` when the file is not a workbook.
    """
    path = Path(path)
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as err:  # openpyxl raises many types for a damaged or foreign file
        raise InputFileError(
            f"{path}: not a readable Excel workbook ({type(err).__name__}: {err}). Open it in "
            "Excel and save it again as .xlsx, or save each sheet as 'CSV UTF-8'."
        ) from err
    out = []
    try:
        for sheet in book.worksheets:
            rows = [
                [_cell_text(v) for v in row]
                for row in sheet.iter_rows(values_only=True)
                if any(v is not None and str(v).strip() != "" for v in row)
            ]
            if not rows:
                out.append((sheet.title, pd.DataFrame()))
                continue
            width = max(len(r) for r in rows)
            rows = [r + [None] * (width - len(r)) for r in rows]
            filled = [sum(v is not None for v in r) for r in rows[:20]]
            top = filled.index(max(filled))  # title rows above the header fill fewer cells
            header = [
                normalise_header(h) if h is not None else f"column_{i + 1}"
                for i, h in enumerate(rows[top])
            ]
            frame = pd.DataFrame(rows[top + 1 :], columns=header, dtype="str")
            frame.attrs["title_rows"] = top  # non-empty rows above the header, not data
            out.append((sheet.title, frame))
    finally:
        book.close()
    return out


def _cell_text(value) -> str | None:
    """A workbook cell as the text a CSV export of it holds (None when empty)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d" if value.time() == dt.time() else "%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    text = str(value).strip()
    return text or None


def find_table_file(directory: str | Path, name: str) -> Path | None:
    """Return the file holding table ``name`` in ``directory`` (Parquet or CSV), or None.

    The ending may be in any case (``persons.CSV``, as some exports write it). A folder
    ``<name>.parquet`` of part files, as Spark writes a table, is the table. Raises
    InputFileError when two files hold the table (a Parquet and a CSV file, or two
    spellings), since it would be a guess which one is meant.
    """
    directory = Path(directory)
    found = (
        sorted(
            p
            for p in directory.iterdir()
            if p.stem == name
            and (
                (p.is_file() and p.suffix.lower() in INPUT_SUFFIXES)
                or (p.is_dir() and p.suffix.lower() == ".parquet")
            )
        )
        if directory.is_dir()
        else []
    )
    if len(found) > 1:
        raise InputFileError(
            f"{directory}: table {name} is there twice ({', '.join(p.name for p in found)}). "
            "Keep one file per table and remove or rename the other."
        )
    return found[0] if found else None


def read_raw(path: str | Path) -> pd.DataFrame:
    """Read a Parquet or CSV file as it stands (CSV cells as text, :func:`read_csv_text`)."""
    path = Path(path)
    if path.suffix.lower() == ".parquet":
        if path.is_dir() and not _part_files(path):
            raise InputFileError(
                f"{path}: a folder with no Parquet part files in it. Write the table again, "
                "or save it as one file with the same name."
            )
        try:
            df = pq.read_table(path).to_pandas()
        except (pa.ArrowInvalid, OSError) as err:
            raise InputFileError(
                f"{path}: not a readable Parquet file ({err}). Re-export the table, or "
                "save it as CSV with the same name and a .csv ending."
            ) from err
        df.columns = [normalise_header(c) for c in df.columns]
        return df
    if path.suffix.lower() == ".csv":
        return read_csv_text(path)[0]
    if is_workbook(path):
        return read_workbook_table(path, path.stem)
    raise InputFileError(f"{path}: unsupported file type; use .parquet, .csv or .xlsx")


def read_workbook_table(path: str | Path, name: str | None = None) -> pd.DataFrame:
    """The one table of a workbook: its only sheet with anything in it, or the sheet
    called ``name`` (any case). Raises :class:`InputFileError` naming the sheets when
    that leaves a choice."""
    path = Path(path)
    sheets = [(title, frame) for title, frame in read_workbook(path) if frame.shape[1] > 0]
    named = [f for title, f in sheets if name and title.strip().lower() == name.lower()]
    if len(sheets) <= 1 or named:
        return (named or [frame for _, frame in sheets] or [pd.DataFrame()])[0]
    which = (
        f"none is named {name}: name the sheet holding the table {name}"
        if name
        else ("keep the table's sheet alone in the workbook")
    )
    raise InputFileError(
        f"{path}: the workbook has {len(sheets)} sheets with data "
        f"({', '.join(title for title, _ in sheets)}) and {which}, or save it alone as CSV."
    )


def write_parquet(df: pd.DataFrame, path: str | Path, metadata: dict | None = None) -> Path:
    """Write ``df`` to Parquet with ``metadata`` (JSON-able values) in the file's schema."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tbl = pa.Table.from_pandas(df, preserve_index=False)
    if metadata:
        existing = tbl.schema.metadata or {}
        extra = {f"child_mdh.{k}".encode(): json.dumps(v).encode() for k, v in metadata.items()}
        tbl = tbl.replace_schema_metadata({**existing, **extra})
    pq.write_table(tbl, path)
    return path


def _part_files(folder: Path) -> list[Path]:
    """The Parquet part files of a folder written by Spark (or pyarrow), at any depth
    (partition folders), leaving out marker files (``_SUCCESS``, ``.crc``)."""
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and not p.name.startswith(("_", ".")) and p.suffix != ".crc"
    )


def read_parquet_metadata(path: str | Path) -> dict:
    """The ``child_mdh.*`` metadata a project-written Parquet file carries (for a folder of
    part files, its first part's)."""
    path = Path(path)
    if path.is_dir():
        parts = _part_files(path)
        if not parts:
            return {}
        path = parts[0]
    meta = pq.read_schema(path).metadata or {}
    out = {}
    for k, v in meta.items():
        key = k.decode()
        if key.startswith("child_mdh."):
            out[key.removeprefix("child_mdh.")] = json.loads(v.decode())
    return out


def write_json(obj, path: str | Path) -> Path:
    """Write ``obj`` as indented JSON (dates and numpy values made plain)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, default=_json_default) + "\n")
    return path


def _json_default(value):
    if isinstance(value, (dt.date, dt.datetime, pd.Timestamp)):
        return value.isoformat()
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (set, tuple)):
        return list(value)
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")
