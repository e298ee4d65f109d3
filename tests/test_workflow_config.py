"""Configuration mistakes on one screen: the key, the nearest valid key, the YAML line."""

import pytest
import yaml

from child_mdh.cli import main
from child_mdh.workflow_config import (
    DEFAULT_CONFIG_PATH,
    SCHEMA_PATH,
    ConfigError,
    check_config,
    check_config_file,
    load_config_file,
)


def _default() -> dict:
    return yaml.safe_load(DEFAULT_CONFIG_PATH.read_text())


def _message(config: dict) -> str:
    with pytest.raises(ConfigError) as caught:
        check_config(config, SCHEMA_PATH, source="my.yaml")
    message = str(caught.value)
    assert "\n" not in message and len(message) < 400
    return message


def test_the_default_and_the_test_configs_are_valid():
    check_config(_default())
    check_config_file(SCHEMA_PATH.parents[2] / ".test" / "config" / "config.yaml")


def test_a_mistyped_top_level_key_is_named_with_the_nearest_and_the_valid_keys():
    config = _default()
    config["resuls_dir"] = config.pop("results_dir")
    message = _message(config)
    assert "unknown key 'resuls_dir' at the top level" in message
    assert "did you mean 'results_dir'?" in message
    assert "Valid keys there: disclosure, domains, index" in message


def test_a_mistyped_nested_key_and_a_wrong_value():
    config = _default()
    config["index"]["kk"] = 0.4
    assert "unknown key 'kk' under 'index'; did you mean 'k'?" in _message(config)
    config = _default()
    config["input"]["source"] = "synthtic"
    message = _message(config)
    assert "'input.source' is 'synthtic'" in message and "synthetic, contract_folder" in message


def test_a_yaml_syntax_error_gives_its_line(tmp_path):
    path = tmp_path / "my.yaml"
    path.write_text("results_dir: results\nsynthetic:\n  seed: [2021\n  children: 5\n")
    with pytest.raises(ConfigError, match=r"my.yaml, line 4, column 11: .*starts on line 3"):
        load_config_file(path)


def test_check_config_command(tmp_path, capsys):
    path = tmp_path / "my.yaml"
    path.write_text("synthetic:\n  childern: 5000\n")
    assert main(["check-config", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "did you mean 'children'?" in err
    path.write_text("synthetic:\n  children: 5000\n")
    assert main(["check-config", str(path)]) == 0
    assert "a valid child-mdh configuration" in capsys.readouterr().out
