"""Find and read extract files: globs, headers, and only the columns a mapping uses.

CSV files (``.csv``, or gzip-compressed ``.csv.gz``) are read with pyarrow's CSV reader,
every cell as text (identifiers keep leading zeros; an empty cell is missing; a UTF-8
byte-order mark is ignored). Parquet files keep their own types. In both, only the
columns the mapping names are read, so a wide extract of tens of millions of rows costs
the memory of the few columns used.
"""

from __future__ import annotations

import csv
import glob
import gzip
import io
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from child_mdh.errors import UserError

SUPPORTED_SUFFIXES = (".csv", ".csv.gz", ".parquet")
_GLOB_CHARS = set("*?[")


class SourceFileError(UserError):
    """An extract file cannot be found or read; the message says which and why."""


def file_kind(path: Path) -> str | None:
    """``"csv"``, ``"parquet"``, or None for an unsupported file name."""
    name = path.name.lower()
    if name.endswith((".csv", ".csv.gz")):
        return "csv"
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
    """Column names of a CSV or Parquet file, as the file spells them."""
    kind = file_kind(path)
    if kind == "parquet":
        try:
            return list(pq.read_schema(path).names)
        except (pa.ArrowInvalid, OSError) as err:
            raise SourceFileError(f"{path.name} is not a readable Parquet file ({err})") from err
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8-sig", newline="") as fh:
            first = next(csv.reader(io.StringIO(fh.readline())), None)
    except UnicodeDecodeError as err:
        raise SourceFileError(
            f"{path.name} is not UTF-8 text ({err}); save it with the encoding UTF-8"
        ) from err
    except (OSError, EOFError) as err:
        raise SourceFileError(f"{path.name} cannot be read ({err})") from err
    if not first:
        raise SourceFileError(f"{path.name} is empty: it has no header line")
    return [c.replace("\ufeff", "") for c in first]


def read_columns(path: Path, columns: list[str]) -> pd.DataFrame:
    """Read only ``columns`` (names as the file spells them) of a CSV or Parquet file.

    CSV cells are read as text (``str`` dtype, empty cell = missing). With no columns
    requested, one column is read so that the frame still has one row per data row.
    """
    wanted = list(dict.fromkeys(columns))
    if not wanted:
        wanted = read_header(path)[:1]
    if file_kind(path) == "parquet":
        try:
            table = pq.read_table(path, columns=wanted)
        except (pa.ArrowInvalid, OSError) as err:
            raise SourceFileError(f"{path.name} is not a readable Parquet file ({err})") from err
        df = table.to_pandas(date_as_object=False)
    else:
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
                parse_options=pacsv.ParseOptions(newlines_in_values=True),
                convert_options=convert,
            )
        except (pa.ArrowInvalid, OSError) as err:
            raise SourceFileError(
                f"{path.name} cannot be read as CSV ({err}); check it is comma-separated "
                "UTF-8 text with the same number of fields on every line"
            ) from err
        df = table.to_pandas()
    df.columns = wanted
    return df.reset_index(drop=True)
