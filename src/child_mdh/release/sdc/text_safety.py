"""Text that leaves the secure environment: inert in spreadsheets, free of identifiers.

The table checks count cells; they do not read words. Two dangers live in the words:

- **Formulas in text cells.** A spreadsheet opening a CSV or XLSX runs a cell starting
  with ``=``, ``+``, ``-`` or ``@`` as a formula (``=HYPERLINK(...)`` can send data
  elsewhere, ``=cmd|...`` can run a program). :func:`neutralise_formulas` follows OWASP,
  *CSV Injection* (https://owasp.org/www-community/attacks/CSV_Injection): a text cell
  whose first non-blank character is one of ``= + - @``, or that starts with a tab or a
  carriage return, gets a leading apostrophe ``'``, which makes the cell plain text.
  A text cell holding just a number (``-0.5``, ``+3``, ``1e-3``, blanks around it
  allowed) is a number, not a formula, and is left alone; so are numeric columns (a
  negative number stays a number). The apostrophe shows in the XLSX cell and when the
  CSV is read as text; that is the price of being inert everywhere.
- **Identifiers in free text.** A council's statement, a label or a comment could carry
  a pupil's number, a date of birth or an address. :func:`find_identifiers` looks for:

  ==============  =======================================================================
  kind            what is found
  ==============  =======================================================================
  upn             a unique pupil number: a letter and 12 characters, 11 digits then a
                  digit or (temporary UPN) a letter, e.g. A123456789012; the check letter
                  is not verified, so mistyped UPNs are found too (DfE, *Unique pupil
                  numbers (UPNs)*, guidance for schools and local authorities)
  record_id       an identifier of the data contract named with its value
                  (``pupil_id 123``, ``person_id: P000000001``, ``UPN 12345``), and the
                  identifier formats the synthetic data writes (``H`` + 8 digits,
                  ``P`` + 9 digits, ``PMR`` + 10 digits)
  long_number     8 or more digits in a row not inside a word or a decimal (a pupil
                  matching reference, an NHS number, a phone number); ONS codes such as
                  E06000001 are words and are not found
  date            a full date, which could be a date of birth: 12/03/2014, 12-03-2014,
                  12.03.2014, 12/03/14, 2014-03-12, 12 March 2014, 12th of Mar 2014,
                  March 12, 2014 (years 1900-2099, days and months checked); a year
                  (2021), a month and year (March 2024) or a period (2021/22, 2023-24)
                  is not a date here
  postcode        a full UK postcode (outward and inward code, e.g. SW1A 1AA, M1 1AE,
                  any case, space optional), the letters allowed in each position as in
                  the UK Government Data Standards Catalogue pattern; a bare outward
                  code (SW1A, M1) is a district, not an address, and is not found, nor
                  is a lower-case ordinal after one ('Y6 2nd')
  address         a house number (up to 4 digits, a letter or a range allowed, not a
                  year 1900-2099), one to three capitalised words and a street suffix
                  (Road, Street, Avenue, Lane, Close, Drive, Way, Crescent, Court, Place,
                  Gardens, Terrace, Grove, Mews, Square, Walk, Row; Rd, St, Ave); 'St'
                  followed by a capitalised word (St Helens) and courts of law
                  (Family Court, Crown Court, ...) are not addresses
  ==============  =======================================================================

  Numbers in ordinary statistical prose are not found: years, financial years, ONS
  codes, percentages, rates and counts written with thousands separators. The search
  can still miss an identifier written in an unusual way (a UPN with spaces, an
  address without a number): an output checker still reads free text.

:func:`check_free_text` raises :class:`IdentifierError`, whose message names where the
text came from, each finding (kind, position, the match masked after its first
character, so the log does not repeat the identifier) and the fix.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pandas as pd

from child_mdh.errors import UserError
from child_mdh.release.sdc.spec import PERSON_LEVEL_IDENTIFIERS

# --------------------------------------------------------------------------------------
# formulas in spreadsheet cells
# --------------------------------------------------------------------------------------
#: Characters a spreadsheet reads as the start of a formula (OWASP, CSV Injection).
FORMULA_STARTS = ("=", "+", "-", "@")
#: Leading characters OWASP lists besides: a tab and a carriage return.
CONTROL_STARTS = ("\t", "\r")
#: A plain decimal number, signed or not, with an optional exponent (no thousands
#: separators, no 'inf' or 'nan'): such a cell is a number, not a formula.
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def is_formula(text: str) -> bool:
    """Whether a spreadsheet could run ``text`` as a formula (see the module notes)."""
    if not text or _PLAIN_NUMBER.fullmatch(text.strip()):
        return False
    if text.startswith(CONTROL_STARTS):
        return True
    stripped = text.lstrip()
    return bool(stripped) and stripped.startswith(FORMULA_STARTS)


def _inert(value):
    return "'" + value if isinstance(value, str) and is_formula(value) else value


def _is_text(s: pd.Series) -> bool:
    return s.dtype == object or isinstance(s.dtype, (pd.StringDtype, pd.CategoricalDtype))


def neutralise_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells and column names a spreadsheet cannot run.

    Method (OWASP, *CSV Injection*, https://owasp.org/www-community/attacks/CSV_Injection):
    every string in an object, string or categorical column, and every column name,
    whose first non-blank character is ``=``, ``+``, ``-`` or ``@``, or which starts with
    a tab or a carriage return, is prefixed with an apostrophe ``'``. A string that is
    entirely a finite decimal number (``-0.5``, ``+3``) is left alone, and numeric,
    boolean and date columns are not touched. Missing values stay missing.
    """
    out = df.copy()
    for i in range(out.shape[1]):
        s = out.iloc[:, i]
        if not _is_text(s):
            continue
        if isinstance(s.dtype, pd.CategoricalDtype):
            s = s.astype(object)
        flagged = [isinstance(v, str) and is_formula(v) for v in s]
        if any(flagged):
            values = ["'" + v if f else v for v, f in zip(s, flagged)]
            out.isetitem(i, pd.Series(values, index=s.index, dtype=s.dtype, name=s.name))
    if isinstance(out.columns, pd.MultiIndex):
        names = [tuple(_inert(v) for v in c) for c in out.columns]
        if names != list(out.columns):
            out.columns = pd.MultiIndex.from_tuples(names, names=out.columns.names)
    else:
        names = [_inert(c) for c in out.columns]
        if names != list(out.columns):
            out.columns = pd.Index(names, name=out.columns.name)
    return out


