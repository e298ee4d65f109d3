"""Logging for a workflow step: to the rule's log file and to the terminal; a user error
ends the step with its message and exit status 2, no traceback."""

from __future__ import annotations

import contextlib
import logging
import sys
from pathlib import Path

from child_mdh.errors import USER_ERROR_EXIT, UserError

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


@contextlib.contextmanager
def step_logging(smk, name: str):
    """Log to ``smk.log[0]`` (when the rule has a log) and stderr; log a failure's message.

    A :class:`~child_mdh.errors.UserError` (wrong input or configuration: the message says
    what to fix) is logged alone and ends the step with exit status 2, so Snakemake stops
    the run without a Python traceback. Any other exception is a fault of child-mdh: it is
    logged and re-raised with its traceback.
    """
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if getattr(smk, "log", None) and len(smk.log):
        Path(smk.log[0]).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(smk.log[0], mode="w"))
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT, handlers=handlers, force=True)
    log = logging.getLogger(f"child_mdh.{name}")
    try:
        yield log
    except UserError as err:
        log.error("%s stopped:\n%s", name, err)
        raise SystemExit(USER_ERROR_EXIT) from None
    except Exception as err:
        log.error("%s failed:\n%s", name, err)
        raise
