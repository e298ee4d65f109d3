"""Logging for a workflow step: everything to the rule's log file; to the terminal only
warnings, errors, the step's one line of what it did (``log.info(..., extra=SUMMARY)``)
and, in steps that take minutes, a few lines of progress (``extra=PROGRESS``, or
:func:`step_progress` for a loop); a user error ends the step with its message and exit
status 2, no traceback."""

from __future__ import annotations

import contextlib
import logging
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path

from child_mdh.errors import USER_ERROR_EXIT, UserError

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
CONSOLE_FORMAT = "  %(step)s: %(message)s"
#: ``extra=`` of the log record that is the step's line on the terminal
SUMMARY = {"summary": True}
#: ``extra=`` of a progress line on the terminal (a long step says where it is)
PROGRESS = {"summary": True, "progress": True}


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


def step_progress(
    log: logging.Logger, what: str, total: int, *, lines: int = 4
) -> Callable[[int], None]:
    """``progress(done)`` for a loop over ``total`` items: a terminal line
    ``<what> <done>/<total> (<seconds>s)`` when ``done`` passes each ``1/lines`` of
    ``total`` (``lines - 1`` lines at most: the step's summary line says when all are
    done), so a long loop says where it is without a line per item."""
    start = time.perf_counter()
    marks = sorted({math.ceil(total * k / lines) for k in range(1, lines)} - {0, total})

    def progress(done: int) -> None:
        if marks and done >= marks[0]:
            while marks and done >= marks[0]:
                marks.pop(0)
            log.info(
                "%s %d/%d (%.0fs)", what, done, total, time.perf_counter() - start, extra=PROGRESS
            )

    return progress
