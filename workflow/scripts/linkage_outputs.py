"""Rule linkage_outputs: see child_mdh.steps.linkage.run."""

from child_mdh.steps.linkage import run

run(snakemake)
