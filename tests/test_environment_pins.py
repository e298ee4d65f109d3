"""The conda route and the pip route must install the same versions."""

import re
import tomllib
from pathlib import Path

import yaml

from paths import REPO

ROOT = REPO


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pip_pins() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = project["dependencies"] + project["optional-dependencies"]["test"]
    pins = {}
    for r in reqs:
        name, sep, version = r.partition("==")
        assert sep, f"pyproject.toml: {r!r} is not pinned with =="
        pins[_canonical(name)] = version
    return pins


def _conda_pins(path: Path) -> dict[str, str]:
    deps = yaml.safe_load(path.read_text())["dependencies"]
    pins = {}
    for d in deps:
        if isinstance(d, str) and "=" in d:
            name, _, version = d.partition("=")
            pins[_canonical(name)] = version
    return pins


def test_environment_yml_matches_pyproject():
    conda = _conda_pins(ROOT / "environment.yml")
    assert conda.pop("python") == "3.11"
    assert conda == _pip_pins()


def test_workflow_env_is_the_same_environment():
    assert _conda_pins(ROOT / "workflow/envs/child-mdh.yaml") == _conda_pins(
        ROOT / "environment.yml"
    )


def test_lock_file_agrees_with_direct_pins():
    lock = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            lock[_canonical(name)] = version
    for name, version in _pip_pins().items():
        assert lock.get(name) == version, (
            f"requirements.lock pins {name} {lock.get(name)}, pyproject {version}"
        )
