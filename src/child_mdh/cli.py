"""The ``child-mdh`` command line.

Each sub-command is a thin wrapper: it parses arguments and calls one package function.
The workflow rules call the same functions, so the command line and the pipeline never
drift apart.

    child-mdh synth --children N --seed S --out DIR [--census-year 2021]
    child-mdh validate DIR [--out DIR] [--policy quarantine|stop]
    child-mdh map-extract MAPPING --out DIR [--extract-dir DIR] [--check]
    child-mdh contract-docs
    child-mdh audit DIR [--threshold N] [--report FILE]
    child-mdh import-la --config FILE
    child-mdh compare-releases FIRST SECOND
    child-mdh run [SNAKEMAKE ARGUMENTS]   (what make run does: resumes a killed run)
    child-mdh --version
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from child_mdh import __version__
from child_mdh.contract.children import children_markdown
from child_mdh.contract.tables import contract_markdown
from child_mdh.errors import USER_ERROR_EXIT, UserError
from child_mdh.release.compare import compare_releases
from child_mdh.release.sdc.audit_cli import run_audit
from child_mdh.sources.la_returns.import_config import import_la_from_config, load_import_config
from child_mdh.sources.mapped_extract.__main__ import main as map_extract_main
from child_mdh.sources.synthetic import generate
from child_mdh.validation.folder import MAX_LOSS_SHARE, validate_folder
from child_mdh.workflow_config import check_config_file

try:  # POSIX; on Windows the run is not locked (make is rarely used there)
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None


# ---------------------------------------------------------------------------------------
# child-mdh run (make run): resuming after a killed run
#
# Running the whole workflow so that a killed run can simply be started again.
#
# A run that is killed (Ctrl-C twice, a closed terminal, an out-of-memory kill) leaves
# Snakemake's lock in ``.snakemake/locks`` and files it was writing marked incomplete;
# the next ``snakemake`` then refuses to start until someone runs ``--unlock`` and
# ``--rerun-incomplete`` by hand. :func:`run_workflow` (``make run``, ``child-mdh run``)
# does both, safely: it first takes an operating-system lock on
# ``.snakemake/child-mdh-run.lock``, which the kernel releases when the process ends, so
# it can never go stale. Holding it proves that no other ``make run`` is running in the
# folder, so any Snakemake lock left is stale and is removed (``--unlock``), and files a
# killed run left incomplete are made again (``--rerun-incomplete``). A second
# ``make run`` started while one is running stops with a message instead.
#
# (A ``snakemake`` started by hand is not covered by the operating-system lock: do not
# start one in the same folder while ``make run`` runs.)

RUN_LOCK = Path(".snakemake") / "child-mdh-run.lock"


def snakemake_command() -> str:
    """The ``snakemake`` of this environment (beside the running Python)."""
    beside = Path(sys.executable).parent / "snakemake"
    return str(beside) if beside.exists() else "snakemake"


def run_workflow(args: list[str], workdir: Path = Path(), runner=subprocess.run) -> int:
    """Run ``snakemake args`` in ``workdir``, resuming after a killed run; its exit status.

    Raises :class:`UserError` when another run holds the folder.
    """
    workdir = Path(workdir)
    lock = workdir / RUN_LOCK
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "w") as handle:
        if fcntl is not None:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise UserError(
                    f"another 'make run' is running in {workdir.resolve()}: wait for it to "
                    "finish (or stop it) and run again."
                ) from None
        command = [snakemake_command(), *args]
        if any((workdir / ".snakemake" / "locks").glob("*")):
            print(
                "A run was stopped before it finished: removing its stale lock "
                "(snakemake --unlock) and making its incomplete files again.",
                file=sys.stderr,
            )
            runner([*command, "--unlock"], cwd=workdir, check=False)
        return runner([*command, "--rerun-incomplete"], cwd=workdir, check=False).returncode


def _cmd_synth(args: argparse.Namespace) -> int:
    summary = generate(
        n_children=args.children,
        seed=args.seed,
        out_dir=Path(args.out),
        census_year=args.census_year,
    )
    for table, rows in summary["rows"].items():
        print(f"{table}: {rows:,} rows")
    print(f"wrote {args.out} (synthetic data, seed {args.seed})")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    out = Path(args.out) if args.out else Path(args.input) / "_validated"
    report = validate_folder(
        Path(args.input),
        out_dir=out,
        quarantine_dir=Path(args.quarantine) if args.quarantine else out / "quarantine",
        policy=args.policy,
        reference_date=args.reference_date,
        max_loss_share=args.max_loss_share,
    )
    print(report.summary_text())
    return 0


def _cmd_map_extract(args: argparse.Namespace) -> int:
    argv = [args.mapping]
    if args.out:
        argv += ["--out", args.out]
    if args.extract_dir:
        argv += ["--extract-dir", args.extract_dir]
    if args.check:
        argv.append("--check")
    return map_extract_main(argv)


def _cmd_import_la(args: argparse.Namespace) -> int:
    report = import_la_from_config(load_import_config(Path(args.config)))
    print(report.summary_text())
    return 0


def _cmd_audit(args: argparse.Namespace) -> int:
    return run_audit(
        Path(args.folder),
        threshold=args.threshold,
        report=Path(args.report) if args.report else None,
    )


def _cmd_compare_releases(args: argparse.Namespace) -> int:
    for folder in (args.first, args.second):
        if not Path(folder).is_dir():
            raise UserError(f"{folder}: not a folder; give two release folders.")
    result = compare_releases(Path(args.first), Path(args.second))
    print(result.summary())
    return 0 if result.identical else 1


def _cmd_check_config(args: argparse.Namespace) -> int:
    check_config_file(Path(args.config))
    if not args.quiet:
        print(f"{args.config}: a valid child-mdh configuration")
    return 0


def _cmd_contract_docs(args: argparse.Namespace) -> int:
    print(contract_markdown())
    print()
    print(children_markdown())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="child-mdh",
        description="Child-MDH: multidimensionally disadvantaged households and children's social care.",
    )
    parser.add_argument("--version", action="version", version=f"child-mdh {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("synth", help="generate a synthetic England in the data contract's tables")
    p.add_argument("--children", type=int, required=True, help="number of children (ages 0-17)")
    p.add_argument("--seed", type=int, required=True, help="random seed (same seed, same tables)")
    p.add_argument("--out", required=True, help="folder to write the tables to")
    p.add_argument("--census-year", type=int, default=2021, choices=(2011, 2021))
    p.set_defaults(func=_cmd_synth)

    p = sub.add_parser("validate", help="check an input folder against the data contract")
    p.add_argument("input", help="folder holding <table>.parquet or <table>.csv files")
    p.add_argument("--out", help="folder for the validated tables (default INPUT/_validated)")
    p.add_argument("--quarantine", help="folder for quarantined rows (default OUT/quarantine)")
    p.add_argument(
        "--policy",
        choices=("quarantine", "stop"),
        default="quarantine",
        help="what to do with rows that break a row-level rule",
    )
    p.add_argument(
        "--reference-date",
        default=None,
        help="dates after this (YYYY-MM-DD) count as in the future (default: today)",
    )
    p.add_argument(
        "--max-loss-share",
        type=float,
        default=MAX_LOSS_SHARE,
        help="a table losing more than this share of its rows to row checks stops the run "
        f"(default {MAX_LOSS_SHARE:g})",
    )
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser(
        "map-extract",
        help="turn a secure-environment extract into contract tables with a YAML mapping",
    )
    p.add_argument(
        "mapping", help="the YAML mapping file (example: config/examples/guie_mapping.yaml)"
    )
    p.add_argument("--out", help="folder to write <table>.parquet and mapping_report.json")
    p.add_argument(
        "--extract-dir", help="folder holding the extract (overrides the mapping's extract_dir)"
    )
    p.add_argument("--check", action="store_true", help="only check the mapping, write nothing")
    p.set_defaults(func=_cmd_map_extract)

    p = sub.add_parser(
        "import-la",
        help="import a local authority's own returns (SSDA903, CIN census, "
        "school census) into contract tables",
    )
    p.add_argument(
        "--config",
        required=True,
        help="YAML import configuration (the la_import keys, docs/la-returns.md); "
        "the salt is read from the environment variable it names",
    )
    p.set_defaults(func=_cmd_import_la)

    p = sub.add_parser(
        "audit",
        help="re-check a release folder as received (outputs.json and every "
        "file); exit 0 clean, 1 problems, 2 not a release folder",
    )
    p.add_argument("folder", help="the release folder, holding outputs.json")
    p.add_argument(
        "--threshold",
        type=int,
        default=None,
        help="minimum count (default: the threshold recorded in outputs.json)",
    )
    p.add_argument(
        "--report",
        default=None,
        help="also write the audit report (JSON) to this file; by default "
        "nothing is written, so the folder is left as received",
    )
    p.set_defaults(func=_cmd_audit)

    p = sub.add_parser(
        "compare-releases",
        help="compare two release folders: the same release apart from run "
        "dates and commit? exit 0 the same, 1 different",
    )
    p.add_argument("first", help="a release folder")
    p.add_argument("second", help="another release folder")
    p.set_defaults(func=_cmd_compare_releases)

    p = sub.add_parser(
        "run",
        help="run the workflow (snakemake with these arguments), resuming after a killed run",
    )
    p.add_argument("snakemake_args", nargs=argparse.REMAINDER, help="arguments for snakemake")
    p.set_defaults(func=lambda args: run_workflow([a for a in args.snakemake_args if a != "--"]))

    p = sub.add_parser(
        "check-config",
        help="check a workflow configuration file (YAML syntax, keys, values) as the "
        "workflow reads it (over config/config.yaml); exit 0 valid, 2 not",
    )
    p.add_argument("config", help="the YAML configuration file")
    p.add_argument("--quiet", action="store_true", help="print nothing when it is valid")
    p.set_defaults(func=_cmd_check_config)

    p = sub.add_parser("contract-docs", help="print the data contract as Markdown")
    p.set_defaults(func=_cmd_contract_docs)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one sub-command; a :class:`~child_mdh.errors.UserError` prints its message
    alone and exits with status 2."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except UserError as err:
        print(f"child-mdh {args.command}: {err}", file=sys.stderr)
        return USER_ERROR_EXIT


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
