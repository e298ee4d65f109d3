"""The statistics of every local authority's profile, in one vectorised pass.

:func:`profile_statistics` turns the person-level children table into one row per local
authority plus England (``area_statistics``), at full precision, for the secure area:

- children in the profile (complete index indicators and known outcomes), MDH and
  other children;
- Child-MDH prevalence (the Alkire-Foster headcount ratio H, in %) with Wilson score
  intervals at 95% and 99.8% (Wilson 1927; PHE/OHID technical guide);
- H, A and M0 with linearised intervals (:func:`child_mdh.aggregates.index.inference.af_inference`, run
  per local authority, clustered by household when the children table has
  ``household_id``: siblings share their household's domains);
- each indicator's uncensored and censored headcount and its contribution to M0
  (Alkire & Foster 2011, J Public Econ 95(7-8); Alkire et al. 2015, OUP, ch. 5);
- social care contact rates per 10,000 MDH, other and all children with Byar's (10
  events or more) or exact Poisson intervals, and the MDH / other rate ratio
  (:mod:`child_mdh.aggregates.stats`);
- comparisons with England at 95% and 99.8% ('similar', 'higher', 'lower') and the
  funnel-plot significance of the prevalence and of one contact rate (PHEindicatormethods
  conventions).

Every statistic is a declared formula of the table's counts (:func:`profile_formulas`):
the secure table holds them at full precision from the exact counts; the release
(:mod:`child_mdh.release.profiles.tables`) recomputes them from the protected counts, so
no statistic gives a count back.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import stats as sps

from child_mdh.aggregates import stats
from child_mdh.aggregates.formulas import Formula, apply_formulas, names
from child_mdh.aggregates.index.alkire_foster import TOLERANCE, identify, normalise_weights, scores
from child_mdh.aggregates.index.inference import af_inference
from child_mdh.aggregates.profiles.measures import (
    EXPOSURE_COLUMN,
    GROUP_DENOMINATOR,
    GROUPS,
    KEY_COLUMNS,
    LEVELS,
    OUTCOME_BY_KEY,
    OUTCOMES,
    PER,
    comparison_columns,
    count_column,
    interval_columns,
    rate_column,
)
from child_mdh.contract.columns import require_columns
from child_mdh.contract.vocabulary import ENGLAND_CODE, ENGLAND_NAME
from child_mdh.errors import UserError

AREA_COLUMNS = ("la_code", "la_name", "region_code", "region_name")
TABLE_NAMES = (
    "area_statistics",
    "children_left_out",
    "funnel_limits_prevalence",
    "funnel_limits_rate",
)
#: Decimal places of released statistics (Fingertips shows one decimal place).
DECIMALS = {"pct": 1, "rate": 1, "ratio": 2, "af": 3}
DEFAULT_FUNNEL_RATE = ("referral", "all")


class ProfileInputError(UserError):
    """The inputs cannot give profiles; the message names the table, column, rows and fix."""


# --------------------------------------------------------------------------------------
# input checks
# --------------------------------------------------------------------------------------
def _examples(mask: np.ndarray, values: pd.Series, n: int = 5) -> str:
    rows = np.flatnonzero(mask)[:n]
    return ", ".join(f"row {r}: {values.iloc[r]!r}" for r in rows)


def _require(df: pd.DataFrame, table: str, columns) -> None:
    require_columns(
        df,
        table,
        columns,
        ProfileInputError,
        "The children table must come from the derive step (population + "
        "outcomes); the areas table from the data contract.",
    )


def _flag_values(s: pd.Series, table: str, column: str) -> np.ndarray:
    """A true/false (or 1/0) column as float64 with NaN for missing; anything else errors."""
    if s.dtype == bool:
        return s.to_numpy(dtype="float64")
    if str(s.dtype) == "boolean":
        return s.astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
    num = pd.to_numeric(s, errors="coerce").astype("float64")
    bad = (s.notna() & ~num.isin([0.0, 1.0])).to_numpy()
    if bad.any():
        raise ProfileInputError(
            f"{table}: column {column} must be true/false (or 1/0, empty when unknown); "
            f"{int(bad.sum())} value(s) are not ({_examples(bad, s)}). Recode the column."
        )
    return num.to_numpy(dtype="float64", na_value=np.nan)


def _number_values(s: pd.Series, table: str, column: str, whole: bool) -> np.ndarray:
    num = pd.to_numeric(s, errors="coerce").astype("float64")
    v = num.to_numpy(dtype="float64", na_value=np.nan)
    bad = (s.notna().to_numpy() & np.isnan(v)) | (v < 0)
    if whole:
        with np.errstate(invalid="ignore"):
            bad |= ~np.isnan(v) & (v != np.round(v))
    if bad.any():
        kind = "whole numbers of 0 or more" if whole else "numbers of 0 or more"
        raise ProfileInputError(
            f"{table}: column {column} must hold {kind} (empty when unknown); "
            f"{int(bad.sum())} value(s) do not ({_examples(bad, s)})."
        )
    return v


def _check_areas(areas: pd.DataFrame, la: pd.Series) -> pd.DataFrame:
    _require(areas, "areas", AREA_COLUMNS)
    a = areas[list(AREA_COLUMNS)].copy()
    for c in AREA_COLUMNS:
        a[c] = a[c].astype("str")
    dup = a["la_code"].duplicated(keep=False).to_numpy()
    if dup.any():
        raise ProfileInputError(
            f"areas: la_code must be unique; {int(dup.sum())} rows repeat a code "
            f"({_examples(dup, a['la_code'])}). Keep one row per local authority."
        )
    if (a["la_code"] == ENGLAND_CODE).any():
        raise ProfileInputError(
            f"areas: {ENGLAND_CODE} is England, not a local authority; "
            "drop that row (England's figures are computed)."
        )
    unknown = ~la.isin(a["la_code"]).to_numpy()
    if unknown.any():
        codes = sorted(set(la[unknown]))[:5]
        raise ProfileInputError(
            f"children: {int(unknown.sum())} children have an la_code not in the areas "
            f"table (e.g. {', '.join(codes)}). Add those local authorities to areas or "
            "fix the codes."
        )
    present = a[a["la_code"].isin(set(la.unique()))]
    return present.sort_values("la_code", kind="stable").reset_index(drop=True)


def _check_funnel_rate(funnel_rate) -> tuple[str, str]:
    outcome, group = funnel_rate
    if outcome not in OUTCOME_BY_KEY or OUTCOME_BY_KEY[outcome].events:
        allowed = ", ".join(o.key for o in OUTCOMES if not o.events)
        raise ProfileInputError(
            f"funnel_rate: outcome {outcome!r} must be one of {allowed} "
            "(a rate per children, whose denominator is published)"
        )
    if group not in GROUPS:
        raise ProfileInputError(f"funnel_rate: group {group!r} must be one of {', '.join(GROUPS)}")
    return outcome, group


# --------------------------------------------------------------------------------------
# statistics
# --------------------------------------------------------------------------------------
def _positive(n: np.ndarray) -> np.ndarray:
    """Denominators as floats, NaN where there is nobody (the statistic is undefined)."""
    n = np.asarray(n, dtype="float64")
    return np.where(n > 0, n, np.nan)


def _labels_or_na(labels, keep: np.ndarray) -> pd.Series:
    out = pd.Series(np.asarray(labels, dtype=object)).where(keep)
    return out.astype("str")


def _add_comparisons(out: dict, stat: str, england_row: np.ndarray) -> None:
    """'similar'/'higher'/'lower' than England at 95% and 99.8% for every local authority.

    England's own row gets no label (PHE technical guidance, comparisons with a benchmark).
    """
    value = np.asarray(out[stat], dtype="float64")
    england_value = value[england_row][0]
    for (suffix, _), col in zip(LEVELS, comparison_columns(stat)):
        lo, hi = out[f"{stat}_lower_{suffix}"], out[f"{stat}_upper_{suffix}"]
        labels = stats.compare_with_england(lo, hi, np.full(len(value), england_value))
        out[col] = _labels_or_na(labels, ~england_row)


def _af_design_factors(
    g: np.ndarray,
    codes: np.ndarray,
    indicators: list[str],
    weights,
    k: float,
    n_areas: int,
    households: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Design factors of H, A and M0 at 95% and 99.8% per area (England last).

    :func:`child_mdh.aggregates.index.inference.af_inference` run separately on each local authority's
    children and on England's, clustered by household when ``households`` is given
    (Taylor linearisation of the ratios of totals, cluster-robust with the G/(G - 1)
    factor, t with G - 1 degrees of freedom; the coverage study in
    docs/index-methods.md section 7 supports household clustering), otherwise every
    child an independent unit. The design factor at level c is
    t_c(df) se / (z_c sqrt(p (1 - p) / n)) (Kish 1965, s. 8.2, with the small-sample t
    folded in), published to two decimals: the interval is then recomputed from the
    protected counts (:func:`profile_formulas`). One call per area keeps memory to one
    area's rows.
    """
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(n_areas + 1))
    est = {m: np.full(n_areas + 1, np.nan) for m in ("H", "A", "M0")}
    se = {m: np.full(n_areas + 1, np.nan) for m in ("H", "A", "M0")}
    base = {m: np.full(n_areas + 1, np.nan) for m in ("H", "A", "M0")}
    dof = np.full(n_areas + 1, np.nan)
    w = np.asarray([weights[i] for i in indicators])

    def run(rows: np.ndarray, position: int) -> None:
        if rows.size == 0:
            return
        sub = g[rows]
        res = af_inference(
            pd.DataFrame(sub, columns=indicators),
            weights,
            k,
            cluster=None if households is None else households[rows],
            measures=["H", "A", "M0"],
        )
        mdh = (np.nan_to_num(sub) @ w >= float(k) - TOLERANCE).sum()
        for r in res.itertuples(index=False):  # three measures
            est[r.measure][position] = r.estimate
            se[r.measure][position] = r.se
            base[r.measure][position] = mdh if r.measure == "A" else len(rows)
            dof[position] = r.df

    for a in range(n_areas):  # one call per local authority, not per child
        run(order[bounds[a] : bounds[a + 1]], a)
    run(np.arange(len(codes)), n_areas)
    out: dict[str, np.ndarray] = {}
    for measure in ("H", "A", "M0"):
        p = est[measure]
        for suffix, level in LEVELS:
            with np.errstate(invalid="ignore", divide="ignore"):
                t = np.where(
                    dof > 0, sps.t.ppf(1 - (1 - level) / 2, np.where(dof > 0, dof, 1)), np.nan
                )
                z = sps.norm.ppf(1 - (1 - level) / 2)
                deft = t * se[measure] / (z * np.sqrt(p * (1 - p) / base[measure]))
            out[f"{measure}_deft_{suffix}"] = np.round(np.where(np.isfinite(deft), deft, np.nan), 2)
    return out


