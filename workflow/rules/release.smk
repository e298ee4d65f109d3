# Last stage: provenance, the output checker's manifest, and an audit of the release folder.
# release_manifest also writes the checker's summary page, the checksums/ folder SACRO
# Viewer reads, and, in the secure area only, why each released cell was emptied.


rule provenance:
    input:
        raw=input_table_files(),
        validated=rules.validate_inputs.output.tables,
    output:
        record=RELEASE / "provenance.json",
        manifest=MANIFEST_PARTS / "provenance.json",
    log:
        LOGS / "provenance.log",
    conda:
        "../envs/child-mdh.yaml"
    params:
        config=config,
    script:
        "../scripts/provenance.py"


rule release_manifest:
    input:
        parts=release_parts(),
    output:
        manifest=RELEASE / "outputs.json",
        audit=RELEASE / "audit.json",
        summary=RELEASE / "checker_summary.html",
        # the checksums/ folder (one file per listed file, rewritten on every run) is
        # declared by the checksum of outputs.json: a directory() output would get a
        # Snakemake timestamp file, which is not a release file
        checksums=RELEASE / "checksums" / "outputs.json.txt",
        reasons=SECURE / "disclosure_reasons.json",
    log:
        LOGS / "release_manifest.log",
    conda:
        "../envs/child-mdh.yaml"
    params:
        release_dir=RELEASE,
        disclosure=config["disclosure"],
    script:
        "../scripts/release_manifest.py"
