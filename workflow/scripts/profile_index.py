"""Rule profile_index: see child_mdh.steps.profiles.profile_index."""

from child_mdh.steps.profiles import profile_index

profile_index(snakemake)