def _funnel_limits(baseline: float, denominators: np.ndarray, statistic: str) -> pd.DataFrame:
    """Funnel limits at the PHEindicatormethods axis points (empty when nothing to draw)."""
    d = denominators[denominators > 0]
    if d.size == 0 or not np.isfinite(baseline) or (statistic == "rate" and baseline <= 0):
        return pd.DataFrame(
            {
                c: pd.Series(dtype="float64")
                for c in (
                    "denominator",
                    "lower_95",
                    "upper_95",
                    "lower_99_8",
                    "upper_99_8",
                    "baseline",
                )
            }
        )
    return stats.funnel_limits_table(
        baseline, stats.funnel_axis(d), statistic, multiplier=100, per=PER
    )


def _mdh_flags(children, indicators, weights, k, given, known) -> np.ndarray:
    """Each child's MDH identification as 0/1: the index's own (``given``, the ``mdh``
    column of ``child_index.parquet`` aligned with ``children``), or identified here by
    the index's rule (:func:`~child_mdh.aggregates.index.alkire_foster.identify`)."""
    if given is None:
        flags = identify(scores(children[indicators], weights), k)
    else:
        flags = pd.Series(given)
        if len(flags) != len(children):
            raise ProfileInputError(
                f"children: {len(children)} rows but {len(flags)} MDH flags from the index; "
                "rerun the index step on this children table."
            )
    values = flags.astype("boolean").to_numpy(dtype="float64", na_value=np.nan)
    unknown = known & np.isnan(values)
    if unknown.any():
        raise ProfileInputError(
            f"children: {int(unknown.sum())} children with every indicator known have no MDH "
            f"identification from the index (rows {np.flatnonzero(unknown)[:5].tolist()}); "
            "rerun the index step on this children table."
        )
    return np.nan_to_num(values)


