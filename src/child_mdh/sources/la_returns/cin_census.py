"""Children in need (CIN) census returns: one XML file per collection year.

Source format: the DfE CIN census XML as local authorities submit it, flattened the way
the data-to-insight CIN validator does (``cin_validator/ingress.py``):
``Message/Header/CollectionDetails`` (Collection, Year, ReferenceDate) and
``Message/Children/Child`` with ``ChildIdentifiers`` (LAchildID, UPN, UPNunknown,
PersonBirthDate, GenderCurrent - called ``Sex`` in later returns), and one
``CINdetails`` per referral (CINreferralDate, PrimaryNeedCode, CINclosureDate,
ReferralNFA ...) holding its ``ChildProtectionPlans`` (CPPstartDate, CPPendDate ...).
Dates are ISO (yyyy-mm-dd). Files are read element by element
(``xml.etree.ElementTree.iterparse``), so large returns need little memory.

Mapping to the contract: CINreferralDate -> ``referral_date``, PrimaryNeedCode ->
``primary_need_code`` (N0-N9), CINclosureDate -> ``cin_closure_date`` (empty while open),
ReferralNFA -> ``referral_nfa`` (1/0 or true/false); CPPstartDate -> ``cpp_start_date``,
CPPendDate -> ``cpp_end_date``.

De-duplication across years: each return covers the children in need during its year,
so a referral still open at 31 March appears again in the next year's return. A referral
is identified by (LAchildID, CINreferralDate) and a plan by (LAchildID, CPPstartDate); when
the same one is in several returns, the values of the latest return (latest ReferenceDate,
then Year, then the file listed last) are used, because a later return can only have
more complete information (a closure date, a plan end date). The earlier copies are
counted as duplicates in the import report.

Invalid children are reported, never crashed on: the child (LAchildID), the element and
what is wrong. A referral or plan that breaks the contract (no valid start date, an end
before the start, a need code outside N0-N9, a date after the return's reference date)
is quarantined; implausible but usable values (a plan starting before its referral, a
closure before the collection year, an assessment date after the reference date) are
reported and kept.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd

from child_mdh.contract import tables as contract
from child_mdh.sources.la_returns.errors import FILE_SKIPPED, KEPT, NOTED, VALUE_EMPTIED
from child_mdh.sources.la_returns.files import list_source_files, require_suffix
from child_mdh.sources.la_returns.plausibility import check_reference_date, check_referrals
from child_mdh.sources.la_returns.records import (
    ReturnData,
    empty_records,
    keep_latest,
    quarantine,
    start_records,
)
from child_mdh.sources.la_returns.values import (
    clean_code,
    clean_ids,
    normalise_upn,
    parse_dates,
    parse_flags,
    upn_format_ok,
)

RETURN_NAME = "cin_census"
DATE_FORMAT = "%Y-%m-%d"

#: Elements of ``ChildIdentifiers`` read for linking. The child's sex is read from
#: ``GenderCurrent`` (1 male, 2 female, 0 not known, 9 not specified) or, in returns that
#: use that name instead (as the 2024 fixture does), ``Sex``.
CHILD_ELEMENTS = ("LAchildID", "UPN", "UPNunknown", "PersonBirthDate", "GenderCurrent", "Sex")
#: Elements of ``CINdetails`` read for ``cin_referrals``.
REFERRAL_ELEMENTS = ("CINreferralDate", "PrimaryNeedCode", "CINclosureDate", "ReferralNFA")
#: Elements of ``ChildProtectionPlans`` read for ``child_protection_plans``.
PLAN_ELEMENTS = ("CPPstartDate", "CPPendDate")
#: Date elements read into the contract (checked strictly); other ``*Date`` elements are
#: checked for validity and reported only.
_USED_DATES = {"CINreferralDate", "CINclosureDate", "CPPstartDate", "CPPendDate", "PersonBirthDate"}
SEX_CODES = {"1": "M", "2": "F", "M": "M", "F": "F"}


def _text(elem, tag: str):
    found = elem.find(tag)
    if found is None or found.text is None:
        return None
    text = found.text.strip()
    return text or None


def read_cin_census(paths) -> ReturnData:
    """Read CIN census XML files into referral, plan and child records.

    ``paths``: a file, a folder or a list of them, one file per collection year.
    Returns a :class:`ReturnData` with tables ``referrals`` and ``plans`` (one record per
    element read, with status) and ``children`` (child_ref, upn, dob, sex). Referrals and
    plans repeated across years are de-duplicated (latest return kept, see the module
    docstring). Bad files are logged as skipped; nothing raises.
    """
    data = ReturnData(RETURN_NAME)
    files = list_source_files(paths, "cin_census", data.problems, RETURN_NAME)
    parsed = []
    for pos, path in enumerate(files):
        why = require_suffix(path, (".xml",))
        if why:
            data.problems.add(
                return_name=RETURN_NAME, file=str(path), problem=why, action=FILE_SKIPPED
            )
            data.add_file(path, "", 0, note="skipped: " + why)
            continue
        got = _parse_file(path, data)
        if got is not None:
            parsed.append((pos, path, got))

    # return order: ReferenceDate, then Year, then position in the list
    def sort_key(item):
        pos, _, got = item
        ref = got["reference_date"]
        return (ref if ref is not None else pd.Timestamp.min, got["year"] or 0, pos)

    parsed.sort(key=sort_key)
    refs = {}
    for order, (_pos, path, got) in enumerate(parsed):
        for name in ("children", "referrals", "plans"):
            frame = got[name]
            frame["order"] = order
            frame["reference_date"] = got["reference_date"]
            frame["year"] = "" if got["year"] is None else str(got["year"])
        refs.setdefault(got["reference_date"], []).append(str(path))
    for ref, names in refs.items():
        if len(names) > 1:
            for name in names:
                data.problems.add(
                    return_name=RETURN_NAME,
                    file=name,
                    table="Header",
                    field="ReferenceDate",
                    value="" if ref is None else str(ref.date()),
                    problem=f"{len(names)} CIN returns have the same reference date; the file "
                    "listed last is treated as the latest",
                    action=KEPT,
                    rows_affected=0,
                )

    def stack(name, raw_columns):
        parts = [got[name] for _, _, got in parsed if len(got[name])]
        if parts:
            return pd.concat(parts, ignore_index=True)
        empty = empty_records(raw_columns)
        empty["reference_date"] = pd.Series(dtype="datetime64[ns]")
        empty["year"] = pd.Series(dtype="str")
        return empty

    data.children = _finish_children(
        stack("children", ("UPN", "UPNunknown", "PersonBirthDate", "sex_raw")), data
    )
    data.tables["referrals"] = _finish_referrals(stack("referrals", REFERRAL_ELEMENTS), data)
    data.tables["plans"] = _finish_plans(stack("plans", ("parent_referral", *PLAN_ELEMENTS)), data)
    check_referrals(data.tables["referrals"], data.children, data.problems, RETURN_NAME)
    return data


def _parse_file(path: Path, data: ReturnData) -> dict | None:
    """Flatten one CIN XML file into children, referrals, plans and date elements."""
    header = {"Year": None, "ReferenceDate": None, "LEA": None}
    children, referrals, plans, dates = [], [], [], []
    log = data.problems
    try:
        context = ET.iterparse(path, events=("start", "end"))
        _, root = next(context)
        if root.tag != "Message":
            hint = (
                " It looks like an SSDA903 file: list it under 'ssda903'."
                if root.tag.upper() == "EXPSSDA903"
                else ""
            )
            why = (
                f"{path}: the XML root element is <{root.tag}>, not <Message>, so it is not "
                f"a CIN census return.{hint}"
            )
            log.add(return_name=RETURN_NAME, file=str(path), problem=why, action=FILE_SKIPPED)
            data.add_file(path, "", 0, note="skipped: not CIN census XML")
            return None
        n_child = 0
        for event, elem in context:
            if event != "end":
                continue
            if elem.tag == "CollectionDetails":
                for tag in ("Year", "ReferenceDate"):
                    header[tag] = _text(elem, tag)
            elif elem.tag == "Source":
                header["LEA"] = _text(elem, "LEA")
            elif elem.tag == "Child":
                n_child += 1
                _flatten_child(elem, n_child, path, children, referrals, plans, dates, log)
                elem.clear()
                root.clear()
    except ET.ParseError as err:
        why = (
            f"{path}: not well-formed XML ({err}). Re-export the CIN census XML, or open it "
            "in a browser to see the broken line."
        )
        log.add(return_name=RETURN_NAME, file=str(path), problem=why, action=FILE_SKIPPED)
        data.add_file(path, "", 0, note="skipped: not well-formed XML")
        return None

    ref = parse_dates(pd.Series([header["ReferenceDate"]], dtype="str"), DATE_FORMAT)
    reference_date = ref.dates.iloc[0] if not pd.isna(ref.dates.iloc[0]) else None
    year = int(header["Year"]) if (header["Year"] or "").strip().isdigit() else None
    check_reference_date(reference_date, year, path, log, RETURN_NAME)
    if year is None and reference_date is not None:
        year = int(reference_date.year)  # the collection year the content says
    if reference_date is None:
        log.add(
            return_name=RETURN_NAME,
            file=str(path),
            table="Header",
            field="ReferenceDate",
            value=header["ReferenceDate"] or "",
            problem="no valid ReferenceDate in the header: dates cannot be checked against "
            "the end of the collection year, and the file is ordered by Year and "
            "position",
            action=KEPT,
            rows_affected=0,
        )
    if header["LEA"]:
        log.add(
            return_name=RETURN_NAME,
            file=str(path),
            table="Header",
            field="LEA",
            value=header["LEA"],
            problem=f"return from LEA {header['LEA']}, collection "
            f"year {header['Year']}, reference date {header['ReferenceDate']}",
            action=NOTED,
            rows_affected=0,
        )

    kids = pd.DataFrame(
        children,
        columns=["source_row", "LAchildID", "UPN", "UPNunknown", "PersonBirthDate", "sex_raw"],
        dtype="str",
    )
    refs = pd.DataFrame(
        referrals, columns=["source_row", "LAchildID", *REFERRAL_ELEMENTS], dtype="str"
    )
    cpps = pd.DataFrame(
        plans, columns=["source_row", "LAchildID", "parent_referral", *PLAN_ELEMENTS], dtype="str"
    )
    data.add_file(path, "ChildIdentifiers", len(kids), year=year)
    data.add_file(path, "CINdetails", len(refs), year=year)
    data.add_file(path, "ChildProtectionPlans", len(cpps), year=year)

    def records(frame, keep):
        ids = frame["LAchildID"]
        return start_records(
            frame[keep], source_file=path, source_row=frame["source_row"], child_ref=ids, order=0
        )

    out = {
        "reference_date": reference_date,
        "year": year,
        "children": records(kids, ["UPN", "UPNunknown", "PersonBirthDate", "sex_raw"]),
        "referrals": records(refs, list(REFERRAL_ELEMENTS)),
        "plans": records(cpps, ["parent_referral", *PLAN_ELEMENTS]),
    }
    _check_other_dates(
        pd.DataFrame(dates, columns=["source_row", "LAchildID", "field", "value"], dtype="str"),
        path,
        reference_date,
        log,
    )
    return out


def _flatten_child(elem, n_child: int, path: Path, children, referrals, plans, dates, log):
    """Append one Child's identifiers, referrals, plans and other dates to the lists."""
    ids = elem.find("ChildIdentifiers")
    ids = ids if ids is not None else ET.Element("ChildIdentifiers")
    la_id = _text(ids, "LAchildID")
    where = f"child {n_child}"
    sex = _text(ids, "GenderCurrent") or _text(ids, "Sex")
    children.append(
        (
            where,
            la_id,
            _text(ids, "UPN"),
            _text(ids, "UPNunknown"),
            _text(ids, "PersonBirthDate"),
            sex,
        )
    )
    for sub in elem.iter():
        if sub.tail and sub.tail.strip() and sub is not elem:
            log.add(
                return_name=RETURN_NAME,
                file=str(path),
                table="Child",
                row=where,
                child=la_id or "",
                field=sub.tag,
                value=sub.tail.strip(),
                problem=f"stray text after the <{sub.tag}> element (the file was edited "
                "by hand?); ignored",
                action=KEPT,
            )
        if sub.tag.endswith("Date") and sub.tag not in _USED_DATES:
            dates.append((where, la_id, sub.tag, (sub.text or "").strip()))
    plan_parents = [elem] + elem.findall("CINdetails")
    for i, cin in enumerate(elem.findall("CINdetails"), start=1):
        row = f"{where}, CINdetails {i}"
        referrals.append((row, la_id, *(_text(cin, t) for t in REFERRAL_ELEMENTS)))
    for parent in plan_parents:
        if parent is elem:
            prefix, ref_date = where, None
        else:
            i = plan_parents.index(parent)
            prefix, ref_date = f"{where}, CINdetails {i}", _text(parent, "CINreferralDate")
        for j, cpp in enumerate(parent.findall("ChildProtectionPlans"), start=1):
            plans.append(
                (
                    f"{prefix}, ChildProtectionPlans {j}",
                    la_id,
                    ref_date,
                    *(_text(cpp, t) for t in PLAN_ELEMENTS),
                )
            )


