"""The import configuration, `child-mdh import-la`, and the workflow keys of the LA route.

``SCHEMA_FRAGMENT`` is the addition to workflow/schemas/config.schema.yaml that the
local-authority route needs (``input.source: la_returns``, ``validation.unmatched_pupils``
and the ``la_import`` section); the test checks that the worked example
config/examples/config_la_synthetic.yaml is valid under the schema with it, and that its
``la_import`` keys are exactly those the import configuration accepts.
"""

import copy
from pathlib import Path

import pytest
import yaml
from snakemake.exceptions import WorkflowError

from child_mdh import cli
from child_mdh.sources.la_returns import LAReturnError
from child_mdh.sources.la_returns.import_config import (
    IMPORT_KEYS,
    import_la_from_config,
    load_import_config,
)

from la_builders import LA
from paths import REPO

ROOT = REPO
SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"

SCHEMA_FRAGMENT = yaml.safe_load("""
input_source_enum: [synthetic, contract_folder, la_returns]
validation_unmatched_pupils:
  type: [string, "null"]
  enum: [quarantine, keep, null]
  default: null
  description: Social care rows whose pupil_id is not in pupil_census - quarantine them as broken references, or keep them and count them as a note; null means keep with input.source la_returns, quarantine otherwise.
la_import:
  type: object
  default: {}
  additionalProperties: false
  description: With input.source la_returns, the local authority's own returns to import (docs/la-returns.md); the same keys as the file of child-mdh import-la.
  properties:
    la_code:
      type: string
      pattern: "^(E(06|08|09|10)[0-9]{6})?$"
      default: ""
      description: ONS code of the local authority (E06, E08, E09 or E10 and six digits); required with input.source la_returns.
    la_name:
      type: [string, "null"]
      default: null
      description: Name of the local authority (the areas table); null means the code.
    region_code:
      type: [string, "null"]
      default: null
      description: ONS code of its region; null means 'not given'.
    region_name:
      type: [string, "null"]
      default: null
      description: Name of its region; null means 'not given'.
    salt_env:
      type: string
      default: CHILD_MDH_SALT
      description: Environment variable holding the pseudonymisation salt (16+ characters); the salt is never put in a file.
    out_dir:
      type: string
      default: results/secure/la_import
      description: Folder the imported tables and the import report are written to (secure).
    on_bad_file:
      type: string
      enum: [stop, skip]
      default: stop
      description: A file that cannot be used at all - stop the import (nothing written) or skip the file.
    collection_year:
      type: [integer, string, "null"]
      pattern: "^ *20[0-9]{2}([-_/ ]?(20)?[0-9]{2})? *$"
      default: null
      description: SSDA903 collection year for files whose name has no year - the year the collection ends (2024, "2024" or "2023-24").
    school_id_column:
      type: [string, "null"]
      default: null
      description: School census column holding the school identifier; null means the first of laestab, estab, urn, school_id, schoolid, NativeId.
    census_dates:
      type: object
      additionalProperties:
        type: string
        pattern: "^([0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{1,2}/[0-9]{1,2}/[0-9]{4})$"
      default: {}
      description: School census file name -> census day (quoted YYYY-MM-DD, or DD/MM/YYYY day first), for files whose name does not say which census they are.
    sources:
      type: object
      additionalProperties: false
      default: {}
      description: Which files hold which return (a file, a folder or a list); empty means the files of formats_dir.
      properties:
        ssda903: {anyOf: [{type: string}, {type: array, items: {type: string}}], description: SSDA903 return (CSV tables and/or XML).}
        ssda903_previous: {anyOf: [{type: string}, {type: array, items: {type: string}}], description: Last year's SSDA903 return.}
        cin_census: {anyOf: [{type: string}, {type: array, items: {type: string}}], description: CIN census XML, one file per collection year.}
        school_census: {anyOf: [{type: string}, {type: array, items: {type: string}}], description: School census pupils-on-roll and FSM periods CSVs.}
        household_domains: {type: string, description: Household domain flags per child (local route a).}
        child_lsoa: {type: string, description: Child to LSOA lookup (area-level route b).}
        lsoa_counts: {type: string, description: ONS LSOA counts of households by deprived dimensions (route b).}
    synthetic:
      type: boolean
      default: false
      description: The returns are synthetic - written from synthetic.out_dir by child_mdh.sources.synthetic.la_formats.write_la_formats into formats_dir before the import; every output is labelled synthetic.
    formats_dir:
      type: [string, "null"]
      default: null
      description: Folder of returns written by write_la_formats; with sources empty, its files are imported.
    domains:
      type: string
      enum: [household_flags, area_level]
      default: household_flags
      description: Local equivalent of the census domains the cohort uses - the authority's household flags (route a) or the area-level shares (route b, not the household index).
    outcomes_scope:
      type: string
      enum: [residents, all_pupils]
      default: residents
      description: Outcomes for the children listed in the local domain file only (the authority's residents; others missing), or for every pupil from the authority's returns.
    max_loss_share:
      type: number
      minimum: 0
      maximum: 1
      default: 0.05
      description: Systematic-loss rule - a table losing more than this share of its rows (and at least 10) to row checks, or SSDA903 episodes losing their link to a header row, stops the import.
""")