def profile_statistics(  # noqa: C901  (one vectorised pass, its steps listed in the docstring)
    children: pd.DataFrame,
    areas: pd.DataFrame,
    weights: Mapping[str, float],
    k: float,
    *,
    funnel_rate: tuple[str, str] = DEFAULT_FUNNEL_RATE,
    mdh_flags: pd.Series | None = None,
    interval: str = "logit",
) -> dict[str, pd.DataFrame]:
    """Every local authority's and England's profile statistics, unprotected (secure).

    Parameters: the person-level ``children`` table (``la_code``, the indicator columns
    named by ``weights``, ``any_referral``, ``any_cin``, ``any_cpp``, ``entered_care``,
    ``n_referrals``, ``exposure_years``), the contract ``areas`` table, the index
    ``weights`` and cut-off ``k``, and the contact rate (outcome key, group) placed on
    the second funnel plot. ``mdh_flags``: the index's identification of each child (the
    ``mdh`` column of ``child_index.parquet``, aligned with ``children``), so that the
    profiles and the index count the same children as MDH; without it the children are
    identified here by the index's own rule. ``interval``: the shape of the intervals of
    H, A and M0, as the index tables' (``index.interval``, :func:`profile_formulas`).

    A child is in the profile when every weighted indicator and every outcome is known
    (missing is never read as 'not deprived' or 'no contact'); the others are counted in
    ``children_left_out``. Returns full-precision tables:

    - ``area_statistics``: England first, then one row per local authority with at
      least one child (columns: :mod:`~child_mdh.aggregates.profiles.measures`);
    - ``children_left_out``: ``left_out_n`` per area;
    - ``funnel_limits_prevalence`` / ``funnel_limits_rate``: 95% and 99.8% control limits
      around England's value (:func:`child_mdh.aggregates.stats.funnel_limits_table`).

    Methods and sources: module docstring. Vectorised over children (``np.bincount``).
    """
    outcome_key, group = _check_funnel_rate(funnel_rate)
    w = normalise_weights(weights)
    indicators = list(w.index)
    flag_cols = [o.column for o in OUTCOMES if not o.events]
    _require(
        children, "children", ["la_code", *indicators, *flag_cols, "n_referrals", EXPOSURE_COLUMN]
    )
    la_raw = children["la_code"]
    if la_raw.isna().any():
        bad = la_raw.isna().to_numpy()
        raise ProfileInputError(
            f"children: la_code is empty in {int(bad.sum())} rows "
            f"(rows {np.flatnonzero(bad)[:5].tolist()}); every child "
            "needs a local authority."
        )
    la = la_raw.astype("str").reset_index(drop=True)
    area = _check_areas(areas, la)
    n_areas = len(area)
    codes = pd.Index(area["la_code"]).get_indexer(la)

    g = np.column_stack([_flag_values(children[c], "children", c) for c in indicators])
    flags = {
        o.key: _flag_values(children[o.column], "children", o.column)
        for o in OUTCOMES
        if not o.events
    }
    referrals = _number_values(children["n_referrals"], "children", "n_referrals", True)
    exposure = _number_values(children[EXPOSURE_COLUMN], "children", EXPOSURE_COLUMN, False)
    inconsistent = (flags["referral"] == 0) & (referrals > 0)
    if inconsistent.any():
        raise ProfileInputError(
            f"children: {int(inconsistent.sum())} children have n_referrals above 0 but "
            f"any_referral false (rows {np.flatnonzero(inconsistent)[:5].tolist()}); "
            "rebuild the outcomes (child_mdh.derive.outcomes.build_outcomes)."
        )
    known = ~np.isnan(g).any(axis=1)
    for v in (*flags.values(), referrals, exposure):
        known &= ~np.isnan(v)
    if not known.any():
        raise ProfileInputError(
            "children: no child has every indicator and outcome known, "
            "so no profile can be computed; check the derive step."
        )

    def by_area(values=None, rows=known) -> np.ndarray:
        c = codes[rows]
        wts = None if values is None else np.asarray(values, dtype="float64")[rows]
        per_la = np.bincount(c, weights=wts, minlength=n_areas)[:n_areas]
        return np.append(per_la, per_la.sum())  # England last, moved first below

    mdh = _mdh_flags(children, indicators, dict(w), k, mdh_flags, known)
    non = 1.0 - mdh
    counts: dict[str, np.ndarray] = {}
    counts["children_n"] = by_area()
    counts["mdh_n"] = by_area(mdh)
    counts["non_mdh_n"] = counts["children_n"] - counts["mdh_n"]
    for j, ind in enumerate(indicators):
        counts[f"deprived_{ind}_n"] = by_area(g[:, j])
        counts[f"censored_{ind}_n"] = by_area(g[:, j] * mdh)
    exposure_by_group = {"mdh": by_area(exposure * mdh), "non_mdh": by_area(exposure * non)}
    exposure_by_group["all"] = exposure_by_group["mdh"] + exposure_by_group["non_mdh"]
    for o in OUTCOMES:
        x = referrals if o.events else flags[o.key]
        counts[count_column(o.key, "mdh")] = by_area(x * mdh)
        counts[count_column(o.key, "non_mdh")] = by_area(x * non)
        counts[count_column(o.key, "all")] = (
            counts[count_column(o.key, "mdh")] + counts[count_column(o.key, "non_mdh")]
        )
    left_out = by_area(rows=~known)

    # England first: reorder the arrays (England was appended last)
    order = np.r_[n_areas, np.arange(n_areas)]
    counts = {c: v[order] for c, v in counts.items()}
    exposure_by_group = {gr: v[order] for gr, v in exposure_by_group.items()}
    left_out = left_out[order]
    england = np.zeros(n_areas + 1, dtype=bool)
    england[0] = True

    out: dict[str, object] = {
        "la_code": [ENGLAND_CODE, *area["la_code"]],
        "la_name": [ENGLAND_NAME, *area["la_name"]],
        "region_code": [pd.NA, *area["region_code"]],
        "region_name": [pd.NA, *area["region_name"]],
        "area_level": ["england"] + ["local_authority"] * n_areas,
    }
    for c in ("children_n", "mdh_n", "non_mdh_n"):
        out[c] = counts[c].astype(np.int64)

    # H, A, M0 design factors (af_inference, clustered by household); England last
    households = (
        children["household_id"].astype("str").to_numpy()[known]
        if "household_id" in children.columns
        else None
    )
    af = _af_design_factors(
        g[known], codes[known], indicators, dict(w), float(k), n_areas, households
    )
    for ind in indicators:
        out[f"deprived_{ind}_n"] = counts[f"deprived_{ind}_n"].astype(np.int64)
        out[f"censored_{ind}_n"] = counts[f"censored_{ind}_n"].astype(np.int64)
    for o in OUTCOMES:
        for gr in GROUPS:
            out[count_column(o.key, gr)] = counts[count_column(o.key, gr)].astype(np.int64)
        if o.events:
            for gr in GROUPS:
                out[exposure_column(o.key, gr)] = np.round(exposure_by_group[gr])
    for col, values in af.items():
        out[col] = values[order]

    table = pd.DataFrame(out)
    for c in KEY_COLUMNS:
        table[c] = table[c].astype("str")
    table = derive_statistics(table, dict(w), (outcome_key, group), k=float(k), interval=interval)
    keys = table[["la_code", "la_name", "area_level"]]
    left = keys.assign(left_out_n=left_out.astype(np.int64))
    result = {
        "area_statistics": table,
        "children_left_out": left,
        **funnel_tables(table, (outcome_key, group)),
    }
    return result


