# Stage 5: models linking Child-MDH with social care contact, protected and staged for
# results/release/models/.


rule model_outputs:
    input:
        children=rules.derive_children.output.children,
        child_index=rules.index_outputs.output.child_index,
    output:
        manifest=MANIFEST_PARTS / "models.json",
        staged=directory(STAGED / "models"),
    log:
        LOGS / "model_outputs.log",
    conda:
        "../envs/child-mdh.yaml"
    threads: 2
    params:
        models=config["models"],
        outcomes=config["outcomes"],
        index=config["index"],
        disclosure=config["disclosure"],
    script:
        "../scripts/model_outputs.py"
