# Stage 5: models linking Child-MDH with social care contact, written to
# results/release/models/ through disclosure control.


rule model_outputs:
    input:
        children=rules.derive_children.output.children,
        child_index=rules.index_outputs.output.child_index,
    output:
        manifest=MANIFEST_PARTS / "models.json",
        summary=report(
            RELEASE / "models" / "summary.md", caption="../report/models.rst", category="Models"
        ),
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
        release_dir=RELEASE,
    script:
        "../scripts/model_outputs.py"