def exposure_column(outcome: str, group: str) -> str:
    """Column of the child-years of follow-up behind an event rate (whole years)."""
    return f"{outcome}_{group}_years"


def _rate_denominator(o, gr: str) -> str:
    return exposure_column(o.key, gr) if o.events else GROUP_DENOMINATOR[gr]


def profile_formulas(
    columns,
    weights: Mapping[str, float],
    *,
    published: bool = True,
    k: float | None = None,
    interval: str = "wald",
) -> dict[str, Formula]:
    """Every numeric statistic of ``area_statistics`` as a formula of its counts.

    Prevalence = 100 mdh / children with Wilson limits; H = mdh / children, M0 =
    sum_i w_i censored_i / children, A = sum_i w_i censored_i / mdh, each with an
    interval from its published design factor deft (per level), of the shape the index
    tables use (``index.interval``, docs/index-methods.md section 8): ``wald``,
    p -/+ z deft sqrt(p (1 - p) / n); ``logit``, the same half-width on the logit scale
    of the measure's range (0, 1) for H and M0 and (k, 1] for A, Clopper-Pearson at the
    ends (``logit_lower``/``logit_upper`` of :mod:`child_mdh.aggregates.formulas`, the
    index tables' own formulas); indicator percentages of children; contributions = w_i censored_i / sum_j w_j
    censored_j; rates per 10,000 children (or child-years, published in whole years) with
    exact/Byar limits; MDH / other rate ratios with their 95% limits
    (:mod:`child_mdh.aggregates.formulas`, :mod:`child_mdh.aggregates.stats`). Decimals as Fingertips
    (:data:`DECIMALS`) when ``published``, else full precision (the secure table).
    """
    indicators = table_indicators(list(columns))  # in the table's order: a stable output
    columns = set(columns)
    weighted = " + ".join(f"{float(weights[i])!r} * censored_{i}_n" for i in indicators)
    pct, rate, ratio, af = (
        (DECIMALS[x] if published else None) for x in ("pct", "rate", "ratio", "af")
    )
    f: dict[str, Formula] = {"mdh_pct": Formula("100 * mdh_n / children_n", pct)}
    for suffix, level in LEVELS:
        f[f"mdh_pct_lower_{suffix}"] = Formula(
            f"100 * wilson_lower(mdh_n, children_n, {level!r})", pct
        )
        f[f"mdh_pct_upper_{suffix}"] = Formula(
            f"100 * wilson_upper(mdh_n, children_n, {level!r})", pct
        )
    f["H"] = Formula("mdh_n / children_n", af)
    f["A"] = Formula(f"({weighted}) / mdh_n", af)
    f["M0"] = Formula(f"({weighted}) / children_n", af)
    if interval not in ("wald", "logit"):
        raise ValueError(f"interval must be 'wald' or 'logit', not {interval!r}")
    if interval == "logit" and k is None:
        raise ValueError("the logit interval of A needs the cut-off k (A lies in (k, 1])")
    for m, n in (("H", "children_n"), ("A", "mdh_n"), ("M0", "children_n")):
        lo = float(k) if m == "A" and interval == "logit" else 0.0
        for suffix, level in LEVELS:
            deft = f"{m}_deft_{suffix}"
            if interval == "logit":
                args = f"{m}, {n}, {deft}, {level!r}, {lo!r}"
                f[f"{m}_lower_{suffix}"] = Formula(f"logit_lower({args})", af)
                f[f"{m}_upper_{suffix}"] = Formula(f"logit_upper({args})", af)
            else:
                args = f"{m}, {n}, {deft}, {level!r}"
                f[f"{m}_lower_{suffix}"] = Formula(f"design_lower({args})", af)
                f[f"{m}_upper_{suffix}"] = Formula(f"design_upper({args})", af)
    for i in indicators:
        f[f"deprived_{i}_pct"] = Formula(f"100 * deprived_{i}_n / children_n", pct)
        f[f"censored_{i}_pct"] = Formula(f"100 * censored_{i}_n / children_n", pct)
        f[f"contribution_{i}_pct"] = Formula(
            f"100 * {float(weights[i])!r} * censored_{i}_n / ({weighted})", pct
        )
    for o in OUTCOMES:
        if count_column(o.key, "all") not in columns:
            continue
        for gr in GROUPS:
            x, n, col = count_column(o.key, gr), _rate_denominator(o, gr), rate_column(o.key, gr)
            f[col] = Formula(f"{PER} * {x} / {n}", rate)
            for suffix, level in LEVELS:
                f[f"{col}_lower_{suffix}"] = Formula(
                    f"{PER} * poisson_lower({x}, {n}, {level!r})", rate
                )
                f[f"{col}_upper_{suffix}"] = Formula(
                    f"{PER} * poisson_upper({x}, {n}, {level!r})", rate
                )
        xm, nm = count_column(o.key, "mdh"), _rate_denominator(o, "mdh")
        xo, no = count_column(o.key, "non_mdh"), _rate_denominator(o, "non_mdh")
        f[f"{o.key}_rate_ratio"] = Formula(f"{xm} / {nm} / ({xo} / {no})", ratio)
        f[f"{o.key}_rate_ratio_lower_95"] = Formula(
            f"rate_ratio_lower({xm}, {nm}, {xo}, {no}, 0.95)", ratio
        )
        f[f"{o.key}_rate_ratio_upper_95"] = Formula(
            f"rate_ratio_upper({xm}, {nm}, {xo}, {no}, 0.95)", ratio
        )
    return {c: v for c, v in f.items() if all(n in columns or n in f for n in names(v.expr))}


