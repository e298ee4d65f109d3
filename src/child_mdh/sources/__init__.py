"""Stage 1, sources: where contract tables come from.

- :mod:`.synthetic`: a synthetic England generated from published figures, its fidelity
  report, and one local authority's returns written in its own formats;
- :mod:`.mapped_extract`: a secure-environment extract (e.g. Growing Up in England)
  turned into contract tables by a YAML mapping;
- :mod:`.la_returns`: a local authority's own returns (SSDA903, CIN census, school
  census, household flags) imported into the five contract tables it can hold.

Every route writes contract tables that :mod:`child_mdh.validation` checks next.
"""
