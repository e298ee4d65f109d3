"""Logging for a workflow step: to the rule's log file and to the terminal."""

from __future__ import annotations

import contextlib
import logging
import sys
from pathlib import Path

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


@contextlib.contextmanager
def step_logging(smk, name: str):
    """Log to ``smk.log[0]`` (when the rule has a log) and stderr; log a failure's message.

    A failure is logged with its full message (our errors say what to fix) and re-raised so
    Snakemake stops the run with a non-zero exit code.
    """
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if getattr(smk, "log", None) and len(smk.log):
        Path(smk.log[0]).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(smk.log[0], mode="w"))
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT, handlers=handlers, force=True)
    log = logging.getLogger(f"child_mdh.{name}")
    try:
        yield log
    except Exception as err:
        log.error("%s failed:\n%s", name, err)
        raise