def _check_other_dates(frame: pd.DataFrame, path: Path, reference_date, log) -> None:
    """Report date elements not used by the contract that are invalid or after the
    reference date (for example an assessment dated in the future)."""
    if frame.empty:
        return
    frame = frame.rename(columns={"LAchildID": "child_ref"})
    frame["source_file"] = str(path)
    parsed = parse_dates(frame["value"], DATE_FORMAT)
    for field, part in frame.groupby("field", sort=False):
        bad = parsed.bad.loc[part.index]
        log.add_rows(
            part,
            bad,
            return_name=RETURN_NAME,
            table="Child",
            field=field,
            problem=f"{field} is not a valid yyyy-mm-dd date",
            action=KEPT,
            value_column="value",
        )
        if reference_date is not None:
            late = parsed.dates.loc[part.index] > reference_date
            log.add_rows(
                part,
                late,
                return_name=RETURN_NAME,
                table="Child",
                field=field,
                problem=f"{field} is after the return's reference date ({reference_date.date()})",
                action=KEPT,
                value_column="value",
            )


def _finish_children(rec: pd.DataFrame, data: ReturnData) -> pd.DataFrame:
    """Child lookup: child_ref, upn, dob, sex; problems with ids and UPNs reported."""
    log, t = data.problems, "ChildIdentifiers"
    rec["child_ref"], mended = clean_ids(rec["child_ref"])
    missing_id = rec["child_ref"].isna()
    log.add_rows(
        rec.assign(child_ref=""),
        missing_id,
        return_name=RETURN_NAME,
        table=t,
        field="LAchildID",
        problem="no LAchildID: the child's referrals are quarantined",
        action=KEPT,
    )
    upn, unknown_code = normalise_upn(rec["UPN"])
    rec["upn"] = upn
    no_upn = upn.isna()
    log.add_rows(
        rec,
        no_upn & rec["UPNunknown"].notna(),
        return_name=RETURN_NAME,
        table=t,
        field="UPN",
        problem="no UPN (UPNunknown given): this child cannot be linked to other returns",
        action=KEPT,
        value_column="UPNunknown",
    )
    log.add_rows(
        rec,
        no_upn & rec["UPNunknown"].isna() & ~unknown_code,
        return_name=RETURN_NAME,
        table=t,
        field="UPN",
        problem="no UPN and no UPNunknown reason: this child cannot be linked to other returns",
        action=KEPT,
    )
    log.add_rows(
        rec,
        upn.notna() & ~upn_format_ok(upn),
        return_name=RETURN_NAME,
        table=t,
        field="UPN",
        problem="UPN not in the DfE 13-character format; still used for linking, but check it",
        action=KEPT,
    )
    log.add_rows(
        rec,
        upn.notna() & rec["UPNunknown"].notna(),
        return_name=RETURN_NAME,
        table=t,
        field="UPNunknown",
        problem="both a UPN and a UPNunknown reason are given; the UPN is used",
        action=KEPT,
        value_column="UPNunknown",
    )
    dob = parse_dates(rec["PersonBirthDate"], DATE_FORMAT)
    log.add_rows(
        rec,
        dob.bad,
        return_name=RETURN_NAME,
        table=t,
        field="PersonBirthDate",
        problem="PersonBirthDate is not a valid yyyy-mm-dd date",
        action=VALUE_EMPTIED,
        value_column="PersonBirthDate",
    )
    rec["dob"] = dob.dates
    rec["sex"] = clean_code(rec["sex_raw"]).map(SEX_CODES)
    log.add_summary(
        rec,
        mended,
        return_name=RETURN_NAME,
        table=t,
        field="LAchildID",
        problem="LAchildID written as a number with '.0'; read without it",
        action=NOTED,
    )
    rec.loc[missing_id, "status"] = "quarantined"
    rec.loc[missing_id, "reason"] = "no LAchildID"
    keep_latest(
        rec, ["child_ref"], log, return_name=RETURN_NAME, table=t, what="child (same LAchildID)"
    )
    return rec


