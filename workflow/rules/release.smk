# Last stage: provenance, then the release folder itself. release_manifest is the one
# writer of results/release/: it builds the folder anew from every stage's staged files
# (so nothing from an earlier run stays behind), merges the output checker's manifest,
# audits the folder, and writes the checker's summary page, the checksums/ folder SACRO
# Viewer reads and, in the secure area only, why each released cell was emptied.


rule provenance:
    input:
        raw=input_table_files(),
        validated=rules.validate_inputs.output.tables,
    output:
        record=STAGED / "provenance" / "provenance.json",
        manifest=MANIFEST_PARTS / "provenance.json",
    log:
        LOGS / "provenance.log",
    benchmark:
        BENCHMARKS / "provenance.tsv"
    conda:
        "../envs/child-mdh.yaml"
    resources:
        mem_mb=lambda wc, attempt: 1000 * attempt,
        runtime=lambda wc, attempt: 60 * attempt,
    params:
        config=config,
    script:
        "../scripts/provenance.py"


rule release_manifest:
    input:
        parts=release_parts(),
        staged=staged_releases(),
    output:
        manifest=RELEASE / "outputs.json",
        audit=RELEASE / "audit.json",
        summary=RELEASE / "checker_summary.html",
        # every other file of the folder is a staged file of an earlier rule; the
        # checksums/ folder is declared by the checksum of outputs.json (a directory()
        # output would get a Snakemake timestamp file, which is not a release file)
        checksums=RELEASE / "checksums" / "outputs.json.txt",
        reasons=SECURE / "disclosure_reasons.json",
        # the files snakemake --report shows
        index_area=report(
            RELEASE / "index" / "index_by_area.csv",
            caption="../report/index.rst",
            category="Child-MDH index",
        ),
        index_contributions=report(
            RELEASE / "index" / "contributions_england.png",
            caption="../report/index.rst",
            category="Child-MDH index",
        ),
        index_robustness=report(
            RELEASE / "index" / "robustness_over_k.png",
            caption="../report/index.rst",
            category="Child-MDH index",
        ),
        models_summary=report(
            RELEASE / "models" / "summary.md",
            caption="../report/models.rst",
            category="Models",
        ),
        profiles_index=report(
            RELEASE / "profiles" / "index.html",
            caption="../report/profiles.rst",
            category="Local-area profiles",
            subcategory="Index",
            labels={"area": "index", "page": "index of every profile"},
        ),
        fidelity=synthetic_fidelity_report(),
    log:
        LOGS / "release_manifest.log",
    benchmark:
        BENCHMARKS / "release_manifest.tsv"
    conda:
        "../envs/child-mdh.yaml"
    resources:
        mem_mb=lambda wc, attempt: 3000 * attempt,
        runtime=lambda wc, attempt: 60 * attempt,
    params:
        release_dir=RELEASE,
        disclosure=config["disclosure"],
    script:
        "../scripts/release_manifest.py"
