# Stage 2: read the input folder, check every table against the data contract, and write
# the validated contract tables (row-accounted; bad rows quarantined or the run stopped).


rule validate_inputs:
    input:
        input_table_files(),
    output:
        tables=[SECURE / "contract" / f"{t}.parquet" for t in CONTRACT_TABLES],
        accounting=SECURE / "contract" / "row_accounting.csv",
        report=SECURE / "contract" / "validation_report.json",
    log:
        LOGS / "validate_inputs.log",
    benchmark:
        BENCHMARKS / "validate_inputs.tsv"
    conda:
        "../envs/child-mdh.yaml"
    resources:
        mem_mb=lambda wc, attempt: 4000 * attempt,
        runtime=lambda wc, attempt: 60 * attempt,
    params:
        folder=lambda wildcards, input: os.path.dirname(input[0]) if input else input_folder(),
        quarantine=SECURE / "quarantine",
        policy=config["validation"]["policy"],
        tables=CONTRACT_TABLES,
        unmatched_pupils=unmatched_pupils(),
        reference_date=config["validation"]["reference_date"],
        max_loss_share=config["validation"]["max_loss_share"],
    script:
        "../scripts/validate_inputs.py"


# The local-authority route: an LA's own returns (SSDA903, CIN census, school census and
# household domain flags), imported into the five contract tables an LA holds. With
# la_import.synthetic, the returns are first written from the synthetic England.


rule la_formats:
    input:
        tables=rules.synth.output.tables,
    output:
        directory(LA_IMPORT["formats_dir"] or "synthetic_data/la_formats/unset"),
    log:
        LOGS / "la_formats.log",
    benchmark:
        BENCHMARKS / "la_formats.tsv"
    conda:
        "../envs/child-mdh.yaml"
    resources:
        mem_mb=lambda wc, attempt: 2000 * attempt,
        runtime=lambda wc, attempt: 60 * attempt,
    params:
        la_code=LA_IMPORT["la_code"],
    script:
        "../scripts/la_formats.py"


rule import_la:
    input:
        rules.la_formats.output if LA_IMPORT["synthetic"] else [],
    output:
        tables=[f"{LA_IMPORT['out_dir']}/{t}.parquet" for t in LA_ROUTE_TABLES],
        characteristics=f"{LA_IMPORT['out_dir']}/pupil_characteristics.parquet",
        report=f"{LA_IMPORT['out_dir']}/import_report.json",
    log:
        LOGS / "import_la.log",
    benchmark:
        BENCHMARKS / "import_la.tsv"
    conda:
        "../envs/child-mdh.yaml"
    resources:
        mem_mb=lambda wc, attempt: 2000 * attempt,
        runtime=lambda wc, attempt: 60 * attempt,
    params:
        la_import=LA_IMPORT,
    script:
        "../scripts/import_la.py"
