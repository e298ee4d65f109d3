"""Stage 4, aggregates: the statistics, as pure functions from the children table to
unprotected DataFrames (nothing here writes a file).

- :mod:`.index`: the Alkire-Foster measures, their inference and the index tables;
- :mod:`.models`: the models of social care contact;
- :mod:`.profiles`: every local authority's profile statistics;
- :mod:`.stats`: Wilson, Byar, exact Poisson and funnel-plot statistics;
- :mod:`.formulas`: statistics declared as formulas of counts, so the release can
  recompute every statistic from the protected counts.
"""
