"""Rule index_coverage_summary: see child_mdh.steps.simulation."""

from child_mdh.steps.simulation import index_coverage_summary

index_coverage_summary(snakemake)  # noqa: F821 (provided by Snakemake)
