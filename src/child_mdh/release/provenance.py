"""Provenance: what produced a run's outputs, so a result can be traced and reproduced.

The record holds the resolved configuration, a SHA-256 hash of every input file, the
versions of Python and of every pinned package, the code version (git commit and whether
the working tree had uncommitted changes, or the package version outside git), and when
and where the run happened. It holds no data values, so it may be released.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pyarrow.parquet as pq

import child_mdh

#: Packages whose versions are recorded (the direct dependencies in pyproject.toml).
RECORDED_PACKAGES = (
    "child-mdh",
    "snakemake",
    "pandas",
    "numpy",
    "scipy",
    "statsmodels",
    "linearmodels",
    "scikit-learn",
    "pyarrow",
    "matplotlib",
    "pyyaml",
    "jinja2",
    "openpyxl",
    "threadpoolctl",
)


def file_sha256(path: str | Path, chunk_size: int = 1 << 20) -> str:
    """SHA-256 hex digest of a file's bytes, read in chunks (large inputs stay out of memory)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


def package_versions(packages: tuple[str, ...] = RECORDED_PACKAGES) -> dict[str, str | None]:
    """Installed version of each package (None when it is not installed)."""
    versions = {}
    for name in packages:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def code_version(repo_dir: str | Path | None = None) -> dict:
    """The git commit of the code and whether it had uncommitted changes, if in git."""
    repo_dir = Path(repo_dir) if repo_dir else Path(child_mdh.__file__).resolve().parents[2]
    info = {"package_version": child_mdh.__version__, "git_commit": None, "git_dirty": None}
    try:
        commit = subprocess.run(
            ["git", "-C", str(repo_dir), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
        status = subprocess.run(
            ["git", "-C", str(repo_dir), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return info
    info["git_commit"] = commit.stdout.strip()
    info["git_dirty"] = bool(status.stdout.strip())
    return info


#: The social care tables: when one has no rows, every outcome built on it is zero.
SOCIAL_CARE_TABLES = ("cin_referrals", "child_protection_plans", "looked_after_episodes")


def empty_table_warnings(validated_files: list[str | Path]) -> list[str]:
    """Warnings for validated social care tables that hold no rows (a header-only file, or
    every row quarantined): the release must say so, or zeros would read as findings."""
    out = []
    for path in sorted(Path(p) for p in validated_files):
        if path.stem in SOCIAL_CARE_TABLES and pq.read_metadata(path).num_rows == 0:
            out.append(
                f"The {path.stem} table is EMPTY (no usable rows): every statistic and "
                "outcome built on it is zero because the input held none, not because "
                "no child had one. Check the input before releasing."
            )
    return out


def provenance_record(
    config: dict, input_files: list[str | Path], warnings: list[str] | None = None
) -> dict:
    """The provenance record of a run (see the module docstring); ``warnings`` (for
    example :func:`empty_table_warnings`) are recorded under ``warnings`` when any."""
    files = sorted(Path(p) for p in input_files)
    record = {
        "record": "child-mdh run provenance",
        "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "code": code_version(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "packages": package_versions(),
        "config": config,
        "inputs": [
            {"file": str(p), "bytes": p.stat().st_size, "sha256": file_sha256(p)} for p in files
        ],
    }
    if warnings:
        record["warnings"] = list(warnings)
    return record
