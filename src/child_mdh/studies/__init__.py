"""Studies of the methods on simulated data: never imported by the pipeline.

- :mod:`.index_coverage`: coverage of the index intervals under repeated sampling;
- :mod:`.model_recovery`: recovery of the synthetic generator's model effects.

Used by the tests and by the scripts in ``benchmarks/``.
"""
