"""Rule import_la: see child_mdh.steps.inputs.import_la."""

from child_mdh.steps.inputs import import_la

import_la(snakemake)
