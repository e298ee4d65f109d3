"""The workflow's configuration file, checked so that a mistake fits on one screen.

:func:`load_config_file` reads a YAML file and names the line and column of a syntax
error; :func:`check_config` checks a configuration against
``workflow/schemas/config.schema.yaml`` and reports the first problem in one line: the
key, what is wrong with it, the valid keys there and, for a mistyped key, the nearest
valid one. The workflow (``workflow/rules/common.smk``) and ``child-mdh check-config``
use both before any job runs.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path

import jsonschema
import yaml

from child_mdh.errors import UserError

#: the schema beside the workflow, in a checkout of the repository
SCHEMA_PATH = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "config.schema.yaml"
DEFAULT_CONFIG_PATH = Path(__file__).resolve().parents[2] / "config" / "config.yaml"


class ConfigError(UserError):
    """The workflow configuration cannot be read, or breaks the schema."""


def load_config_file(path: str | Path) -> dict:
    """The configuration in YAML file ``path``; :class:`ConfigError` naming the line and
    column of a syntax error, or saying that the file holds no mapping of keys."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError(f"{path}: cannot read the configuration file ({err.strerror})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "somewhere"
        what = err.problem or err.context or "not valid YAML"
        started = ""
        if err.context and err.context_mark and mark and err.context_mark.line != mark.line:
            started = f", {err.context} that starts on line {err.context_mark.line + 1}"
        raise ConfigError(
            f"{path}, {where}: {what}{started} (YAML syntax: check the indentation, "
            "brackets and quotes there)"
        ) from None
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML ({err})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the configuration must be keys and values, not a list or text")
    return data


def merged(base: Mapping, update: Mapping) -> dict:
    """``base`` updated by ``update`` key by key, nested mappings merged (as Snakemake
    updates the Snakefile's config with a config file given on the command line)."""
    out = dict(base)
    for key, value in update.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merged(out[key], value)
        else:
            out[key] = value
    return out


def _schema_at(schema: dict, path) -> dict:
    node = schema
    for part in path:
        if isinstance(part, int):
            node = node.get("items", {})
        else:
            props = node.get("properties") or {}
            node = props.get(part) or (node.get("additionalProperties") or {})
            if not isinstance(node, dict):
                node = {}
    return node


def _describe(error: jsonschema.ValidationError, schema: dict, source: str) -> str:
    where = ".".join(str(p) for p in error.absolute_path)
    node = _schema_at(schema, error.absolute_path)
    if error.validator == "additionalProperties":
        valid = sorted(node.get("properties") or {})
        unknown = (
            sorted(set(error.instance) - set(valid)) if isinstance(error.instance, dict) else []
        )
        key = unknown[0] if unknown else "?"
        close = difflib.get_close_matches(key, valid, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        place = f"under '{where}'" if where else "at the top level"
        return (
            f"{source}: unknown key '{key}' {place}{hint} "
            f"Valid keys there: {', '.join(valid)} (config/README.md explains each)."
        )
    value = error.instance
    shown = repr(value) if not isinstance(value, (dict, list)) or len(str(value)) < 60 else "..."
    if error.validator == "enum":
        allowed = ", ".join(map(str, error.validator_value))
        return f"{source}: key '{where}' is {shown}; it must be one of: {allowed}."
    if error.validator == "type":
        return f"{source}: key '{where}' is {shown}; it must be of type {error.validator_value}."
    message = error.message if len(error.message) < 200 else error.message[:200] + "..."
    return f"{source}: key '{where or '(top level)'}': {message}."


def check_config(
    config: Mapping, schema: Mapping | str | Path = SCHEMA_PATH, source: str = "config"
) -> None:
    """Raise :class:`ConfigError`, one line, at the first problem of ``config`` under
    ``schema`` (a mapping or a path to the YAML schema); ``source`` names the file."""
    if not isinstance(schema, Mapping):
        schema = load_config_file(schema)
    schema = dict(schema)
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = sorted(
        validator.iter_errors(dict(config)),
        key=lambda e: (len(e.absolute_path), [str(p) for p in e.absolute_path]),
    )
    if errors:
        raise ConfigError(_describe(errors[0], schema, source))


def check_config_file(
    path: str | Path,
    schema: Mapping | str | Path = SCHEMA_PATH,
    default: str | Path | None = DEFAULT_CONFIG_PATH,
) -> dict:
    """Read ``path`` and check it, as the workflow sees it (over ``default``, the file the
    Snakefile reads first, when that exists); returns the merged configuration."""
    config = load_config_file(path)
    base = {}
    if (
        default is not None
        and Path(default).is_file()
        and Path(default).resolve() != Path(path).resolve()
    ):
        base = load_config_file(default)
    full = merged(base, config)
    check_config(full, schema, source=str(path))
    return full