def _common_checks(rec: pd.DataFrame, data: ReturnData, table: str, start: str, end: str):
    """Parse a start/end pair, quarantining rows the contract cannot hold."""
    log = data.problems
    rec["child_ref"], _ = clean_ids(rec["child_ref"])
    quarantine(
        rec,
        rec["child_ref"].isna(),
        "no LAchildID for this child",
        log,
        return_name=RETURN_NAME,
        table=table,
        field="LAchildID",
    )
    s = parse_dates(rec[start], DATE_FORMAT)
    e = parse_dates(rec[end], DATE_FORMAT)
    quarantine(
        rec,
        rec[start].isna(),
        f"no {start}",
        log,
        return_name=RETURN_NAME,
        table=table,
        field=start,
    )
    quarantine(
        rec,
        s.bad,
        f"{start} is not a valid yyyy-mm-dd date",
        log,
        return_name=RETURN_NAME,
        table=table,
        field=start,
        value_column=start,
    )
    quarantine(
        rec,
        e.bad,
        f"{end} is not a valid yyyy-mm-dd date",
        log,
        return_name=RETURN_NAME,
        table=table,
        field=end,
        value_column=end,
    )
    quarantine(
        rec,
        e.dates < s.dates,
        f"{end} is before {start}",
        log,
        return_name=RETURN_NAME,
        table=table,
        field=end,
        value_column=end,
    )
    ref = pd.to_datetime(rec["reference_date"])
    for col, parsed in ((start, s), (end, e)):
        quarantine(
            rec,
            parsed.dates > ref,
            f"{col} is after the return's reference date (the end of the collection "
            "year): a date in the future",
            log,
            return_name=RETURN_NAME,
            table=table,
            field=col,
            value_column=col,
        )
    return s.dates, e.dates, ref


