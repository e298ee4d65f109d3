"""Rule provenance: see child_mdh.steps.release.provenance."""
from child_mdh.steps.release import provenance

provenance(snakemake)  # noqa: F821 (provided by Snakemake)
