"""Rule model_recovery_summary: see child_mdh.steps.simulation."""

from child_mdh.steps.simulation import model_recovery_summary

model_recovery_summary(snakemake)  # noqa: F821 (provided by Snakemake)
