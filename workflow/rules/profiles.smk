# Stage 5: local-area profiles. The statistics of every area are computed and protected
# once; the pages are written by a scatter-gather over chunks of local authorities; the
# index page links them. Each rule stages its files for results/release/profiles/.


rule profile_tables:
    input:
        children=rules.derive_children.output.children,
        child_index=rules.index_outputs.output.child_index,
        areas=SECURE / "contract" / "areas.parquet",
    output:
        manifest=MANIFEST_PARTS / "profile_tables.json",
        staged=directory(STAGED / "profile_tables"),
    log:
        LOGS / "profile_tables.log",
    benchmark:
        BENCHMARKS / "profile_tables.tsv"
    conda:
        "../envs/child-mdh.yaml"
    resources:
        mem_mb=lambda wc, attempt: 3000 * attempt,
        runtime=lambda wc, attempt: 60 * attempt,
    params:
        profiles=config["profiles"],
        index=config["index"],
        disclosure=config["disclosure"],
        about=release_about(),
    script:
        "../scripts/profile_tables.py"


rule profile_pages:
    input:
        tables=rules.profile_tables.output.staged,
        provenance=STAGED / "provenance" / "provenance.json",
        derive_report=rules.derive_children.output.report,
        tables_manifest=rules.profile_tables.output.manifest,
    output:
        manifest=MANIFEST_PARTS / "profile_pages" / "{scatteritem}.json",
        # every local authority's page in snakemake --report (make report)
        staged=report(
            directory(STAGED / "profile_pages" / "{scatteritem}"),
            patterns=["profiles/areas/{name}.html"],
            caption="../report/profile_pages.rst",
            category="Local-area profiles",
            subcategory="Local authority pages",
            labels={"area": "{name}", "page": "local authority"},
        ),
    log:
        LOGS / "profile_pages" / "{scatteritem}.log",
    benchmark:
        BENCHMARKS / "profile_pages" / "{scatteritem}.tsv"
    conda:
        "../envs/child-mdh.yaml"
    resources:
        mem_mb=lambda wc, attempt: 2000 * attempt,
        runtime=lambda wc, attempt: 60 * attempt,
    params:
        profiles=config["profiles"],
        disclosure=config["disclosure"],
        is_synthetic=is_synthetic(),
        extra_caveats=profile_caveats(),
        about=release_about(),
    script:
        "../scripts/profile_pages.py"


rule profile_index:
    input:
        tables=rules.profile_tables.output.staged,
        provenance=STAGED / "provenance" / "provenance.json",
        derive_report=rules.derive_children.output.report,
        tables_manifest=rules.profile_tables.output.manifest,
        pages=gather.profiles(MANIFEST_PARTS / "profile_pages" / "{scatteritem}.json"),
    output:
        manifest=MANIFEST_PARTS / "profile_index.json",
        # England's page in snakemake --report (the index is marked by release_manifest)
        staged=report(
            directory(STAGED / "profile_index"),
            patterns=["profiles/areas/{name}.html"],
            caption="../report/profile_pages.rst",
            category="Local-area profiles",
            subcategory="England",
            labels={"area": "{name}", "page": "England"},
        ),
    log:
        LOGS / "profile_index.log",
    benchmark:
        BENCHMARKS / "profile_index.tsv"
    conda:
        "../envs/child-mdh.yaml"
    resources:
        mem_mb=lambda wc, attempt: 2000 * attempt,
        runtime=lambda wc, attempt: 60 * attempt,
    params:
        profiles=config["profiles"],
        disclosure=config["disclosure"],
        is_synthetic=is_synthetic(),
        extra_caveats=profile_caveats(),
        about=release_about(),
    script:
        "../scripts/profile_index.py"
