"""Rule la_formats: see child_mdh.steps.inputs.la_formats."""

from child_mdh.steps.inputs import la_formats

la_formats(snakemake)
