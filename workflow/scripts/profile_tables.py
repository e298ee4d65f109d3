"""Rule profile_tables: see child_mdh.steps.profiles.profile_tables."""

from child_mdh.steps.profiles import profile_tables

profile_tables(snakemake)
