"""Checks of an input folder against the data contract, in small single-purpose modules.

The public entry point is :mod:`child_mdh.validation.folder`; these modules are its parts:

- :mod:`.issues`: the problems found (``Issue``), ``ValidationError`` and message wording;
- :mod:`.parsing`: turning raw cells (text or Parquet values) into contract types;
- :mod:`.headers`: matching a file's header to the contract columns;
- :mod:`.rows`: row-level checks within one table (values, keys, dates, links);
- :mod:`.references`: checks between tables and the quarantine cascade;
- :mod:`.report`: row accounting, the report and the files written.
"""