def add_labels(
    table: pd.DataFrame, funnel_rate: tuple[str, str] = DEFAULT_FUNNEL_RATE
) -> pd.DataFrame:
    """Comparisons with England and funnel-plot labels from the table's own numbers.

    Run on the protected table, the labels follow from what is published: an area is
    'higher' when its published interval lies above England's published value
    (PHE technical guidance), and the funnel label places its published count against
    limits around England's published value (PHEindicatormethods). No label is given
    where a number behind it is withheld.
    """
    out = {c: table[c].to_numpy() for c in table.columns}
    england = (table["area_level"] == "england").to_numpy()
    stat_cols = [
        "mdh_pct",
        "M0",
        *[
            rate_column(o.key, gr)
            for o in OUTCOMES
            for gr in GROUPS
            if rate_column(o.key, gr) in table.columns
        ],
    ]
    for stat in stat_cols:
        if all(c in table.columns for c in interval_columns(stat)):
            _add_comparisons(out, stat, england)
    x = pd.to_numeric(table["mdh_n"], errors="coerce").to_numpy(dtype="float64")
    n = pd.to_numeric(table["children_n"], errors="coerce").to_numpy(dtype="float64")
    out["mdh_pct_funnel"] = _funnel_labels(x, n, england, "proportion")
    outcome_key, group = funnel_rate
    o = OUTCOME_BY_KEY[outcome_key]
    col = rate_column(outcome_key, group)
    if col in table.columns:
        xr = pd.to_numeric(table[count_column(outcome_key, group)], errors="coerce").to_numpy(
            dtype="float64"
        )
        nr = pd.to_numeric(table[_rate_denominator(o, group)], errors="coerce").to_numpy(
            dtype="float64"
        )
        out[f"{col}_funnel"] = _funnel_labels(xr, nr, england, "rate")
    labelled = pd.DataFrame(out, index=table.index)
    for stat in stat_cols:
        for label in [*comparison_columns(stat), f"{stat}_funnel"]:
            if label in labelled.columns:
                labelled[label] = labelled[label].where(labelled[stat].notna())
    labelled = labelled[list(dict.fromkeys([*table.columns, *out]))]
    labelled.attrs = dict(table.attrs)
    return labelled


