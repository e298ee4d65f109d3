"""Statistics declared as formulas of a table's published counts.

A release table publishes counts (protected: suppressed and rounded) and statistics
(percentages, rates, H, A, M0, intervals). A statistic computed from the exact counts and
published beside the rounded ones gives the exact counts back (a one-decimal percentage
of a rounded denominator pins its numerator). So every statistic of a release table is
declared as a formula over the table's own columns, and
:func:`child_mdh.release.sdc.suppression.protect_table` computes it from the *protected* counts:
what is published is then a function of what is published, and adds nothing an output
checker could use to narrow a count. The release audit evaluates the same formulas on
the written file and fails a statistic that does not follow from the counts beside it.

A formula is a Python expression over column names, numbers, ``+ - * /`` and these
functions (each vectorised; ``conf`` is a confidence level such as 0.95):

- ``wilson_lower(x, n, conf)``, ``wilson_upper(x, n, conf)``: Wilson score limits of
  the proportion x/n (:func:`child_mdh.aggregates.stats.wilson_interval`);
- ``poisson_lower(x, n, conf)``, ``poisson_upper(x, n, conf)``: exact limits below 10
  events, Byar's from 10, of the rate x/n (:func:`child_mdh.aggregates.stats.byar_interval`);
- ``design_lower(p, n, deft, conf)``, ``design_upper(p, n, deft, conf)``: the interval
  p -/+ z deft sqrt(p (1 - p) / n), clipped to [0, 1], for a proportion-like measure
  (H, A, M0, a headcount) whose standard error comes from a complex design. ``deft`` is
  Kish's design factor (the ratio of the design-based standard error to the simple
  random sampling one; Kish 1965, *Survey Sampling*, s. 8.2), estimated from the
  microdata and published beside the measure, so the interval rests on the published
  counts and a published design factor, and anyone can reproduce it.

- ``logit_lower(p, n, deft, conf, lo)``, ``logit_upper(p, n, deft, conf, lo)``: the same
  design-based standard error, the interval built on the logit scale of q = (p - lo) /
  (1 - lo) (lo = 0 for H, M0 and headcounts, k for A) and mapped back:
  lo + (1 - lo) expit(logit(q) -/+ z deft sqrt(p (1 - p) / n) / ((1 - lo) q (1 - q)))
  (the delta method; the "logit" interval of R ``survey::svyciprop``); at q = 0 or 1
  the Clopper-Pearson limit for 0 (or n) of n, 1 - (alpha/2)^(1/n) on the q scale
  (Korn & Graubard 1998, Survey Methodology 24, 193-201).

- ``rate_ratio_lower(x1, n1, x2, n2, conf)``, ``rate_ratio_upper(...)``: limits of the
  ratio of rates (x1/n1) / (x2/n2) (:func:`child_mdh.aggregates.stats.rate_ratio`).

A ratio of linear forms of counts (``100 * mdh_n / children_n``,
``(0.2 * a_n + 0.2 * b_n) / index_n``) is also given to the release audit as a pair of
linear constraints (:func:`linear_ratio`).
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as sps

from child_mdh.aggregates import stats
from child_mdh.errors import ChildMdhError


def _wilson(x, n, conf, side):
    x, n = np.asarray(x, dtype="float64"), np.asarray(n, dtype="float64")
    z = stats.z_value(float(conf))
    with np.errstate(invalid="ignore", divide="ignore"):
        ok = (n > 0) & (x >= 0) & (x <= n)
        xs, ns = np.where(ok, x, 0.0), np.where(ok, n, 1.0)
        centre = 2 * xs + z * z
        half = z * np.sqrt(z * z + 4 * xs * (1 - xs / ns))
        bound = (centre + side * half) / (2 * (ns + z * z))
    return np.where(ok, np.clip(bound, 0, 1), np.nan)


def _poisson(x, n, conf, side):
    x, n = np.asarray(x, dtype="float64"), np.asarray(n, dtype="float64")
    x, n = np.broadcast_arrays(x, n)
    ok = (n > 0) & (x >= 0) & np.isfinite(x)
    out = np.full(x.shape, np.nan)
    if ok.any():
        lo, hi = stats.byar_interval(x[ok], n[ok], confidence=float(conf))
        out[ok] = np.asarray(lo if side < 0 else hi)
    return out


def _design(p, n, deft, conf, side):
    p, n, deft = (np.asarray(v, dtype="float64") for v in (p, n, deft))
    z = sps.norm.ppf(1 - (1 - float(conf)) / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        se = deft * np.sqrt(p * (1 - p) / n)
        bound = np.clip(p + side * z * se, 0, 1)
    return np.where(n > 0, bound, np.nan)


def _logit_design(p, n, deft, conf, lo, side):
    p, n, deft = (np.asarray(v, dtype="float64") for v in (p, n, deft))
    lo = float(lo)
    width = 1.0 - lo
    alpha = 1 - float(conf)
    z = sps.norm.ppf(1 - alpha / 2)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        q = (p - lo) / width if width > 0 else np.full(p.shape, np.nan)
        at_low, at_high = q <= 1e-12, q >= 1 - 1e-12
        half = z * deft * np.sqrt(p * (1 - p) / n) / (width * q * (1 - q))
        centre = np.log(q) - np.log1p(-q)
        inner = 1 / (1 + np.exp(-(centre + side * half)))
        edge = 1 - (alpha / 2) ** (1 / n)  # Clopper-Pearson limit for 0 of n
        if side < 0:
            qb = np.where(at_low, 0.0, np.where(at_high, 1 - edge, inner))
        else:
            qb = np.where(at_high, 1.0, np.where(at_low, edge, inner))
        bound = lo + width * qb
    if width <= 0:  # k = 1: A is 1 by definition
        bound = np.where(np.isfinite(p), p, np.nan)
    return np.where((n > 0) & np.isfinite(p), bound, np.nan)


def _rate_ratio(x1, n1, x2, n2, conf, side):
    arrays = np.broadcast_arrays(*(np.asarray(v, dtype="float64") for v in (x1, n1, x2, n2)))
    x1, n1, x2, n2 = arrays
    ok = (n1 > 0) & (n2 > 0) & (x1 >= 0) & (x2 >= 0) & np.isfinite(x1 + x2)
    out = np.full(x1.shape, np.nan)
    if ok.any():
        _, lo, hi = stats.rate_ratio(x1[ok], n1[ok], x2[ok], n2[ok], confidence=float(conf))
        out[ok] = np.asarray(lo if side < 0 else hi, dtype="float64")
    return out


FUNCTIONS = {
    "wilson_lower": lambda x, n, c: _wilson(x, n, c, -1),
    "wilson_upper": lambda x, n, c: _wilson(x, n, c, +1),
    "poisson_lower": lambda x, n, c: _poisson(x, n, c, -1),
    "poisson_upper": lambda x, n, c: _poisson(x, n, c, +1),
    "design_lower": lambda p, n, d, c: _design(p, n, d, c, -1),
    "design_upper": lambda p, n, d, c: _design(p, n, d, c, +1),
    "logit_lower": lambda p, n, d, c, lo: _logit_design(p, n, d, c, lo, -1),
    "logit_upper": lambda p, n, d, c, lo: _logit_design(p, n, d, c, lo, +1),
    "rate_ratio_lower": lambda x1, n1, x2, n2, c: _rate_ratio(x1, n1, x2, n2, c, -1),
    "rate_ratio_upper": lambda x1, n1, x2, n2, c: _rate_ratio(x1, n1, x2, n2, c, +1),
}


class FormulaError(ChildMdhError, ValueError):
    """A formula uses something the evaluator does not allow, or a missing column."""


@dataclass(frozen=True)
class Formula:
    """A statistic as an expression of the table's columns, published to ``digits``."""

    expr: str
    digits: int | None = None

    def __post_init__(self) -> None:
        names(self.expr)  # parse now: a typo fails where the table is declared

    def to_dict(self) -> dict:
        """JSON-able form (recorded in the manifest for the audit)."""
        return {"expr": self.expr, "digits": self.digits}


