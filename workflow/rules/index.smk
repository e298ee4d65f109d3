# Stage 4: the Child-MDH index (Alkire-Foster measures), its decompositions, robustness
# and uncertainty, protected and staged for results/release/index/.


rule index_outputs:
    input:
        children=rules.derive_children.output.children,
        linkage=rules.derive_children.output.linkage,
        areas=SECURE / "contract" / "areas.parquet",
    output:
        child_index=SECURE / "child_index.parquet",
        manifest=MANIFEST_PARTS / "index.json",
        staged=directory(STAGED / "index"),
    log:
        LOGS / "index_outputs.log",
    benchmark:
        BENCHMARKS / "index_outputs.tsv"
    conda:
        "../envs/child-mdh.yaml"
    resources:
        mem_mb=lambda wc, attempt: 4000 * attempt,
        runtime=lambda wc, attempt: 60 * attempt,
    params:
        index=config["index"],
        disclosure=config["disclosure"],
        about=release_about(),
    script:
        "../scripts/index_outputs.py"
