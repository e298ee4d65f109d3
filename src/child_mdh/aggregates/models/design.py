"""Design matrices for models with categorical covariates, built the same way every time.

A model is written as a list of terms: a column name (``"age"``) or an interaction of
columns (``"mdh:la_mdh_prevalence_centred"``). A column is *categorical* unless it holds floats
or is named in ``numeric``: booleans, integers (deprivation counts, ages in years) and
strings become treatment-coded dummies against a reference level (the smallest level
unless ``reference`` says otherwise). Column names follow the patsy convention
(``n_domains[T.2]``, ``mdh[T.True]:la_mdh_prevalence_centred``) so results read like
statsmodels formula output.

The design is fixed when it is created from the data the model is fitted on; the same
:class:`Design` then builds the matrix of any other frame with the same columns (the
counterfactual frames of standardised predictions), refusing levels it has not seen.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.linalg import solve_triangular


def term_variables(term: str) -> list[str]:
    """The column names a term uses: ``"a:b"`` -> ``["a", "b"]``."""
    return [v.strip() for v in term.split(":") if v.strip()]


def terms_variables(terms) -> list[str]:
    """The distinct columns used by a list of terms, in order of first use."""
    out: list[str] = []
    for t in terms:
        for v in term_variables(t):
            if v not in out:
                out.append(v)
    return out


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_float_dtype(series.dtype)


def _sorted_levels(series: pd.Series) -> list:
    if isinstance(series.dtype, pd.CategoricalDtype):
        present = set(series.dropna().unique())
        return [c for c in series.cat.categories if c in present]
    values = pd.unique(series.dropna())
    try:
        return sorted(values.tolist())
    except TypeError:
        return sorted(values.tolist(), key=str)


def _level_label(level) -> str:
    if isinstance(level, (bool, np.bool_)):
        return "True" if level else "False"
    if isinstance(level, (np.integer,)):
        return str(int(level))
    if isinstance(level, (float, np.floating)) and float(level).is_integer():
        return str(int(level))
    return str(level)


def level_codes(values: pd.Series, levels: list) -> np.ndarray:
    """Position of each value in ``levels`` (-1 for a value not among them, or missing)."""
    index = pd.Index(levels, dtype=object)
    if isinstance(getattr(values, "dtype", None), pd.CategoricalDtype):
        cat = pd.Categorical(values)
        pos = index.get_indexer(pd.Index(np.asarray(cat.categories, dtype=object), dtype=object))
        codes = np.asarray(cat.codes)
    else:
        # factorise first (hashing), then match the few distinct values to the levels
        codes, uniques = pd.factorize(
            pd.Series(values) if not isinstance(values, pd.Series) else values, use_na_sentinel=True
        )
        pos = index.get_indexer(pd.Index(np.asarray(uniques, dtype=object), dtype=object))
    if len(pos) == 0:
        return np.full(len(codes), -1, dtype=np.intp)
    return np.where(codes >= 0, pos[np.maximum(codes, 0)], -1)


@dataclass
class Design:
    """A fixed treatment-coded design: terms, the levels of each categorical variable.

    Build it with :meth:`from_frame`; :meth:`matrix` then returns the float design matrix
    of any frame that holds the variables, with ``columns`` naming its columns.
    """

    terms: tuple[str, ...]
    levels: dict[str, list]
    numeric: frozenset[str]
    intercept: bool = True
    fixed_effects: str | None = None
    columns: list[str] = field(default_factory=list)
    #: for each design column, the term it belongs to ("Intercept" for the constant)
    column_terms: list[str] = field(default_factory=list)

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        terms,
        *,
        reference: dict | None = None,
        numeric=(),
        intercept: bool = True,
        fixed_effects: str | None = None,
    ) -> Design:
        """Fix the design of ``terms`` on ``frame``.

        ``reference`` maps a categorical variable to its reference level; ``numeric``
        names integer columns to enter as numbers rather than categories;
        ``fixed_effects`` names a categorical column whose dummies are placed right
        after the intercept (so that a covariate constant within its groups, such as
        an area-level prevalence, is the column found collinear and omitted).
        """
        terms = tuple(terms)
        reference = dict(reference or {})
        numeric = frozenset(numeric)
        variables = terms_variables(terms)
        if fixed_effects is not None and fixed_effects not in variables:
            variables = [fixed_effects, *variables]
        missing = [v for v in variables if v not in frame.columns]
        if missing:
            raise KeyError(
                f"model terms use columns not in the data: {missing}; available columns: "
                f"{list(frame.columns)[:30]}"
            )
        levels: dict[str, list] = {}
        num: set[str] = set()
        for v in variables:
            if v in numeric or (_is_numeric(frame[v]) and v not in reference):
                num.add(v)
                continue
            lv = _sorted_levels(frame[v])
            if not lv:
                raise ValueError(f"model variable {v!r} has no non-missing values")
            if v in reference:
                ref = reference[v]
                match = [x for x in lv if x == ref or _level_label(x) == _level_label(ref)]
                if not match:
                    raise ValueError(
                        f"reference level {ref!r} of {v!r} is not in the data; levels: {lv}"
                    )
                lv = [match[0]] + [x for x in lv if x is not match[0]]
            levels[v] = lv
        design = cls(
            terms=terms,
            levels=levels,
            numeric=frozenset(num),
            intercept=intercept,
            fixed_effects=fixed_effects,
        )
        design._name_columns()
        return design

    # ------------------------------------------------------------------ naming
    def _variable_columns(self, v: str) -> list[str]:
        if v in self.numeric:
            return [v]
        return [f"{v}[T.{_level_label(x)}]" for x in self.levels[v][1:]]

    def _term_columns(self, term: str) -> list[str]:
        names = [""]
        for v in term_variables(term):
            names = [f"{a}:{b}" if a else b for a in names for b in self._variable_columns(v)]
        return names

    def _ordered_terms(self) -> list[str]:
        fe = self.fixed_effects
        rest = [t for t in self.terms if t != fe]
        return ([fe] if fe is not None else []) + rest

    def _name_columns(self) -> None:
        cols: list[str] = []
        owners: list[str] = []
        if self.intercept:
            cols.append("Intercept")
            owners.append("Intercept")
        for t in self._ordered_terms():
            tc = self._term_columns(t)
            cols.extend(tc)
            owners.extend([t] * len(tc))
        self.columns = cols
        self.column_terms = owners

    # ------------------------------------------------------------------ building
    def _variable_block(self, frame: pd.DataFrame, v: str) -> np.ndarray:
        values = frame[v]
        if v in self.numeric:
            arr = pd.to_numeric(values, errors="raise").to_numpy(dtype=float, na_value=np.nan)
            if np.isnan(arr).any():
                raise ValueError(f"model variable {v!r} has missing values in the cells")
            return arr[:, None]
        lv = self.levels[v]
        codes = level_codes(values, lv)
        if (codes < 0).any():
            bad = pd.unique(values[codes < 0])[:5].tolist()
            raise ValueError(
                f"model variable {v!r} has values {bad} that were not in the data the "
                f"model was fitted on (levels: {lv}), or missing values"
            )
        block = np.zeros((len(values), len(lv) - 1))
        rows = np.flatnonzero(codes > 0)
        block[rows, codes[rows] - 1] = 1.0
        return block

    def _one_hot(self, frame: pd.DataFrame, v: str) -> sp.csr_matrix:
        lv = self.levels[v]
        codes = level_codes(frame[v], lv)
        if (codes < 0).any():
            self._variable_block(frame.iloc[np.flatnonzero(codes < 0)[:5]], v)  # raises
        rows = np.flatnonzero(codes > 0)
        return sp.csr_matrix(
            (np.ones(len(rows)), (rows, codes[rows] - 1)), shape=(len(frame), len(lv) - 1)
        )

    def matrix(self, frame: pd.DataFrame, sparse: bool = False):
        """The design matrix of ``frame`` (rows x ``len(columns)``), float64; a scipy CSR
        matrix with ``sparse=True`` (categorical main effects are then never densified)."""
        n = len(frame)
        blocks = [np.ones((n, 1))] if self.intercept else []
        cache: dict[str, np.ndarray] = {}
        for t in self._ordered_terms():
            vars_ = term_variables(t)
            if sparse and len(vars_) == 1 and vars_[0] not in self.numeric:
                blocks.append(self._one_hot(frame, vars_[0]))
                continue
            block = np.ones((n, 1))
            for v in vars_:
                if v not in cache:
                    cache[v] = self._variable_block(frame, v)
                b = cache[v]
                block = (block[:, :, None] * b[:, None, :]).reshape(n, -1)
            blocks.append(block)
        if sparse:
            return (
                sp.hstack(
                    [sp.csr_matrix(b) if not sp.issparse(b) else b for b in blocks], format="csr"
                )
                if blocks
                else sp.csr_matrix((n, 0))
            )
        return np.hstack(blocks) if blocks else np.empty((n, 0))

    def term_of(self, column: str) -> str:
        """The term a design column belongs to."""
        return self.column_terms[self.columns.index(column)]


def independent_columns(
    x: np.ndarray, weights: np.ndarray | None = None, tol: float = 1e-9
) -> np.ndarray:
    """Boolean mask of the columns of ``x`` kept, in order, when collinear ones are dropped.

    A column is dropped when it is (numerically) a linear combination of the columns
    kept before it: a Cholesky factorisation of the weighted cross-product matrix,
    taken in column order without pivoting, so the first column of a collinear set is
    kept (as Stata and R's ``lm`` do).
    """
    w = np.ones(x.shape[0]) if weights is None else np.asarray(weights, dtype=float)
    if sp.issparse(x):
        xtx = np.asarray((x.T @ (sp.diags(w) @ x)).todense())
    else:
        xtx = (x * w[:, None]).T @ x
    k = xtx.shape[0]
    keep = np.zeros(k, dtype=bool)
    L = np.zeros((k, k))
    kept: list[int] = []
    for j in range(k):
        if kept:
            row = solve_triangular(L[np.ix_(kept, kept)], xtx[kept, j], lower=True)
            resid = xtx[j, j] - row @ row
        else:
            row = np.empty(0)
            resid = xtx[j, j]
        if resid > tol * max(xtx[j, j], 1e-300) and resid > 0:
            L[j, kept] = row
            L[j, j] = np.sqrt(resid)
            kept.append(j)
            keep[j] = True
    return keep
