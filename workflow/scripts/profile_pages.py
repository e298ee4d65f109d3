"""Rule profile_pages: see child_mdh.steps.profiles.profile_pages."""

from child_mdh.steps.profiles import profile_pages

profile_pages(snakemake)
