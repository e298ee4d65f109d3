"""Rules index_coverage_truth and index_coverage_draws: see child_mdh.steps.simulation."""

from child_mdh.steps.simulation import index_coverage_draws

index_coverage_draws(snakemake)  # noqa: F821 (provided by Snakemake)
