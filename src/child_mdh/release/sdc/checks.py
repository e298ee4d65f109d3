"""Checks of a table as it would be released, with a pass / review / fail status each.

:func:`check_table` does not change the table: it says whether the table, as given, may
leave the secure environment. It runs on the output of
:func:`child_mdh.release.sdc.suppression.protect_table` before a file is written, and again on
the written file in the release audit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from child_mdh.aggregates.formulas import FormulaError, not_following
from child_mdh.release.sdc.config import resolve_config
from child_mdh.release.sdc.margins import build_equations, margin_mismatches, recoverable_cells
from child_mdh.release.sdc.rules import (
    CheckResult,
    mask_cells,
    numeric_columns,
    overall_status,
    residual_df_check,
    structural_zero_mask,
    threshold_mask,
)
from child_mdh.release.sdc.spec import PERSON_LEVEL_IDENTIFIERS, TableSpec
from child_mdh.release.sdc.suppression import dominance_mask

#: Output types the manifest knows (ACRO uses 'table', 'regression' and 'custom').
OUTPUT_TYPES = ("table", "regression", "figure", "html", "text", "provenance", "manifest")


def _pairs(cells: list[tuple[int, str]]) -> str:
    return ", ".join(f"row {r} {c}" for r, c in cells[:5]) + (" ..." if len(cells) > 5 else "")


def check_table(
    df: pd.DataFrame,
    spec: TableSpec | None = None,
    config=None,
    *,
    output_type: str = "table",
    table: str = "table",
    rounded: bool | None = None,
) -> list[CheckResult]:
    """Run every disclosure check on ``df`` as it stands; return one result per check.

    Checks: no person-level identifier columns; counts are not negative and are whole
    numbers; no count in 1 .. threshold-1 (nor a non-structural zero when zeros are
    disclosive); counts are multiples of the rounding base when ``rounded``; every
    derived statistic is empty where a count behind it is empty or disclosive; no empty
    cell is recoverable from the declared margins (skipped when rounded: rounded margins
    cannot give an exact value back); dominance of magnitude cells (when contributions
    are declared); residual degrees of freedom (regressions); and, for tables, numeric
    columns not declared anywhere are flagged for review. ``rounded`` defaults to
    whether the configured mitigation rounds.
    """
    spec = spec or TableSpec()
    config = resolve_config(config)
    if output_type not in OUTPUT_TYPES:
        raise ValueError(f"output_type must be one of {', '.join(OUTPUT_TYPES)}")
    rounded = (config.rounds if rounded is None else rounded) and config.rounding_base > 1
    spec.validate_against(df, table)
    data = df.reset_index(drop=True)
    results: list[CheckResult] = []

    ids = [c for c in data.columns if str(c).lower() in PERSON_LEVEL_IDENTIFIERS]
    results.append(
        CheckResult(
            "person_level_identifiers",
            "fail" if ids else "pass",
            f"person-level identifier column(s) {', '.join(ids)} must not be released"
            if ids
            else "no person-level identifier columns",
        )
    )

    counts = spec.counts(data)
    protected = spec.protected(data)
    values = numeric_columns(data, protected, table)
    structural = structural_zero_mask(data, protected, spec.structural_zeros)

    if counts:
        c = values[counts]
        neg = mask_cells(c < 0)
        frac = mask_cells(c.notna() & (c != np.round(c)))
        results.append(
            CheckResult(
                "negative_counts",
                "fail" if neg else "pass",
                f"negative counts: {_pairs(neg)}" if neg else "no negative counts",
                neg,
            )
        )
        results.append(
            CheckResult(
                "whole_counts",
                "review" if frac else "pass",
                f"counts that are not whole numbers (weighted?): {_pairs(frac)}; the threshold "
                "applies to the number of people behind them"
                if frac
                else "counts are whole",
                frac,
            )
        )
        small = threshold_mask(c, config, structural[counts], rounded=rounded)
        cells = mask_cells(small)
        zero_note = ", or zero and not structural" if config.zeros_disclosive else ""
        results.append(
            CheckResult(
                "threshold",
                "fail" if cells else "pass",
                (
                    f"{len(cells)} count(s) below {config.threshold}{zero_note}: {_pairs(cells)}"
                    if cells
                    else f"every published count is at least {config.threshold} "
                    f"(or structural zero){'' if config.zeros_disclosive else ' or zero'}"
                ),
                cells,
            )
        )
        if rounded:
            base = config.rounding_base
            off = mask_cells(c.notna() & (np.mod(c, base) != 0))
            results.append(
                CheckResult(
                    "rounding",
                    "fail" if off else "pass",
                    f"counts not multiples of {base}: {_pairs(off)}"
                    if off
                    else f"counts rounded to base {base}",
                    off,
                )
            )
    else:
        results.append(
            CheckResult(
                "threshold",
                "pass" if output_type == "regression" else "review",
                "no count columns: check by eye that no cell counts fewer than the threshold",
            )
        )

    if spec.derived:
        empty = values.isna()
        disclosive = pd.DataFrame(False, index=data.index, columns=protected)
        if counts:
            disclosive[counts] = threshold_mask(
                values[counts], config, structural[counts], rounded=rounded
            )
        bad_cells: list[tuple[int, str]] = []
        for stat, backing in spec.derived.items():
            present = data[stat].notna().to_numpy()
            behind = np.zeros(len(data), dtype=bool)
            for b in backing:
                if b in protected:
                    behind |= empty[b].to_numpy() | disclosive[b].to_numpy()
                elif b in spec.derived:
                    behind |= data[b].isna().to_numpy()
            rows = np.flatnonzero(present & behind)
            bad_cells += [(int(r), stat) for r in rows]
        bad_cells.sort()
        results.append(
            CheckResult(
                "derived",
                "fail" if bad_cells else "pass",
                f"statistics published where a count behind them is empty or below the "
                f"threshold: {_pairs(bad_cells)}"
                if bad_cells
                else "every derived statistic rests on published counts",
                bad_cells,
            )
        )

    if spec.formulas:
        results.append(_formula_check(data, spec))

    if spec.margins:
        results.extend(
            _margin_checks(data, spec, protected, values, rounded, config.max_linked_cells, table)
        )

    if spec.magnitude:
        dom = dominance_mask(data, spec, config, table)
        cells = mask_cells(dom & values[list(dom.columns)].notna())
        results.append(
            CheckResult(
                "dominance",
                "fail" if cells else "pass",
                f"magnitude cells failing the nk ({config.dominance_n}, {config.dominance_k}), "
                f"p-ratio ({config.p_ratio}) or contributor threshold: {_pairs(cells)}"
                if cells
                else "no published magnitude cell is dominated",
                cells,
            )
        )

    if output_type == "regression" or spec.residual_df is not None:
        results.append(residual_df_check(spec.residual_df, config))

    if output_type == "table":
        declared = (
            set(protected)
            | set(spec.derived)
            | set(spec.key_columns)
            | set(spec.not_counts)
            | set(spec.structural_zeros.values())
        )
        undeclared = [
            c
            for c in data.columns
            if c not in declared
            and pd.api.types.is_numeric_dtype(data[c])
            and not pd.api.types.is_bool_dtype(data[c])
        ]
        results.append(
            CheckResult(
                "undeclared_numbers",
                "review" if undeclared else "pass",
                f"numeric column(s) {', '.join(map(str, undeclared))} are not declared: if they "
                "count people name them *_n, if computed from counts declare them as derived, "
                "otherwise list them in not_counts"
                if undeclared
                else "every numeric column is declared",
            )
        )
    return results


def _formula_check(data: pd.DataFrame, spec: TableSpec) -> CheckResult:
    """Every published statistic equals its declared formula of the published columns."""
    bad: list[tuple[int, str]] = []
    for stat, formula in spec.formulas.items():
        if stat not in data.columns:
            continue
        try:
            differs = not_following(formula, data, stat)
        except FormulaError as err:
            return CheckResult("formulas", "fail", f"{stat}: {err}")
        bad += [(int(r), stat) for r in np.flatnonzero(differs)]
    bad.sort()
    return CheckResult(
        "formulas",
        "fail" if bad else "pass",
        f"{len(bad)} statistic(s) do not follow from the published counts by their declared "
        f"formula (computed from other numbers, they may give a count back): {_pairs(bad)}"
        if bad
        else "every statistic follows from the published counts by its formula",
        bad,
    )


def _margin_checks(data, spec, protected, values, rounded, max_cells, table):
    eqs = build_equations(data, spec.margins, protected, table)
    flat = values[protected].to_numpy(dtype="float64").ravel()
    out = []
    mismatched = np.array([], dtype=np.int64) if rounded else margin_mismatches(eqs, flat)
    if rounded:
        out.append(
            CheckResult(
                "margins_add_up",
                "pass",
                "counts are rounded independently, so margins need not add up",
            )
        )
    elif mismatched.size:
        out.append(
            CheckResult(
                "margins_add_up",
                "review",
                f"{mismatched.size} declared margin equation(s) do not add up (first: rows "
                f"{sorted(set(eqs.loc[eqs['eq'] == mismatched[0], 'row'].tolist()))[:6]}, "
                f"column {eqs.loc[eqs['eq'] == mismatched[0], 'col'].iloc[0]}): check the "
                "margin declaration",
            )
        )
    else:
        out.append(CheckResult("margins_add_up", "pass", "declared margins add up"))
    if rounded:
        out.append(
            CheckResult(
                "secondary", "pass", "counts are rounded, so margins give no exact value back"
            )
        )
        return out
    rec, unc = recoverable_cells(eqs, np.isnan(flat), max_cells)
    n = len(protected)
    rec_cells = [(int(c // n), protected[int(c % n)]) for c in rec]
    if rec_cells:
        out.append(
            CheckResult(
                "secondary",
                "fail",
                f"{len(rec_cells)} empty cell(s) can be recovered from the "
                f"margins by subtraction: {_pairs(rec_cells)}",
                rec_cells,
            )
        )
    elif unc.size:
        unc_cells = [(int(c // n), protected[int(c % n)]) for c in unc]
        out.append(
            CheckResult(
                "secondary",
                "review",
                f"{len(unc_cells)} linked empty cells are too many to verify "
                "exactly: check the margins by hand",
                unc_cells,
            )
        )
    else:
        out.append(
            CheckResult("secondary", "pass", "no empty cell can be recovered from the margins")
        )
    return out


def table_status(results: list[CheckResult]) -> str:
    """Overall status of a table's checks: 'fail', 'review' or 'pass'."""
    return overall_status(results)
