"""Rule model_recovery_replications: see child_mdh.steps.simulation."""

from child_mdh.steps.simulation import model_recovery_replications

model_recovery_replications(snakemake)  # noqa: F821 (provided by Snakemake)
