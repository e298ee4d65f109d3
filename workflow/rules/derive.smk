# Stage 3: the person-level children table (domains, FSM, linkage, outcomes).


rule derive_children:
    input:
        tables=rules.validate_inputs.output.tables,
        la_import=rules.import_la.output.characteristics if SOURCE == "la_returns" else [],
    output:
        children=SECURE / "children.parquet",
        household_domains=SECURE / "household_domains.parquet",
        linkage=SECURE / "linkage_report.csv",
        report=SECURE / "derive_report.json",
    log:
        LOGS / "derive_children.log",
    benchmark:
        BENCHMARKS / "derive_children.tsv"
    conda:
        "../envs/child-mdh.yaml"
    resources:
        mem_mb=lambda wc, attempt: 4000 * attempt,
        runtime=lambda wc, attempt: 60 * attempt,
    params:
        population=config["population"],
        domains=config["domains"],
        outcomes=config["outcomes"],
        source=SOURCE,
        la_import=LA_IMPORT,
    script:
        "../scripts/derive_children.py"
