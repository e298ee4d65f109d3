"""Find and read extract files: globs, headers, and only the columns a mapping uses.

CSV files (``.csv``, or gzip-compressed ``.csv.gz``) are read by the reader every route
shares (:func:`child_mdh.files.read_csv_text`), every cell as text (identifiers keep
leading zeros; an empty cell is missing; a UTF-8 byte-order mark is ignored). Parquet
files keep their own types. In both, only the
columns the mapping names are read, so a wide extract of tens of millions of rows costs
the memory of the few columns used.
"""

from __future__ import annotations

import glob
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from child_mdh import files
from child_mdh.errors import UserError

#: Text tables (``.csv``, ``.csv.gz``, ``.txt``, ``.tsv``, any case) and Parquet.
SUPPORTED_SUFFIXES = (*files.TEXT_SUFFIXES, ".parquet", *files.WORKBOOK_SUFFIXES)
_GLOB_CHARS = set("*?[")


class SourceFileError(UserError):
    """An extract file cannot be found or read; the message says which and why."""


def file_kind(path: Path) -> str | None:
    """``"csv"``, ``"parquet"``, ``"xlsx"``, or None for an unsupported file name."""
    name = path.name.lower()
    if files.is_text_table(path):
        return "csv"
    if files.is_workbook(path):
        return "xlsx"
    if name.endswith(".parquet"):
        return "parquet"
    return None


def expand_pattern(pattern: str, base_dir: Path) -> list[Path]:
    """The files ``pattern`` names, relative to ``base_dir`` unless absolute, sorted by name.

    A pattern holding ``*``, ``?`` or ``[`` is a glob (``**`` descends into folders);
    otherwise it names one file, returned whether or not it exists.
    """
    p = Path(pattern).expanduser()
    full = p if p.is_absolute() else base_dir / p
    if _GLOB_CHARS & set(pattern):
        return sorted(Path(m) for m in glob.glob(str(full), recursive=True) if Path(m).is_file())
    return [full]


def read_header(path: Path) -> list[str]:
    """Column names of a CSV, Parquet or workbook file (:func:`child_mdh.files.read_header`)."""
    try:
        if files.is_workbook(path):
            return list(files.read_workbook_table(path).columns)
        return files.read_header(path)
    except files.InputFileError as err:
        raise SourceFileError(_short(err, path)) from err


def read_columns(path: Path, columns: list[str]) -> pd.DataFrame:
    """Read only ``columns`` (names as :func:`read_header` gives them) of a CSV or Parquet file.

    CSV cells are read as text (``str`` dtype, empty cell = missing) by the shared reader
    (:func:`child_mdh.files.read_csv_text`). With no columns requested, one column is read
    so that the frame still has one row per data row.
    """
    wanted = list(dict.fromkeys(columns))
    if not wanted:
        wanted = read_header(path)[:1]
    if file_kind(path) == "xlsx":
        try:
            frame = files.read_workbook_table(path)
        except files.InputFileError as err:
            raise SourceFileError(_short(err, path)) from err
        return frame[wanted].reset_index(drop=True)
    if file_kind(path) == "parquet":
        try:
            table = pq.read_table(path, columns=wanted)
        except (pa.ArrowInvalid, OSError) as err:
            raise SourceFileError(f"{path.name} is not a readable Parquet file ({err})") from err
        df = table.to_pandas(date_as_object=False)
        df.columns = wanted
        return df.reset_index(drop=True)
    try:
        df, _fmt = files.read_csv_text(path, columns=wanted)
    except files.InputFileError as err:
        raise SourceFileError(_short(err, path)) from err
    return df


def _short(err: Exception, path: Path) -> str:
    """The shared reader's message with the file named by its name alone."""
    return str(err).replace(f"{path}: ", f"{path.name}: ", 1)
