"""Every configuration key is documented, and every shipped config passes the schema."""

import pytest
import yaml
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from paths import REPO

ROOT = REPO
SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"
SIMULATION_SCHEMA = ROOT / "workflow" / "schemas" / "simulation.schema.yaml"
SCHEMAS = [SCHEMA, SIMULATION_SCHEMA]


def _keys(schema: dict, prefix: str = ""):
    for name, sub in schema.get("properties", {}).items():
        key = f"{prefix}{name}"
        yield key
        if sub.get("type") == "object" and "properties" in sub:
            yield from _keys(sub, key + ".")


@pytest.mark.parametrize("path", SCHEMAS, ids=lambda p: p.name)
def test_every_schema_key_has_a_description(path):
    schema = yaml.safe_load(path.read_text())

    def walk(s, prefix=""):
        for name, sub in s.get("properties", {}).items():
            if sub.get("type") == "object" and "properties" in sub:
                walk(sub, f"{prefix}{name}.")
            else:
                assert sub.get("description"), f"{prefix}{name} has no description in the schema"

    walk(schema)


@pytest.mark.parametrize("path", SCHEMAS, ids=lambda p: p.name)
def test_config_readme_documents_every_key(path):
    readme = (ROOT / "config" / "README.md").read_text()
    schema = yaml.safe_load(path.read_text())
    missing = [k for k in _keys(schema) if f"`{k}`" not in readme]
    assert not missing, f"config/README.md does not document: {missing}"


# workflow configurations: config/config.yaml, config/examples/config_*.yaml, the GUiE
# preset, .test/config/
CONFIGS = (
    [ROOT / "config" / "config.yaml", ROOT / "config" / "examples" / "guie_2011.yaml"]
    + sorted(ROOT.glob("config/examples/config_*.yaml"))
    + sorted(ROOT.glob(".test/**/config*.yaml"))
)


@pytest.mark.parametrize("path", CONFIGS, ids=[str(p.relative_to(ROOT)) for p in CONFIGS])
def test_shipped_configs_are_valid(path):
    config = yaml.safe_load(path.read_text()) or {}
    validate(config, str(SCHEMA), set_default=True)


def test_schema_rejects_unknown_key():
    with pytest.raises(WorkflowError):
        validate({"synthetic": {"childern": 5}}, str(SCHEMA), set_default=True)


def test_the_simulation_config_passes_its_schema():
    config = yaml.safe_load((ROOT / "config" / "simulation.yaml").read_text())
    validate(config, str(SIMULATION_SCHEMA), set_default=True)
    assert config["index_coverage"]["draws"] >= 200
