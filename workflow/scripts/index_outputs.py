"""Rule index_outputs: see child_mdh.steps.index.run."""

from child_mdh.steps.index import run

run(snakemake)
