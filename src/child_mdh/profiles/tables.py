"""The statistics of every local authority's profile, in one vectorised pass.

:func:`profile_statistics` turns the person-level children table into one row per local
authority plus England (``area_statistics``), at full precision, for the secure area:

- children in the profile (complete index indicators and known outcomes), MDH and
  other children;
- Child-MDH prevalence (the Alkire-Foster headcount ratio H, in %) with Wilson score
  intervals at 95% and 99.8% (Wilson 1927; PHE/OHID technical guide);
- H, A and M0 with linearised intervals (:func:`child_mdh.inference.af_inference`, run
  per local authority, clustered by household when the children table has
  ``household_id``: siblings share their household's domains);
- each indicator's uncensored and censored headcount and its contribution to M0
  (Alkire & Foster 2011, J Public Econ 95(7-8); Alkire et al. 2015, OUP, ch. 5);
- social care contact rates per 10,000 MDH, other and all children with Byar's (10
  events or more) or exact Poisson intervals, and the MDH / other rate ratio
  (:mod:`child_mdh.stats`);
- comparisons with England at 95% and 99.8% ('similar', 'higher', 'lower') and the
  funnel-plot significance of the prevalence and of one contact rate (PHEindicatormethods
  conventions).

:func:`profile_tables` adds disclosure control: the same tables as they may be
released (threshold, secondary suppression over 'MDH + other = all' and 'local
authorities = England', rounding as configured, statistics emptied with their counts).
Statistics are computed from exact counts; because a rate can give its count back,
profiles always apply secondary suppression (a 'round'-only mitigation is refused).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from child_mdh.checks import require_columns
from scipy import stats as sps

from child_mdh import stats
from child_mdh.index import TOLERANCE, normalise_weights
from child_mdh.inference import af_inference
from child_mdh.profiles.measures import (
    ENGLAND_CODE,
    ENGLAND_NAME,
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
    outcome_backing,
    rate_column,
)
from child_mdh.sdc import ColumnMargin, RowMargin, SDCConfig, TableSpec, protect_table

AREA_COLUMNS = ("la_code", "la_name", "region_code", "region_name")
TABLE_NAMES = ("area_statistics", "children_left_out", "funnel_limits_prevalence",
               "funnel_limits_rate")
#: Decimal places of released statistics (Fingertips shows one decimal place).
DECIMALS = {"pct": 1, "rate": 1, "ratio": 2, "af": 3}
DEFAULT_FUNNEL_RATE = ("referral", "all")


class ProfileInputError(ValueError):
    """The inputs cannot give profiles; the message names the table, column, rows and fix."""


# --------------------------------------------------------------------------------------
# input checks
# --------------------------------------------------------------------------------------
def _examples(mask: np.ndarray, values: pd.Series, n: int = 5) -> str:
    rows = np.flatnonzero(mask)[:n]
    return ", ".join(f"row {r}: {values.iloc[r]!r}" for r in rows)


def _require(df: pd.DataFrame, table: str, columns) -> None:
    require_columns(df, table, columns, ProfileInputError,
                    "The children table must come from the derive step (population + "
                    "outcomes); the areas table from the data contract.")


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
            f"{int(bad.sum())} value(s) are not ({_examples(bad, s)}). Recode the column.")
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
            f"{int(bad.sum())} value(s) do not ({_examples(bad, s)}).")
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
            f"({_examples(dup, a['la_code'])}). Keep one row per local authority.")
    if (a["la_code"] == ENGLAND_CODE).any():
        raise ProfileInputError(f"areas: {ENGLAND_CODE} is England, not a local authority; "
                                "drop that row (England's figures are computed).")
    unknown = ~la.isin(a["la_code"]).to_numpy()
    if unknown.any():
        codes = sorted(set(la[unknown]))[:5]
        raise ProfileInputError(
            f"children: {int(unknown.sum())} children have an la_code not in the areas "
            f"table (e.g. {', '.join(codes)}). Add those local authorities to areas or "
            "fix the codes.")
    present = a[a["la_code"].isin(set(la.unique()))]
    return present.sort_values("la_code", kind="stable").reset_index(drop=True)


def _check_funnel_rate(funnel_rate) -> tuple[str, str]:
    outcome, group = funnel_rate
    if outcome not in OUTCOME_BY_KEY or OUTCOME_BY_KEY[outcome].events:
        allowed = ", ".join(o.key for o in OUTCOMES if not o.events)
        raise ProfileInputError(f"funnel_rate: outcome {outcome!r} must be one of {allowed} "
                                "(a rate per children, whose denominator is published)")
    if group not in GROUPS:
        raise ProfileInputError(f"funnel_rate: group {group!r} must be one of "
                                f"{', '.join(GROUPS)}")
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


def _af_measures(g: np.ndarray, codes: np.ndarray, indicators: list[str], weights,
                 k: float, n_areas: int, households: np.ndarray | None = None
                 ) -> dict[str, np.ndarray]:
    """H, A, M0 with 95% and 99.8% intervals per area (England last in the arrays' order).

    :func:`child_mdh.inference.af_inference` run separately on each local authority's
    children and on England's, clustered by household when ``households`` is given
    (Taylor linearisation of the ratios of totals, cluster-robust with the G/(G - 1)
    factor, t with G - 1 degrees of freedom; the coverage study in
    docs/index-methods.md section 7 supports household clustering), otherwise every
    child an independent unit. The 99.8% interval uses the same standard error with the t
    quantile at 0.999. One call per area (about 150) keeps memory to one area's rows.
    """
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(n_areas + 1))
    est = {m: np.full(n_areas + 1, np.nan) for m in ("H", "A", "M0")}
    se = {m: np.full(n_areas + 1, np.nan) for m in ("H", "A", "M0")}
    dof = np.full(n_areas + 1, np.nan)

    def run(rows: np.ndarray, position: int) -> None:
        if rows.size == 0:
            return
        res = af_inference(pd.DataFrame(g[rows], columns=indicators), weights, k,
                           cluster=None if households is None else households[rows],
                           measures=["H", "A", "M0"])
        for r in res.itertuples(index=False):  # three measures
            est[r.measure][position] = r.estimate
            se[r.measure][position] = r.se
            dof[position] = r.df

    for a in range(n_areas):  # one call per local authority, not per child
        run(order[bounds[a]:bounds[a + 1]], a)
    run(np.arange(len(codes)), n_areas)
    out: dict[str, np.ndarray] = {}
    for measure in ("H", "A", "M0"):
        out[measure] = est[measure]
        for suffix, level in LEVELS:
            with np.errstate(invalid="ignore"):
                t = np.where(dof > 0, sps.t.ppf(1 - (1 - level) / 2, np.where(dof > 0, dof, 1)),
                             np.nan)
                out[f"{measure}_lower_{suffix}"] = np.clip(est[measure] - t * se[measure], 0, 1)
                out[f"{measure}_upper_{suffix}"] = np.clip(est[measure] + t * se[measure], 0, 1)
    return out


def _funnel_limits(baseline: float, denominators: np.ndarray, statistic: str) -> pd.DataFrame:
    """Funnel limits at the PHEindicatormethods axis points (empty when nothing to draw)."""
    d = denominators[denominators > 0]
    if d.size == 0 or not np.isfinite(baseline) or (statistic == "rate" and baseline <= 0):
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in
                             ("denominator", "lower_95", "upper_95", "lower_99_8",
                              "upper_99_8", "baseline")})
    return stats.funnel_limits_table(baseline, stats.funnel_axis(d), statistic,
                                     multiplier=100, per=PER)


def profile_statistics(children: pd.DataFrame, areas: pd.DataFrame,
                       weights: Mapping[str, float], k: float, *,
                       funnel_rate: tuple[str, str] = DEFAULT_FUNNEL_RATE
                       ) -> dict[str, pd.DataFrame]:
    """Every local authority's and England's profile statistics, unprotected (secure).

    Parameters: the person-level ``children`` table (``la_code``, the indicator columns
    named by ``weights``, ``any_referral``, ``any_cin``, ``any_cpp``, ``entered_care``,
    ``n_referrals``, ``exposure_years``), the contract ``areas`` table, the index
    ``weights`` and cut-off ``k``, and the contact rate (outcome key, group) placed on
    the second funnel plot.

    A child is in the profile when every weighted indicator and every outcome is known
    (missing is never read as 'not deprived' or 'no contact'); the others are counted in
    ``children_left_out``. Returns full-precision tables:

    - ``area_statistics``: England first, then one row per local authority with at
      least one child (columns: :mod:`~child_mdh.profiles.measures`);
    - ``children_left_out``: ``left_out_n`` per area;
    - ``funnel_limits_prevalence`` / ``funnel_limits_rate``: 95% and 99.8% control limits
      around England's value (:func:`child_mdh.stats.funnel_limits_table`).

    Methods and sources: module docstring. Vectorised over children (``np.bincount``).
    """
    outcome_key, group = _check_funnel_rate(funnel_rate)
    w = normalise_weights(weights)
    indicators = list(w.index)
    flag_cols = [o.column for o in OUTCOMES if not o.events]
    _require(children, "children", ["la_code", *indicators, *flag_cols, "n_referrals",
                                     EXPOSURE_COLUMN])
    la_raw = children["la_code"]
    if la_raw.isna().any():
        bad = la_raw.isna().to_numpy()
        raise ProfileInputError(f"children: la_code is empty in {int(bad.sum())} rows "
                                f"(rows {np.flatnonzero(bad)[:5].tolist()}); every child "
                                "needs a local authority.")
    la = la_raw.astype("str").reset_index(drop=True)
    area = _check_areas(areas, la)
    n_areas = len(area)
    codes = pd.Index(area["la_code"]).get_indexer(la)

    g = np.column_stack([_flag_values(children[c], "children", c) for c in indicators])
    flags = {o.key: _flag_values(children[o.column], "children", o.column)
             for o in OUTCOMES if not o.events}
    referrals = _number_values(children["n_referrals"], "children", "n_referrals", True)
    exposure = _number_values(children[EXPOSURE_COLUMN], "children", EXPOSURE_COLUMN, False)
    inconsistent = (flags["referral"] == 0) & (referrals > 0)
    if inconsistent.any():
        raise ProfileInputError(
            f"children: {int(inconsistent.sum())} children have n_referrals above 0 but "
            f"any_referral false (rows {np.flatnonzero(inconsistent)[:5].tolist()}); "
            "rebuild the outcomes (child_mdh.outcomes.build_outcomes).")
    known = ~np.isnan(g).any(axis=1)
    for v in (*flags.values(), referrals, exposure):
        known &= ~np.isnan(v)
    if not known.any():
        raise ProfileInputError("children: no child has every indicator and outcome known, "
                                "so no profile can be computed; check the derive step.")

    def by_area(values=None, rows=known) -> np.ndarray:
        c = codes[rows]
        wts = None if values is None else np.asarray(values, dtype="float64")[rows]
        per_la = np.bincount(c, weights=wts, minlength=n_areas)[:n_areas]
        return np.append(per_la, per_la.sum())  # England last, moved first below

    score = np.nan_to_num(g) @ w.to_numpy()
    mdh = (score >= float(k) - TOLERANCE).astype("float64")
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
        counts[count_column(o.key, "all")] = (counts[count_column(o.key, "mdh")]
                                              + counts[count_column(o.key, "non_mdh")])
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

    children_n = _positive(counts["children_n"])
    # prevalence (H as a percentage) with Wilson intervals
    out["mdh_pct"] = counts["mdh_n"] / children_n * 100
    for suffix, level in LEVELS:
        lo, hi = stats.wilson_interval(counts["mdh_n"], children_n, level, 100)
        out[f"mdh_pct_lower_{suffix}"], out[f"mdh_pct_upper_{suffix}"] = lo, hi
    _add_comparisons(out, "mdh_pct", england)
    p0 = counts["mdh_n"][0] / counts["children_n"][0]
    funnel = stats.funnel_significance(counts["mdh_n"][1:], children_n[1:], baseline=p0)
    out["mdh_pct_funnel"] = _labels_or_na(np.r_[[None], funnel], ~england)

    # H, A, M0 (af_inference); arrays come back with England last
    households = (children["household_id"].astype("str").to_numpy()[known]
                  if "household_id" in children.columns else None)
    af = _af_measures(g[known], codes[known], indicators, dict(w), float(k), n_areas,
                      households)
    for col, values in af.items():
        out[col] = values[order]
    _add_comparisons(out, "M0", england)

    # indicators: uncensored and censored headcounts, contributions to M0
    weighted_censored = sum(w[ind] * counts[f"censored_{ind}_n"] for ind in indicators)
    for ind in indicators:
        out[f"deprived_{ind}_n"] = counts[f"deprived_{ind}_n"].astype(np.int64)
        out[f"censored_{ind}_n"] = counts[f"censored_{ind}_n"].astype(np.int64)
    for ind in indicators:
        out[f"deprived_{ind}_pct"] = counts[f"deprived_{ind}_n"] / children_n * 100
        out[f"censored_{ind}_pct"] = counts[f"censored_{ind}_n"] / children_n * 100
        with np.errstate(invalid="ignore", divide="ignore"):
            out[f"contribution_{ind}_pct"] = np.where(
                weighted_censored > 0,
                w[ind] * counts[f"censored_{ind}_n"] / np.where(weighted_censored > 0,
                                                                weighted_censored, 1) * 100,
                np.nan)

    # social care contacts: rates per 10,000, intervals, rate ratio, comparisons
    for o in OUTCOMES:
        for gr in GROUPS:
            out[count_column(o.key, gr)] = counts[count_column(o.key, gr)].astype(np.int64)
        for gr in GROUPS:
            x = counts[count_column(o.key, gr)]
            n = _positive(exposure_by_group[gr] if o.events
                          else counts[GROUP_DENOMINATOR[gr]])
            col = rate_column(o.key, gr)
            out[col] = x / n * PER
            for suffix, level in LEVELS:
                lo, hi = stats.rate_interval(x, n, PER, level)
                out[f"{col}_lower_{suffix}"], out[f"{col}_upper_{suffix}"] = lo, hi
            _add_comparisons(out, col, england)
            if o.key == outcome_key and gr == group:
                base = x[0] / n[0] * PER
                labels = stats.funnel_significance(x[1:], n[1:], baseline=base,
                                                   statistic="rate", per=PER)
                out[f"{col}_funnel"] = _labels_or_na(np.r_[[None], labels], ~england)
        n_mdh = _positive(exposure_by_group["mdh"] if o.events else counts["mdh_n"])
        n_non = _positive(exposure_by_group["non_mdh"] if o.events else counts["non_mdh_n"])
        ratio, lo, hi = stats.rate_ratio(counts[count_column(o.key, "mdh")], n_mdh,
                                         counts[count_column(o.key, "non_mdh")], n_non)
        out[f"{o.key}_rate_ratio"] = ratio
        out[f"{o.key}_rate_ratio_lower_95"] = lo
        out[f"{o.key}_rate_ratio_upper_95"] = hi

    table = pd.DataFrame(out)
    for c in KEY_COLUMNS:
        table[c] = table[c].astype("str")
    keys = table[["la_code", "la_name", "area_level"]]
    left = keys.assign(left_out_n=left_out.astype(np.int64))

    funnel_prev = _funnel_limits(p0, counts["children_n"][1:], "proportion")
    fx = counts[count_column(outcome_key, group)]
    fn = counts[GROUP_DENOMINATOR[group]]
    funnel_rate_table = _funnel_limits(fx[0] / fn[0] * PER if fn[0] > 0 else np.nan,
                                       fn[1:], "rate")
    for f, stat in ((funnel_prev, "mdh_pct"), (funnel_rate_table, rate_column(outcome_key,
                                                                               group))):
        f.insert(0, "statistic", stat)
    result = {"area_statistics": table, "children_left_out": left,
              "funnel_limits_prevalence": funnel_prev, "funnel_limits_rate": funnel_rate_table}
    return result


# --------------------------------------------------------------------------------------
# disclosure declarations
# --------------------------------------------------------------------------------------
def table_indicators(columns) -> list[str]:
    """The index indicators of an ``area_statistics`` table, from its column names."""
    return [c[len("deprived_"):-len("_n")] for c in columns
            if c.startswith("deprived_") and c.endswith("_n")]


def area_table_spec(columns) -> TableSpec:
    """The disclosure declaration of ``area_statistics`` (counts, derived, margins).

    Every statistic names the counts it rests on: prevalence and H on MDH and all
    children; A and M0 also on every censored headcount (M0 with the others would give a
    suppressed one back); contributions on the censored headcounts; a rate on its events,
    its group's children (and, for referrals, the children referred); a rate ratio on
    both groups' counts; a comparison or funnel label on what its interval rests on.
    Margins: MDH + other = all children, per outcome MDH + other = all, and local
    authorities add up to England.
    """
    columns = list(columns)
    indicators = table_indicators(columns)
    censored = tuple(f"censored_{i}_n" for i in indicators)
    derived: dict[str, tuple[str, ...]] = {}

    def declare(stat: str, backing: tuple[str, ...]) -> None:
        for col in [stat, *interval_columns(stat), *comparison_columns(stat),
                    f"{stat}_lower_95", f"{stat}_upper_95", f"{stat}_funnel"]:
            if col in columns:
                derived[col] = backing

    declare("mdh_pct", ("mdh_n", "children_n"))
    declare("H", ("mdh_n", "children_n"))
    declare("A", ("mdh_n", "children_n", *censored))
    declare("M0", ("mdh_n", "children_n", *censored))
    for i in indicators:
        declare(f"deprived_{i}_pct", (f"deprived_{i}_n", "children_n"))
        declare(f"censored_{i}_pct", (f"censored_{i}_n", "children_n"))
        declare(f"contribution_{i}_pct", ("mdh_n", "children_n", *censored))
    margins: list = [ColumnMargin(("mdh_n", "non_mdh_n"), "children_n")]
    for o in OUTCOMES:
        if count_column(o.key, "all") not in columns:
            continue
        for gr in GROUPS:
            declare(rate_column(o.key, gr), outcome_backing(o, gr))
        declare(f"{o.key}_rate_ratio", tuple(dict.fromkeys(
            outcome_backing(o, "mdh") + outcome_backing(o, "non_mdh"))))
        margins.append(ColumnMargin((count_column(o.key, "mdh"), count_column(o.key, "non_mdh")),
                                    count_column(o.key, "all")))
    margins.append(RowMargin("la_code", total=ENGLAND_CODE))
    return TableSpec(key_columns=KEY_COLUMNS, derived=derived, margins=tuple(margins))


LEFT_OUT_SPEC = TableSpec(key_columns=("la_code", "la_name", "area_level"),
                          margins=(RowMargin("la_code", total=ENGLAND_CODE),))
FUNNEL_LIMIT_SPEC = TableSpec(
    key_columns=("statistic",),
    not_counts=("denominator", "lower_95", "upper_95", "lower_99_8", "upper_99_8", "baseline"))


def table_specs(tables: Mapping[str, pd.DataFrame]) -> dict[str, TableSpec]:
    """The disclosure declaration of each profile table, by table name."""
    specs = {"children_left_out": LEFT_OUT_SPEC, "funnel_limits_prevalence": FUNNEL_LIMIT_SPEC,
             "funnel_limits_rate": FUNNEL_LIMIT_SPEC}
    if "area_statistics" in tables:
        specs["area_statistics"] = area_table_spec(tables["area_statistics"].columns)
    return specs


# --------------------------------------------------------------------------------------
# release
# --------------------------------------------------------------------------------------
def _decimals(column: str) -> int | None:
    if column in ("H", "A", "M0") or column.split("_")[0] in ("H", "A", "M0"):
        return DECIMALS["af"]
    if "rate_ratio" in column:
        return DECIMALS["ratio"]
    if column.endswith("_n") or "vs_england" in column or column.endswith("_funnel"):
        return None
    if "_pct" in column:
        return DECIMALS["pct"]
    if "_rate" in column:
        return DECIMALS["rate"]
    return None


def rounded_statistics(tables: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Statistics rounded to the decimals profiles publish (percentages and rates 1,
    rate ratios 2, H/A/M0 3; funnel limits 3), counts untouched.

    Fewer decimals give less away about the exact counts behind a statistic; the
    comparison labels were computed at full precision before rounding.
    """
    out = {}
    for name, df in tables.items():
        df = df.copy()
        if name == "area_statistics":
            for c in df.columns:
                d = _decimals(c)
                if d is not None and pd.api.types.is_float_dtype(df[c]):
                    df[c] = df[c].round(d)
        elif name.startswith("funnel_limits"):
            num = [c for c in df.columns if pd.api.types.is_float_dtype(df[c])
                   and c != "denominator"]
            df[num] = df[num].round(3)
        out[name] = df
    return out


def _release_config(sdc_config) -> SDCConfig:
    config = SDCConfig.from_mapping(sdc_config)
    if not config.suppresses_secondary:
        raise ProfileInputError(
            "disclosure.mitigation is 'round': profiles publish rates and intervals computed "
            "from exact counts, which would give a count back despite rounding; set "
            "mitigation to 'both' (suppression then rounding) or 'suppress'.")
    return config


def protect_profile_tables(statistics: Mapping[str, pd.DataFrame],
                           sdc_config) -> dict[str, pd.DataFrame]:
    """The tables of :func:`profile_statistics` as they may be released.

    Statistics rounded (:func:`rounded_statistics`), then each table protected by
    :func:`child_mdh.sdc.protect_table` with its declaration (:func:`table_specs`): cells
    below the threshold emptied, secondary suppression so no emptied cell follows from
    the margins, every statistic and label emptied with a count behind it, counts
    rounded when the mitigation rounds. Raises for the 'round'-only mitigation.
    """
    config = _release_config(sdc_config)
    ready = rounded_statistics(statistics)
    specs = table_specs(ready)
    out = {}
    for name, df in ready.items():
        protected = protect_table(df, specs[name], config, table=f"profiles/{name}")
        out[name] = protected.table
    return out


def profile_tables(children: pd.DataFrame, areas: pd.DataFrame, weights: Mapping[str, float],
                   k: float, sdc_config, *,
                   funnel_rate: tuple[str, str] = DEFAULT_FUNNEL_RATE) -> dict[str, pd.DataFrame]:
    """All local authorities' profile tables in one vectorised pass, disclosure-protected.

    :func:`profile_statistics` then :func:`protect_profile_tables`; the per-area pages
    are rendered from these tables only (:func:`child_mdh.profiles.build.build_profiles`).
    """
    return protect_profile_tables(
        profile_statistics(children, areas, weights, k, funnel_rate=funnel_rate), sdc_config)
