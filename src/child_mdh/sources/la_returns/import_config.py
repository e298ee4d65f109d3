"""The import configuration: a YAML file that says which returns to import, and how.

The keys are those of the ``la_import`` section of a workflow configuration
(``docs/la-returns.md``), so one file serves ``child-mdh import-la --config FILE`` and the
workflow. A file may hold the section under ``la_import:`` (a workflow configuration) or
at its top level. Paths are relative to the folder the command is run from, like every
path of a workflow configuration.

The salt is never in the file: ``salt_env`` names the environment variable holding it
(default ``CHILD_MDH_SALT``).
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from child_mdh.contract.loss import MAX_LOSS_SHARE, check_share
from child_mdh.sources.la_returns.errors import LAReturnError
from child_mdh.sources.la_returns.files import collection_year_of
from child_mdh.sources.la_returns.importer import SOURCE_KEYS, ImportReport, import_la
from child_mdh.sources.la_returns.layout import la_format_sources
from child_mdh.sources.la_returns.school_census import given_census_day

DEFAULT_SALT_ENV = "CHILD_MDH_SALT"
#: Keys of the import configuration, with what each means (the schema of the workflow's
#: ``la_import`` section lists the same keys).
IMPORT_KEYS = {
    "la_code": "ONS code of the authority (E06, E08, E09 or E10 and six digits)",
    "la_name": "name of the authority (areas table)",
    "region_code": "ONS code of its region",
    "region_name": "name of its region",
    "salt_env": f"environment variable holding the salt (default {DEFAULT_SALT_ENV})",
    "out_dir": "folder the tables and the import report are written to",
    "on_bad_file": "stop (default) or skip",
    "collection_year": "SSDA903 collection year for files whose name has none",
    "school_id_column": "school census column holding the school identifier",
    "census_dates": "{school census file name: census day}",
    "sources": "which files hold which return: " + ", ".join(SOURCE_KEYS),
    "synthetic": "true when the returns are synthetic (outputs labelled synthetic)",
    "formats_dir": "a folder written by write_la_formats; its files are the sources when "
    "sources is not given",
    "domains": "which local domain file the cohort uses: household_flags or area_level",
    "outcomes_scope": "residents (default) or all_pupils",
    "max_loss_share": "a table losing more than this share of its rows to row checks stops "
    "the import (default 0.05)",
}
DOMAIN_OPTIONS = {"household_flags": "household", "area_level": "area"}


def load_import_config(path: Path) -> dict:
    """Read an import configuration (YAML); return its ``la_import`` mapping, checked.

    Raises :class:`LAReturnError` for a file that cannot be read, an unknown key (with the
    valid keys), or a missing ``la_code``, ``out_dir`` or ``sources``/``formats_dir``.
    """
    path = Path(path)
    if not path.is_file():
        raise LAReturnError(
            f"{path}: no such configuration file. Give the YAML file of the "
            "import (example: config/examples/la_import_household_flags.yaml)."
        )
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        raise LAReturnError(f"{path}: not a readable YAML file ({err}).") from err
    if not isinstance(doc, dict):
        raise LAReturnError(f"{path}: the configuration must be a mapping of keys to values.")
    config = doc.get("la_import", doc)
    if not isinstance(config, dict):
        raise LAReturnError(f"{path}: la_import must be a mapping of keys to values.")
    check_import_config(config, str(path))
    return config


def check_import_config(config: dict, where: str = "la_import") -> None:
    """Check the keys of an import configuration (see :data:`IMPORT_KEYS`)."""
    unknown = sorted(set(config) - set(IMPORT_KEYS))
    if unknown:
        raise LAReturnError(
            f"{where}: unknown key(s) {', '.join(unknown)}. The keys are: "
            + "; ".join(f"{k} ({v})" for k, v in IMPORT_KEYS.items())
        )
    for key in ("la_code", "out_dir"):
        if not config.get(key):
            raise LAReturnError(f"{where}: {key} is missing ({IMPORT_KEYS[key]}).")
    if not config.get("sources") and not config.get("formats_dir"):
        raise LAReturnError(f"{where}: sources is missing ({IMPORT_KEYS['sources']}).")
    if config.get("domains", "household_flags") not in DOMAIN_OPTIONS:
        raise LAReturnError(f"{where}: domains must be one of {', '.join(DOMAIN_OPTIONS)}.")
    if config.get("outcomes_scope", "residents") not in ("residents", "all_pupils"):
        raise LAReturnError(f"{where}: outcomes_scope must be residents or all_pupils.")
    collection_year_of(config.get("collection_year"), f"{where}: collection_year")
    try:
        check_share(config.get("max_loss_share", MAX_LOSS_SHARE), f"{where}: max_loss_share")
    except ValueError as err:
        raise LAReturnError(str(err)) from None
    for name, day in (config.get("census_dates") or {}).items():
        given_census_day(day, f"{where}: census_dates[{name!r}]")


def salt_from_environment(config: dict, environ=None) -> str:
    """The salt, read from the environment variable named by ``salt_env``."""
    environ = os.environ if environ is None else environ
    name = config.get("salt_env") or DEFAULT_SALT_ENV
    salt = environ.get(name)
    if not salt:
        raise LAReturnError(
            f"the salt is read from the environment variable {name} (la_import.salt_env), "
            f"which is not set. Set it before importing, e.g. export {name}=<your salt>; "
            'make the salt once with: python -c "import secrets; '
            'print(secrets.token_hex(16))", keep it outside the output folder and use the '
            "same salt for every import so that children keep the same ids."
        )
    return salt


def import_sources(config: dict) -> dict:
    """The ``sources`` of the import: as given, or the files of ``formats_dir``."""
    if config.get("sources"):
        return dict(config["sources"])
    route = DOMAIN_OPTIONS[config.get("domains", "household_flags")]
    return {k: str(v) for k, v in la_format_sources(Path(config["formats_dir"]), route).items()}


def import_la_from_config(config: dict, environ=None) -> ImportReport:
    """Run :func:`child_mdh.sources.la_returns.import_la` with the keys of an import configuration.

    ``config``: the ``la_import`` mapping (:func:`load_import_config`); ``environ``: where
    the salt is looked up (default ``os.environ``).
    """
    check_import_config(config)
    census_dates = {str(k): str(v) for k, v in (config.get("census_dates") or {}).items()}
    return import_la(
        import_sources(config),
        str(config["la_code"]),
        Path(config["out_dir"]),
        salt_from_environment(config, environ),
        la_name=config.get("la_name"),
        region_code=config.get("region_code"),
        region_name=config.get("region_name"),
        collection_year=collection_year_of(config.get("collection_year")),
        census_dates=census_dates or None,
        school_id_column=config.get("school_id_column"),
        on_bad_file=config.get("on_bad_file") or "stop",
        synthetic=bool(config.get("synthetic", False)),
        max_loss_share=config.get("max_loss_share", MAX_LOSS_SHARE),
    )
