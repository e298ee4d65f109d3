# Stage 4: the Child-MDH index (Alkire-Foster measures), its decompositions, robustness
# and uncertainty, written to results/release/index/ through disclosure control.


rule index_outputs:
    input:
        children=rules.derive_children.output.children,
        linkage=rules.derive_children.output.linkage,
    output:
        child_index=SECURE / "child_index.parquet",
        manifest=MANIFEST_PARTS / "index.json",
        area=report(
            RELEASE / "index" / "index_by_area.csv",
            caption="../report/index.rst",
            category="Child-MDH index",
        ),
        contributions=report(
            RELEASE / "index" / "contributions_england.png",
            caption="../report/index.rst",
            category="Child-MDH index",
        ),
        robustness=report(
            RELEASE / "index" / "robustness_over_k.png",
            caption="../report/index.rst",
            category="Child-MDH index",
        ),
    log:
        LOGS / "index_outputs.log",
    conda:
        "../envs/child-mdh.yaml"
    params:
        index=config["index"],
        disclosure=config["disclosure"],
        release_dir=RELEASE,
    script:
        "../scripts/index_outputs.py"
