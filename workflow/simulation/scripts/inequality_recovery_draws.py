"""Rule inequality_recovery_draws: see child_mdh.steps.simulation."""

from child_mdh.steps.simulation import inequality_recovery_draws

inequality_recovery_draws(snakemake)  # noqa: F821 (provided by Snakemake)
