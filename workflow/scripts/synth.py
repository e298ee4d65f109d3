"""Rule synth: see child_mdh.steps.inputs.synth."""

from child_mdh.steps.inputs import synth

synth(snakemake)
