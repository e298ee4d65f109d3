# Last stage: provenance, the output checker's manifest, and an audit of the release folder.


rule provenance:
    input:
        raw=input_table_files(),
        validated=rules.validate_inputs.output.tables,
    output:
        record=RELEASE / "provenance.json",
        manifest=MANIFEST_PARTS / "provenance.json",
    params:
        config=config,
    log:
        LOGS / "provenance.log",
    conda:
        "../envs/child-mdh.yaml"
    script:
        "../scripts/provenance.py"


rule release_manifest:
    input:
        parts=release_parts(),
    output:
        manifest=RELEASE / "outputs.json",
        audit=RELEASE / "audit.json",
    params:
        release_dir=RELEASE,
        disclosure=config["disclosure"],
    log:
        LOGS / "release_manifest.log",
    conda:
        "../envs/child-mdh.yaml"
    script:
        "../scripts/release_manifest.py"
