"""Write ``DATA_CARD.md`` for one generated synthetic England.

The card follows the four checks for low-fidelity synthetic data (labelling, disclosure,
structure, documentation; UK Statistics Authority / ONS guidance on synthetic data): it says
what the data is and is not, that it holds no real record, how it is structured, and where
its model and truth are documented. The text is deterministic (no run time stamps), so the
same seed and N give the same card.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from child_mdh.sources.synthetic import calibration


def census_year_targets(truth: dict) -> list[str]:
    """Markdown lines: the targets of the census year's own dates (FSM at the reference
    census, children in need, on a plan and looked after at 31 March), each with its value,
    whether it is published for that date, interpolated, held or assumed, and its source
    (:func:`child_mdh.sources.synthetic.calibration.fsm_target_detail`, ``stock_target_detail``)."""
    year = int(truth["census_year"])
    ref_census = dt.date.fromisoformat(truth["fsm"]["reference_census"])
    phases = calibration.fsm_phase_targets(ref_census)
    if phases is None:
        fsm = calibration.fsm_target_detail(ref_census)
        lines = [f"- FSM at the reference census: {fsm.value:.1%} ({fsm.how}; {fsm.source})."]
    else:
        lines = [
            f"- FSM at the reference census, {name} pupils: {t.value:.1%} ({t.how}; {t.source})."
            for name, t in phases.items()
        ]
    for name, label in (
        ("cin", "Children in need"),
        ("cpp", "Child protection plans"),
        ("cla", "Children looked after"),
    ):
        t = calibration.stock_target_detail(year, name)
        lines.append(
            f"- {label} per 10,000 at 31 March {year}: {t.value:.1f} ({t.how}; {t.source})."
        )
    if year in calibration.PUBLISHED_REFERRALS_YEAR:
        t = calibration.PUBLISHED_REFERRALS_YEAR[year]
        lines.append(
            f"- Referrals per 10,000 in the year ending 31 March {year}: {t.value:.1f} "
            f"(published value; {t.source})."
        )
    return lines


def render(truth: dict, rows: dict[str, int]) -> str:
    """The data card as Markdown."""
    hh = truth["households"]
    sc = truth["social_care"]
    real = sc["realised"]
    fsm_ref = truth["fsm"]["reference_census"]
    fsm_rate = truth["fsm"]["achieved_rate_by_census"].get(fsm_ref)
    fsm_target = truth["fsm"]["target_rate_by_census"].get(fsm_ref)
    stocks = sc["targets"]["stocks_per_10000_31_march"]
    lines = [
        "# Data card: synthetic England (child-mdh)",
        "",
        f"**{truth['label']}**",
        "",
        "## What this is",
        f"- Generator: `{truth['generator']}`; seed {truth['seed']}; {truth['n_children']:,} children "
        f"aged 0-17 on census day {truth['reference_date']} (Census {truth['census_year']}); "
        f"contract version {truth['contract_version']}.",
        f"- Social care history from {truth['history_start']} to the extract date "
        f"{truth['extract_date']}; school censuses: {truth['school']['frequency']} "
        f"({len(truth['school']['census_dates'])} census days).",
        "- Every Parquet file carries the metadata `child_mdh.synthetic = true` with the seed, N, "
        "census year and contract version. The same seed and N give identical files.",
        "",
        "## Tables",
        "| table | rows |",
        "|---|---|",
        *[f"| {name} | {n:,} |" for name, n in rows.items()],
        "",
        "Beside them: `truth.json` (every parameter and realised true quantity), "
        "`truth_households.parquet` (each household's four true deprivation flags) and "
        "`truth_children.parquet` (each child's true FSM at the reference census, MDH status "
        "and referral linear predictor). These are the truth for testing methods; they are "
        "not contract tables and a real extract has no equivalent.",
        "",
        "## The four checks",
        '1. **Labelling**: this card, `truth.json` (`"synthetic": true`) and the metadata of '
        "every file say the data is synthetic.",
        "2. **Disclosure**: no real microdata was used. Inputs are published aggregates only: "
        "ONS census counts of households by deprivation dimensions per local authority and "
        "LSOA (Open Government Licence v3.0; Contains National Statistics data, Crown "
        "copyright and database right) and the national figures listed below. Identifiers, "
        "dates of birth, schools and social care records are drawn at random.",
        "3. **Structure**: the tables follow the project's data contract (names, types, codes, "
        "keys, references, date order). Local authorities are England's real upper-tier "
        "authorities with their real codes, names and regions; school identifiers are "
        "invented (`<la_code>P001`, `<la_code>S001`) and LSOA codes are real codes of the "
        "household's authority, drawn at random.",
        "4. **Documentation**: the model, its parameters, the assumptions and the truth "
        "schema are in `docs/synthetic-data.md`; `truth.json` holds the values of this run.",
        "",
        "## Calibration (this run)",
        f"- Households with dependent children: {hh['n_households']:,}; persons {hh['n_persons']:,}; "
        f"share of children in households deprived in >= 1 dimension "
        f"{hh['share_children_ge1_domain']:.1%} (shift {hh['count_shift_cumulative_logit']:.3f} on "
        "the cumulative-logit scale, see assumptions).",
        f"- Child-MDH prevalence (>= 2 of 4 domains + FSM): {truth['mdh']['prevalence_children']:.1%} "
        "of children.",
        f"- FSM recorded at the reference census ({fsm_ref}): "
        + (
            f"{fsm_rate:.1%} of pupils (target {fsm_target:.1%}"
            + (
                ", the pupil-weighted mean of the primary and secondary targets)."
                if fsm_ref in truth["fsm"].get("by_phase", {})
                else ")."
            )
            if fsm_rate is not None
            else "n/a."
        ),
        f"- Referrals per 10,000 children in the year before census day: "
        f"{real['referrals_per_10000_year_before_census']:.0f} (target "
        f"{sc['targets']['referrals_per_10000']:.0f}); children in need, on a plan and looked "
        f"after at 31 March: {real['cin_per_10000_31_march']:.1f}, {real['cpp_per_10000_31_march']:.1f} "
        f"and {real['cla_per_10000_31_march']:.1f} per 10,000 (targets {stocks['cin']:.1f}, "
        f"{stocks['cpp']:.1f} and {stocks['cla']:.1f}).",
        "- The full comparison with published figures is the fidelity report "
        "(`child_mdh.sources.synthetic.fidelity.fidelity_report`).",
        "",
        f"## Targets for the census year's own dates (Census {truth['census_year']})",
        *census_year_targets(truth),
        "",
        "## Assumptions (no published figure)",
        *[f"- **{a['name']}**: {a['value']} ({a['source']})" for a in truth["assumptions"]],
        "",
        "## What this data is not",
        "- Not a sample of England: only the local-authority structure and the national figures "
        "above are real; relationships between variables come from the documented model.",
        "- Not for estimating anything about real children. It exists to build, test and "
        "demonstrate the pipeline, and to check that the models recover a known truth.",
        "- Children born after census day are not included; independent-school pupils have no "
        "pupil record, so their social care contacts are absent from the tables.",
        "",
    ]
    return "\n".join(lines)


def write_data_card(path: Path, truth: dict, rows: dict[str, int]) -> Path:
    """Write the data card to ``path`` and return the path."""
    path = Path(path)
    path.write_text(render(truth, rows))
    return path