# --------------------------------------------------------------------------------------
# identifiers in free text
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class IdentifierFinding:
    """One possible identifier: its ``kind``, the text ``match``ed and where it starts."""

    kind: str
    match: str
    position: int

    def masked(self) -> str:
        """The match with every character after the first replaced by ``*``."""
        return self.match[:1] + "*" * (len(self.match) - 1)


KIND_LABELS = {
    "upn": "unique pupil number",
    "record_id": "record identifier",
    "long_number": "long number (8+ digits)",
    "date": "full date (possible date of birth)",
    "postcode": "postcode",
    "address": "street address",
}

_MONTHS = (
    "jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    "sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
_ORDINAL = r"(?:st|nd|rd|th)?"

_UPN = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]\d{11}[0-9A-Za-z](?![A-Za-z0-9])")
_ID_NAMES = "|".join(n.replace("_", "[ _-]?") for n in PERSON_LEVEL_IDENTIFIERS)
_RECORD_ID = re.compile(
    rf"\b(?:{_ID_NAMES}|upn|unique pupil number)s?\b\s*(?:[:=#]|is|was|of)?\s*"
    r"[\"'(]?([A-Za-z]*\d[\w/-]*)",
    re.IGNORECASE,
)
#: a year or period after an identifier's name ('UPNs 2021/22') is not its value
_YEAR_OR_PERIOD = re.compile(r"(?:19|20)\d\d(?:[/-]\d\d(?:\d\d)?)?")
#: identifier formats of the synthetic data (synth/tables.py: household, person, pupil)
_SYNTHETIC_ID = re.compile(r"(?<![A-Za-z0-9])(?:H\d{8,}|P\d{9,}|PMR\d{10,})(?![A-Za-z0-9])")
_LONG_NUMBER = re.compile(r"(?<!\w)(?<!\d[.,])\d{8,}(?![.,]?\d)(?!\w)")
_DATE_DMY = re.compile(r"(?<![\w/.-])(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})(?![\w/-])(?!\.\d)")
_DATE_YMD = re.compile(r"(?<![\w/.-])(\d{4})([/.-])(\d{1,2})\2(\d{1,2})(?![\w/])(?![.-]\d)")
_DATE_WORDS = re.compile(
    rf"\b(\d{{1,2}}){_ORDINAL}(?:\s+of)?\s+({_MONTHS})\.?,?\s+(\d{{4}})\b", re.IGNORECASE
)
_DATE_US_WORDS = re.compile(
    rf"\b({_MONTHS})\.?\s+(\d{{1,2}}){_ORDINAL},?\s+(\d{{4}})\b", re.IGNORECASE
)
_POSTCODE = re.compile(
    r"(?<![A-Za-z0-9])(?:GIR ?0AA|[A-PR-UWYZ](?:\d[A-HJKPSTUW]|\d{1,2}|[A-HK-Y]\d[ABEHMNPRV-Y]"
    r"|[A-HK-Y]\d{1,2}) ?(\d[ABD-HJLNP-UW-Z]{2}))(?![A-Za-z0-9])",
    re.IGNORECASE,
)
_SUFFIXES = (
    "Road",
    "Street",
    "Avenue",
    "Lane",
    "Close",
    "Drive",
    "Way",
    "Crescent",
    "Court",
    "Place",
    "Gardens",
    "Terrace",
    "Grove",
    "Mews",
    "Square",
    "Walk",
    "Row",
    "Rd",
    "St",
    "Ave",
)
_SUFFIX = "|".join([*_SUFFIXES, *(s.upper() for s in _SUFFIXES)])
_ADDRESS = re.compile(
    r"(?<![\w.,/-])(\d{1,4})([A-Za-z]?(?:\s?[-\u2013]\s?\d{1,4}[A-Za-z]?)?),?\s+"
    rf"((?:[A-Z][\w'\u2019-]*\s+){{1,3}})({_SUFFIX})\b"
)
_CAPITALISED_WORD = re.compile(r"\s+[A-Z][a-z]")
#: words before 'Court' naming a court of law, not a street
_LAW_COURTS = {
    "family",
    "crown",
    "county",
    "magistrates",
    "magistrates'",
    "youth",
    "high",
    "supreme",
    "appeal",
    "coroner's",
    "coroners",
    "district",
    "civil",
}


