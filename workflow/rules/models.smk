# Stage 6: models linking Child-MDH with social care contact, protected and staged for
# results/release/models/.


rule model_outputs:
    input:
        children=rules.derive_children.output.children,
        child_index=rules.index_outputs.output.child_index,
        # England's counts as the local profiles publish them, repeated by the models
        profile_tables=rules.profile_tables.output.staged,
        # synthetic runs: the summary compares the estimates with the generator's truth
        truth=synthetic_truth(),
    output:
        manifest=MANIFEST_PARTS / "models.json",
        staged=directory(STAGED / "models"),
    log:
        LOGS / "model_outputs.log",
    benchmark:
        BENCHMARKS / "model_outputs.tsv"
    conda:
        "../envs/child-mdh.yaml"
    threads: 2
    resources:
        mem_mb=lambda wc, attempt: 6000 * attempt,
        runtime=lambda wc, attempt: 60 * attempt,
    params:
        models=config["models"],
        outcomes=config["outcomes"],
        index=config["index"],
        disclosure=config["disclosure"],
        about=release_about(),
    script:
        "../scripts/model_outputs.py"


# Deprivation profiles, attributable fractions and inequality gradients, protected and
# staged for results/release/inequality/.


rule inequality_outputs:
    input:
        children=rules.derive_children.output.children,
        child_index=rules.index_outputs.output.child_index,
        profile_tables=rules.profile_tables.output.staged,
        areas=SECURE / "contract" / "areas.parquet",
    output:
        manifest=MANIFEST_PARTS / "inequality.json",
        staged=directory(STAGED / "inequality"),
    log:
        LOGS / "inequality_outputs.log",
    benchmark:
        BENCHMARKS / "inequality_outputs.tsv"
    conda:
        "../envs/child-mdh.yaml"
    resources:
        mem_mb=lambda wc, attempt: 4000 * attempt,
        runtime=lambda wc, attempt: 60 * attempt,
    params:
        models=config["models"],
        outcomes=config["outcomes"],
        index=config["index"],
        disclosure=config["disclosure"],
        about=release_about(),
    script:
        "../scripts/inequality_outputs.py"
