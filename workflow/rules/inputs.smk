# Stage 2: read the input folder, check every table against the data contract, and write
# the validated contract tables (row-accounted; bad rows quarantined or the run stopped).


rule validate_inputs:
    input:
        input_table_files(),
    output:
        tables=[SECURE / "contract" / f"{t}.parquet" for t in CONTRACT_TABLES],
        accounting=SECURE / "contract" / "row_accounting.csv",
        report=SECURE / "contract" / "validation_report.json",
    params:
        folder=lambda wildcards, input: os.path.dirname(input[0]) if input else input_folder(),
        quarantine=SECURE / "quarantine",
        policy=config["validation"]["policy"],
        reference_date=config["validation"]["reference_date"],
    log:
        LOGS / "validate_inputs.log",
    conda:
        "../envs/child-mdh.yaml"
    script:
        "../scripts/validate_inputs.py"
