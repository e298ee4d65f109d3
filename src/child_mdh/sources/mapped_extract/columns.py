"""Find a named column in a source file, tolerating case, spaces and NPD affixes.

Extract column names vary between deliveries: case, stray spaces, and the National
Pupil Database habit of tagging columns with the census term (``FSMeligible_SPR21``,
``SPR21_PupilMatchingRefAnonymous``) or the dataset (``CIN_ReferralDate``,
``CLA_DECOM``). A mapping names the column once; :func:`resolve_column` finds it in each
file, in this order of preference:

1. the exact name (surrounding spaces ignored);
2. the same name in another case;
3. the name with one affix added before and/or after it, joined by ``_``: a term tag
   (``SPR``, ``SUM`` or ``AUT`` followed by a two- or four-digit year, e.g. ``SPR21``,
   ``AUT2020``) or a dataset tag (``CIN``, ``CLA``, ``CPP``, ``NPD``).

Two columns matching at the best level is an error listing both (name the column in
full to choose). No match is an error suggesting the columns with similar names.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

#: Term tags of the school census (spring, summer, autumn) with a 2- or 4-digit year.
TERM_TAG = re.compile(r"^(?:spr|sum|aut)(?:\d{2}|\d{4})$")
#: Dataset tags used as column prefixes in NPD social care tables.
DATASET_TAGS = frozenset({"cin", "cla", "cpp", "npd"})


@dataclass(frozen=True)
class ColumnNotFoundError(Exception):
    """No column of the file matches ``requested``; ``similar`` lists near names."""

    requested: str
    similar: tuple[str, ...]

    def describe(self, file_label: str) -> str:
        """A sentence naming the column, the file and the similar columns."""
        msg = f"column {self.requested!r} not found in {file_label}"
        if self.similar:
            msg += "; columns like it: " + ", ".join(repr(c) for c in self.similar)
        else:
            msg += "; check the spelling against the file's header"
        return msg


@dataclass(frozen=True)
class ColumnAmbiguousError(Exception):
    """Several columns of the file match ``requested`` equally well."""

    requested: str
    matches: tuple[str, ...]

    def describe(self, file_label: str) -> str:
        """A sentence naming the column, the file, the candidates and the fix."""
        both = " and ".join(repr(c) for c in self.matches)
        return (
            f"column {self.requested!r} is ambiguous in {file_label}: it matches {both}; "
            "write the full column name in the mapping to choose one"
        )


def _is_affix(token: str) -> bool:
    return bool(TERM_TAG.match(token)) or token in DATASET_TAGS


def bare_names(column: str) -> set[str]:
    """The lower-case forms of ``column`` with one leading and/or trailing affix removed."""
    name = column.strip().casefold()
    parts = name.split("_")
    out: set[str] = set()
    if len(parts) < 2:
        return out
    head = _is_affix(parts[0])
    tail = _is_affix(parts[-1])
    if head:
        out.add("_".join(parts[1:]))
    if tail:
        out.add("_".join(parts[:-1]))
    if head and tail and len(parts) > 2:
        out.add("_".join(parts[1:-1]))
    out.discard("")
    return out


def resolve_column(requested: str, available: list[str]) -> str:
    """The column of ``available`` that ``requested`` names (see the module docstring).

    Returns the column's name exactly as the file spells it. Raises
    :class:`ColumnNotFoundError` or :class:`ColumnAmbiguousError`.
    """
    want = requested.strip()
    exact = [c for c in available if c.strip() == want]
    if len(exact) == 1:
        return exact[0]
    if len(exact) > 1:
        raise ColumnAmbiguousError(requested, tuple(exact))
    folded = want.casefold()
    by_case = [c for c in available if c.strip().casefold() == folded]
    if len(by_case) == 1:
        return by_case[0]
    if len(by_case) > 1:
        raise ColumnAmbiguousError(requested, tuple(by_case))
    by_affix = [c for c in available if folded in bare_names(c)]
    if len(by_affix) == 1:
        return by_affix[0]
    if len(by_affix) > 1:
        raise ColumnAmbiguousError(requested, tuple(by_affix))
    raise ColumnNotFoundError(requested, similar_columns(requested, available))


def similar_columns(requested: str, available: list[str], limit: int = 5) -> tuple[str, ...]:
    """Columns of ``available`` whose names resemble ``requested`` (closest first).

    Uses difflib's ratio on lower-case names and their affix-free forms, plus names that
    contain, or are contained in, the requested name.
    """
    folded = requested.strip().casefold()
    scored: dict[str, float] = {}
    for col in available:
        forms = {col.strip().casefold(), *bare_names(col)}
        score = max(difflib.SequenceMatcher(None, folded, f).ratio() for f in forms)
        if len(folded) >= 3 and any(folded in f or (len(f) >= 3 and f in folded) for f in forms):
            score = max(score, 0.8)
        if score >= 0.6:
            scored[col] = score
    return tuple(sorted(scored, key=lambda c: (-scored[c], c))[:limit])
