"""Rule inequality_recovery_summary: see child_mdh.steps.simulation."""

from child_mdh.steps.simulation import inequality_recovery_summary

inequality_recovery_summary(snakemake)  # noqa: F821 (provided by Snakemake)