def as_formula(value) -> Formula:
    """A :class:`Formula` from a Formula, an expression string, or its dict form."""
    if isinstance(value, Formula):
        return value
    if isinstance(value, str):
        return Formula(value)
    if isinstance(value, Mapping):
        return Formula(value["expr"], value.get("digits"))
    raise TypeError(f"not a formula: {value!r}")


def _parse(expr: str) -> ast.Expression:
    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError as err:
        raise FormulaError(f"formula {expr!r} is not a valid expression: {err.msg}") from None
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            if not (isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS):
                raise FormulaError(
                    f"formula {expr!r}: only the functions {', '.join(FUNCTIONS)} may be called"
                )
        elif not isinstance(
            node,
            (
                ast.Expression,
                ast.BinOp,
                ast.UnaryOp,
                ast.Name,
                ast.Constant,
                ast.Load,
                ast.Add,
                ast.Sub,
                ast.Mult,
                ast.Div,
                ast.USub,
                ast.UAdd,
            ),
        ):
            raise FormulaError(
                f"formula {expr!r}: {type(node).__name__} is not allowed "
                "(use column names, numbers, + - * / and the listed functions)"
            )
    return tree


def names(expr: str) -> list[str]:
    """The column names a formula reads, in order of first use."""
    tree = _parse(expr)
    out: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id not in FUNCTIONS and node.id not in out:
            out.append(node.id)
    return out


