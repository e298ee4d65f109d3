"""The children table with its outcomes from a simulated cohort
(:func:`child_mdh.studies.model_recovery.simulate_cohort`)."""

from __future__ import annotations

import pandas as pd

from child_mdh.derive.outcomes import build_outcomes


def simulated_outcomes(sim) -> pd.DataFrame:
    """:func:`child_mdh.derive.outcomes.build_outcomes` on the simulation's children and
    social care records, at its reference date and follow-up."""
    return build_outcomes(
        sim.children,
        sim.cin_referrals,
        sim.child_protection_plans,
        sim.looked_after_episodes,
        sim.reference_date,
        sim.follow_up_years,
    )
