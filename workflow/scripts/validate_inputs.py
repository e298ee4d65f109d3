"""Rule validate_inputs: see child_mdh.steps.inputs.validate_inputs."""

from child_mdh.steps.inputs import validate_inputs

validate_inputs(snakemake)
