"""Stage 3, derive: the person-level children table every analysis reads.

- :mod:`.domains`: the four ONS household deprivation domains;
- :mod:`.fsm`: free school meals measures at the reference date;
- :mod:`.population`: the census cohort and its linkage report;
- :mod:`.outcomes`: social care contact in the follow-up window;
- :mod:`.la_cohort`: the local-authority (pupil) cohort;
- :mod:`.social_care`: the social care tables' dates;
- :mod:`.children`: both cohorts -> the children table.

Everything derived is person-level and stays in ``results/secure/``.
"""
