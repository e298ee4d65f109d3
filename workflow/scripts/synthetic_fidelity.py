"""Rule synthetic_fidelity: see child_mdh.steps.release.synthetic_fidelity."""

from child_mdh.steps.release import synthetic_fidelity

synthetic_fidelity(snakemake)