def _funnel_labels(x: np.ndarray, n: np.ndarray, england: np.ndarray, statistic: str) -> pd.Series:
    """PHEindicatormethods' funnel labels of each local authority against England."""
    e = np.flatnonzero(england)[0]
    labels = np.full(len(x), None, dtype=object)
    ok = ~england & ~np.isnan(x) & ~np.isnan(n) & (n > 0)
    if ok.any() and n[e] > 0 and not np.isnan(x[e]) and not np.isnan(n[e]):
        base = x[e] / n[e] * (PER if statistic == "rate" else 1)
        labels[ok] = stats.funnel_significance(
            x[ok], n[ok], baseline=base, statistic=statistic, per=PER
        )
    return _labels_or_na(labels, ok)


def funnel_tables(
    table: pd.DataFrame, funnel_rate: tuple[str, str] = DEFAULT_FUNNEL_RATE
) -> dict[str, pd.DataFrame]:
    """Funnel limits around England's value over the local authorities' denominators,
    from the table's own (for release: protected) counts."""

    def col(name):
        return pd.to_numeric(table[name], errors="coerce").to_numpy(dtype="float64")

    england = (table["area_level"] == "england").to_numpy()
    e = np.flatnonzero(england)[0]
    children = col("children_n")
    p0 = col("mdh_n")[e] / children[e] if children[e] > 0 else np.nan
    prev = _funnel_limits(p0, np.nan_to_num(children[~england]), "proportion")
    outcome_key, group = funnel_rate
    o = OUTCOME_BY_KEY[outcome_key]
    x, n = col(count_column(outcome_key, group)), col(_rate_denominator(o, group))
    rate = _funnel_limits(
        x[e] / n[e] * PER if n[e] > 0 else np.nan, np.nan_to_num(n[~england]), "rate"
    )
    prev.insert(0, "statistic", "mdh_pct")
    rate.insert(0, "statistic", rate_column(outcome_key, group))
    return {"funnel_limits_prevalence": prev, "funnel_limits_rate": rate}


def derive_statistics(
    table: pd.DataFrame,
    weights: Mapping[str, float],
    funnel_rate: tuple[str, str] = DEFAULT_FUNNEL_RATE,
    *,
    k: float | None = None,
    interval: str = "wald",
) -> pd.DataFrame:
    """Every statistic of ``area_statistics`` from its counts (:func:`profile_formulas`),
    then the labels (:func:`add_labels`); the weights, cut-off and interval shape are
    kept in ``table.attrs`` for the table's disclosure declaration."""
    formulas = profile_formulas(table.columns, weights, published=False, k=k, interval=interval)
    table = apply_formulas(table, formulas)
    table.attrs["weights"] = dict(weights)
    table.attrs["k"] = k
    table.attrs["interval"] = interval
    table.attrs["funnel_rate"] = tuple(funnel_rate)
    return add_labels(table, funnel_rate)


# --------------------------------------------------------------------------------------
# disclosure declarations
# --------------------------------------------------------------------------------------
def table_indicators(columns) -> list[str]:
    """The index indicators of an ``area_statistics`` table, from its column names."""
    return [
        c[len("deprived_") : -len("_n")]
        for c in columns
        if c.startswith("deprived_") and c.endswith("_n")
    ]
