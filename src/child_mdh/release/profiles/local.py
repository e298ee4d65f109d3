"""A council's own indicators, shown on its profile as local information.

A local authority can add figures it publishes itself (for example scores from surveys
of care leavers and their personal advisers, with quoted statements) through a CSV
named in the configuration:

=========  ========  ===================================================================
column     needed    meaning
=========  ========  ===================================================================
la_code    yes       ONS code of the local authority the figure belongs to
indicator  yes       what the figure measures
value      yes       the figure, a number (empty when only a statement is given)
unit       no        '%', 'score out of 10', 'young people', ...
period     no        the period the figure covers ('2024', '2023-24')
source     no        where the council published it
statement  no        a quoted statement (shown on hover and in a details box)
=========  ========  ===================================================================

These are the council's published figures, not computed or checked by child-mdh: the
pages show them in a separate section labelled :data:`LOCAL_LABEL`, and they still
pass through the release writer with status 'review' so the output checker reads them.
Before that, every text the council writes (:data:`FREE_TEXT_COLUMNS`) is searched for
identifiers (:func:`child_mdh.release.sdc.text_safety.check_free_text`: pupil numbers, long
numbers, full dates, postcodes, street addresses): one found stops the build with
:class:`~child_mdh.release.sdc.text_safety.IdentifierError` naming the file, line and column.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from child_mdh.cells import clean_identifier
from child_mdh.contract.columns import require_columns
from child_mdh.errors import UserError
from child_mdh.files import InputFileError, read_raw
from child_mdh.release.sdc.text_safety import IdentifierError, check_free_text

LOCAL_COLUMNS = ("la_code", "indicator", "value", "unit", "period", "source", "statement")
REQUIRED_LOCAL_COLUMNS = ("la_code", "indicator", "value")
#: The columns a council fills with its own words: shown on the pages and released.
FREE_TEXT_COLUMNS = ("indicator", "unit", "period", "source", "statement")
LOCAL_LABEL = "Local information supplied by the council; not produced or checked by child-mdh"


class LocalIndicatorError(UserError):
    """The local indicators file is unusable; the message names the rows and the fix."""


def _rows(mask: np.ndarray, n: int = 5) -> str:
    # rows as a spreadsheet user sees them: header on line 1, data from line 2
    return ", ".join(str(r + 2) for r in np.flatnonzero(mask)[:n])


def check_local_text(local: pd.DataFrame, name: str = "local indicators") -> None:
    """Search every cell of :data:`FREE_TEXT_COLUMNS` with
    :func:`~child_mdh.release.sdc.text_safety.check_free_text`; raise one
    :class:`~child_mdh.release.sdc.text_safety.IdentifierError` listing every finding, each
    named by file (``name``), line (header on line 1) and column."""
    problems = []
    for c in FREE_TEXT_COLUMNS:
        if c not in local.columns:
            continue
        for i, text in enumerate(local[c]):
            if isinstance(text, str):
                try:
                    check_free_text(text, f"{name}, line {i + 2}, {c}")
                except IdentifierError as err:
                    problems += err.problems
    if problems:
        raise IdentifierError(problems)


def read_local_indicators(source, areas: pd.DataFrame | None = None) -> pd.DataFrame:
    """Read and check a council's local indicators (CSV path or DataFrame).

    Checks: the three needed columns are present; ``la_code`` and ``indicator`` are
    filled; no text holds an identifier (:func:`check_local_text`, raising
    :class:`~child_mdh.release.sdc.text_safety.IdentifierError`); ``value`` is a number or
    empty (with a statement); no (la_code, indicator, period) is repeated; with
    ``areas`` every ``la_code`` is a known local authority.
    Returns the columns ``LOCAL_COLUMNS`` (optional ones empty when absent), text as
    strings and ``value`` as float.
    """
    name = "local indicators"
    if isinstance(source, (str, Path)):
        path = Path(source)
        name = str(path)
        if not path.is_file():
            raise InputFileError(
                f"{path}: the local indicators file was not found; check "
                "profiles.local_indicators in the configuration."
            )
        try:
            df = read_raw(path)
        except InputFileError as err:
            # the shared reader refuses a row with more fields than the header (a text
            # with an unquoted comma) rather than shifting the columns
            raise LocalIndicatorError(
                f"{path}: not a well-formed CSV ({str(err).split(': ', 1)[-1]}) A text "
                "holding a comma must be in double quotes; save the file from Excel as "
                "'CSV UTF-8'."
            ) from err
    else:
        df = pd.DataFrame(source).copy()
    require_columns(
        df,
        name,
        REQUIRED_LOCAL_COLUMNS,
        LocalIndicatorError,
        "The file needs la_code, indicator and value, and may add unit, "
        "period, source and statement.",
    )
    out = pd.DataFrame(index=df.index)
    for c in LOCAL_COLUMNS:
        if c == "value":
            continue
        s = df[c] if c in df.columns else pd.Series(pd.NA, index=df.index)
        s = s.astype("str").str.strip()
        out[c] = s.where(s.notna() & (s != ""))
    out["la_code"] = clean_identifier(out["la_code"])
    for c in ("la_code", "indicator"):
        empty = out[c].isna().to_numpy()
        if empty.any():
            raise LocalIndicatorError(
                f"{name}: {c} is empty on line(s) {_rows(empty)}; fill it or delete the line."
            )
    check_local_text(out, name)
    raw = df["value"].astype("str").str.strip().str.replace(",", "", regex=False)
    raw = raw.where(raw.notna() & (raw != ""))
    value = pd.to_numeric(raw, errors="coerce")
    bad = (raw.notna() & value.isna()).to_numpy()
    if bad.any():
        examples = ", ".join(repr(v) for v in df["value"][bad].head(3))
        raise LocalIndicatorError(
            f"{name}: value must be a number on line(s) {_rows(bad)} (found {examples}). "
            "Put the number in value, its unit in unit ('%', 'score out of 10') and any "
            "words in statement."
        )
    no_content = (value.isna() & out["statement"].isna()).to_numpy()
    if no_content.any():
        raise LocalIndicatorError(
            f"{name}: line(s) {_rows(no_content)} have neither a value "
            "nor a statement; give one or delete the line."
        )
    out["value"] = value.astype("float64")
    dup = out.duplicated(["la_code", "indicator", "period"], keep=False).to_numpy()
    if dup.any():
        raise LocalIndicatorError(
            f"{name}: lines {_rows(dup)} repeat the same la_code, "
            "indicator and period; keep one line for each."
        )
    if areas is not None:
        known = set(areas["la_code"].astype("str"))
        unknown = ~out["la_code"].isin(known).to_numpy()
        if unknown.any():
            codes = ", ".join(sorted(set(out.loc[unknown, "la_code"]))[:5])
            raise LocalIndicatorError(
                f"{name}: la_code {codes} (line(s) {_rows(unknown)}) is not a local "
                "authority of the areas table; use the ONS code (e.g. E08000025)."
            )
    return out[list(LOCAL_COLUMNS)].reset_index(drop=True)


def local_rows(local: pd.DataFrame | None, la_code: str) -> pd.DataFrame:
    """The local indicators of one local authority (empty when there are none)."""
    if local is None or not len(local):
        return pd.DataFrame(columns=list(LOCAL_COLUMNS))
    return local[local["la_code"] == la_code].reset_index(drop=True)
