"""Rule release_manifest: see child_mdh.steps.release.release_manifest."""

from child_mdh.steps.release import release_manifest

release_manifest(snakemake)
