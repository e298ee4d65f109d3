"""Studies of the methods on simulated data: never imported by the pipeline.

- :mod:`.index_coverage`: coverage of the index intervals under repeated sampling;
- :mod:`.model_recovery`: recovery of the synthetic generator's model effects;
- :mod:`.linkage_bias`: the unweighted and linkage-weighted index when linkage depends
  on deprivation;
- :mod:`.inequality_recovery`: deprivation profiles, attributable fractions and SII/RII
  against a known logistic model;
- :mod:`.tables`: the summaries as Markdown tables.

Used by the tests, the simulation workflow (``workflow/simulation/Snakefile``) and the
scripts in ``benchmarks/``.
"""
