"""What a release table holds, declared by the code that builds it.

A :class:`TableSpec` says which columns are counts (by default every column ending in
``_n``), which statistics are computed from which counts, which rows or columns add up to
totals (margins), where a zero is structural, and which magnitude cells come from which
contributions. The rules in :mod:`child_mdh.release.sdc.rules` and
:mod:`child_mdh.release.sdc.suppression` act on that declaration, and the output manifest records
it (without any data) so the release audit can re-check the written file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

from child_mdh.aggregates.formulas import Formula, as_formula, names

COUNT_SUFFIX = "_n"

#: Person-level identifiers of the data contract: a column with one of these names never
#: belongs in a release table.
PERSON_LEVEL_IDENTIFIERS = ("person_id", "pupil_id", "household_id")


@dataclass(frozen=True)
class RowMargin:
    """Rows of the table that add up to another row of the table, column by column.

    ``id_column`` names each row within its group (for example ``la_code``). Say which
    row is the total of which in one of two ways:

    - ``total``: the id of the one total row (for example England's code); every other
      row is one of its parts;
    - ``parent``: a column of the table holding each row's parent id, or a mapping
      id -> parent id (a hierarchy: local authorities -> regions -> England). Rows with
      no parent are top-level totals.

    ``within`` lists the other key columns: the sum holds separately for each of their
    combinations (for example per ``category`` in a long table). ``columns`` limits the
    margin to some count columns (default: every protected column).

    ``same_total`` (with ``total`` and ``within``): the total row of every ``within``
    group counts the same children, one population broken down several ways (by region,
    by sex, by age...). A reader knows the totals are one number, so the table publishes
    one: rounded counts are then *controlled* (:mod:`child_mdh.release.sdc.controlled_rounding`):
    the total rounded to the nearest base, each breakdown's parts rounded up or down so
    that they add up to it. Independent rounding of each breakdown would publish a
    different total for each, and read together they narrow the count, and its parts,
    more than rounding allows.
    """

    id_column: str
    total: str | None = None
    parent: str | Mapping[str, str] | None = None
    within: tuple[str, ...] = ()
    columns: tuple[str, ...] | None = None
    same_total: bool = False

    def __post_init__(self) -> None:
        if (self.total is None) == (self.parent is None):
            raise ValueError(
                f"RowMargin on {self.id_column}: give exactly one of total= "
                "(the total row's id) or parent= (a column or mapping)"
            )
        object.__setattr__(self, "within", tuple(self.within))
        if self.same_total and (self.total is None or not self.within):
            raise ValueError(
                f"RowMargin on {self.id_column}: same_total needs total= (the total row's "
                "id) and within= (the breakdowns that share it)"
            )
        if self.columns is not None:
            object.__setattr__(self, "columns", tuple(self.columns))

    def to_dict(self) -> dict:
        """JSON-able description (recorded in the manifest for the audit)."""
        parent = dict(self.parent) if isinstance(self.parent, Mapping) else self.parent
        return {
            "kind": "rows",
            "id_column": self.id_column,
            "total": self.total,
            "parent": parent,
            "within": list(self.within),
            "columns": list(self.columns) if self.columns is not None else None,
            "same_total": self.same_total,
        }


@dataclass(frozen=True)
class ColumnMargin:
    """Columns whose values add up, row by row, to a total column (``parts`` -> ``total``)."""

    parts: tuple[str, ...]
    total: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "parts", tuple(self.parts))
        if not self.parts:
            raise ValueError(f"ColumnMargin for {self.total}: list the columns that add up to it")
        if self.total in self.parts:
            raise ValueError(f"ColumnMargin: {self.total} is both a part and the total")

    def to_dict(self) -> dict:
        """JSON-able description (recorded in the manifest for the audit)."""
        return {"kind": "columns", "parts": list(self.parts), "total": self.total}


Margin = RowMargin | ColumnMargin


@dataclass(frozen=True)
class CountSum:
    """A count of another table's population that is the sum of cells of this table.

    For each combination of values of the ``by`` key columns among the rows that
    ``where`` selects (key column -> the values selected), the count ``column`` of
    ``population`` with those dimension values (each ``by`` column under its dimension
    name in this table) equals the sum of this table's ``parts`` column over those rows.
    For example the MDH children of an area in the index (population ``index``,
    ``mdh_n``) are the children of the deprivation profiles that make a child MDH in the
    same area: ``CountSum("index", "mdh_n", "children_n", {"deprivation_profile": (...)},
    by=("area_code",))``. ``at`` gives dimension values of the total that are not
    columns of this table (dimension name -> value): England's row of another table, say,
    summed from rows of a table without an area column, or a count published under other
    key columns. With one selected row per group the sum is one part, and the declaration
    says that the cell *is* the other table's count (the same number published twice
    under different keys). With ``view`` the cell publishes the other table's published
    value (a view of it, not a rounding of its own): where that value is a sum of
    rounded parts, it is no bound on the count, and the audit takes none from the view
    either. The release-wide audit adds each such sum as an equation
    between the true counts, wherever the total is published (or not: then it is one
    more unknown).
    """

    population: str
    column: str
    parts: str
    where: Mapping[str, tuple[str, ...]]
    by: tuple[str, ...] = ()
    at: Mapping[str, str] = field(default_factory=dict)
    view: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "where", {str(k): tuple(str(v) for v in vs) for k, vs in dict(self.where).items()}
        )
        object.__setattr__(self, "by", tuple(self.by))
        object.__setattr__(self, "at", {str(k): str(v) for k, v in dict(self.at).items()})

    def __hash__(self) -> int:
        return hash(
            (
                self.population,
                self.column,
                self.parts,
                tuple(sorted(self.where.items())),
                self.by,
                tuple(sorted(self.at.items())),
                self.view,
            )
        )

    def to_dict(self) -> dict:
        """JSON-able description (recorded in the manifest for the audit)."""
        return {
            "population": self.population,
            "column": self.column,
            "parts": self.parts,
            "where": {k: list(v) for k, v in self.where.items()},
            "by": list(self.by),
            "at": dict(self.at),
            "view": self.view,
        }

    @classmethod
    def from_dict(cls, d: Mapping) -> CountSum:
        """Rebuild from :meth:`to_dict`."""
        return cls(
            d["population"],
            d["column"],
            d["parts"],
            d.get("where") or {},
            d.get("by") or (),
            d.get("at") or {},
            bool(d.get("view", False)),
        )


def margin_from_dict(d: Mapping) -> Margin:
    """Rebuild a margin from :meth:`RowMargin.to_dict` / :meth:`ColumnMargin.to_dict`."""
    if d.get("kind") == "rows":
        return RowMargin(
            id_column=d["id_column"],
            total=d.get("total"),
            parent=d.get("parent"),
            within=tuple(d.get("within") or ()),
            columns=tuple(d["columns"]) if d.get("columns") is not None else None,
            same_total=bool(d.get("same_total", False)),
        )
    if d.get("kind") == "columns":
        return ColumnMargin(parts=tuple(d["parts"]), total=d["total"])
    raise ValueError(f"unknown margin description {dict(d)!r}")


@dataclass(frozen=True)
class Contributions:
    """Individual contributions behind a magnitude cell (for the dominance rules).

    ``frame`` holds one row per contributor with the table's ``keys`` columns (matching
    the release table's rows) and the contributed ``value`` (non-negative). It stays in
    the secure area: only the results of the rules reach the manifest.
    """

    frame: pd.DataFrame
    keys: tuple[str, ...]
    value: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "keys", tuple(self.keys))


@dataclass(frozen=True)
class TableSpec:
    """The disclosure-relevant structure of one release table.

    - ``count_columns``: columns holding counts of people or events (default: every
      column ending in ``_n``).
    - ``derived``: statistic column -> the count (or magnitude) columns it is computed
      from; the statistic is suppressed wherever one of them is suppressed, and its
      counts must pass the threshold (a rate, percentage, mean or interval bound).
    - ``key_columns``: columns that identify a row (area code, category, year).
    - ``margins``: :class:`RowMargin` / :class:`ColumnMargin` declarations.
    - ``structural_zeros``: count column (or ``'*'`` for all) -> name of a boolean
      column that is True where a zero in that row cannot be otherwise (for example a
      category that does not exist for that area).
    - ``magnitude``: magnitude column -> its :class:`Contributions` (dominance rules).
    - ``residual_df``: residual degrees of freedom of a released model.
    - ``withhold_columns``: columns used for checking (denominators, say) but not released.
    - ``not_counts``: whole-number columns that do not count people (a year, a number of
      domains) and need no review.
    - ``formulas``: statistic column -> :class:`~child_mdh.aggregates.formulas.Formula` (or an
      expression string) over the table's columns. The statistic is computed from the
      *protected* counts when the table is protected, its backing columns are added to
      ``derived``, and the release audit re-computes it from the written file.
    - ``population`` and ``dimensions``: what the count cells count, for the release-wide
      audit. Two cells in any two release files with the same population, column and
      dimension values are the same number (for example ``mdh_n`` of one local authority
      in two files); ``dimensions`` maps key columns to dimension names (default: every
      key column under its own name). Without a population each cell is its own number.
    - ``sums``: :class:`CountSum` declarations: counts of other populations (in other
      release tables) that are sums of this table's cells, for the release-wide audit.
    """

    count_columns: tuple[str, ...] | None = None
    derived: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    key_columns: tuple[str, ...] = ()
    margins: tuple[Margin, ...] = ()
    structural_zeros: Mapping[str, str] = field(default_factory=dict)
    magnitude: Mapping[str, Contributions] = field(default_factory=dict)
    residual_df: float | None = None
    withhold_columns: tuple[str, ...] = ()
    not_counts: tuple[str, ...] = ()
    formulas: Mapping[str, Formula | str] = field(default_factory=dict)
    population: str | None = None
    dimensions: Mapping[str, str] = field(default_factory=dict)
    sums: tuple[CountSum, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "sums", tuple(self.sums))
        if self.count_columns is not None:
            object.__setattr__(self, "count_columns", tuple(self.count_columns))
        formulas = {c: as_formula(f) for c, f in dict(self.formulas).items()}
        object.__setattr__(self, "formulas", formulas)
        object.__setattr__(self, "dimensions", dict(self.dimensions))
        derived_in = dict(self.derived)
        counted = set(self.count_columns or ())
        parameters: list[str] = []
        for stat, formula in formulas.items():
            read = [n for n in names(formula.expr) if n != stat]
            backing = [
                n
                for n in read
                if n in formulas
                or n in counted
                or (self.count_columns is None and n.endswith(COUNT_SUFFIX))
            ]
            parameters += [n for n in read if n not in backing and n not in parameters]
            derived_in[stat] = tuple(dict.fromkeys([*(derived_in.get(stat) or ()), *backing]))
        # published parameters of a formula (a design factor): numbers, not counts
        object.__setattr__(
            self, "not_counts", tuple(dict.fromkeys([*self.not_counts, *parameters]))
        )
        derived = {}
        for stat, backing in derived_in.items():
            backing = (backing,) if isinstance(backing, str) else tuple(backing)
            if not backing:
                raise ValueError(f"derived column {stat}: name the count columns behind it")
            derived[stat] = backing
        object.__setattr__(self, "derived", derived)
        object.__setattr__(self, "key_columns", tuple(self.key_columns))
        object.__setattr__(self, "margins", tuple(self.margins))
        object.__setattr__(self, "structural_zeros", dict(self.structural_zeros))
        object.__setattr__(self, "magnitude", dict(self.magnitude))
        object.__setattr__(self, "withhold_columns", tuple(self.withhold_columns))

    # -- resolved column lists -------------------------------------------------------
    def counts(self, df: pd.DataFrame) -> list[str]:
        """The count columns of ``df`` under this spec."""
        if self.count_columns is not None:
            return list(self.count_columns)
        return [c for c in df.columns if str(c).endswith(COUNT_SUFFIX)]

    def protected(self, df: pd.DataFrame) -> list[str]:
        """Columns whose cells are suppressed directly: counts, then magnitude columns."""
        cols = self.counts(df)
        return cols + [c for c in self.magnitude if c not in cols]

    def structural_flag(self, column: str) -> str | None:
        """The boolean column marking structural zeros of ``column``, if any."""
        return self.structural_zeros.get(column, self.structural_zeros.get("*"))

    def validate_against(self, df: pd.DataFrame, table: str = "table") -> None:
        """Raise ``ValueError`` when the spec names columns that ``df`` lacks."""
        missing = []
        named = (
            list(self.count_columns or ())
            + list(self.derived)
            + [b for bs in self.derived.values() for b in bs]
            + list(self.key_columns)
            + list(self.structural_zeros.values())
            + list(self.magnitude)
            + list(self.withhold_columns)
        )
        for c in self.sums:
            named += [c.parts, *c.where, *c.by]
        for m in self.margins:
            if isinstance(m, RowMargin):
                named += [m.id_column, *m.within, *(m.columns or ())]
                if isinstance(m.parent, str):
                    named.append(m.parent)
            else:
                named += [*m.parts, m.total]
        for col in named:
            if col not in df.columns and col not in missing:
                missing.append(col)
        if missing:
            raise ValueError(
                f"{table}: the disclosure spec names column(s) {', '.join(map(str, missing))} "
                f"that the table does not have (it has {', '.join(map(str, df.columns))}). "
                "Fix the spec or add the columns."
            )

    def structure(self, df: pd.DataFrame) -> dict:
        """JSON-able description of the released table's structure (no data values).

        Recorded in the manifest so :func:`child_mdh.release.sdc.audit.audit_release` can
        re-check the written file.
        """
        released = [c for c in df.columns if c not in self.withhold_columns]
        return {
            "count_columns": [c for c in self.counts(df) if c in released],
            # a statistic is re-checked against the counts released beside it
            "derived": {
                k: [b for b in v if b in released]
                for k, v in self.derived.items()
                if k in released and any(b in released for b in v)
            },
            "key_columns": list(self.key_columns),
            "margins": [self._resolved_margin(m, df) for m in self.margins],
            "structural_zeros": dict(self.structural_zeros),
            "magnitude_columns": [c for c in self.magnitude if c in released],
            "withheld_columns": list(self.withhold_columns),
            "not_counts": list(self.not_counts),
            "residual_df": self.residual_df,
            "formulas": {k: f.to_dict() for k, f in self.formulas.items() if k in released},
            "population": self.population,
            "dimensions": self.dimension_map(),
            "sums": [c.to_dict() for c in self.sums],
        }

    def dimension_map(self) -> dict[str, str]:
        """Key column -> dimension name (every key column under its own name by default)."""
        if self.dimensions:
            return dict(self.dimensions)
        return {k: k for k in self.key_columns}

    def _resolved_margin(self, margin: Margin, df: pd.DataFrame) -> dict:
        d = margin.to_dict()
        if d["kind"] == "rows" and d["columns"] is None:
            d["columns"] = [c for c in self.protected(df) if c not in self.withhold_columns]
        return d

    @classmethod
    def from_structure(cls, d: Mapping) -> TableSpec:
        """Rebuild the checkable part of a spec from :meth:`structure` (for the audit)."""
        return cls(
            count_columns=tuple(d.get("count_columns") or ()),
            derived={k: tuple(v) for k, v in (d.get("derived") or {}).items()},
            key_columns=tuple(d.get("key_columns") or ()),
            margins=tuple(margin_from_dict(m) for m in d.get("margins") or ()),
            structural_zeros=dict(d.get("structural_zeros") or {}),
            residual_df=d.get("residual_df"),
            not_counts=tuple(d.get("not_counts") or ()),
            formulas={k: as_formula(v) for k, v in (d.get("formulas") or {}).items()},
            population=d.get("population"),
            dimensions=dict(d.get("dimensions") or {}),
            sums=tuple(CountSum.from_dict(c) for c in d.get("sums") or ()),
        )
