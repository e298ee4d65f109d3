"""Problems found in a mapping file or in the data it maps, and the error that lists them.

Every problem names the mapping file and the line it concerns, so the person fixing it
can go straight there. Problems are collected and raised together: one run shows every
mistake, not the first one only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from child_mdh.errors import UserError


@dataclass(frozen=True)
class Problem:
    """One problem: the mapping file, the line (1-based; 0 = the file as a whole), the text."""

    mapping_file: str
    line: int
    message: str

    def __str__(self) -> str:
        where = f"{self.mapping_file} line {self.line}" if self.line else self.mapping_file
        return f"{where}: {self.message}"


class MappingError(UserError):
    """A mapping file, or the extract it maps, cannot be turned into the contract tables.

    ``problems`` lists every problem found (sorted by line); the message shows them all.
    """

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems, key=lambda p: (p.mapping_file, p.line, p.message))
        n = len(self.problems)
        head = (
            f"The mapping cannot be applied: {n} problem{'s' if n != 1 else ''} "
            "(fix them and run again)."
        )
        super().__init__("\n".join([head, *(f"- {p}" for p in self.problems)]))


class ProblemList:
    """Collects problems for one mapping file."""

    def __init__(self, mapping_path: Path):
        self.mapping_file = Path(mapping_path).name
        self.items: list[Problem] = []

    def add(self, line: int, message: str) -> None:
        """Record a problem at ``line`` of the mapping file."""
        self.items.append(Problem(self.mapping_file, int(line or 0), message))

    def __bool__(self) -> bool:
        return bool(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def raise_if_any(self) -> None:
        """Raise :class:`MappingError` listing every problem, if there is one."""
        if self.items:
            raise MappingError(self.items)


def quote_list(values, limit: int = 5) -> str:
    """``'a', 'b', 'c'`` (at most ``limit`` values, then ``and N more``)."""
    values = list(values)
    shown = ", ".join(repr(str(v)) for v in values[:limit])
    if len(values) > limit:
        shown += f" and {len(values) - limit} more"
    return shown
