"""Rule linkage_bias_summary: see child_mdh.steps.simulation."""

from child_mdh.steps.simulation import linkage_bias_summary

linkage_bias_summary(snakemake)  # noqa: F821 (provided by Snakemake)
