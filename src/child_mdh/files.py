"""Reading and writing tables at the edges of the pipeline.

Input folders hold one file per contract table, ``<table>.parquet`` or ``<table>.csv``.
Real-world files are messy, so reading is forgiving where it can be without guessing:

- a UTF-8 byte-order mark (Excel's "CSV UTF-8") is removed;
- a blank file (zero bytes, or only a header) reads as a table with no rows;
- CSV cells are read as text, so identifiers keep leading zeros; identifiers that a
  spreadsheet turned into floats (``123.0``) are mended by :func:`clean_identifier`.

Type coercion and checks against the contract live in :mod:`child_mdh.validation.folder`; this
module only finds, reads and writes files. Parquet files written by the project carry
key-value metadata (for example ``synthetic: true``) so a file says what it is.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from child_mdh.errors import UserError

INPUT_SUFFIXES = (".parquet", ".csv")


class InputFileError(UserError):
    """An input file cannot be found or read; the message says which and how to fix it."""


def find_table_file(directory: str | Path, name: str) -> Path | None:
    """Return the file holding table ``name`` in ``directory`` (Parquet or CSV), or None.

    Raises InputFileError when both a Parquet and a CSV file exist, since it would be a
    guess which one is meant.
    """
    directory = Path(directory)
    found = [
        directory / f"{name}{s}" for s in INPUT_SUFFIXES if (directory / f"{name}{s}").exists()
    ]
    if len(found) > 1:
        raise InputFileError(
            f"{directory}: table {name} is there twice ({', '.join(p.name for p in found)}). "
            "Keep one file per table and remove or rename the other."
        )
    return found[0] if found else None


def read_raw(path: str | Path) -> pd.DataFrame:
    """Read a Parquet or CSV file as it stands (CSV cells as text), forgiving BOM and blanks.

    Column names are stripped of surrounding white space and any byte-order mark.
    """
    path = Path(path)
    if path.suffix == ".parquet":
        try:
            df = pq.read_table(path).to_pandas()
        except (pa.ArrowInvalid, OSError) as err:
            raise InputFileError(
                f"{path}: not a readable Parquet file ({err}). Re-export the table, or "
                "save it as CSV with the same name and a .csv ending."
            ) from err
    elif path.suffix == ".csv":
        if path.stat().st_size == 0:
            return pd.DataFrame()
        try:
            df = pd.read_csv(
                path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8-sig"
            )
        except UnicodeDecodeError as err:
            raise InputFileError(
                f"{path}: not UTF-8 text ({err}). Open it in a text editor (Notepad) and "
                "save it with the encoding 'UTF-8', then run again."
            ) from err
        except pd.errors.EmptyDataError:
            return pd.DataFrame()
    else:
        raise InputFileError(f"{path}: unsupported file type; use .parquet or .csv")
    df.columns = [str(c).replace("\ufeff", "").strip() for c in df.columns]
    return df


def clean_identifier(values: pd.Series) -> pd.Series:
    """Identifiers as strings: strip spaces, and undo a spreadsheet's ``123.0`` -> ``123``.

    Only a trailing ``.0`` on an all-digit value is removed, so ``A12.0B`` is untouched.
    Empty strings become missing.
    """
    s = values.astype("str").str.strip()
    s = s.str.replace(r"^(\d+)\.0+$", r"\1", regex=True)
    return s.mask(s.isin(["", "nan", "None", "<NA>"]))


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


def read_parquet_metadata(path: str | Path) -> dict:
    """The ``child_mdh.*`` metadata a project-written Parquet file carries."""
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
