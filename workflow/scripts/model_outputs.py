"""Rule model_outputs: see child_mdh.steps.models.run."""

from child_mdh.steps.models import run

run(snakemake)
