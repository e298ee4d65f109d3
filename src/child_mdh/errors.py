"""One hierarchy of the package's own errors.

- :class:`ChildMdhError`: every error child-mdh raises on purpose.
- :class:`UserError`: the input, the configuration or a command line is wrong, and the
  message says what to fix (which file, table, column and rows). The command line and
  every workflow step print the message alone and exit with status 2
  (:data:`USER_ERROR_EXIT`): no traceback, because the traceback would only hide the
  message. Every other exception is a fault of child-mdh and keeps its traceback.

Each stage subclasses these (e.g. ``ValidationError``, ``LAReturnError``,
``DisclosureError``). The classes also derive from :class:`ValueError`, which they were
before the hierarchy existed, so callers catching ``ValueError`` keep working.
"""

from __future__ import annotations

#: exit status of a run stopped by a user error (argparse uses 2 for usage errors too)
USER_ERROR_EXIT = 2


class ChildMdhError(Exception):
    """An error child-mdh raises on purpose."""


class UserError(ChildMdhError, ValueError):
    """Wrong input, configuration or usage; the message says how to fix it."""
