"""Logging for a workflow step: everything to the rule's log file; to the terminal only
warnings, errors and the step's one line of what it did (``log.info(..., extra=SUMMARY)``);
a user error ends the step with its message and exit status 2, no traceback."""

from __future__ import annotations

import contextlib
import logging
import sys
from pathlib import Path

from child_mdh.errors import USER_ERROR_EXIT, UserError

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
CONSOLE_FORMAT = "  %(step)s: %(message)s"
#: ``extra=`` of the log record that is the step's line on the terminal
SUMMARY = {"summary": True}


class _ConsoleFilter(logging.Filter):
    """Let through warnings, errors and the step's summary line; name the step."""

    def __init__(self, step: str):
        super().__init__()
        self.step = step

    def filter(self, record: logging.LogRecord) -> bool:
        record.step = self.step
        return record.levelno >= logging.WARNING or bool(getattr(record, "summary", False))


@contextlib.contextmanager
def step_logging(smk, name: str):
    """Log to ``smk.log[0]`` (when the rule has a log; every record) and stderr (warnings,
    errors and the records logged with ``extra=SUMMARY``); log a failure's message.

    A :class:`~child_mdh.errors.UserError` (wrong input or configuration: the message says
    what to fix) is logged alone and ends the step with exit status 2, so Snakemake stops
    the run without a Python traceback. Any other exception is a fault of child-mdh: it is
    logged and re-raised with its traceback.
    """
    console = logging.StreamHandler(sys.stderr)
    console.addFilter(_ConsoleFilter(name))
    console.setFormatter(logging.Formatter(CONSOLE_FORMAT))
    handlers: list[logging.Handler] = [console]
    if getattr(smk, "log", None) and len(smk.log):
        Path(smk.log[0]).parent.mkdir(parents=True, exist_ok=True)
        to_file = logging.FileHandler(smk.log[0], mode="w")
        to_file.setFormatter(logging.Formatter(LOG_FORMAT))
        handlers.append(to_file)
    else:  # no log file: the details go to the terminal
        console.filters.clear()
        console.setFormatter(logging.Formatter(LOG_FORMAT))
    logging.basicConfig(level=logging.INFO, handlers=handlers, force=True)
    log = logging.getLogger(f"child_mdh.{name}")
    try:
        yield log
    except UserError as err:
        log.error("%s stopped:\n%s", name, err)
        raise SystemExit(USER_ERROR_EXIT) from None
    except Exception as err:
        log.error("%s failed:\n%s", name, err)
        raise
