# Stage 4 (census cohort): who links to a pupil record, the index and models weighted by
# the inverse probability of linkage, and bounds on H, protected and staged for
# results/release/linkage/.


rule linkage_outputs:
    input:
        tables=rules.validate_inputs.output.tables,
        index_tables=rules.index_outputs.output.staged,
    output:
        manifest=MANIFEST_PARTS / "linkage.json",
        staged=directory(STAGED / "linkage"),
    log:
        LOGS / "linkage_outputs.log",
    benchmark:
        BENCHMARKS / "linkage_outputs.tsv"
    conda:
        "../envs/child-mdh.yaml"
    resources:
        mem_mb=lambda wc, attempt: 4000 * attempt,
        runtime=lambda wc, attempt: 60 * attempt,
    params:
        population=config["population"],
        domains=config["domains"],
        outcomes=config["outcomes"],
        index=config["index"],
        models=config["models"],
        linkage=config["linkage"],
        disclosure=config["disclosure"],
        about=release_about(),
    script:
        "../scripts/linkage_outputs.py"