def evaluate(
    formula, df: pd.DataFrame, extra: Mapping[str, np.ndarray] | None = None
) -> np.ndarray:
    """The formula's values for every row of ``df`` (float; NaN where undefined),
    rounded to its digits when it declares them. ``extra`` holds further columns (by
    name, taking precedence over ``df``'s)."""
    formula = as_formula(formula)
    tree = _parse(formula.expr)
    extra = extra or {}
    missing = [c for c in names(formula.expr) if c not in df.columns and c not in extra]
    if missing:
        raise FormulaError(
            f"formula {formula.expr!r} reads column(s) {', '.join(missing)} "
            "that the table does not have"
        )

    def ev(node):
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant):
            return float(node.value)
        if isinstance(node, ast.Name):
            if node.id in extra:
                return np.asarray(extra[node.id], dtype="float64")
            return pd.to_numeric(df[node.id], errors="coerce").to_numpy(dtype="float64")
        if isinstance(node, ast.UnaryOp):
            v = ev(node.operand)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.BinOp):
            a, b = ev(node.left), ev(node.right)
            if isinstance(node.op, ast.Add):
                return a + b
            if isinstance(node.op, ast.Sub):
                return a - b
            if isinstance(node.op, ast.Mult):
                return a * b
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.where(
                    np.asarray(b) == 0, np.nan, a / np.where(np.asarray(b) == 0, 1.0, b)
                )
        return FUNCTIONS[node.func.id](*[ev(a) for a in node.args])

    with np.errstate(invalid="ignore", over="ignore"):
        values = np.broadcast_to(np.asarray(ev(tree), dtype="float64"), (len(df),)).copy()
    values[~np.isfinite(values)] = np.nan
    if formula.digits is not None:
        values = np.round(values, formula.digits)
    return values


def not_following(formula, frame: pd.DataFrame, stat: str) -> np.ndarray:
    """Rows where ``stat`` is published but differs from its formula of the published
    columns (a statistic computed from other numbers than those beside it)."""
    published = pd.to_numeric(frame[stat], errors="coerce").to_numpy(dtype="float64")
    expected = evaluate(formula, frame)
    return ~np.isnan(published) & ~np.isclose(published, expected, rtol=1e-9, atol=1e-12)


