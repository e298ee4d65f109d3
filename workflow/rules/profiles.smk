# Stage 6: local-area profiles. The statistics of every area are computed and protected
# once; the pages are written by a scatter-gather over chunks of local authorities; the
# index page links them. Everything goes to results/release/profiles/.

PROFILES = RELEASE / "profiles"


rule profile_tables:
    input:
        children=rules.derive_children.output.children,
        areas=SECURE / "contract" / "areas.parquet",
    output:
        manifest=MANIFEST_PARTS / "profile_tables.json",
        statistics=PROFILES / "tables" / "area_statistics.csv",
    log:
        LOGS / "profile_tables.log",
    conda:
        "../envs/child-mdh.yaml"
    params:
        profiles=config["profiles"],
        index=config["index"],
        disclosure=config["disclosure"],
        release_dir=RELEASE,
        out_dir=PROFILES,
    script:
        "../scripts/profile_tables.py"


rule profile_pages:
    input:
        statistics=rules.profile_tables.output.statistics,
        provenance=RELEASE / "provenance.json",
    output:
        manifest=MANIFEST_PARTS / "profile_pages" / "{scatteritem}.json",
    log:
        LOGS / "profile_pages" / "{scatteritem}.log",
    conda:
        "../envs/child-mdh.yaml"
    params:
        profiles=config["profiles"],
        disclosure=config["disclosure"],
        release_dir=RELEASE,
        out_dir=PROFILES,
        is_synthetic=is_synthetic(),
        extra_caveats=profile_caveats(),
    script:
        "../scripts/profile_pages.py"


rule profile_index:
    input:
        statistics=rules.profile_tables.output.statistics,
        provenance=RELEASE / "provenance.json",
        pages=gather.profiles(MANIFEST_PARTS / "profile_pages" / "{scatteritem}.json"),
    output:
        manifest=MANIFEST_PARTS / "profile_index.json",
        index=report(
            PROFILES / "index.html",
            caption="../report/profiles.rst",
            category="Local-area profiles",
        ),
    log:
        LOGS / "profile_index.log",
    conda:
        "../envs/child-mdh.yaml"
    params:
        profiles=config["profiles"],
        disclosure=config["disclosure"],
        release_dir=RELEASE,
        out_dir=PROFILES,
        is_synthetic=is_synthetic(),
        extra_caveats=profile_caveats(),
    script:
        "../scripts/profile_index.py"
