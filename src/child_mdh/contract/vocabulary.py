"""The words every stage shares, each defined once.

- :data:`DOMAINS`: the four household deprivation domains as ONS defines them (Census
  2011 table QS119EW, Census 2021 table TS011): employment, education, health and
  disability, housing;
- :data:`INDICATORS`: the Child-MDH index's indicators, the domains plus free school meals
  (:data:`FSM_INDICATOR`);
- :data:`FSM_MEASURES`: the free school meals measures a run may use as its FSM indicator
  (eligible at the school census nearest the reference date, in any census of the six
  years before it: DfE's EVERFSM_6, or in any census on or before it that the data hold:
  the whole school history, as in Growing Up in England's school census years from
  2001/02); :data:`FSM_COLUMNS` adds the share of censuses
  eligible, which the children table also carries;
- :data:`OUTCOME_FLAGS`: the children table's social care outcomes in the follow-up
  window (a referral, a child in need episode, a child protection plan, entry to care);
- :data:`ENGLAND_CODE`, :data:`ENGLAND_NAME`: England's ONS code and name, the total row
  of every area table.
"""

from __future__ import annotations

DOMAINS: tuple[str, ...] = ("employment", "education", "health", "housing")
FSM_INDICATOR = "fsm"
INDICATORS: tuple[str, ...] = (*DOMAINS, FSM_INDICATOR)
FSM_MEASURES: tuple[str, ...] = ("fsm_at_reference", "ever_fsm_6", "ever_fsm_all")
FSM_COLUMNS: tuple[str, ...] = (*FSM_MEASURES, "fsm_share")
OUTCOME_FLAGS: tuple[str, ...] = ("any_referral", "any_cin", "any_cpp", "entered_care")
ENGLAND_CODE = "E92000001"
ENGLAND_NAME = "England"
