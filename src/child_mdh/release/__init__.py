"""Stage 5, release: the only writer of ``results/release/``.

Every stage's aggregates reach the release folder only through here, protected as one
whole and listed for the output checker:

- :mod:`.sdc`: disclosure control (threshold, secondary suppression, rounding, the
  release-wide interval audit), the manifest, the audit and the checker's summary;
- :mod:`.index`, :mod:`.models`, :mod:`.profiles`, :mod:`.fidelity`: each stage's
  table declarations, figures, method text and writing;
- :mod:`.provenance`: configuration, input hashes and versions of a run.
"""
