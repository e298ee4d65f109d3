"""Rule linkage_bias_draws: see child_mdh.steps.simulation."""

from child_mdh.steps.simulation import linkage_bias_draws

linkage_bias_draws(snakemake)  # noqa: F821 (provided by Snakemake)
