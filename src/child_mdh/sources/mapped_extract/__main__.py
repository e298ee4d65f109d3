"""``python -m child_mdh.sources.mapped_extract MAPPING --out DIR [--extract-dir DIR] [--check]``.

Checks the mapping file against the contract and the extract's headers and, unless
``--check`` is given, writes the contract tables and the row report to ``DIR``.
Exit status 0 on success, 2 when the mapping or the data has problems (all listed).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from child_mdh.sources.mapped_extract import MappingError, apply_mapping, check_mapping


def main(argv: list[str] | None = None) -> int:
    """Run the mapping from the command line; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m child_mdh.sources.mapped_extract",
        description="Turn an extract into the data contract's tables with a YAML mapping file.",
    )
    parser.add_argument("mapping", help="the YAML mapping file")
    parser.add_argument("--out", help="folder to write <table>.parquet and mapping_report.json")
    parser.add_argument(
        "--extract-dir",
        help="folder holding the extract files (overrides the mapping's extract_dir)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="only check the mapping against the contract and file headers",
    )
    args = parser.parse_args(argv)
    extract_dir = Path(args.extract_dir) if args.extract_dir else None
    try:
        if args.check:
            check_mapping(Path(args.mapping), extract_dir)
            print(f"{args.mapping}: no problems found")
            return 0
        if not args.out:
            parser.error("--out is required unless --check is given")
        report = apply_mapping(Path(args.mapping), Path(args.out), extract_dir)
    except MappingError as err:
        print(str(err), file=sys.stderr)
        return 2
    print(report.summary_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
