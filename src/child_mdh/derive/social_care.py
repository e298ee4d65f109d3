"""The social care tables of the contract and the dates they hold."""

from __future__ import annotations

import pandas as pd

SOCIAL_CARE_DATES = {
    "cin_referrals": ("referral_date", "cin_closure_date"),
    "child_protection_plans": ("cpp_start_date", "cpp_end_date"),
    "looked_after_episodes": ("episode_start", "episode_end"),
}


def latest_social_care_date(tables: dict[str, pd.DataFrame]) -> pd.Timestamp | None:
    """The last date any social care table holds: the default extract date."""
    latest = [
        tables[t][c].max()
        for t, cols in SOCIAL_CARE_DATES.items()
        for c in cols
        if t in tables and len(tables[t])
    ]
    latest = [d for d in latest if pd.notna(d)]
    return max(latest) if latest else None
