"""The data contract: the shared vocabulary every later stage speaks.

- :mod:`.tables`: the eight contract tables (columns, types, codes, keys), their
  conforming function and the Markdown documentation (``child-mdh contract-docs``);
- :mod:`.columns`: the one check that a table has the columns a step needs.

Nothing here reads or writes data.
"""
