"""Local-area profiles safe to release: statistics, figures, pages and tables.

- :mod:`~child_mdh.profiles.measures`: what a profile reports (outcomes, groups, names);
- :mod:`~child_mdh.profiles.tables`: every area's statistics in one vectorised pass, and
  their disclosure-protected form;
- :mod:`~child_mdh.profiles.indicators`: the long 'one row per indicator' table;
- :mod:`~child_mdh.profiles.chartdata`, :mod:`~child_mdh.profiles.figures`: chart data
  from the protected tables; inline SVG (hover text) and PNG files;
- :mod:`~child_mdh.profiles.format`: numbers, suppressed cells and comparisons in words;
- :mod:`~child_mdh.profiles.local`: a council's own indicators;
- :mod:`~child_mdh.profiles.html`: the self-contained HTML pages (Jinja2 templates);
- :mod:`~child_mdh.profiles.selfcontained`: the check that a page loads nothing;
- :mod:`~child_mdh.profiles.build`: writing tables, pages and figures through the
  disclosure-control writers, for a chunk of local authorities at a time.

See ``docs/profiles.md``.
"""
