"""Local equivalents of the census household deprivation domains.

A local authority has no census microdata, so the four ONS domains (employment,
education, health and disability, housing; Census 2011 QS119EW, Census 2021 TS011) come
from one of two local routes:

(a) household-level flags the authority derives from its own sources (benefits,
    housing, education and health records), given as a CSV with one row per child:

    | column        | meaning                                                        |
    |---------------|----------------------------------------------------------------|
    | upn           | the child's UPN (links the child to the returns)               |
    | household_ref | the authority's id of the child's household                    |
    | employment    | 1 deprived, 0 not deprived, blank unknown                      |
    | education     | same                                                           |
    | health        | same                                                           |
    | housing       | same                                                           |

    ``true/false``, ``yes/no`` and ``y/n`` are accepted too. Blank stays missing: missing
    is not 'not deprived'. The flags describe the household, so all children of one
    household must carry the same flags.

(b) area-level fallback: published small-area census counts of households by number of
    deprived dimensions (TS011 / QS119EW by LSOA), joined to children by their LSOA.
    Each child gets the share of the area's households deprived in at least k
    dimensions. That is a property of the area, not of the child's household, and every
    output built from it must carry :data:`AREA_LEVEL_CAVEAT`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from child_mdh.contract.vocabulary import DOMAINS
from child_mdh.sources.la_returns.errors import KEPT, LAReturnError, ProblemLog
from child_mdh.sources.la_returns.files import (
    add_format_note,
    read_text_table,
    spreadsheet_rows,
)
from child_mdh.sources.la_returns.records import ReturnData, quarantine, start_records
from child_mdh.sources.la_returns.values import clean_ids, normalise_upn, parse_flags

HOUSEHOLD_DOMAIN_COLUMNS = ("upn", "household_ref", *DOMAINS)
LSOA_COUNT_COLUMNS = tuple(f"households_{k}_dimensions" for k in range(5))

#: Printed on every output built from the area-level fallback.
AREA_LEVEL_CAVEAT = (
    "Area-level estimate, not a household measure: each child is given the share of all "
    "households in their LSOA that the census counted as deprived in at least k of the four "
    "dimensions (ONS Census 2021 TS011 / 2011 QS119EW). It describes the area, not the "
    "child's household; it counts all households, not only those with dependent children; "
    "and it must not be read as, or compared with, the household-level Child-MDH index."
)

RETURN_NAME = "household_domains"


def read_household_domains(path) -> ReturnData:
    """Read the household domain flags CSV (route a) into per-child records.

    Columns (any case, any order; extra columns ignored): ``upn``, ``household_ref``,
    ``employment``, ``education``, ``health``, ``housing``. Quarantined: rows without a
    UPN or household_ref, every row of a child listed in two households, every row of a
    household whose rows disagree on a flag. Unreadable flags are set missing and
    reported. Raises :class:`LAReturnError` when a column is missing or the file
    cannot be read.
    """
    data = ReturnData(RETURN_NAME)
    tt = read_text_table(path)
    if tt.error:
        raise LAReturnError(tt.error)
    frame = tt.frame
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = [c for c in HOUSEHOLD_DOMAIN_COLUMNS if c not in frame.columns]
    if missing:
        raise LAReturnError(
            f"{path}: household domain flags file: column(s) {', '.join(missing)} missing "
            f"(found: {', '.join(frame.columns) or 'none'}). The file needs the columns "
            f"{', '.join(HOUSEHOLD_DOMAIN_COLUMNS)}, one row per child; see docs/la-returns.md."
        )
    data.add_file(path, "household_domains", len(frame))
    add_format_note(tt, data.problems, RETURN_NAME, "household_domains")
    upn, _ = normalise_upn(frame["upn"])
    household, _ = clean_ids(frame["household_ref"])
    rec = start_records(
        pd.DataFrame({"upn": upn, "household_ref": household}),
        source_file=path,
        source_row=spreadsheet_rows(frame),
        child_ref=pd.Series("", index=frame.index),
        order=0,
    )
    log = data.problems
    for d in DOMAINS:
        flags, bad = parse_flags(frame[d])
        rec[d] = flags.to_numpy()
        rec[f"_{d}_raw"] = frame[d].to_numpy()
        log.add_rows(
            rec,
            bad,
            return_name=RETURN_NAME,
            table="household_domains",
            field=d,
            problem=f"{d} is not 1, 0 or blank; read as missing",
            action=KEPT,
            value_column=f"_{d}_raw",
        )
    rec = rec.drop(columns=[f"_{d}_raw" for d in DOMAINS])
    t = "household_domains"
    quarantine(
        rec,
        rec["upn"].isna(),
        "no UPN: the child cannot be linked",
        log,
        return_name=RETURN_NAME,
        table=t,
        field="upn",
    )
    quarantine(
        rec,
        rec["household_ref"].isna(),
        "no household_ref",
        log,
        return_name=RETURN_NAME,
        table=t,
        field="household_ref",
    )
    ok = rec["status"] == "used"
    n_households = rec[ok].groupby("upn")["household_ref"].transform("nunique")
    two = pd.Series(False, index=rec.index)
    two.loc[n_households.index] = (n_households > 1).to_numpy()
    quarantine(
        rec,
        two,
        "child listed in more than one household",
        log,
        return_name=RETURN_NAME,
        table=t,
        field="household_ref",
        value_column="household_ref",
    )
    ok = rec["status"] == "used"
    disagree = pd.Series(False, index=rec.index)
    for d in DOMAINS:
        codes = rec.loc[ok, d].astype("Int64").fillna(-1)
        n = codes.groupby(rec.loc[ok, "household_ref"]).transform("nunique")
        disagree.loc[n.index] |= (n > 1).to_numpy()
    quarantine(
        rec,
        disagree,
        "children of this household carry different domain flags "
        "(the flags describe the household, so they must agree)",
        log,
        return_name=RETURN_NAME,
        table=t,
        field="household_ref",
        value_column="household_ref",
    )
    _mark_repeats(rec, "child listed twice with the same household")
    data.tables["household_domains"] = rec
    return data


def count_deprived(domains: pd.DataFrame) -> pd.Series:
    """Number of deprived domains (0-4); missing when any of the four is missing."""
    block = domains[list(DOMAINS)].astype("boolean")
    total = block.astype("Int64").sum(axis=1, skipna=True).astype("Int64")
    return total.mask(block.isna().any(axis=1))


def read_lsoa_counts(path) -> pd.DataFrame:
    """Read published LSOA counts of households by number of deprived dimensions.

    The format of ``lsoa_household_deprivation_{2011,2021}.csv.gz``: ``lsoa_code``,
    ``households_0_dimensions`` ... ``households_4_dimensions`` (``la_code`` optional).
    Raises :class:`LAReturnError` naming the problem rows when counts are not
    non-negative whole numbers or an LSOA is listed twice.
    """
    tt = read_text_table(path)
    if tt.error:
        raise LAReturnError(tt.error)
    frame = tt.frame
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    return check_lsoa_counts(frame, str(path))


def check_lsoa_counts(frame: pd.DataFrame, name: str = "lsoa_counts") -> pd.DataFrame:
    """Check and type an LSOA counts table (see :func:`read_lsoa_counts`)."""
    missing = [c for c in ("lsoa_code", *LSOA_COUNT_COLUMNS) if c not in frame.columns]
    if missing:
        raise LAReturnError(
            f"{name}: LSOA household counts: column(s) {', '.join(missing)} missing. Expected "
            f"lsoa_code and {', '.join(LSOA_COUNT_COLUMNS)} (ONS TS011 / QS119EW counts of "
            "households by number of deprivation dimensions, one row per LSOA)."
        )
    out = frame.copy()
    out["lsoa_code"] = clean_ids(out["lsoa_code"])[0].str.upper()
    rows = spreadsheet_rows(out)
    for c in LSOA_COUNT_COLUMNS:
        num = pd.to_numeric(out[c], errors="coerce")
        bad = num.isna() | (num < 0) | (num != np.floor(num))
        if bad.any():
            ex = ", ".join(
                f"row {r}: {v!r}" for r, v in zip(rows[bad].head(5), out.loc[bad, c].head(5))
            )
            raise LAReturnError(
                f"{name}: column {c} must hold counts of households (whole numbers, 0 or more); "
                f"{int(bad.sum())} rows do not, e.g. {ex}. Fix the file or re-download the table."
            )
        out[c] = num.astype("int64")
    dup = out["lsoa_code"].duplicated(keep=False) | out["lsoa_code"].isna()
    if dup.any():
        ex = ", ".join(
            f"row {r}: {v}" for r, v in zip(rows[dup].head(5), out.loc[dup, "lsoa_code"].head(5))
        )
        raise LAReturnError(
            f"{name}: lsoa_code must be present and listed once; {int(dup.sum())} rows are "
            f"empty or repeated, e.g. {ex}."
        )
    return out


def area_level_domains(children_lsoa: pd.DataFrame, lsoa_counts: pd.DataFrame) -> pd.DataFrame:
    """Give each child the census share of their LSOA's households deprived in >= k dimensions.

    ``children_lsoa``: one row per child with ``lsoa_code`` (other columns, such as
    ``pupil_id``, are kept). ``lsoa_counts``: ``lsoa_code`` and
    ``households_0_dimensions`` ... ``households_4_dimensions`` (ONS Census 2021 TS011 /
    2011 QS119EW by LSOA). For an LSOA with counts h_0 ... h_4 and N = sum h_j, the share
    deprived in at least k dimensions is ``sum_{j>=k} h_j / N`` (k = 1 ... 4), and the mean
    number of dimensions is ``sum_j j h_j / N``. Children whose LSOA is not in the counts
    (or has no households) get missing shares and ``area_matched`` False.

    These are area-level probabilities, not household flags: the result carries
    :data:`AREA_LEVEL_CAVEAT` in ``.attrs['caveat']``, and any output built from it must
    print it.
    """
    if "lsoa_code" not in children_lsoa.columns:
        raise LAReturnError(
            "children_lsoa: column lsoa_code missing (one row per child with "
            "the LSOA of their home address)."
        )
    counts = check_lsoa_counts(lsoa_counts)
    h = counts[list(LSOA_COUNT_COLUMNS)].to_numpy(dtype="float64")
    total = h.sum(axis=1)
    at_least = np.cumsum(h[:, ::-1], axis=1)[:, ::-1]  # column k: sum_{j>=k} h_j
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = at_least / total[:, None]
        mean = (h * np.arange(5)).sum(axis=1) / total
    area = pd.DataFrame(
        {"lsoa_code": counts["lsoa_code"].to_numpy(), "area_households_n": total.astype("int64")}
    )
    for k in range(1, 5):
        area[f"area_share_deprived_ge{k}"] = np.where(total > 0, shares[:, k], np.nan)
    area["area_mean_dimensions"] = np.where(total > 0, mean, np.nan)
    kids = children_lsoa.copy()
    kids["lsoa_code"] = clean_ids(kids["lsoa_code"])[0].str.upper()
    out = kids.merge(area, on="lsoa_code", how="left", validate="many_to_one")
    out["area_matched"] = out["area_share_deprived_ge1"].notna()
    out["area_households_n"] = out["area_households_n"].astype("Int64")
    out.attrs["caveat"] = AREA_LEVEL_CAVEAT
    return out


def read_child_lsoa(path, log: ProblemLog) -> pd.DataFrame:
    """Read a child -> LSOA lookup CSV (columns ``upn``, ``lsoa_code``).

    Rows without a UPN or LSOA are logged and left out. Raises :class:`LAReturnError`
    when a column is missing or the file cannot be read.
    """
    tt = read_text_table(path)
    if tt.error:
        raise LAReturnError(tt.error)
    frame = tt.frame
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = [c for c in ("upn", "lsoa_code") if c not in frame.columns]
    if missing:
        raise LAReturnError(
            f"{path}: child LSOA lookup: column(s) {', '.join(missing)} missing (found: "
            f"{', '.join(frame.columns) or 'none'}). It needs upn and lsoa_code, one row per "
            "child (the LSOA of the child's home address)."
        )
    upn, _ = normalise_upn(frame["upn"])
    rec = start_records(
        pd.DataFrame({"upn": upn, "lsoa_code": clean_ids(frame["lsoa_code"])[0]}),
        source_file=path,
        source_row=spreadsheet_rows(frame),
        child_ref=pd.Series("", index=frame.index),
        order=0,
    )
    quarantine(
        rec,
        rec["upn"].isna(),
        "no UPN: the child cannot be linked",
        log,
        return_name="child_lsoa",
        table="child_lsoa",
        field="upn",
    )
    quarantine(
        rec,
        rec["lsoa_code"].isna(),
        "no lsoa_code",
        log,
        return_name="child_lsoa",
        table="child_lsoa",
        field="lsoa_code",
    )
    ok = rec["status"] == "used"
    n_lsoa = rec[ok].groupby("upn")["lsoa_code"].transform("nunique")
    clash = pd.Series(False, index=rec.index)
    clash.loc[n_lsoa.index] = (n_lsoa > 1).to_numpy()
    quarantine(
        rec,
        clash,
        "child listed with two different LSOAs",
        log,
        return_name="child_lsoa",
        table="child_lsoa",
        field="lsoa_code",
        value_column="lsoa_code",
    )
    _mark_repeats(rec, "child listed twice with the same LSOA")
    return rec


def _mark_repeats(rec: pd.DataFrame, reason: str) -> None:
    """Among used rows, mark all but the last row of each UPN as duplicates (in place)."""
    ok = rec.index[rec["status"] == "used"]
    dup = ok[rec.loc[ok, "upn"].duplicated(keep="last").to_numpy()]
    rec.loc[dup, "status"] = "duplicate"
    rec.loc[dup, "reason"] = reason
