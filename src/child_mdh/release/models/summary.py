"""A plain-English summary of the model results, written from the released tables.

Every number in the summary is read from a table as released (after suppression and
rounding), so the page discloses nothing the checked tables do not, and a suppressed
value is reported as such. The page says what each model adjusts for, how the
uncertainty is computed, and how (not) to read the results: associations, not causal
effects; hazard ratios that are follow-up-weighted averages when proportional hazards
fail (methods.md section 6); and no score for any individual child (methods.md section 5).

When the data are synthetic, the generator's true effects are known (``truth.json``) and
the summary sets each released estimate beside its true value, for the terms on the same
scale (:func:`truth_section`). True values are parameters of the generator, not data.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import pandas as pd

from child_mdh.release.models.figures import OUTCOME_LABELS, preferred_link

OUTCOME_PHRASES = {
    "any_referral": "a referral to children's social care",
    "any_cin": "a referral leading to a child-in-need episode",
    "any_cpp": "a child protection plan",
    "entered_care": "entering care",
}
SUPPRESSED = "not shown (disclosure control)"
INDICATOR_WORDS = {
    "fsm": "free school meals",
    "employment": "employment",
    "education": "education",
    "health": "health and disability",
    "housing": "housing",
}


def _num(x) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)) or pd.isna(x):
        return "-"
    x = float(x)
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.1f}" if abs(x) >= 10 else f"{x:.2f}"


def _count(x) -> str:
    return "-" if pd.isna(x) else f"{float(x):,.0f}"


def _ratio(row) -> str:
    if row is None or pd.isna(row.get("ratio")):
        return SUPPRESSED
    return f"{_num(row['ratio'])} (95% CI {_num(row['ratio_low'])} to {_num(row['ratio_high'])})"


def _first(df: pd.DataFrame, **equal):
    if df is None or df.empty:
        return None
    m = pd.Series(True, index=df.index)
    for k, v in equal.items():
        m &= df[k].astype(str) == str(v)
    r = df[m]
    return None if r.empty else r.iloc[0]


def _p(x) -> str:
    """'p < 0.001' or 'p = 0.123'."""
    if pd.isna(x):
        return "p not shown"
    return "p < 0.001" if float(x) < 0.001 else f"p = {float(x):.3f}"


def _words(variable: str) -> str:
    return INDICATOR_WORDS.get(variable, variable.replace("_", " "))


def _adjusted_for(adjust) -> str:
    words = {
        "age": "age",
        "sex": "sex",
        "prior_referral": "an earlier referral",
        "prior_cpp": "an earlier child protection plan",
        "prior_in_care": "earlier time in care",
    }
    items = [words.get(a, a.replace("_", " ")) for a in adjust]
    if not items:
        return "nothing else"
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _binary_section(
    binary: pd.DataFrame, rates: pd.DataFrame, outcome: str, link: str, adjust
) -> list[str]:
    name = OUTCOME_LABELS.get(outcome, outcome)
    phrase = OUTCOME_PHRASES.get(outcome, outcome.replace("_", " "))
    lines = [f"### {name}", ""]
    mdh = _first(binary, model=f"{outcome}_mdh_{link}", term="mdh[T.True]")
    fe = _first(binary, model=f"{outcome}_mdh_{link}_fe", term="mdh[T.True]")
    if mdh is None:
        lines.append(
            f"- The model of {phrase} on Child-MDH status was not estimated or not released."
        )
    elif pd.isna(mdh.get("ratio")):
        lines.append(f"- The {mdh['ratio_name']} of Child-MDH for {phrase} is {SUPPRESSED}.")
    else:
        ratio_name = mdh["ratio_name"]
        lines.append(
            f"- Children in multidimensionally disadvantaged households (Child-MDH) had a "
            f"{ratio_name} of {_ratio(mdh)} for {phrase} in the follow-up window, "
            f"compared with other children, adjusted for {_adjusted_for(adjust)} "
            f"({_count(mdh['children_n'])} children, {_count(mdh['events_n'])} with the "
            "outcome)."
        )
        if fe is not None:
            lines.append(
                f"- Comparing children within the same local authority (local-"
                f"authority fixed effects) the {ratio_name} was {_ratio(fe)}."
            )
    r = rates[(rates["model"] == f"{outcome}_count_logit")] if not rates.empty else rates
    if r is None or r.empty:
        r = rates[(rates["model"] == f"{outcome}_count_{link}")] if not rates.empty else rates
    if r is not None and not r.empty:
        if r["rate"].notna().all():
            lo, hi = r.iloc[0], r.iloc[-1]
            lines.append(
                f"- Adjusted rates (standardised for the other covariates): "
                f"{_num(lo['rate'])} per 10,000 children with no "
                f"deprived indicator (95% CI {_num(lo['rate_low'])} to "
                f"{_num(lo['rate_high'])}), {_num(hi['rate'])} per 10,000 with "
                f"{hi['level']} deprived indicators (95% CI {_num(hi['rate_low'])} to {_num(hi['rate_high'])})."
            )
        else:
            lines.append(f"- Adjusted rates by number of deprived indicators: {SUPPRESSED}.")
    dom = binary[(binary["model"] == f"{outcome}_domains_{link}")] if not binary.empty else binary
    if dom is not None and not dom.empty:
        ex = dom[
            dom["term"].str.endswith("[T.True]")
            & dom["ratio"].notna()
            & ~dom["variable"].isin(list(adjust))
        ]
        if not ex.empty:
            top = ex.sort_values("ratio", ascending=False).iloc[0]
            lines.append(
                f"- With the indicators mutually adjusted, the strongest association was "
                f"with {_words(top['variable'])}: {top['ratio_name']} "
                f"{_ratio(top)}."
            )
    lines.append("")
    return lines


#: the link whose coefficients are log hazard ratios, the scale of the generator's truth
TRUTH_LINK = "cloglog"
#: the order in which specifications are searched for a term of the truth
TRUTH_SPECIFICATIONS = ("domains", "inverse_intervention", "mdh", "count")


def truth_rows(binary: pd.DataFrame, outcome: str, truth: Mapping[str, float]) -> pd.DataFrame:
    """The released estimates of ``outcome`` that have a true value in ``truth`` (design
    column -> true log hazard ratio): complementary log-log models only (log hazard
    ratios, the truth's scale), those with local-authority dummies when fitted (the
    generator's local-authority effects are then held fixed, as in its model), each term
    once, from the first specification of :data:`TRUTH_SPECIFICATIONS` that holds it.

    Columns: specification, model, term, estimate, conf_low, conf_high, truth, covered
    (None when the estimate is not released)."""
    columns = [
        "specification",
        "model",
        "term",
        "estimate",
        "conf_low",
        "conf_high",
        "truth",
        "covered",
    ]
    if binary is None or binary.empty or not truth:
        return pd.DataFrame(columns=columns)
    rows = binary[
        (binary["outcome"].astype(str) == outcome)
        & (binary["link"].astype(str) == TRUTH_LINK)
        & binary["term"].isin(list(truth))
    ]
    with_dummies = rows[rows["fixed_effects"].astype(str) == "LA dummies"]
    rows = with_dummies if not with_dummies.empty else rows[rows["fixed_effects"] == "none"]
    order = {s: i for i, s in enumerate(TRUTH_SPECIFICATIONS)}
    rows = rows.assign(_order=rows["specification"].map(order).fillna(len(order)))
    rows = rows.sort_values("_order", kind="stable").drop_duplicates("term")
    held = set(rows["term"])
    rows = rows.set_index("term").reindex([t for t in truth if t in held])
    out = rows.reset_index()[["specification", "model", "term", "estimate"]].copy()
    out["conf_low"] = rows["conf_low"].to_numpy(dtype=float)
    out["conf_high"] = rows["conf_high"].to_numpy(dtype=float)
    out["estimate"] = out["estimate"].astype(float)
    out["truth"] = [float(truth[t]) for t in out["term"]]
    known = out[["conf_low", "conf_high"]].notna().all(axis=1)
    inside = (out["conf_low"] <= out["truth"]) & (out["truth"] <= out["conf_high"])
    out["covered"] = [bool(c) if k else None for c, k in zip(inside, known, strict=True)]
    return out[columns]


def _log(x) -> str:
    return "-" if pd.isna(x) else f"{float(x):.2f}"


def truth_section(
    binary: pd.DataFrame,
    truth: Mapping[str, Mapping[str, float]],
    *,
    outcomes,
    adjust,
    confidence: float = 0.95,
) -> list[str]:
    """The Markdown section comparing released estimates with the synthetic truth
    (``truth``: outcome -> design column -> true log hazard ratio, from
    :func:`child_mdh.sources.synthetic.truth_terms.outcome_truth`): one table per outcome
    (:func:`truth_rows`) and the generator's terms no released model holds."""
    pct = round(confidence * 100)
    out = [
        "## Compared with the synthetic truth",
        "",
        "The data are synthetic, so the true effects are known: the generator's log hazard "
        "ratios (truth.json in the synthetic data folder; they are parameters of the "
        "generator, not data). Each table sets a released estimate beside its true value "
        "where both are on the same scale: complementary log-log models (log hazard "
        "ratios), with local-authority fixed effects when fitted, for the terms the "
        "generator's model also holds. Estimates and intervals are on the log scale, as "
        "released in binary_models.csv.",
        "",
        f"- A {pct}% interval misses its true value about "
        f"{round(100 - pct)} times in 100 by chance alone.",
        "- The released models are not the generator's model: they leave out the terms "
        "listed under each table, and they use recorded free school meals rather than "
        "the generator's, so an estimate can also differ from its true value by design "
        "(an indicator then carries part of a term left out).",
        "- The recovery study, which fits the generator's own model over many synthetic "
        "Englands, is in docs/models.md.",
        "",
    ]
    shown = False
    for outcome in outcomes:
        terms = truth.get(outcome)
        if not terms:
            continue
        rows = truth_rows(binary, outcome, terms)
        if rows.empty:
            continue
        shown = True
        covered = rows["covered"].dropna()
        out += [
            f"### {OUTCOME_LABELS.get(outcome, outcome)}",
            "",
            f"| term | model | estimate | {pct}% CI | true value | CI covers the true value |",
            "|---|---|---|---|---|---|",
        ]
        for r in rows.itertuples():
            ci = (
                SUPPRESSED
                if pd.isna(r.conf_low) or pd.isna(r.conf_high)
                else f"{_log(r.conf_low)} to {_log(r.conf_high)}"
            )
            estimate = SUPPRESSED if pd.isna(r.estimate) else _log(r.estimate)
            verdict = "-" if r.covered is None else ("yes" if r.covered else "no")
            out.append(
                f"| `{r.term}` | {r.model} | {estimate} | {ci} | {r.truth:.2f} | {verdict} |"
            )
        out.append("")
        out.append(f"- {int(covered.sum())} of {len(covered)} intervals cover the true value.")
        held = set(
            binary.loc[
                (binary["outcome"].astype(str) == outcome)
                & (binary["link"].astype(str) == TRUTH_LINK),
                "term",
            ]
        )
        missing = [f"`{t}` ({v:.2f})" for t, v in terms.items() if v != 0 and t not in held]
        if missing:
            out.append(
                "- Terms of the generator's model that no released model holds: "
                + ", ".join(missing)
                + "."
            )
        extra = [a for a in adjust.get(outcome, ()) if a not in ("age", "sex")]
        if extra:
            out.append(
                "- The released models also adjust for "
                + _adjusted_for(extra)
                + ", which the generator's model does not hold."
            )
        out.append("")
    if not shown:
        out += [
            "No released estimate is on the truth's scale (complementary log-log models "
            "were not fitted or not released).",
            "",
        ]
    return out


CLUSTER_WORDS = {
    "la_code": ("local authority", "authorities"),
    "household_id": ("household", "households"),
    "lsoa_code": ("LSOA", "LSOAs"),
    "school_id": ("school", "schools"),
}


def model_summary(  # noqa: C901  (one paragraph per model kind, in page order)
    tables: dict[str, pd.DataFrame],
    *,
    outcomes,
    links,
    adjust,
    notes=(),
    skipped: pd.DataFrame | None = None,
    confidence: float = 0.95,
    cluster: str = "la_code",
    synthetic: bool = False,
    truth: Mapping[str, Mapping[str, float]] | None = None,
) -> str:
    """The Markdown summary of the released model tables (``tables`` as read back from
    the release folder: binary, hazard, counts, predicted_rates, comparator).

    ``adjust``: the covariates the models adjust for, one list for all outcomes or a
    mapping outcome -> list (they differ when sparse levels were pooled per outcome);
    ``cluster`` the column the standard errors are clustered by; ``synthetic``: the
    tables come from synthetic data, and the page says so first; ``truth`` (synthetic
    data only): outcome -> design column -> true log hazard ratio, which adds the
    comparison of the estimates with it (:func:`truth_section`)."""
    unit, units = CLUSTER_WORDS.get(
        cluster, (cluster.replace("_", " "), cluster.replace("_", " ") + " groups")
    )
    binary = tables.get("binary", pd.DataFrame())
    rates = tables.get("predicted_rates", pd.DataFrame())
    if not isinstance(adjust, Mapping):
        adjust = {o: tuple(adjust) for o in [*outcomes, "any_referral"]}
    link = preferred_link(links)
    pct = round(confidence * 100)
    out = [
        "# Child-MDH and children's social care: what the models show",
        "",
        *(
            [
                "**SYNTHETIC DATA: these results come from synthetic data generated by "
                "child-mdh; they describe no real child, household or local authority.**",
                "",
            ]
            if synthetic
            else []
        ),
        "This page summarises the released model tables in this folder. Every number "
        "here is read from those tables after disclosure control: counts may be rounded, "
        "and values resting on too few children are not shown.",
        "",
        "## How to read it",
        "",
        "- These are **associations**, not causal effects: household disadvantage travels "
        "with much that these data do not measure.",
        f"- Ratios come with {pct}% confidence intervals. Standard errors are clustered by "
        f"{unit}, so children in the same {unit} are not treated as independent.",
        "- The complementary log-log link gives hazard ratios (the grouped "
        "proportional-hazards model); the logit link gives odds ratios. Where the "
        "outcome is common, odds ratios are further from 1 than risk or hazard ratios.",
        "- Nothing here predicts anything for an individual child, and no model output "
        "scores children: the models describe groups of children.",
        "",
        "## Main results",
        "",
    ]
    for outcome in outcomes:
        out += _binary_section(binary, rates, outcome, link, adjust.get(outcome, ()))

    hazard = tables.get("hazard", pd.DataFrame())
    if hazard is not None and not hazard.empty:
        h = _first(hazard, model=f"first_referral_mdh_{link}", term="mdh[T.True]")
        out += ["## Time to a first referral", ""]
        if h is not None:
            out.append(
                f"- In a discrete-time hazard model (yearly periods) the {h['ratio_name']} "
                f"of a first referral for Child-MDH children was {_ratio(h)}."
            )
            verdict = h.get("ph_verdict")
            if isinstance(verdict, str) and verdict:
                out.append(f"- Test of proportional hazards ({_p(h['ph_p_value'])}): {verdict}.")
        out.append("")

    counts = tables.get("counts", pd.DataFrame())
    if counts is not None and not counts.empty:
        c = _first(counts, model="n_referrals_mdh_poisson", term="mdh[T.True]")
        nb = _first(counts, model="n_referrals_mdh_negbin", term="mdh[T.True]")
        out += ["## Number of referrals", ""]
        if c is not None:
            out.append(
                f"- Child-MDH children had a referral rate ratio of {_ratio(c)} "
                "(Poisson model with follow-up time as exposure; cluster-robust "
                "errors make it valid under over-dispersion)."
            )
        if nb is not None:
            out.append(
                f"- The negative binomial model gave {_ratio(nb)}, with dispersion "
                f"alpha = {_num(nb['alpha'])}."
            )
        out.append("")

    if not binary.empty and (binary["specification"] == "inverse_intervention").any():
        out += ["## Does disadvantage matter more where it is rarer?", ""]
        term = "mdh[T.True]:la_mdh_prevalence_centred"
        for outcome in outcomes:
            i = _first(binary, model=f"{outcome}_inverse_intervention_{link}_fe", term=term)
            if i is None:
                i = _first(binary, model=f"{outcome}_inverse_intervention_{link}", term=term)
            if i is None:
                continue
            if pd.isna(i["estimate"]):
                out.append(f"- {OUTCOME_LABELS.get(outcome, outcome)}: {SUPPRESSED}.")
                continue
            direction = "smaller" if i["estimate"] > 0 else "larger"
            per10 = [math.exp(0.1 * float(i[c])) for c in ("estimate", "conf_low", "conf_high")]
            out.append(
                f"- {OUTCOME_LABELS.get(outcome, outcome)}: for every 10 percentage points "
                f"more Child-MDH children in the local authority, the {i['ratio_name']} of "
                f"Child-MDH is multiplied by {per10[0]:.2f} ({pct}% CI {per10[1]:.2f} to "
                f"{per10[2]:.2f}; {_p(i['p_value'])}; interaction {_num(i['estimate'])} on "
                f"the log scale per unit of prevalence). The point estimate says the gap is "
                f"{direction} where disadvantage is rarer"
                + (
                    ", but the interval includes no difference."
                    if i["conf_low"] <= 0 <= i["conf_high"]
                    else "."
                )
            )
        out += [
            "",
            "A negative interaction is what the inverse intervention law "
            "(Bywaters et al. 2017) describes. The prevalence is each authority's share of "
            "the children modelled, centred on the national share.",
            "",
        ]

    comp = tables.get("comparator", pd.DataFrame())
    if comp is not None and not comp.empty:

        def metric(model, stat):
            r = _first(comp, section="metrics", model=model, fold="pooled", statistic=stat)
            return None if r is None else r["value"]

        out += ["## A flexible comparator", ""]
        outcome = comp["outcome"].iloc[0]
        out.append(
            f"- For {OUTCOME_PHRASES.get(outcome, outcome)}, gradient boosting reached an "
            f"area under the ROC curve of {_num(metric('gradient_boosting', 'auc'))}, against "
            f"{_num(metric('logistic', 'auc'))} for the additive logistic model, in "
            f"cross-validation where each fold holds out whole {units}."
        )
        out.append(
            f"- Calibration slope of the logistic model: "
            f"{_num(metric('logistic', 'calibration_slope'))} (1 is ideal); of boosting: "
            f"{_num(metric('gradient_boosting', 'calibration_slope'))}."
        )
        w = comp[
            (comp["section"] == "interactions") & comp["statistic"].str.startswith("wald_p_value")
        ]
        if not w.empty:
            out.append(
                f"- Pairwise interactions between indicators (logistic model, "
                f"cluster-robust Wald test): {_p(w['value'].iloc[0])}."
            )
        out.append(
            "- These are discrimination and calibration of a population gradient, "
            "not a tool to score children: predictive models of individual children's "
            "social care risk have performed poorly and are ethically contested."
        )
        out.append("")

    if truth:
        out += truth_section(binary, truth, outcomes=outcomes, adjust=adjust, confidence=confidence)

    extra = list(notes)
    if skipped is not None and not skipped.empty:
        extra += [f"{r.model}: not estimated ({r.reason})" for r in skipped.itertuples()]
    if extra:
        out += ["## Notes", ""] + [f"- {n}" for n in extra] + [""]
    out += [
        "## Method",
        "",
        "Binomial and Poisson models are fitted on covariate-pattern cells, which gives "
        "exactly the row-level estimates and cluster-robust (CR1) errors; residual "
        f"degrees of freedom are the number of {units} minus one. The tables' "
        "`df_convention` column states the small-sample factor of each model. Full "
        "methods: docs/models.md.",
        "",
    ]
    return "\n".join(out)