def _finish_referrals(rec: pd.DataFrame, data: ReturnData) -> pd.DataFrame:
    """Check, map and de-duplicate referrals (CINdetails)."""
    log, t = data.problems, "CINdetails"
    start, end, ref = _common_checks(rec, data, t, "CINreferralDate", "CINclosureDate")
    rec["referral_date"] = start
    rec["cin_closure_date"] = end
    rec["primary_need_code"] = clean_code(rec["PrimaryNeedCode"])
    quarantine(
        rec,
        ~rec["primary_need_code"].isin(contract.PRIMARY_NEED_CODES),
        "PrimaryNeedCode is not a CIN need code (N0-N9)",
        log,
        return_name=RETURN_NAME,
        table=t,
        field="PrimaryNeedCode",
        value_column="PrimaryNeedCode",
    )
    nfa, bad = parse_flags(rec["ReferralNFA"])
    rec["referral_nfa"] = nfa
    quarantine(
        rec,
        bad | nfa.isna(),
        "ReferralNFA is missing or not 1/0/true/false",
        log,
        return_name=RETURN_NAME,
        table=t,
        field="ReferralNFA",
        value_column="ReferralNFA",
    )
    collection_start = ref - pd.DateOffset(years=1) + pd.Timedelta(days=1)
    early = (rec["status"] == "used") & (end < collection_start)
    log.add_rows(
        rec,
        early,
        return_name=RETURN_NAME,
        table=t,
        field="CINclosureDate",
        problem="CIN episode closed before the collection year began; kept",
        action=KEPT,
        value_column="CINclosureDate",
    )
    keep_latest(
        rec,
        ["child_ref", "referral_date"],
        log,
        return_name=RETURN_NAME,
        table=t,
        what="referral (same LAchildID and CINreferralDate)",
    )
    return rec


def _finish_plans(rec: pd.DataFrame, data: ReturnData) -> pd.DataFrame:
    """Check, map and de-duplicate child protection plans."""
    log, t = data.problems, "ChildProtectionPlans"
    start, end, _ = _common_checks(rec, data, t, "CPPstartDate", "CPPendDate")
    rec["cpp_start_date"] = start
    rec["cpp_end_date"] = end
    parent = parse_dates(rec["parent_referral"], DATE_FORMAT).dates
    log.add_rows(
        rec,
        (rec["status"] == "used") & (start < parent),
        return_name=RETURN_NAME,
        table=t,
        field="CPPstartDate",
        problem="child protection plan starts before its CIN referral; kept",
        action=KEPT,
        value_column="CPPstartDate",
    )
    keep_latest(
        rec,
        ["child_ref", "cpp_start_date"],
        log,
        return_name=RETURN_NAME,
        table=t,
        what="child protection plan (same LAchildID and CPPstartDate)",
    )
    return rec
