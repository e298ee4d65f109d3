"""Rule provenance: see child_mdh.steps.release.provenance."""

from child_mdh.steps.release import provenance

provenance(snakemake)
