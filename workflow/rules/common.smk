# Configuration, paths and targets shared by every rules file. No analysis logic here:
# rules call the child_mdh package (src/child_mdh/steps/).
import os
from pathlib import Path

from snakemake.utils import validate

from child_mdh.contract import TABLES

validate(config, schema="../schemas/config.schema.yaml", set_default=True)

RESULTS = Path(config["results_dir"])
SECURE = RESULTS / "secure"
RELEASE = RESULTS / "release"
LOGS = RESULTS / "logs"
MANIFEST_PARTS = SECURE / "manifest_parts"
CONTRACT_TABLES = list(TABLES)
SOURCE = config["input"]["source"]


def input_folder():
    """The folder of contract tables the run starts from."""
    if SOURCE == "synthetic":
        return config["synthetic"]["out_dir"]
    return config["input"]["folder"]


def input_table_files():
    """The contract table files validation reads, so Snakemake reruns when one changes."""
    if SOURCE == "synthetic":
        return [f"{input_folder()}/{t}.parquet" for t in CONTRACT_TABLES]
    folder = Path(input_folder())
    return sorted(str(p) for t in CONTRACT_TABLES for p in folder.glob(f"{t}.*")
                  if p.suffix in (".parquet", ".csv"))


def release_parts():
    """The partial manifests that the release stage merges into outputs.json."""
    parts = [MANIFEST_PARTS / "provenance.json", MANIFEST_PARTS / "index.json"]
    if SOURCE == "synthetic":
        parts.append(MANIFEST_PARTS / "synthetic_fidelity.json")
    return [str(p) for p in parts]


def all_targets():
    return [str(RELEASE / "outputs.json"), str(RELEASE / "audit.json")]
