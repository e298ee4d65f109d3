"""Rule derive_children: see child_mdh.steps.derive.run."""

from child_mdh.steps.derive import run

run(snakemake)