def evaluation_order(formulas: Mapping[str, Formula]) -> list[str]:
    """Formula columns in an order where each comes after the formula columns it reads."""
    pending = {
        c: [n for n in names(as_formula(f).expr) if n in formulas and n != c]
        for c, f in formulas.items()
    }
    order: list[str] = []
    while pending:
        ready = [c for c, deps in pending.items() if all(d in order for d in deps)]
        if not ready:
            raise FormulaError(f"formulas {', '.join(pending)} read each other in a circle")
        order += ready
        for c in ready:
            del pending[c]
    return order


def apply_formulas(df: pd.DataFrame, formulas: Mapping[str, Formula]) -> pd.DataFrame:
    """``df`` with every formula column (re)computed from the columns it reads; a
    formula to 0 digits gives whole numbers (nullable integers, written without a
    decimal point)."""
    computed: dict[str, np.ndarray] = {}
    for col in evaluation_order(formulas):
        computed[col] = evaluate(formulas[col], df, computed)
    whole = {
        c: pd.array(np.round(v), dtype="Int64")
        for c, v in computed.items()
        if formulas[c].digits == 0
    }
    out = df.copy()
    new = [c for c in computed if c not in out.columns]
    for col in [c for c in computed if c in out.columns]:
        out[col] = whole.get(col, computed[col])
    if new:
        added = {c: whole.get(c, computed[c]) for c in new}
        out = pd.concat([out, pd.DataFrame(added, index=out.index)], axis=1)
    out.attrs = dict(df.attrs)
    return out


def _linear(node) -> dict | None:
    """A linear form {column: coefficient, '': constant} of ``node``, or None."""
    if isinstance(node, ast.Constant):
        return {"": float(node.value)}
    if isinstance(node, ast.Name):
        return {node.id: 1.0} if node.id not in FUNCTIONS else None
    if isinstance(node, ast.UnaryOp):
        inner = _linear(node.operand)
        if inner is None:
            return None
        return {k: -v for k, v in inner.items()} if isinstance(node.op, ast.USub) else inner
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
        a, b = _linear(node.left), _linear(node.right)
        if a is None or b is None:
            return None
        sign = 1.0 if isinstance(node.op, ast.Add) else -1.0
        out = dict(a)
        for k, v in b.items():
            out[k] = out.get(k, 0.0) + sign * v
        return out
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.Div)):
        a, b = _linear(node.left), _linear(node.right)
        if a is None or b is None:
            return None
        if isinstance(node.op, ast.Mult):
            if set(a) == {""}:
                return {k: v * a[""] for k, v in b.items()}
            if set(b) == {""}:
                return {k: v * b[""] for k, v in a.items()}
            return None
        if set(b) == {""} and b[""] != 0:
            return {k: v / b[""] for k, v in a.items()}
    return None


def linear_ratio(expr: str) -> tuple[dict[str, float], dict[str, float]] | None:
    """(numerator, denominator) linear forms when ``expr`` is c * L1 / L2 (no constants
    terms), else None. ``100 * x_n / n_n`` gives ({'x_n': 100}, {'n_n': 1})."""
    node = _parse(expr).body
    scale = 1.0
    while isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        left, right = _linear(node.left), _linear(node.right)
        if left is not None and set(left) == {""}:
            scale *= left[""]
            node = node.right
        elif right is not None and set(right) == {""}:
            scale *= right[""]
            node = node.left
        else:
            break
    if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div)):
        return None
    num, den = _linear(node.left), _linear(node.right)
    if num is None or den is None or num.get("", 0) or den.get("", 0):
        return None
    num = {k: v * scale for k, v in num.items() if k}
    den = {k: v for k, v in den.items() if k}
    return (num, den) if num and den else None
