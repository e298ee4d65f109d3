"""The full shared fixture files import with their known problems reported."""

import pandas as pd
import pytest

from child_mdh.contract import tables as contract
from child_mdh.sources.la_returns import LAReturnError, import_la

from la_builders import LA, SALT, SHARED
from paths import shared_fixture


@pytest.fixture(autouse=True)
def _shared_la_formats():
    shared_fixture("la_formats")


def test_full_fixture_files_import(tmp_path):
    sources = {
        "ssda903": SHARED / "ssda903",
        "cin_census": SHARED / "cin_census",
        "school_census": SHARED / "school_census",
    }
    out = tmp_path / "out"
    # the school census sample's dates are random: a quarter of its FSM periods end before
    # they start, which the systematic-loss rule stops at by default (next test)
    report = import_la(sources, LA, out, SALT, max_loss_share=0.3)
    acc = report.accounting
    assert (acc["rows_unaccounted"] == 0).all()
    assert len(report.skipped_files) == 0
    # every row of episodes.csv (5,050) and every <EPISODE> of fake_903.xml (459) is read
    ep = acc[acc["table"] == "episodes"]
    assert ep["rows_read"].sum() == 5050 + 459
    p = report.problems
    invalid = p[p["file"].str.endswith("CIN_Census_2024.xml") & (p["child"] != "")]
    assert set(invalid["child"]) == {"DfEX0000001", "child_fails_assessments"}
    for name in (
        "pupil_census",
        "cin_referrals",
        "child_protection_plans",
        "looked_after_episodes",
    ):
        df = pd.read_parquet(out / f"{name}.parquet")
        t = contract.TABLES[name]
        assert list(df.columns) == t.column_names
        assert not df.duplicated(list(t.primary_key)).any()
        assert report.tables[name] == len(df) > 0


def test_the_sample_with_random_fsm_dates_stops_on_systematic_loss(tmp_path):
    with pytest.raises(LAReturnError) as err:
        import_la({"school_census": SHARED / "school_census"}, LA, tmp_path / "out", SALT)
    msg = str(err.value)
    assert "school_census fsm_periods: 6,263 of 25,358 rows (25%) quarantined" in msg
    assert "fsmenddate is before fsmstartdate" in msg and "max_loss_share" in msg
    assert not (tmp_path / "out" / "pupil_census.parquet").exists()
