"""Self-contained HTML pages: a profile per area and an index, from Jinja2 templates.

Pages carry their styles and charts inline (SVG with hover text), load nothing from
anywhere (a Content-Security-Policy forbids it as well), and link only to each other and
to the release's own tables by relative paths, so they open from a USB stick inside a
secure environment. Every number comes from the protected tables; text from a council
(local indicators) is escaped and shown in its own labelled section.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from functools import lru_cache

import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from child_mdh.aggregates.profiles.measures import INDICATOR_LABELS
from child_mdh.aggregates.profiles.statistics import DECIMALS
from child_mdh.contract.vocabulary import ENGLAND_CODE
from child_mdh.release.profiles import chartdata
from child_mdh.release.profiles.figures import svg_funnel, svg_panels
from child_mdh.release.profiles.format import (
    comparison,
    fmt_count,
    fmt_interval,
    fmt_number,
    funnel_text,
    is_missing,
    suppressed_text,
)
from child_mdh.release.profiles.indicators import long_indicators
from child_mdh.release.profiles.local import LOCAL_LABEL, local_rows
from child_mdh.release.profiles.spine import legend_html, spine_context

#: Caveats every page carries (the caller adds data-specific ones).
STANDARD_CAVEATS = (
    "Children in the profile are school-age children in census households whose index "
    "indicators and social care outcomes are all known; children with any of them "
    "missing are left out and counted, never treated as 'not deprived' or 'no contact'.",
    "Intervals for H, A and M0 allow for children of one household sharing its "
    "deprivation (clustered by household).",
    "Contact rates count children with at least one contact in the follow-up window "
    "(referrals: every referral, per 10,000 child-years). More contact is not in itself "
    "better or worse, so comparisons say 'higher' or 'lower', not 'better' or 'worse'.",
)

PROVENANCE_ORDER = ("Data source", "Run date", "Code version")


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The Jinja2 environment: packaged templates, HTML autoescaping, strict variables."""
    env = Environment(
        loader=PackageLoader("child_mdh.release.profiles", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


def provenance_summary(record: Mapping) -> dict[str, str]:
    """Labels and texts for a page from a run's provenance record.

    Accepts :func:`child_mdh.release.provenance.provenance_record` output (``created_utc``,
    ``code``) or a mapping already in 'label -> text' form (returned as text); a
    ``data_source`` key becomes 'Data source'.
    """
    out: dict[str, str] = {}
    rec = dict(record or {})
    if "data_source" in rec:
        out["Data source"] = str(rec.pop("data_source"))
    if "created_utc" in rec:
        out["Run date"] = str(rec.pop("created_utc"))
    code = rec.pop("code", None)
    if isinstance(code, Mapping):
        text = f"child-mdh {code.get('package_version', '')}".strip()
        if code.get("git_commit"):
            text += f", commit {str(code['git_commit'])[:12]}"
        if code.get("git_dirty"):
            text += " (with uncommitted changes)"
        out["Code version"] = text
    elif code is not None:
        out["Code version"] = str(code)
    for key in ("config", "inputs", "packages", "platform", "python", "record"):
        rec.pop(key, None)
    for key, value in rec.items():
        if isinstance(value, (str, int, float)):
            out[str(key)] = str(value)
    return out


def _provenance_items(provenance: Mapping | None) -> list[tuple[str, str]]:
    items = provenance_summary(provenance or {})
    items.setdefault("Run date", dt.date.today().isoformat())
    ordered = [(k, items[k]) for k in PROVENANCE_ORDER if k in items]
    return ordered + [(k, v) for k, v in items.items() if k not in PROVENANCE_ORDER]


#: Decimal places by the unit of a long-table row (counts have none).
UNIT_DECIMALS = {"%": DECIMALS["pct"], "proportion": DECIMALS["af"], "ratio": DECIMALS["ratio"]}


def _decimals(unit: str) -> int:
    return UNIT_DECIMALS.get(unit, DECIMALS["rate"])


def cut_off_text(provenance: Mapping | None) -> str:
    """The index's cut-off in words, from the run's configuration (``provenance.json``):
    'deprived in at least 2 of the 5 indicators (...)' when the weights are equal, else
    the weighted share; '' when the configuration is not known."""
    index = ((provenance or {}).get("config") or {}).get("index") or {}
    weights, k = index.get("weights") or {}, index.get("k")
    if not weights or k is None:
        return ""
    names = ", ".join(INDICATOR_LABELS.get(w, w).lower() for w in weights)
    values = [float(v) for v in weights.values()]
    if max(values) - min(values) < 1e-9 and values[0] > 0:
        need = math.ceil(float(k) / values[0] - 1e-9)
        return (
            f"deprived in at least {need} of the {len(values)} indicators ({names}), "
            f"each weighted equally (cut-off k = {float(k):g})"
        )
    return (
        f"deprived in indicators whose weights add up to at least {float(k):g} "
        f"(indicators {names}; weights {', '.join(f'{v:g}' for v in values)})"
    )


#: What each index indicator means, in words (ONS household deprivation dimensions,
#: Census 2021 TS011 / Census 2011 QS119EW; free school meals from the school census).
INDICATOR_DEFINITIONS = {
    "employment": "the household is deprived in employment (ONS census household "
    "deprivation): any member who is not a full-time student is unemployed or long-term "
    "sick or disabled",
    "education": "the household is deprived in education (ONS census household "
    "deprivation): no member has at least level 2 qualifications (five GCSEs at grades "
    "9 to 4, or equivalent) and no one aged 16 to 18 is a full-time student",
    "health": "the household is deprived in health and disability (ONS census household "
    "deprivation): any member has bad or very bad general health or a long-term "
    "condition that limits day-to-day activities",
    "housing": "the household is deprived in housing (ONS census household deprivation): "
    "its accommodation is overcrowded, in a shared dwelling or has no central heating",
    "fsm": "the child was recorded as eligible for free school meals in the school census "
    "(the latest school census before the reference date, within a year of it)",
}
_FSM_EVER6 = (
    "the child was recorded as eligible for free school meals at any school census in "
    "the six years up to the reference date (as the National Pupil Database's EVERFSM_6)"
)


def _config(provenance: Mapping | None) -> Mapping:
    config = (provenance or {}).get("config") if isinstance(provenance, Mapping) else None
    return config if isinstance(config, Mapping) else {}


def _date_text(value) -> str:
    if value in (None, ""):
        return ""
    try:
        day = pd.Timestamp(value)
    except (TypeError, ValueError):
        return str(value)
    return f"{day.day} {day:%B %Y}"


def _number_text(value) -> str:
    v = float(value)
    return f"{v:g}"


def period_items(
    provenance: Mapping | None, period: Mapping | None = None
) -> list[tuple[str, str]]:
    """What the figures cover, as (label, text) pairs: the ages, the reference date,
    the follow-up window, the census and the extract date, where known.

    ``period`` (from the derivation's report: ``reference_date``, ``extract_date``,
    ``census_year``) gives the dates the run used; the run's configuration
    (``provenance['config']``: ``population``, ``outcomes``, ``synthetic``) gives the
    ages and the follow-up, and the dates when ``period`` does not.
    """
    config = _config(provenance)
    period = dict(period or {})
    population = config.get("population") or {}
    outcomes = config.get("outcomes") or {}
    synthetic = config.get("synthetic") or {}
    source = (config.get("input") or {}).get("source")
    census_year = period.get("census_year")
    if census_year in (None, "") and source in (None, "synthetic"):
        census_year = synthetic.get("census_year")
    reference = period.get("reference_date") or population.get("reference_date")
    extract = period.get("extract_date") or outcomes.get("extract_date")
    years = period.get("follow_up_years", outcomes.get("follow_up_years"))
    low = period.get("min_age", population.get("min_age"))
    high = period.get("max_age", population.get("max_age"))
    items = []
    if low is not None and high is not None:
        items.append(
            (
                "Ages",
                f"children aged {int(low)} to {int(high)} at the reference date (school age)",
            )
        )
    if reference:
        items.append(("Reference date", _date_text(reference)))
    elif census_year not in (None, ""):
        items.append(("Reference date", f"census day of the {int(census_year)} census"))
    if years not in (None, ""):
        window = f"{_number_text(years)} years after the reference date"
        if reference:
            end = pd.Timestamp(reference) + pd.DateOffset(years=int(float(years)))
            if float(years) == int(float(years)):
                window += f" (to {_date_text(end)})"
        items.append(("Follow-up for social care contacts", window))
    if census_year not in (None, ""):
        items.append(
            (
                "Census",
                f"Census {int(census_year)} (household deprivation and household "
                "membership as recorded then)",
            )
        )
    if extract:
        items.append(
            (
                "Social care data extracted",
                f"{_date_text(extract)} (contacts after it are not seen, so a "
                "follow-up ending later is shortened)",
            )
        )
    return items


def index_definition(provenance: Mapping | None) -> dict:
    """The index's definition in words and each indicator's, from the run's
    configuration (``index.weights``, ``index.k``): {'sentence': ..., 'indicators':
    [(label, weight text, definition)]}; empty when the configuration is not known."""
    config = _config(provenance)
    index = config.get("index") or {}
    weights = {str(k): float(v) for k, v in (index.get("weights") or {}).items()}
    weights = {k: v for k, v in weights.items() if v > 0}
    k = index.get("k")
    if not weights or k is None:
        return {}
    k = float(k)
    values = list(weights.values())
    n = len(values)
    if max(values) - min(values) < 1e-9:
        need = math.ceil(k / values[0] - 1e-9)
        rule = f"deprived in at least {need} of the {n} indicators below"
        weight_text = "equal weights"
    else:
        rule = (
            f"deprived in indicators whose weights add up to at least {k:g} "
            f"(the {n} weights below add up to {sum(values):g})"
        )
        weight_text = "weights differ"
    sentence = (
        "A child is counted as living in a multidimensionally disadvantaged household "
        f"(MDH) when {rule} (cut-off k = {k:g}; {weight_text})."
    )
    fsm = (config.get("population") or {}).get("fsm_measure")
    rows = []
    for name, w in weights.items():
        text = INDICATOR_DEFINITIONS.get(name, "")
        if name == "fsm" and fsm == "ever_fsm_6":
            text = _FSM_EVER6
        rows.append({"label": INDICATOR_LABELS.get(name, name), "weight": f"{w:g}", "text": text})
    return {"sentence": sentence, "indicators": rows}


def nothing_published(rows: list[dict]) -> bool:
    """True when an area's page would show no released number at all: every count and
    statistic is suppressed or not available."""
    for r in rows:
        if not r["count_suppressed"]:
            return False
        if not r["is_count"] and not r["suppressed"] and r["value"] not in ("", "not available"):
            return False
    return True


def interval_method(indicator: str, unit: str) -> str:
    """The interval a statistic is shown with, and compared with England by, in words."""
    if unit == "proportion":
        return "household-clustered interval"
    if unit == "%":
        return "Wilson interval"
    if unit == "ratio":
        return "exact or log-normal interval"
    if indicator.endswith("_rate"):
        return "Byar or exact Poisson interval"
    return ""


def display_rows(long: pd.DataFrame, la_code: str, base: int, threshold: int) -> list[dict]:
    """The long indicator rows of one area, formatted for the page's tables.

    A missing value whose counts are missing (or, for a rate ratio, one of whose rates
    is missing) is shown as suppressed; a missing value with its counts published is
    'not available' (a statistic undefined for zero children).
    """
    rows = long[long["la_code"] == la_code]
    rates = rows[
        rows["indicator"].str.endswith("_rate")
        & rows["group"].isin(["MDH children", "Other children"])
    ]
    rate_missing = rates.groupby("indicator")["value"].apply(lambda v: v.isna().any()).to_dict()
    out = []
    for r in rows.to_dict("records"):  # about fifty indicators of one area
        unit = str(r["unit"])
        is_count = unit == "children"
        decimals = _decimals(unit)
        suffix = "%" if unit == "%" else ""
        if is_count:
            value, suppressed = fmt_count(r["count_n"], base, threshold), is_missing(r["count_n"])
        elif not is_missing(r["value"]):
            value, suppressed = fmt_number(r["value"], decimals, suffix), False
        elif (
            is_missing(r["count_n"])
            or is_missing(r["denominator_n"])
            or (
                unit == "ratio"
                and rate_missing.get(str(r["indicator"]).replace("_rate_ratio", "_rate"), True)
            )
        ):
            value, suppressed = suppressed_text(threshold), True
        else:
            value, suppressed = "not available", False
        out.append(
            {
                "indicator": str(r["indicator"]),
                "section": str(r["section"]),
                "label": str(r["indicator_label"]),
                "group": str(r["group"]),
                "unit": unit,
                "count": fmt_count(r["count_n"], base, threshold),
                "count_suppressed": is_missing(r["count_n"]),
                "denominator": "" if is_count else fmt_count(r["denominator_n"], base, threshold),
                "value": value,
                "suppressed": suppressed,
                "interval": fmt_interval(r["lower_95"], r["upper_95"], decimals),
                "interval_99_8": fmt_interval(r["lower_99_8"], r["upper_99_8"], decimals),
                # blank on England's own page (and a lone LA's): no comparison with itself
                "england": (
                    ""
                    if all(
                        is_missing(r[c])
                        for c in ("england_count_n", "england_denominator_n", "england_value")
                    )
                    else fmt_count(r["england_count_n"], base, threshold)
                    if is_count
                    else fmt_number(r["england_value"], decimals, suffix)
                ),
                "method": interval_method(str(r["indicator"]), unit),
                "cmp95": comparison(r["vs_england_95"]),
                "cmp998": comparison(r["vs_england_99_8"]),
                "compared": not is_missing(r["vs_england_95"]),
                "funnel": "" if is_missing(r["funnel"]) else funnel_text(r["funnel"]),
                "is_count": is_count,
            }
        )
    return out


def _mark_first_of_label(rows: list[dict]) -> None:
    """Set ``first`` on the first row of each run of rows with the same label (the
    label is printed once, with the group rows beneath it)."""
    previous = None
    for r in rows:
        r["first"] = r["label"] != previous
        previous = r["label"]


def _svg(markup: str) -> Markup:
    # built by figures.py from escaped texts only
    return Markup(markup)


def area_page_context(
    tables: Mapping[str, pd.DataFrame],
    la_code: str,
    *,
    base: int,
    threshold: int,
    links: Mapping[str, str],
    local: pd.DataFrame | None = None,
    provenance: Mapping | None = None,
    caveats: Sequence[str] = (),
    is_synthetic: bool = False,
    downloads: Sequence[tuple[str, str]] = (),
    period: Mapping | None = None,
) -> dict:
    """Everything the profile template shows for one area (a local authority or England).

    ``links``: relative links to the index page and England's page; ``downloads``:
    (label, relative link) pairs of this area's tables and figures; ``period``: the
    dates the run used (see :func:`period_items`). ``empty`` is True when nothing about
    the area can be published (the template then writes a one-line page).
    """
    wide = tables["area_statistics"]
    row = chartdata.area_row(wide, la_code)
    is_england = la_code == ENGLAND_CODE
    long = tables.get("indicators")
    if long is None:
        long = long_indicators(tables)
    shown = display_rows(long, la_code, base, threshold)
    by_ind = {}
    for r in shown:
        by_ind.setdefault(r["indicator"], []).append(r)
    highlight = None if is_england else la_code
    funnels = [
        f
        for f in (
            chartdata.prevalence_funnel(tables, highlight, base, threshold),
            chartdata.rate_funnel(tables, highlight, base, threshold),
        )
        if f is not None and len(f.points)
    ]
    name = str(row["la_name"])
    funnel_svgs = []
    for i, f in enumerate(funnels):
        here = f.points[f.points["highlight"]]
        position = ""
        if not is_england:
            # the point's hover text already starts with the area's name
            position = (
                here["hover"].iloc[0]
                if len(here)
                else (f"{name} is not on this plot: its value is suppressed.")
            )
        funnel_svgs.append(
            {
                "title": f.title,
                "svg": _svg(
                    svg_funnel(
                        f,
                        uid=f"funnel{i}",
                        description=(
                            f"{f.title}. Each grey point is a local authority (hover for its value); "
                            "the black line is England's value; dashed and dotted lines are the 95% and "
                            "99.8% control limits."
                            + (f" {name} is the large orange point." if not is_england else "")
                        ),
                    )
                ),
                "position": position,
            }
        )
    domains = chartdata.domain_panels(tables, la_code)
    contacts = chartdata.contact_panels(tables, la_code, base, threshold)
    local_df = local_rows(local, la_code)
    local_items = [
        {
            "indicator": r["indicator"],
            "value": "" if is_missing(r["value"]) else f"{float(r['value']):,g}",
            "unit": "" if is_missing(r["unit"]) else str(r["unit"]),
            "period": "" if is_missing(r["period"]) else str(r["period"]),
            "source": "" if is_missing(r["source"]) else str(r["source"]),
            "statement": "" if is_missing(r["statement"]) else str(r["statement"]),
        }
        for _, r in local_df.iterrows()
    ]
    headline = {
        "children": fmt_count(row["children_n"], base, threshold),
        "mdh": fmt_count(row["mdh_n"], base, threshold),
        "prevalence": (by_ind.get("mdh_prevalence") or [None])[0],
        "m0": (by_ind.get("M0") or [None])[0],
        "left_out": (by_ind.get("left_out") or [None])[0],
    }
    ratios = [r for r in shown if r["indicator"].endswith("_rate_ratio")]
    contact_rows = [r for r in shown if r["section"].startswith("Contacts")]
    compare_rows = [r for r in shown if r["indicator"] in ("mdh_prevalence", "M0")] + [
        r for r in contact_rows if r["indicator"].endswith("_rate")
    ]
    _mark_first_of_label(compare_rows)
    _mark_first_of_label(contact_rows)
    return {
        "title": f"{name}: Child-MDH local profile",
        "empty": not is_england and nothing_published(shown),
        "period": period_items(provenance, period),
        "definition": index_definition(provenance),
        "spine": spine_context(long, la_code, name),
        "spine_legend": _svg(legend_html()),
        "name": name,
        "code": la_code,
        "region": "" if is_missing(row.get("region_name")) else str(row["region_name"]),
        "is_england": is_england,
        "is_synthetic": bool(is_synthetic),
        "cut_off": cut_off_text(provenance),
        "threshold": threshold,
        "base": base,
        "suppressed_text": suppressed_text(threshold),
        "caveats": list(caveats),
        "standard_caveats": list(STANDARD_CAVEATS),
        "provenance": _provenance_items(provenance),
        "headline": headline,
        "compare_rows": compare_rows,
        "index_rows": [r for r in shown if r["indicator"] in ("H", "A", "M0")],
        "domain_rows": [r for r in shown if r["section"].startswith("Deprivation")],
        "contact_rows": [r for r in contact_rows if not r["indicator"].endswith("ratio")],
        "ratio_rows": ratios,
        "domains_svg": _svg(
            svg_panels(
                domains,
                uid="domains",
                threshold=threshold,
                title=f"Deprivation indicators, {name}",
                description=(
                    "Bars: this area's percentage"
                    + ("" if is_england else "; black ticks: England")
                    + ". Hover for values."
                ),
            )
        ),
        "contacts_svg": _svg(
            svg_panels(
                contacts,
                uid="contacts",
                threshold=threshold,
                title=f"Contacts with children's social care, {name}",
                description=(
                    "Rates per 10,000 for MDH, other and all children with 95% intervals"
                    + ("" if is_england else "; black ticks: England")
                    + ". Hover for values."
                ),
            )
        ),
        "funnels": funnel_svgs,
        "local": local_items,
        "local_label": LOCAL_LABEL,
        "links": dict(links),
        "downloads": list(downloads),
    }


def index_page_context(
    tables: Mapping[str, pd.DataFrame],
    *,
    base: int,
    threshold: int,
    page_links: Mapping[str, str],
    provenance: Mapping | None = None,
    caveats: Sequence[str] = (),
    is_synthetic: bool = False,
    downloads: Sequence[tuple[str, str]] = (),
    period: Mapping | None = None,
) -> dict:
    """Everything the index template shows: England's headline, every local authority's
    prevalence and comparison (grouped by region) with links, and the prevalence funnel."""
    wide = tables["area_statistics"]
    eng = chartdata.england_row(wide)
    las = wide[wide["la_code"] != ENGLAND_CODE].copy()
    las["_region"] = las["region_name"].fillna("Region not known").astype("str")
    las = las.sort_values(["_region", "la_name"], kind="stable")
    regions = []
    for region, part in las.groupby("_region", sort=False):  # about nine regions
        items = []
        for _, r in part.iterrows():
            value = r["mdh_pct"]
            items.append(
                {
                    "code": r["la_code"],
                    "name": r["la_name"],
                    "href": page_links.get(r["la_code"]),
                    "children": fmt_count(r["children_n"], base, threshold),
                    "value": (
                        fmt_number(value, DECIMALS["pct"], "%")
                        if not is_missing(value)
                        else suppressed_text(threshold)
                    ),
                    "suppressed": is_missing(value),
                    "interval": fmt_interval(
                        r["mdh_pct_lower_95"], r["mdh_pct_upper_95"], DECIMALS["pct"]
                    ),
                    "cmp95": comparison(r["mdh_pct_vs_england_95"]),
                    "cmp998": comparison(r["mdh_pct_vs_england_99_8"]),
                    "funnel": funnel_text(r.get("mdh_pct_funnel")),
                }
            )
        regions.append({"name": region, "areas": items})
    funnel = chartdata.prevalence_funnel(tables, None, base, threshold)
    svg = ""
    if len(funnel.points):
        svg = _svg(
            svg_funnel(
                funnel,
                uid="funnel-index",
                description=(
                    "Child-MDH prevalence of every local authority against its number of children; "
                    "hover a point for the area, its value and interval."
                ),
            )
        )
    return {
        "title": "Child-MDH local profiles: index",
        "period": period_items(provenance, period),
        "definition": index_definition(provenance),
        "is_synthetic": bool(is_synthetic),
        "threshold": threshold,
        "base": base,
        "suppressed_text": suppressed_text(threshold),
        "caveats": list(caveats),
        "standard_caveats": list(STANDARD_CAVEATS),
        "provenance": _provenance_items(provenance),
        "england": {
            "children": fmt_count(eng["children_n"], base, threshold),
            "mdh": fmt_count(eng["mdh_n"], base, threshold),
            "value": fmt_number(eng["mdh_pct"], DECIMALS["pct"], "%"),
            "interval": fmt_interval(
                eng["mdh_pct_lower_95"], eng["mdh_pct_upper_95"], DECIMALS["pct"]
            ),
            "href": page_links.get(ENGLAND_CODE),
        },
        "regions": regions,
        "funnel_svg": svg,
        "downloads": list(downloads),
        "n_areas": len(las),
    }


def render(template: str, context: Mapping) -> str:
    """Render one of the packaged templates ('profile.html', 'index.html')."""
    return environment().get_template(template).render(**context)
