"""The workflow's steps: one function per rule.

Each function takes the ``snakemake`` object of a rule's ``script:`` (inputs, outputs,
params, log), sets up logging to the rule's log file, unpacks everything into plain
values and calls library functions. Logic lives in the library; the rules files and
``workflow/scripts/`` stay a few lines long.
"""
