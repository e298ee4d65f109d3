"""Local-area profiles safe to release: tables, figures and pages.

- :mod:`~child_mdh.release.profiles.tables`: the profile tables in their
  disclosure-protected form (statistics from :mod:`child_mdh.aggregates.profiles`);
- :mod:`~child_mdh.release.profiles.indicators`: the long 'one row per indicator' table;
- :mod:`~child_mdh.release.profiles.chartdata`, :mod:`~child_mdh.release.profiles.figures`: chart data
  from the protected tables; inline SVG (hover text) and PNG files;
- :mod:`~child_mdh.release.profiles.spine`: the spine chart, each indicator against the
  released local authority values (inline SVG);
- :mod:`~child_mdh.release.profiles.format`: numbers, suppressed cells and comparisons in words;
- :mod:`~child_mdh.release.profiles.local`: a council's own indicators;
- :mod:`~child_mdh.release.profiles.html`: the self-contained HTML pages (Jinja2 templates);
- :mod:`~child_mdh.release.profiles.selfcontained`: the check that a page loads nothing;
- :mod:`~child_mdh.release.profiles.build`: writing tables, pages and figures through the
  disclosure-control writers, for a chunk of local authorities at a time.

See ``docs/profiles.md``.
"""