def _schema_with_fragment() -> dict:
    schema = yaml.safe_load(SCHEMA.read_text())
    s = copy.deepcopy(schema)
    s["properties"]["input"]["properties"]["source"]["enum"] = SCHEMA_FRAGMENT["input_source_enum"]
    s["properties"]["validation"]["properties"]["unmatched_pupils"] = SCHEMA_FRAGMENT[
        "validation_unmatched_pupils"
    ]
    s["properties"]["la_import"] = SCHEMA_FRAGMENT["la_import"]
    return s


def test_worked_example_validates_against_the_schema_with_the_la_keys(tmp_path):
    from snakemake.utils import validate

    schema = tmp_path / "schema.yaml"
    schema.write_text(yaml.safe_dump(_schema_with_fragment()))
    config = yaml.safe_load((ROOT / "config" / "examples" / "config_la_synthetic.yaml").read_text())
    validate(config, str(schema), set_default=True)
    assert config["la_import"]["la_code"] == "E10000016"
    assert config["input"]["source"] == "la_returns"
    with pytest.raises(WorkflowError):
        validate({"la_import": {"domain": "area_level"}}, str(schema), set_default=True)


def test_schema_keys_are_the_import_configuration_keys():
    assert set(SCHEMA_FRAGMENT["la_import"]["properties"]) == set(IMPORT_KEYS)
    for key, spec in SCHEMA_FRAGMENT["la_import"]["properties"].items():
        assert spec.get("description"), key


@pytest.mark.parametrize(
    "name",
    [
        "la_import_household_flags.yaml",
        "la_import_area_level.yaml",
        "la_import_synthetic.yaml",
        "config_la_synthetic.yaml",
    ],
)
def test_example_import_configurations_load(name):
    config = load_import_config(ROOT / "config" / "examples" / name)
    assert config["la_code"].startswith("E")


def _config(tmp_path, tiny_la, **extra) -> Path:
    cfg = {
        "la_import": {
            "la_code": LA,
            "la_name": "Oldham",
            "region_code": "E12000002",
            "region_name": "North West",
            "salt_env": "TEST_LA_SALT",
            "out_dir": str(tmp_path / "out"),
            "sources": {k: str(v) for k, v in tiny_la.items()},
            **extra,
        }
    }
    path = tmp_path / "import.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_import_la_command_imports_and_prints_the_summary(tmp_path, tiny_la, monkeypatch, capsys):
    monkeypatch.setenv("TEST_LA_SALT", "test-salt-0123456789abcdef")
    assert cli.main(["import-la", "--config", str(_config(tmp_path, tiny_la))]) == 0
    out = capsys.readouterr().out
    assert "Local authority E08000004: returns imported" in out
    for name in ("pupil_census", "cin_referrals", "pupil_characteristics"):
        assert (tmp_path / "out" / f"{name}.parquet").exists()


def test_import_la_command_exits_2_without_the_salt(tmp_path, tiny_la, monkeypatch, capsys):
    monkeypatch.delenv("TEST_LA_SALT", raising=False)
    assert cli.main(["import-la", "--config", str(_config(tmp_path, tiny_la))]) == 2
    err = capsys.readouterr().err
    assert "environment variable TEST_LA_SALT" in err and "not set" in err
    assert not (tmp_path / "out").exists()


def test_import_la_command_exits_2_on_a_bad_configuration_or_return(
    tmp_path, tiny_la, monkeypatch, capsys
):
    monkeypatch.setenv("TEST_LA_SALT", "test-salt-0123456789abcdef")
    assert cli.main(["import-la", "--config", str(_config(tmp_path, tiny_la, colour="red"))]) == 2
    assert "unknown key(s) colour" in capsys.readouterr().err
    bad = _config(tmp_path, tiny_la, la_code="W06000001")
    assert cli.main(["import-la", "--config", str(bad)]) == 2
    assert "not the ONS code of an English upper-tier local authority" in capsys.readouterr().err
    assert cli.main(["import-la", "--config", str(tmp_path / "nope.yaml")]) == 2
    assert "no such configuration file" in capsys.readouterr().err


def test_formats_dir_stands_for_the_sources(tmp_path, monkeypatch):
    from child_mdh.sources.synthetic.la_formats import write_la_formats

    from la_tiny import LA1, tiny_synthetic_folder

    write_la_formats(tiny_synthetic_folder(tmp_path / "synth"), LA1, tmp_path / "formats")
    report = import_la_from_config(
        {
            "la_code": LA1,
            "out_dir": str(tmp_path / "out"),
            "synthetic": True,
            "formats_dir": str(tmp_path / "formats"),
        },
        environ={"CHILD_MDH_SALT": "test-salt-0123456789abcdef"},
    )
    assert report.tables["child_domains"] == 2 and report.tables["pupil_census"] == 6
    with pytest.raises(LAReturnError, match="sources is missing"):
        import_la_from_config({"la_code": LA1, "out_dir": "x"}, environ={})
