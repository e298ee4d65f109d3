# child-mdh: Child-MDH index, social care links and local-area profiles.
# Run with `make run` (or `snakemake --cores 2 --configfile config/config.yaml`).
# Stages, one rules file each, data flowing one way:
#   synth -> inputs (validate) -> derive -> index / models / profiles / linkage -> release
import os

from snakemake.utils import min_version

min_version("9.0")


configfile: os.path.join(workflow.basedir, "config", "config.yaml")


report: "workflow/report/workflow.rst"


scattergather:
    profiles=config.get("profiles", {}).get("chunks", 2),


include: "workflow/rules/common.smk"
include: "workflow/rules/synth.smk"
include: "workflow/rules/inputs.smk"
include: "workflow/rules/derive.smk"
include: "workflow/rules/index.smk"
include: "workflow/rules/profiles.smk"
include: "workflow/rules/models.smk"
include: "workflow/rules/linkage.smk"
include: "workflow/rules/release.smk"


onsuccess:
    print(closing_summary())


onerror:
    print(f"child-mdh: a step failed; its log file is named above (under {LOGS}/).")


rule all:
    default_target: True
    input:
        all_targets(),
