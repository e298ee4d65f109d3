"""The synthetic England generator: contract tables with a known truth.

``generate(n_children, seed, out_dir, census_year=2021, **options)`` writes every contract
table, ``truth.json``, the truth flag files and ``DATA_CARD.md``;
:func:`child_mdh.sources.synthetic.fidelity.fidelity_report` compares the written tables with the
published figures the generator is calibrated to. See ``docs/synthetic-data.md``.
"""

from child_mdh.sources.synthetic.generator import GENERATOR, OPTIONS, TRUTH_FILES, generate

__all__ = ["GENERATOR", "OPTIONS", "TRUTH_FILES", "generate"]
