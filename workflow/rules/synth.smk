# Stage 1 (synthetic data only): generate the synthetic England and check its fidelity.


rule synth:
    output:
        tables=[f"{config['synthetic']['out_dir']}/{t}.parquet" for t in CONTRACT_TABLES],
        truth=f"{config['synthetic']['out_dir']}/truth.json",
        card=f"{config['synthetic']['out_dir']}/DATA_CARD.md",
    log:
        LOGS / "synth.log",
    benchmark:
        BENCHMARKS / "synth.tsv"
    conda:
        "../envs/child-mdh.yaml"
    resources:
        mem_mb=lambda wc, attempt: 4000 * attempt,
        runtime=lambda wc, attempt: 60 * attempt,
    params:
        children=config["synthetic"]["children"],
        seed=config["synthetic"]["seed"],
        census_year=config["synthetic"]["census_year"],
        options=config["synthetic"]["options"],
    script:
        "../scripts/synth.py"


rule synthetic_fidelity:
    input:
        tables=rules.synth.output.tables,
        truth=rules.synth.output.truth,
    output:
        table=STAGED / "synthetic_fidelity" / "synthetic_fidelity.csv",
        figure=STAGED / "synthetic_fidelity" / "synthetic_fidelity.png",
        manifest=MANIFEST_PARTS / "synthetic_fidelity.json",
    log:
        LOGS / "synthetic_fidelity.log",
    benchmark:
        BENCHMARKS / "synthetic_fidelity.tsv"
    conda:
        "../envs/child-mdh.yaml"
    resources:
        mem_mb=lambda wc, attempt: 3000 * attempt,
        runtime=lambda wc, attempt: 60 * attempt,
    params:
        disclosure=config["disclosure"],
    script:
        "../scripts/synthetic_fidelity.py"
