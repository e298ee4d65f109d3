"""Rule inequality_outputs: see child_mdh.steps.inequality.run."""

from child_mdh.steps.inequality import run

run(snakemake)
