"""School census extracts: pupils on roll and their free school meals (FSM) periods.

Source format: the school census tables as the liia-tools school census pipeline reads
them (``liiatools/school_census_pipeline/spec``): ``pupilonroll`` (one row per pupil on
roll at the census, with ``pupilonrolltableid``, ``upn``, the school's identifier and
``enrolstatus``) and ``fsmperiodsonroll`` (``fsmperiod`` in later years: one row per FSM
eligibility period, ``fsmstartdate``/``fsmenddate``, dates like ``2024-Oct-16 00:00:00``),
joined on ``pupilonrolltableid``. Tables are identified by their header row; other
school census tables (addresses, sessions, exclusions ...) are counted as not needed.

Which census a file belongs to: an explicit ``census_dates`` entry for the file name if
given, else a ``census_date`` column, else the file name (or the name of its folder),
which must start with ``<year>_<term>`` (``2024_autumn_pupilonroll.csv``; term autumn,
spring or summer, or AUT/SPR/SUM), where the year is the calendar year of the census day. The census day is
then the usual DfE one (:func:`census_day`).

FSM eligibility on census day d (the NPD ``FSMeligible`` definition: eligible on census
day; DfE school census guide, 'free school meal eligibility' start and end dates):
a pupil is eligible when one of their FSM periods has ``fsmstartdate <= d`` and either
no ``fsmenddate`` or ``fsmenddate >= d``. Both ends count as eligible days. A pupil with
no period is not eligible. A period with an unreadable date or an end before its start
is quarantined; if that pupil is not eligible from another period, the pupil's row is
quarantined too (eligibility on census day cannot be known).

A pupil on roll at two schools on census day (dual registration) appears twice: one row
is kept per UPN and census, the main registration (enrolstatus C, then M, F, O, S), and
the pupil is FSM eligible if eligible in any of their rows.

The pupil's date of birth (``dob``, same date layout) and sex (``sex``, or ``gender``:
M/F, or 1 male / 2 female) are read when the pupils file has them: they give the
pupil's age for the local-authority cohort (``pupil_characteristics.parquet``). A date
of birth that is not a real date is set empty and reported.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd

from child_mdh.sources.la_returns.errors import (
    FILE_SKIPPED,
    KEPT,
    NOTED,
    VALUE_EMPTIED,
    LAReturnError,
)
from child_mdh.sources.la_returns.files import (
    TEXT_TABLE_SUFFIXES,
    add_format_note,
    list_source_files,
    read_tables,
    require_suffix,
    spreadsheet_rows,
)
from child_mdh.sources.la_returns.records import (
    QUARANTINED_STATUS,
    USED,
    ReturnData,
    empty_records,
    quarantine,
    start_records,
)
from child_mdh.sources.la_returns.values import (
    blank_to_na,
    clean_code,
    clean_ids,
    is_in,
    normalise_upn,
    parse_dates,
    upn_format_ok,
)

RETURN_NAME = "school_census"
DATE_FORMAT = "%Y-%b-%d %H:%M:%S"
DATE_ALTERNATIVES = (
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M:%S",
    "%d/%m/%Y",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%Y-%b-%d",
)

#: Columns that identify each table (lower case), whatever the year's other columns.
PUPILS_COLUMNS = ("pupilonrolltableid", "upn")
FSM_COLUMNS = ("pupilonrolltableid", "fsmstartdate", "fsmenddate")
#: Where the school identifier is looked for, in order (LA establishment number, URN,
#: then the school's own id in the extract, ``NativeId`` in the liia-tools samples).
SCHOOL_ID_COLUMNS = ("laestab", "estab", "urn", "school_id", "schoolid", "nativeid")
#: Preference between rows of one pupil in one census: C single registration, M main
#: dual registration, F further education, O other, S subsidiary dual registration.
ENROL_STATUS_RANK = {"C": 0, "M": 1, "F": 2, "O": 3, "S": 4}
#: Sex as the school census records it (M/F; some extracts 1 male, 2 female).
SEX_CODES = {"M": "M", "F": "F", "1": "M", "2": "F"}

TERMS = {
    "autumn": "autumn",
    "aut": "autumn",
    "spring": "spring",
    "spr": "spring",
    "summer": "summer",
    "sum": "summer",
}
_NAME_PATTERN = re.compile(
    r"^(?P<year>20\d{2})[_\-\s]?(?P<term>autumn|spring|summer|aut|spr|sum)"
    r"(?![a-z])",
    re.IGNORECASE,
)


def census_day(year: int, term: str) -> dt.date:
    """The school census day of ``term`` in calendar ``year``.

    The DfE's usual rule: autumn is the first Thursday in October, spring the third
    Thursday in January, summer the third Thursday in May (e.g. 3 October 2024,
    16 January 2025, 15 May 2025). When the DfE moves a census day, give the date
    explicitly (``census_dates``).
    """
    term = TERMS.get(str(term).strip().lower())
    if term is None:
        raise ValueError(f"unknown school census term; use one of {sorted(set(TERMS))}")
    month, nth = {"autumn": (10, 1), "spring": (1, 3), "summer": (5, 3)}[term]
    first = dt.date(year, month, 1)
    first_thursday = first + dt.timedelta(days=(3 - first.weekday()) % 7)
    return first_thursday + dt.timedelta(weeks=nth - 1)


def census_from_name(path: Path) -> tuple[int, str] | None:
    """(year, term) from a file name starting ``<year>_<term>``, else from the name of the
    folder holding it (``2024_autumn/pupilonroll.csv``), else from a year folder holding a
    term folder (``2024/autumn/pupilonroll.csv``), or None."""
    path = Path(path)
    names = (path.name, path.parent.name, f"{path.parent.parent.name}_{path.parent.name}")
    for name in names:
        m = _NAME_PATTERN.match(name)
        if m:
            return int(m.group("year")), TERMS[m.group("term").lower()]
    return None


def fsm_eligible_on(pupil_keys: pd.Series, periods: pd.DataFrame, day) -> pd.Series:
    """FSM eligibility on census ``day`` for each pupil key (NPD ``FSMeligible``).

    ``periods`` has columns ``key``, ``start`` and ``end`` (dates; ``end`` empty while the
    period is open). A pupil is eligible when any of their periods has
    ``start <= day`` and (``end`` empty or ``end >= day``). Returns a bool Series aligned
    with ``pupil_keys``; pupils without a period are not eligible.
    """
    day = pd.Timestamp(day)
    covers = (periods["start"] <= day) & (periods["end"].isna() | (periods["end"] >= day))
    return is_in(pupil_keys, periods.loc[covers, "key"])


def given_census_day(value, where: str = "census_dates") -> pd.Timestamp:
    """A census day given in ``census_dates``: a date, ``yyyy-mm-dd`` or ``dd/mm/yyyy``
    (day first, as written in the UK: ``03/10/2024`` is 3 October). Raises
    :class:`LAReturnError` naming the entry and the fix for anything else."""
    if isinstance(value, (dt.date, pd.Timestamp)):
        return pd.Timestamp(value).normalize()
    got = parse_dates(pd.Series([str(value)], dtype="str"), "%Y-%m-%d", ("%d/%m/%Y",))
    if got.dates.isna().iloc[0]:
        raise LAReturnError(
            f"{where}: {value!r} is not a census day. Write it as yyyy-mm-dd (2024-10-03) "
            "or dd/mm/yyyy (03/10/2024, day first)."
        )
    return pd.Timestamp(got.dates.iloc[0])


def _census_of_file(path: Path, frame: pd.DataFrame, census_dates: dict):
    """The census day of a file and how it was found, or (None, reason)."""
    for key in (path.name, path.stem):
        if key in census_dates:
            return given_census_day(census_dates[key], f"census_dates[{key!r}]"), (
                "given in census_dates"
            )
    lower = {c.lower(): c for c in frame.columns}
    if "census_date" in lower:
        vals = (
            parse_dates(frame[lower["census_date"]], "%Y-%m-%d", ("%d/%m/%Y", DATE_FORMAT))
            .dates.dropna()
            .unique()
        )
        if len(vals) == 1:
            return pd.Timestamp(vals[0]), "census_date column"
        if len(vals) > 1:
            return None, ("the census_date column holds several dates; give one file per census")
    got = census_from_name(path)
    if got:
        return pd.Timestamp(census_day(*got)), f"file name ({got[0]} {got[1]})"
    return None, (
        "cannot tell which census this file is from: name it like "
        "'2024_autumn_pupilonroll.csv' (year and term first), add a census_date "
        f"column, or give census_dates={{'{path.name}': 'yyyy-mm-dd'}}"
    )


def read_school_census(
    paths, *, census_dates: dict | None = None, school_id_column: str | None = None
) -> ReturnData:
    """Read school census pupils-on-roll and FSM periods files into pupil records.

    ``paths``: a file, a folder or a list of them (one pupils file and one FSM periods file
    per census). ``census_dates``: optional {file name: census day} overriding the day
    taken from the file name. ``school_id_column``: the column holding the school
    identifier (default: the first of :data:`SCHOOL_ID_COLUMNS` present).
    Returns a :class:`ReturnData` with table ``pupils`` (census_date, school_id,
    fsm_eligible, upn; one record per pupil row read) and ``fsm_periods``; ``children``
    holds the UPN of each pupil row. Nothing raises for a bad file.
    """
    census_dates = dict(census_dates or {})
    data = ReturnData(RETURN_NAME)
    pupils, periods = {}, {}
    for pos, path in enumerate(list_source_files(paths, "school_census", data.problems)):
        why = require_suffix(path, TEXT_TABLE_SUFFIXES)
        if why:
            data.problems.add(
                return_name=RETURN_NAME, file=str(path), problem=why, action=FILE_SKIPPED
            )
            data.add_file(path, "", 0, note="skipped: " + why)
            continue
        for tt in read_tables(path):
            label = tt.path  # the file, or the sheet of a workbook
            if tt.error or tt.blank == "empty file":
                msg = tt.error or "blank file (no bytes): nothing to read"
                data.problems.add(
                    return_name=RETURN_NAME,
                    file=str(label),
                    problem=msg,
                    action=FILE_SKIPPED if tt.error else NOTED,
                    rows_affected=0,
                )
                data.add_file(label, "", 0, note=msg)
                continue
            frame = tt.frame
            frame.columns = [str(c).strip().lower() for c in frame.columns]
            cols = set(frame.columns)
            if set(FSM_COLUMNS) <= cols:
                table = "fsm_periods"
            elif set(PUPILS_COLUMNS) <= cols:
                table = "pupils"
            else:
                data.add_file(
                    label,
                    "other",
                    len(frame),
                    not_needed=len(frame),
                    note="not a pupils-on-roll or FSM periods table: not needed",
                )
                continue
            add_format_note(tt, data.problems, RETURN_NAME, table)
            if tt.had_bom:
                data.problems.add(
                    return_name=RETURN_NAME,
                    file=str(label),
                    table=table,
                    problem="file starts with a UTF-8 byte-order mark; removed",
                    action=NOTED,
                    rows_affected=0,
                )
            day, how = _census_of_file(path, frame, census_dates)
            if day is None:
                data.problems.add(
                    return_name=RETURN_NAME,
                    file=str(label),
                    table=table,
                    problem=how,
                    action=FILE_SKIPPED,
                    rows_affected=len(frame),
                )
                data.add_file(
                    label, table, len(frame), not_needed=len(frame), note="skipped: census unknown"
                )
                continue
            data.problems.add(
                return_name=RETURN_NAME,
                file=str(label),
                table=table,
                problem=f"census day {day.date()} ({how})",
                action=NOTED,
                rows_affected=0,
            )
            data.add_file(label, table, len(frame), year=day.year, note=f"census day {day.date()}")
            key, mended = clean_ids(frame["pupilonrolltableid"])
            if table == "pupils":
                rec = _pupil_records(frame, label, key, pos, day, school_id_column, data)
                pupils.setdefault(day, []).append(rec)
            else:
                rec = start_records(
                    pd.DataFrame(
                        {"fsmstartdate": frame["fsmstartdate"], "fsmenddate": frame["fsmenddate"]}
                    ),
                    source_file=label,
                    source_row=spreadsheet_rows(frame),
                    child_ref=key,
                    order=pos,
                )
                periods.setdefault(day, []).append(rec)
            data.problems.add_summary(
                rec,
                mended,
                return_name=RETURN_NAME,
                table=table,
                field="pupilonrolltableid",
                problem="ids written as numbers with '.0'; read without it",
                action=NOTED,
            )
    pupil_parts, period_parts = [], []
    for day in sorted(set(pupils) | set(periods)):
        p, f = _finish_census(day, pupils.get(day, []), periods.get(day, []), data)
        pupil_parts.append(p)
        period_parts.append(f)
    pupil_cols = ("census_date", "school_id", "fsm_eligible", "upn", "enrolstatus", "dob", "sex")
    data.tables["pupils"] = (
        pd.concat(pupil_parts, ignore_index=True) if pupil_parts else empty_records(pupil_cols)
    )
    data.tables["fsm_periods"] = (
        pd.concat(period_parts, ignore_index=True)
        if period_parts
        else empty_records(("start", "end"))
    )
    kids = data.tables["pupils"]
    if "dob" not in kids:
        kids["dob"] = pd.Series(pd.NaT, index=kids.index, dtype="datetime64[ns]")
        kids["sex"] = pd.Series(None, index=kids.index, dtype="str")
    data.children = kids[
        [
            "source_file",
            "source_row",
            "child_ref",
            "order",
            "status",
            "reason",
            "upn",
            "census_date",
            "dob",
            "sex",
        ]
    ]
    return data


def _pupil_records(frame, path, key, pos, day, school_id_column, data) -> pd.DataFrame:
    """Pupil records of one pupils-on-roll file (UPN, school, enrolment status)."""
    if school_id_column is not None:
        wanted = school_id_column.strip().lower()
        col = wanted if wanted in frame.columns else None
        missing_why = (
            f"the school identifier column {school_id_column!r} is not in the file "
            f"(its columns start: {', '.join(frame.columns[:8])}); give the right "
            "school_id_column"
        )
    else:
        col = next((c for c in SCHOOL_ID_COLUMNS if c in frame.columns), None)
        missing_why = (
            "no school identifier column (laestab, estab, urn, school_id or "
            "NativeId); give school_id_column"
        )
    empty = pd.Series(pd.NA, index=frame.index, dtype="str")
    sex_col = next((c for c in ("sex", "gender") if c in frame.columns), None)
    dob = parse_dates(frame["dob"], DATE_FORMAT, DATE_ALTERNATIVES) if "dob" in frame else None
    rec = start_records(
        pd.DataFrame(
            {
                "UPN": frame["upn"],
                "school_id": clean_ids(frame[col])[0] if col else empty,
                "enrolstatus": clean_code(frame["enrolstatus"])
                if "enrolstatus" in frame
                else empty,
                "dob": dob.dates
                if dob is not None
                else pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]"),
                "sex": (
                    clean_code(frame[sex_col]).map(SEX_CODES).astype("str") if sex_col else empty
                ),
                "_dob_raw": frame.get("dob", empty),
            }
        ),
        source_file=path,
        source_row=spreadsheet_rows(frame),
        child_ref=key,
        order=pos,
    )
    rec["census_date"] = day
    if dob is not None:
        data.problems.add_rows(
            rec,
            dob.bad,
            return_name=RETURN_NAME,
            table="pupils",
            field="dob",
            problem="dob is not a real date; set empty",
            action=VALUE_EMPTIED,
            value_column="_dob_raw",
        )
    rec = rec.drop(columns="_dob_raw")
    if col:
        data.problems.add(
            return_name=RETURN_NAME,
            file=str(path),
            table="pupils",
            field=col,
            problem=f"school identifier read from column '{col}'",
            action=NOTED,
            rows_affected=0,
        )
    else:
        quarantine(
            rec,
            pd.Series(True, index=rec.index),
            missing_why,
            data.problems,
            return_name=RETURN_NAME,
            table="pupils",
            field="school_id",
        )
    return rec


def _finish_census(day, pupil_parts, period_parts, data):
    """Check pupils and periods of one census and derive FSM eligibility on census day."""
    log = data.problems
    pupils = (
        pd.concat(pupil_parts, ignore_index=True)
        if pupil_parts
        else empty_records(("UPN", "school_id", "enrolstatus", "sex")).assign(
            census_date=day, dob=pd.Series(dtype="datetime64[ns]")
        )
    )
    periods = (
        pd.concat(period_parts, ignore_index=True)
        if period_parts
        else empty_records(("fsmstartdate", "fsmenddate"))
    )
    label = f"census {day.date()}"
    if pupil_parts and not period_parts:
        quarantine(
            pupils,
            pd.Series(True, index=pupils.index),
            f"no FSM periods file for the {label}: FSM eligibility cannot be derived; "
            "add the fsmperiodsonroll file",
            log,
            return_name=RETURN_NAME,
            table="pupils",
            field="fsm_eligible",
        )
    if period_parts and not pupil_parts:
        quarantine(
            periods,
            pd.Series(True, index=periods.index),
            f"no pupils-on-roll file for the {label}",
            log,
            return_name=RETURN_NAME,
            table="fsm_periods",
            field="pupilonrolltableid",
        )

    # pupils: keys and UPNs
    quarantine(
        pupils,
        pupils["child_ref"].isna(),
        "no pupilonrolltableid",
        log,
        return_name=RETURN_NAME,
        table="pupils",
        field="pupilonrolltableid",
    )
    dup_key = pupils["child_ref"].notna() & pupils["child_ref"].duplicated(keep=False)
    quarantine(
        pupils,
        dup_key,
        "pupilonrolltableid repeated in the census: the FSM periods cannot be matched to one pupil",
        log,
        return_name=RETURN_NAME,
        table="pupils",
        field="pupilonrolltableid",
        value_column="child_ref",
    )
    upn, _unknown = normalise_upn(pupils["UPN"])
    pupils["upn"] = upn
    log.add_summary(
        pupils,
        upn.isna(),
        return_name=RETURN_NAME,
        table="pupils",
        field="upn",
        problem="no UPN: these pupils cannot be linked to other returns or to other censuses",
        action=KEPT,
    )
    log.add_summary(
        pupils,
        upn.notna() & ~upn_format_ok(upn),
        return_name=RETURN_NAME,
        table="pupils",
        field="upn",
        problem="UPN not in the DfE 13-character format; still used for linking, but check it",
        action=KEPT,
    )
    quarantine(
        pupils,
        pupils["school_id"].isna() & (pupils["status"] == USED),
        "no school identifier",
        log,
        return_name=RETURN_NAME,
        table="pupils",
        field="school_id",
    )

    # periods: dates and their pupil
    start = parse_dates(periods["fsmstartdate"], DATE_FORMAT, DATE_ALTERNATIVES)
    end = parse_dates(periods["fsmenddate"], DATE_FORMAT, DATE_ALTERNATIVES)
    periods["start"], periods["end"] = start.dates, end.dates
    t = "fsm_periods"
    quarantine(
        periods,
        periods["child_ref"].isna(),
        "no pupilonrolltableid",
        log,
        return_name=RETURN_NAME,
        table=t,
        field="pupilonrolltableid",
    )
    quarantine(
        periods,
        blank_to_na(periods["fsmstartdate"]).isna(),
        "no fsmstartdate",
        log,
        return_name=RETURN_NAME,
        table=t,
        field="fsmstartdate",
    )
    quarantine(
        periods,
        start.bad,
        "fsmstartdate is not a real date",
        log,
        return_name=RETURN_NAME,
        table=t,
        field="fsmstartdate",
        value_column="fsmstartdate",
    )
    quarantine(
        periods,
        end.bad,
        "fsmenddate is not a real date",
        log,
        return_name=RETURN_NAME,
        table=t,
        field="fsmenddate",
        value_column="fsmenddate",
    )
    quarantine(
        periods,
        end.dates < start.dates,
        "fsmenddate is before fsmstartdate",
        log,
        return_name=RETURN_NAME,
        table=t,
        field="fsmenddate",
        value_column="fsmenddate",
    )
    valid_keys = pupils.loc[pupils["status"] == USED, "child_ref"]
    quarantine(
        periods,
        periods["child_ref"].notna()
        & ~is_in(periods["child_ref"], pupils["child_ref"])
        & (periods["status"] == USED),
        "no pupil with this pupilonrolltableid in the pupils-on-roll file",
        log,
        return_name=RETURN_NAME,
        table=t,
        field="pupilonrolltableid",
        value_column="child_ref",
    )

    good = periods[periods["status"] == USED]
    pupils["fsm_eligible"] = fsm_eligible_on(
        pupils["child_ref"], good.rename(columns={"child_ref": "key"}), day
    )
    # a broken period matters only for a pupil not already eligible from a valid one
    broken = periods.loc[periods["status"] == QUARANTINED_STATUS, "child_ref"].dropna()
    unknowable = is_in(pupils["child_ref"], broken) & ~pupils["fsm_eligible"]
    quarantine(
        pupils,
        unknowable & is_in(pupils["child_ref"], valid_keys),
        "an FSM period of this pupil has an unusable date, so FSM eligibility on census "
        "day is unknown",
        log,
        return_name=RETURN_NAME,
        table="pupils",
        field="fsm_eligible",
    )
    _one_row_per_pupil(pupils, data)
    return pupils, periods


def _one_row_per_pupil(pupils: pd.DataFrame, data: ReturnData) -> None:
    """Keep one used row per UPN in a census (main registration); FSM from any row."""
    used = pupils["status"] == USED
    sub = pupils.loc[used & pupils["upn"].notna(), ["upn", "enrolstatus", "fsm_eligible"]]
    if sub.empty or not sub["upn"].duplicated().any():
        return
    any_fsm = sub.groupby("upn")["fsm_eligible"].transform("any")
    pupils.loc[sub.index, "fsm_eligible"] = any_fsm.to_numpy()
    rank = sub["enrolstatus"].map(ENROL_STATUS_RANK).fillna(len(ENROL_STATUS_RANK))
    order = sub.assign(_rank=rank.to_numpy(), _pos=range(len(sub))).sort_values(
        ["upn", "_rank", "_pos"]
    )
    dup = order.index[order["upn"].duplicated(keep="first").to_numpy()]
    pupils.loc[dup, "status"] = "duplicate"
    pupils.loc[dup, "reason"] = (
        "same UPN on roll twice in this census (dual registration); "
        "the main registration is used, FSM from either"
    )
    mask = pd.Series(False, index=pupils.index)
    mask[dup] = True
    data.problems.add_summary(
        pupils,
        mask,
        return_name=RETURN_NAME,
        table="pupils",
        field="upn",
        problem="same UPN on roll twice in one census (dual "
        "registration): the main registration is used, and the "
        "pupil is FSM eligible if eligible in either row",
        action=NOTED,
    )
