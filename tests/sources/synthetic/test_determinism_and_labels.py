"""Same seed and N give identical files; another seed gives other data; all labelled synthetic."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow.parquet as pq
import pytest

from child_mdh.contract import tables as contract
from child_mdh.files import read_parquet_metadata
from child_mdh.sources.synthetic import TRUTH_FILES, generate

N = 2_000


@pytest.fixture(scope="module")
def three_runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("determinism")
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        generate(N, seed, base / name)
    return base


def _files(folder):
    return sorted(p.name for p in folder.iterdir())


def test_same_seed_gives_byte_identical_files(three_runs):
    a, b = three_runs / "a", three_runs / "b"
    assert _files(a) == _files(b)
    for name in _files(a):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_another_seed_gives_other_tables(three_runs):
    a, c = three_runs / "a", three_runs / "c"
    for name in ("households", "persons", "pupil_census", "cin_referrals"):
        ta = pq.read_table(a / f"{name}.parquet")
        tc = pq.read_table(c / f"{name}.parquet")
        assert not ta.equals(tc), name
    # the real LA list is the same whatever the seed
    assert pq.read_table(a / "areas.parquet").equals(pq.read_table(c / "areas.parquet"))


def test_exact_number_of_children(three_runs):
    persons = pq.read_table(three_runs / "a" / "persons.parquet").to_pandas()
    truth = json.loads((three_runs / "a" / "truth.json").read_text())
    flags = pq.read_table(three_runs / "a" / "truth_households.parquet").to_pandas()
    assert flags["dependent_children"].sum() == N == truth["households"]["n_children"]
    assert flags["dependent_children"].between(1, 5).all()
    # dependent children are persons aged 0-17; a few parents may be 16-17 too
    assert (persons["age"] <= 17).sum() >= N


def test_every_file_is_labelled_synthetic(synth_dir, truth):
    for name in contract.TABLES:
        meta = read_parquet_metadata(synth_dir / f"{name}.parquet")
        assert meta["synthetic"] is True
        assert meta["generator"] == "child-mdh synth"
        assert meta["seed"] == truth["seed"] and meta["n_children"] == truth["n_children"]
        assert meta["census_year"] == 2021 and meta["contract_version"] == contract.CONTRACT_VERSION
    for name in TRUTH_FILES:
        assert (synth_dir / name).exists()
    assert read_parquet_metadata(synth_dir / "truth_households.parquet")["truth"] is True
    assert truth["synthetic"] is True and "SYNTHETIC" in truth["label"]
    card = (synth_dir / "DATA_CARD.md").read_text()
    assert "SYNTHETIC DATA" in card
    for check in ("Labelling", "Disclosure", "Structure", "Documentation"):
        assert check in card


def test_bad_arguments_are_refused_with_a_clear_message(tmp_path):
    with pytest.raises(ValueError, match="n_children"):
        generate(0, 1, tmp_path)
    with pytest.raises(ValueError, match="census_year"):
        generate(10, 1, tmp_path, census_year=2001)
    with pytest.raises(TypeError, match="follow_up_years"):
        generate(10, 1, tmp_path, follow_up=3)
    with pytest.raises(ValueError, match="school_census"):
        generate(10, 1, tmp_path, school_census="weekly")
    with pytest.raises(ValueError, match="seed"):
        generate(10, -1, tmp_path)


def test_record_windows_of_the_growing_up_in_england_shape(tmp_path):
    # school censuses 2001/02-2014/15, CIN census records from 2008/09, extract 31 March 2015
    out = tmp_path / "guie"
    generate(
        2_000,
        3,
        out,
        census_year=2011,
        school_census_from="2001-03-27",
        social_care_from="2008-04-01",
        extract_date="2015-03-31",
    )
    truth = json.loads((out / "truth.json").read_text())
    assert truth["history_start"] == "2008-04-01" and truth["extract_date"] == "2015-03-31"
    pc = pd.read_parquet(out / "pupil_census.parquet")
    years = sorted(pc["census_date"].dt.year.unique())
    assert years == list(range(2002, 2016))  # January 2002 (2001/02) to January 2015 (2014/15)
    refs = pd.read_parquet(out / "cin_referrals.parquet")
    start = pd.Timestamp("2008-04-01")
    # a referral before 2008/09 appears only as a child in need episode still open on its
    # first day, as in the first CIN census
    early = refs[refs["referral_date"] < start]
    assert (~early["referral_nfa"]).all()
    assert (early["cin_closure_date"].isna() | (early["cin_closure_date"] > start)).all()
    plans = pd.read_parquet(out / "child_protection_plans.parquet")
    assert (plans["cpp_end_date"].isna() | (plans["cpp_end_date"] > start)).all()
    last = pd.Timestamp("2015-03-31")
    for table, col in (
        ("cin_referrals", "referral_date"),
        ("child_protection_plans", "cpp_start_date"),
        ("looked_after_episodes", "episode_start"),
    ):
        assert pd.read_parquet(out / f"{table}.parquet")[col].max() <= last


def test_bad_record_windows_are_refused(tmp_path):
    with pytest.raises(ValueError, match="extract_date"):
        generate(10, 1, tmp_path, census_year=2011, extract_date="2010-01-01")
    with pytest.raises(ValueError, match="social_care_from"):
        generate(10, 1, tmp_path, census_year=2011, social_care_from="2011-04-01")
    with pytest.raises(ValueError, match="school_census_from"):
        generate(10, 1, tmp_path, census_year=2011, school_census_from="2010-09-01")
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        generate(10, 1, tmp_path, census_year=2011, extract_date="March 2015")


def _strict_json(text: str) -> dict:
    def refuse(constant):
        raise AssertionError(f"truth.json holds {constant}, which is not valid JSON")

    return json.loads(text, parse_constant=refuse)


def test_truth_is_strict_json(synth_dir):
    truth = _strict_json((synth_dir / "truth.json").read_text())
    for outcome in ("referral", "cin", "cpp", "cla"):
        assert set(truth["outcomes"][outcome]["log_hazard_ratio"]) == set(
            truth["social_care"]["terms"]
        )


def test_tiny_populations_still_generate(tmp_path):
    """A handful of children (for quick tests elsewhere) must not fail or write NaN."""
    for n in (1, 7):
        summary = generate(n, 3, tmp_path / f"n{n}")
        assert summary["rows"]["areas"] == 153
        _strict_json((tmp_path / f"n{n}" / "truth.json").read_text())