def _valid_date(day: int, month: int, year: int) -> bool:
    return 1 <= day <= 31 and 1 <= month <= 12 and 1900 <= year <= 2099


def _dates(text: str) -> Iterable[re.Match]:
    for m in _DATE_DMY.finditer(text):
        day, sep, month, year = int(m[1]), m[2], int(m[3]), m[4]
        if len(year) == 2:
            if sep != "/":
                continue
            year = "20" + year if int(year) < 50 else "19" + year
        if _valid_date(day, month, int(year)):
            yield m
    for m in _DATE_YMD.finditer(text):
        if _valid_date(int(m[4]), int(m[3]), int(m[1])):
            yield m
    for m in _DATE_WORDS.finditer(text):
        if _valid_date(int(m[1]), 1, int(m[3])):
            yield m
    for m in _DATE_US_WORDS.finditer(text):
        if _valid_date(int(m[2]), 1, int(m[3])):
            yield m


def _addresses(text: str) -> Iterable[re.Match]:
    for m in _ADDRESS.finditer(text):
        if not m[2] and 1900 <= int(m[1]) <= 2099:
            continue  # a year: 'in 2021 Children's Services Court...' is not a house
        words = m[3].split()
        if m[4].lower() == "court" and words[-1].lower() in _LAW_COURTS:
            continue
        if m[4].lower() == "st" and _CAPITALISED_WORD.match(text, m.end()):
            continue  # 'St Helens', 'St Mary's': a saint, not a street
        yield m


def _record_ids(text: str) -> Iterable[re.Match]:
    for m in _RECORD_ID.finditer(text):
        if not _YEAR_OR_PERIOD.fullmatch(m[1]):
            yield m
    yield from _SYNTHETIC_ID.finditer(text)


def _postcodes(text: str) -> Iterable[re.Match]:
    for m in _POSTCODE.finditer(text):
        inward_letters = (m[1] or "")[1:]
        if inward_letters in ("st", "nd", "rd", "th"):
            continue  # 'Y6 2nd', 'KS2 1st': an ordinal, not an inward code
        yield m


def find_identifiers(text: str) -> list[IdentifierFinding]:
    """Possible identifiers in ``text`` (see the module notes for each kind), in order.

    Where two kinds find overlapping text (``pupil_id 12345678`` is a record identifier
    and a long number), the finding that starts first, then the longest, is kept.
    """
    if not isinstance(text, str) or not text:
        return []
    found: list[IdentifierFinding] = []
    searches = (
        ("upn", _UPN.finditer(text)),
        ("record_id", _record_ids(text)),
        ("long_number", _LONG_NUMBER.finditer(text)),
        ("date", _dates(text)),
        ("postcode", _postcodes(text)),
        ("address", _addresses(text)),
    )
    for kind, matches in searches:
        found += [IdentifierFinding(kind, m[0].strip(), m.start()) for m in matches]
    found.sort(key=lambda f: (f.position, -len(f.match)))
    kept: list[IdentifierFinding] = []
    for f in found:
        if kept and f.position < kept[-1].position + len(kept[-1].match):
            continue
        kept.append(f)
    return kept


class IdentifierError(UserError):
    """Free text holds what may identify a person; nothing was written.

    ``problems`` lists (source, findings) pairs; the message names each source, each
    finding with its kind and position and the match masked after its first character,
    and the fix.
    """

    def __init__(self, problems: Sequence[tuple[str, Sequence[IdentifierFinding]]]):
        self.problems = [(source, list(findings)) for source, findings in problems]
        lines = ["possible identifiers in free text, which must not leave the secure environment:"]
        for source, findings in self.problems:
            for f in findings:
                lines.append(
                    f"  - {source}: {KIND_LABELS.get(f.kind, f.kind)} "
                    f"'{f.masked()}' at character {f.position + 1}"
                )
        lines.append(
            "  Fix: remove the identifier from the statement and rerun (write a "
            "date as a month and year or a period such as 2023-24, a place as "
            "its local authority)."
        )
        super().__init__("\n".join(lines))

    @property
    def findings(self) -> list[IdentifierFinding]:
        return [f for _, findings in self.problems for f in findings]


def check_free_text(text: str, source: str) -> None:
    """Raise :class:`IdentifierError` naming ``source`` (a file and field, say) when
    :func:`find_identifiers` finds anything in ``text``."""
    findings = find_identifiers(text)
    if findings:
        raise IdentifierError([(source, findings)])
