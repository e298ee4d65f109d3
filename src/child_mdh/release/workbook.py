"""Release tables as spreadsheets laid out after the Government Statistical Service
guidance for releasing statistics in spreadsheets (Analysis Function, "Releasing
statistics in spreadsheets").

Every workbook holds four sheets, none with merged cells, hidden content or blank rows
inside a table, each with its title in cell A1:

- ``Cover``: the title, what the table holds, the source, the period, whether the data
  are synthetic, a contact to fill in, and the shorthand used in the table;
- ``Notes``: numbered notes (the method, the disclosure control, caveats);
- ``Columns``: one row per column of the table: its heading, unit and the column's name
  in the CSV file of the same table (the machine-friendly copy);
- ``Table_1``: the table itself, marked as an Excel table, with readable headings and
  units, number formats, the heading row frozen, and shorthand in place of empty cells:
  ``[c]`` withheld by disclosure control, ``[x]`` not available, ``[z]`` not applicable.

:func:`read_workbook_table` reads the table back as the CSV holds it (its column names,
numbers as numbers, shorthand as empty cells); the release audit reads workbooks with it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.table import Table, TableStyleInfo

from child_mdh.aggregates.profiles.measures import OUTCOMES

COVER_SHEET = "Cover"
NOTES_SHEET = "Notes"
COLUMNS_SHEET = "Columns"
TABLE_SHEET = "Table_1"
#: rows above the table's heading row on the table sheet (title and three lines of text)
TABLE_HEADER_ROW = 5

WITHHELD = "[c]"
NOT_AVAILABLE = "[x]"
NOT_APPLICABLE = "[z]"
#: the GSS shorthand used in place of an empty cell, and what each means
SHORTHAND = {
    WITHHELD: "confidential: withheld by disclosure control so that no small number of "
    "children can be identified or worked out from the other cells",
    NOT_AVAILABLE: "not available: no value could be computed (for example a rate for a "
    "group with no children, a comparison with England whose statistic is not published, "
    "or a value missing from the data)",
    NOT_APPLICABLE: "not applicable: there is no value to give (for example England "
    "compared with itself, or the region of England)",
}
CONTACT_PLACEHOLDER = (
    "[Contact: the producing team's name and email address, to be filled in before publication]"
)

#: headings of whole column names, used before the rules below
KNOWN_LABELS = {
    "area_level": "Area level",
    "area_code": "Area code",
    "area_name": "Area name",
    "parent_code": "Parent area code",
    "la_code": "Local authority code",
    "la_name": "Local authority name",
    "region_code": "Region code",
    "region_name": "Region name",
    "indicator": "Indicator",
    "indicator_label": "Indicator (description)",
    "section": "Section",
    "group": "Group",
    "group_type": "Group type",
    "unit": "Unit",
    "value": "Value",
    "k": "Cut-off k (share of weighted indicators)",
    "H": "Incidence H (share of children in multidimensionally deprived households)",
    "A": "Intensity A (average share of indicators deprived, among the deprived)",
    "M0": "Adjusted headcount ratio M0 (H times A)",
    "funnel": "Funnel plot position",
    "share_linked": "Share linked to a pupil record",
    "contribution": "Contribution to M0",
    "uncensored_headcount": "Uncensored headcount ratio",
    "censored_headcount": "Censored headcount ratio",
    "deprived_n": "Children deprived in the indicator",
    "censored_deprived_n": "Children deprived in the indicator and in a multidimensionally "
    "deprived household",
    "england_value": "England's value",
    "england_count_n": "England's count",
    "england_denominator_n": "England's denominator",
    "linked_n": "Children linked to a pupil record",
    "unlinked_n": "Children not linked to a pupil record",
    "linked_with_fsm_n": "Children linked, free school meals known",
    "linked_without_fsm_n": "Children linked, free school meals not known",
    "domains_missing_n": "Children with household domains missing",
    "children_n": "Children",
    "index_n": "Children in the index population",
    "mdh_n": "Children in multidimensionally deprived households",
    "non_mdh_n": "Children not in multidimensionally deprived households",
    "mdh_pct": "Children in multidimensionally deprived households",
    "count_n": "Count",
    "denominator_n": "Denominator",
    "left_out_n": "Children left out",
    "linked_rate": "Share linked to a pupil record",
    "unknown_n": "Children with an indicator unknown",
    "unknown_sure_mdh_n": "Children with an indicator unknown, multidimensionally deprived "
    "whatever it is",
    "unknown_possible_mdh_n": "Children with an indicator unknown, multidimensionally "
    "deprived only if it is deprived",
    "H_observed": "Incidence H of the children with every indicator known",
    "H_lower_bound": "Lower bound of H for all children (unknown indicators not deprived)",
    "H_upper_bound": "Upper bound of H for all children (unknown indicators deprived)",
    "H_no_information_lower_bound": "Lower bound of H, no child with an unknown indicator deprived",
    "H_no_information_upper_bound": "Upper bound of H, every child with an unknown indicator deprived",
}
#: words of column names spelled out when no rule below knows the name
WORDS = {
    "fsm": "free school meals",
    "cin": "children in need",
    "cpp": "child protection plans",
    "n": "",
    "pct": "",
    "vs": "compared with",
}
INDICATOR_WORDS = {
    "employment": "employment",
    "education": "education",
    "health": "health and disability",
    "housing": "housing",
    "fsm": "free school meals",
}
GROUP_WORDS = {
    "mdh": "children in multidimensionally deprived households",
    "non_mdh": "children in other households",
    "all": "all children",
}
#: column name endings: (pattern, heading suffix, unit, number format)
_ENDINGS = (
    (r"(^|_)lower_99_8$", ", lower 99.8% confidence limit", None, None),
    (r"(^|_)upper_99_8$", ", upper 99.8% confidence limit", None, None),
    (r"(^|_)lower_95$", ", lower 95% confidence limit", None, None),
    (r"(^|_)upper_95$", ", upper 95% confidence limit", None, None),
    (r"_lower$", ", lower confidence limit", None, None),
    (r"_upper$", ", upper confidence limit", None, None),
    (r"_deft_99_8$", ", design factor (99.8% intervals)", "ratio", "0.00"),
    (r"_deft_95$", ", design factor (95% intervals)", "ratio", "0.00"),
    (r"_deft$", ", design factor", "ratio", "0.00"),
    (r"(^|_)vs_england_99_8$", " compared with England (99.8% interval)", "text", "@"),
    (r"(^|_)vs_england_95$", " compared with England (95% interval)", "text", "@"),
    (r"(^|_)funnel$", ", funnel plot position", "text", "@"),
)
_OUTCOMES = {o.key: o for o in OUTCOMES}
_IND = "|".join(INDICATOR_WORDS)
_OUT = "|".join(_OUTCOMES)
_GRP = "|".join(sorted(GROUP_WORDS, key=len, reverse=True))


def _stem_rule(stem: str) -> tuple[str, str, str] | None:
    """(heading, unit, number format) of a column name without its ending, or None."""
    if m := re.fullmatch(rf"(deprived|censored)_({_IND})_n", stem):
        both = "" if m[1] == "deprived" else " and in a multidimensionally deprived household"
        return f"Children deprived in {INDICATOR_WORDS[m[2]]}{both}", "number", "#,##0"
    if m := re.fullmatch(rf"(deprived|censored)_({_IND})_pct", stem):
        both = "" if m[1] == "deprived" else " and in a multidimensionally deprived household"
        return f"Children deprived in {INDICATOR_WORDS[m[2]]}{both}", "per cent", "0.0"
    if m := re.fullmatch(rf"contribution_({_IND})_pct", stem):
        return f"Contribution of {INDICATOR_WORDS[m[1]]} to M0", "per cent", "0.0"
    if m := re.fullmatch(rf"(uncensored|censored)_({_IND})", stem):
        return (
            f"{m[1].capitalize()} headcount ratio, {INDICATOR_WORDS[m[2]]}",
            "proportion",
            "0.000",
        )
    if m := re.fullmatch(rf"contribution_({_IND})", stem):
        return f"Contribution of {INDICATOR_WORDS[m[1]]} to M0", "proportion", "0.000"
    if m := re.fullmatch(rf"({_OUT})_({_GRP})_n", stem):
        return f"{_OUTCOMES[m[1]].label}, {GROUP_WORDS[m[2]]}", "number", "#,##0"
    if m := re.fullmatch(rf"({_OUT})_({_GRP})_years", stem):
        return f"Years of follow-up, {GROUP_WORDS[m[2]]}", "child-years", "#,##0"
    if m := re.fullmatch(rf"({_OUT})_({_GRP})_rate", stem):
        o = _OUTCOMES[m[1]]
        return f"{o.label}, {GROUP_WORDS[m[2]]}", o.unit, "0.0"
    if m := re.fullmatch(rf"({_OUT})_rate_ratio", stem):
        return (
            f"{_OUTCOMES[m[1]].label}: rate in multidimensionally deprived households "
            "divided by the rate in other households",
            "ratio",
            "0.00",
        )
    return None


#: units of other names by their stem: (pattern, unit, number format)
_UNITS = (
    (r"_n$", "number", "#,##0"),
    (r"_years$", "child-years", "#,##0"),
    (r"_pct$", "per cent", "0.0"),
    (r"^(H|A|M0)$", "proportion", "0.000"),
    (r"^(uncensored_headcount|censored_headcount|contribution)$", "proportion", "0.000"),
)


@dataclass(frozen=True)
class About:
    """What the cover sheet says about every table of a release.

    ``source`` names the data, ``period`` the time and population covered,
    ``synthetic`` whether the data are synthetic (then every sheet says so), and
    ``contact`` who answers questions (a placeholder until publication).
    """

    source: str = "child-mdh, from the data contract's eight tables (see provenance.json)"
    period: str = "See provenance.json for the census year and the follow-up window"
    synthetic: bool = False
    contact: str = CONTACT_PLACEHOLDER

    @classmethod
    def from_mapping(cls, values: Mapping | None) -> About:
        """An :class:`About` from a mapping of its fields (others ignored); defaults
        for the fields left out."""
        values = dict(values or {})
        known = {k: values[k] for k in ("source", "period", "synthetic", "contact") if k in values}
        if "synthetic" in known:
            known["synthetic"] = bool(known["synthetic"])
        return cls(**known)


SYNTHETIC_WARNING = (
    "SYNTHETIC DATA: these figures come from synthetic data generated by child-mdh; they "
    "describe no real child, household or local authority."
)


def _split(code: str) -> tuple[str, str, str | None, str | None]:
    """(stem, heading suffix, unit, number format) of a column name from its ending."""
    for pattern, suffix, unit, fmt in _ENDINGS:
        if re.search(pattern, code):
            return re.sub(pattern, "", code), suffix, unit, fmt
    return code, "", None, None


def _describe_stem(stem: str) -> tuple[str, str, str]:
    """(heading, unit, number format) of a column name without its ending."""
    if not stem:
        return "Value", "", "General"
    rule = _stem_rule(stem)
    if rule is not None:
        return rule
    unit, fmt = "", "General"
    for pattern, u, f in _UNITS:
        if re.search(pattern, stem):
            unit, fmt = u, f
            break
    if stem in KNOWN_LABELS:
        return KNOWN_LABELS[stem], unit, fmt
    words = [WORDS.get(w, w) for w in stem.split("_")]
    text = " ".join(w for w in words if w)
    return text[:1].upper() + text[1:], unit, fmt


def column_unit(code: str) -> tuple[str, str]:
    """(unit, Excel number format) of a column by its name; ('', 'General') unknown."""
    stem, _, unit, fmt = _split(str(code))
    _, stem_unit, stem_fmt = _describe_stem(stem)
    return (unit or stem_unit), (fmt or stem_fmt)


def column_label(code: str) -> str:
    """A readable heading for a release table's column name, with its unit in brackets.

    ``mdh_pct_lower_99_8`` reads 'Children in multidimensionally deprived households,
    lower 99.8% confidence limit (per cent)'. Names no rule knows are spelled out word
    by word.
    """
    stem, suffix, _, _ = _split(str(code))
    heading, _, _ = _describe_stem(stem)
    unit, _ = column_unit(code)
    label = heading + suffix
    return f"{label} ({unit})" if unit and unit != "text" else label


def column_labels(columns: Iterable[str]) -> list[str]:
    """:func:`column_label` of each column, made unique (a repeated heading gets the
    column name in brackets)."""
    columns = [str(c) for c in columns]
    labels = [column_label(c) for c in columns]
    seen: dict[str, int] = {}
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
    return [f"{lab} [{c}]" if seen[lab] > 1 else lab for lab, c in zip(labels, columns)]


def _mask(table: pd.DataFrame, cells) -> np.ndarray:
    """A boolean array shaped like ``table`` from a boolean frame, a mapping column ->
    boolean Series, or (row, column name) pairs."""
    out = np.zeros(table.shape, dtype=bool)
    if cells is None:
        return out
    position = {str(c): i for i, c in enumerate(table.columns)}
    if isinstance(cells, (pd.DataFrame, Mapping)):
        for col in cells:
            if str(col) in position:
                values = np.asarray(pd.Series(cells[col]).fillna(False), dtype=bool)
                out[: len(values), position[str(col)]] |= values
        return out
    for row, col in cells:
        if str(col) in position and 0 <= int(row) < len(table):
            out[int(row), position[str(col)]] = True
    return out


def shorthand(table: pd.DataFrame, withheld=None, not_applicable=None) -> pd.DataFrame:
    """The shorthand of each empty cell of ``table`` ('' where a cell holds a value).

    ``withheld`` and ``not_applicable`` give cells (a boolean frame, a mapping column ->
    boolean Series, or (row, column) pairs): an empty withheld cell is ``[c]``, an
    empty not-applicable one ``[z]``, any other empty cell ``[x]``.
    """
    empty = table.isna().to_numpy() | (table.astype("object") == "").to_numpy()
    marks = np.where(empty, NOT_AVAILABLE, "").astype(object)
    marks[empty & _mask(table, not_applicable)] = NOT_APPLICABLE
    marks[empty & _mask(table, withheld)] = WITHHELD
    return pd.DataFrame(marks, columns=table.columns, index=table.index)


def _cell_value(value):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def _write_lines(sheet, lines: Iterable, bold_first: bool = True) -> None:
    for i, line in enumerate(lines, start=1):
        cell = sheet.cell(row=i, column=1, value=line)
        if i == 1 and bold_first:
            cell.font = Font(bold=True, size=14)
    sheet.column_dimensions["A"].width = 100


def _cover(book, title: str, description: str, about: About, csv_name: str) -> None:
    sheet = book.active
    sheet.title = COVER_SHEET
    lines: list = [title]
    if about.synthetic:
        lines.append(SYNTHETIC_WARNING)
    lines += [
        "This spreadsheet contains one table, on the sheet Table_1, with notes on the sheet "
        "Notes and each column's heading, unit and CSV name on the sheet Columns.",
        f"What the table holds: {description}" if description else None,
        f"Source: {about.source}",
        f"Period: {about.period}",
        f"The same table, machine-readable: {csv_name} (one heading row of column names, "
        "then the data; an empty cell wherever this workbook shows shorthand).",
        "Shorthand used in the table",
        *(f"{mark}: {meaning}" for mark, meaning in SHORTHAND.items()),
        "Contact",
        about.contact,
    ]
    _write_lines(sheet, [line for line in lines if line])
    for row in sheet.iter_rows(min_row=2):
        if row[0].value in ("Shorthand used in the table", "Contact"):
            row[0].font = Font(bold=True, size=12)
        elif row[0].value == SYNTHETIC_WARNING:
            row[0].font = Font(bold=True, color="9C0006")
        row[0].alignment = Alignment(wrap_text=True, vertical="top")


def _table_sheet(book, name: str, rows: list[list], header: list[str], widths, formats) -> None:
    sheet = book.create_sheet(name)
    for r, row in enumerate([header, *rows], start=TABLE_HEADER_ROW):
        for c, value in enumerate(row, start=1):
            cell = sheet.cell(row=r, column=c, value=value)
            if r == TABLE_HEADER_ROW:
                cell.font = Font(bold=True)
                cell.alignment = Alignment(wrap_text=True, vertical="top")
            elif formats is not None and isinstance(value, (int, float)):
                cell.number_format = formats[c - 1]
    last = get_column_letter(len(header))
    ref = f"A{TABLE_HEADER_ROW}:{last}{TABLE_HEADER_ROW + len(rows)}"
    table = Table(displayName=re.sub(r"\W", "_", name), ref=ref)
    table.tableStyleInfo = TableStyleInfo(name="TableStyleLight1", showRowStripes=False)
    sheet.add_table(table)
    sheet.freeze_panes = f"A{TABLE_HEADER_ROW + 1}"
    for c, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(c)].width = width


def write_workbook(
    table: pd.DataFrame,
    path: str | Path,
    *,
    title: str,
    description: str = "",
    about: About | None = None,
    notes: Iterable[str] = (),
    withheld=None,
    not_applicable=None,
    csv_name: str | None = None,
) -> Path:
    """Write ``table`` (as released: protected, text made inert) as a workbook at ``path``.

    ``title`` heads every sheet; ``description`` says what the table holds (cover);
    ``about`` gives source, period, synthetic flag and contact; ``notes`` are numbered
    on the Notes sheet; ``withheld`` and ``not_applicable`` say which empty cells are
    ``[c]`` and ``[z]`` (see :func:`shorthand`); ``csv_name`` names the CSV copy.
    """
    path = Path(path)
    about = about or About()
    table = table.reset_index(drop=True)
    columns = [str(c) for c in table.columns]
    labels = column_labels(columns)
    units = [column_unit(c) for c in columns]
    marks = shorthand(table, withheld, not_applicable).to_numpy()
    values = table.astype("object").to_numpy()
    rows = [
        [marks[r, c] or _cell_value(values[r, c]) for c in range(len(columns))]
        for r in range(len(table))
    ]
    book = openpyxl.Workbook()
    _cover(book, title, description, about, csv_name or path.with_suffix(".csv").name)

    notes_sheet = book.create_sheet(NOTES_SHEET)
    note_lines = [n for n in notes if n]
    _write_lines(notes_sheet, [f"Notes: {title}", "This worksheet contains one table."])
    note_rows = [[f"[note {i}]", text] for i, text in enumerate(note_lines, start=1)]
    if about.synthetic:
        note_rows.insert(0, [f"[note {len(note_rows) + 1}]", SYNTHETIC_WARNING])
    shorthand_note = "Shorthand in the table: " + "; ".join(
        f"{m} {t.split(':')[0]}" for m, t in SHORTHAND.items()
    )
    note_rows.append([f"[note {len(note_rows) + 1}]", shorthand_note])
    note_rows = [[f"[note {i}]", text] for i, (_, text) in enumerate(note_rows, start=1)]
    for r, (number, text) in enumerate([["Note number", "Note text"], *note_rows], start=3):
        notes_sheet.cell(row=r, column=1, value=number).font = Font(bold=r == 3)
        cell = notes_sheet.cell(row=r, column=2, value=text)
        cell.font = Font(bold=r == 3)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    notes_sheet.column_dimensions["A"].width = 14
    notes_sheet.column_dimensions["B"].width = 110

    columns_sheet = book.create_sheet(COLUMNS_SHEET)
    columns_sheet.cell(row=1, column=1, value=f"Columns: {title}").font = Font(bold=True, size=14)
    columns_sheet.cell(row=2, column=1, value="This worksheet contains one table.")
    columns_sheet.cell(row=3, column=1, value="One row per column of the table on Table_1.")
    for r, row in enumerate(
        [["Heading", "Unit", "CSV column"]]
        + [[lab, unit or "[z]", col] for lab, (unit, _), col in zip(labels, units, columns)],
        start=4,
    ):
        for c, value in enumerate(row, start=1):
            columns_sheet.cell(row=r, column=c, value=value).font = Font(bold=r == 4)
    for letter, width in (("A", 70), ("B", 20), ("C", 36)):
        columns_sheet.column_dimensions[letter].width = width

    table_sheet_lines = [
        f"{title}",
        SYNTHETIC_WARNING if about.synthetic else "This worksheet contains one table.",
        f"Source: {about.source}. Period: {about.period}.",
        shorthand_note + " (see the Cover sheet). Notes are on the Notes sheet.",
    ]
    widths = [min(max(12, len(lab) // 2 + 4), 40) for lab in labels]
    _table_sheet(book, TABLE_SHEET, rows, labels, widths, [fmt for _, fmt in units])
    sheet = book[TABLE_SHEET]
    for i, line in enumerate(table_sheet_lines, start=1):
        sheet.cell(row=i, column=1, value=line).font = Font(bold=i == 1, size=14 if i == 1 else 11)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path


def is_release_workbook(path: str | Path) -> bool:
    """Whether ``path`` is a workbook laid out by :func:`write_workbook`."""
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        return {COVER_SHEET, COLUMNS_SHEET, TABLE_SHEET} <= set(book.sheetnames)
    finally:
        book.close()


def read_workbook_columns(path: str | Path) -> list[tuple[str, str, str]]:
    """(heading, unit, CSV column) of each column, from the Columns sheet."""
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        rows = list(book[COLUMNS_SHEET].iter_rows(min_row=5, values_only=True))
    finally:
        book.close()
    return [(str(r[0]), str(r[1]), str(r[2])) for r in rows if r and r[0] is not None]


def read_workbook_table(path: str | Path, *, keep_shorthand: bool = False) -> pd.DataFrame:
    """The table of a workbook written by :func:`write_workbook`, as the CSV holds it.

    Columns carry their CSV names (from the Columns sheet, checked against the
    headings); shorthand cells are empty, unless ``keep_shorthand``. Any other text
    stays text (so the audit sees text in a count column). ``ValueError`` when the
    headings do not match the Columns sheet.
    """
    columns = read_workbook_columns(path)
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        rows = list(book[TABLE_SHEET].iter_rows(min_row=TABLE_HEADER_ROW, values_only=True))
    finally:
        book.close()
    header = [h for h in (rows[0] if rows else ()) if h is not None]
    if header != [c[0] for c in columns]:
        raise ValueError(
            f"{path}: the headings of {TABLE_SHEET} do not match the {COLUMNS_SHEET} sheet"
        )
    width = len(header)
    data = [list(r[:width]) for r in rows[1:] if any(v is not None for v in r[:width])]
    frame = pd.DataFrame(data, columns=[c[2] for c in columns], dtype=object)
    if not keep_shorthand:
        frame = frame.mask(frame.isin(list(SHORTHAND)))
    frame = frame.infer_objects()
    for col in frame.columns:
        converted = pd.to_numeric(frame[col], errors="coerce")
        if (converted.notna() == frame[col].notna()).all() and frame[col].notna().any():
            frame[col] = converted
    return frame


#: a number and a text no release table holds, put in withheld cells to follow them
#: through a view
_SENTINEL = -987654321.0
_TEXT_SENTINEL = "\x00withheld\x00"


def withheld_through(view, sources, cells) -> pd.DataFrame:
    """Which cells of ``view(sources)`` show a withheld cell of a source table.

    ``view`` rearranges protected tables (a long form, one area's rows) without
    computing on their numbers. ``sources`` is one table, with ``cells`` its withheld
    cells (as for :func:`shorthand`), or a dict of tables by name, with ``cells`` a dict
    of the same names. A number no table holds is put in the withheld cells and followed
    through ``view``; a boolean frame shaped like the view says where it comes out.
    """
    single = isinstance(sources, pd.DataFrame)
    tables = {"": sources} if single else dict(sources)
    cells = {"": cells} if single else dict(cells or {})
    marked = {}
    for name, table in tables.items():
        table = table.reset_index(drop=True)
        mask = _mask(table, cells.get(name))
        copy = table.copy()
        copy.attrs = dict(table.attrs)
        for i, col in enumerate(table.columns):
            if not mask[:, i].any():
                continue
            if pd.api.types.is_numeric_dtype(copy[col]):
                copy[col] = copy[col].astype("float64").mask(mask[:, i], _SENTINEL)
            else:
                copy[col] = copy[col].astype("object").mask(mask[:, i], _TEXT_SENTINEL)
        marked[name] = copy
    shown = view(marked[""] if single else marked).reset_index(drop=True)
    return pd.DataFrame(
        {
            col: pd.to_numeric(shown[col], errors="coerce").to_numpy(dtype="float64") == _SENTINEL
            for col in shown.columns
        }
    )


def spread_withheld(table: pd.DataFrame, withheld, derived: Mapping) -> pd.DataFrame:
    """Withheld cells and every empty statistic computed from one of them.

    ``derived`` maps a statistic column to the columns it is computed from (a
    :class:`~child_mdh.release.sdc.spec.TableSpec`'s ``derived``): an empty cell of a
    statistic whose row has a withheld cell among them is withheld too (``[c]``), as is a
    statistic of such a statistic. Returns a boolean frame shaped like ``table``.
    """
    table = table.reset_index(drop=True)
    mask = _mask(table, withheld)
    empty = table.isna().to_numpy()
    position = {c: i for i, c in enumerate(table.columns)}
    rules = []
    for stat, backing in derived.items():
        if stat not in position:
            continue
        cols = [position[b] for b in backing if b in position]
        if cols:
            rules.append((position[stat], cols))
    changed = True
    while changed:
        changed = False
        for stat, cols in rules:
            hit = mask[:, cols].any(axis=1) & empty[:, stat] & ~mask[:, stat]
            if hit.any():
                mask[hit, stat] = True
                changed = True
    return pd.DataFrame(mask, columns=table.columns)
