"""Every generated table conforms to the data contract (child_mdh.contract.tables.TABLES).

Checked independently of the generator: column names and order, dtypes after reading the
Parquet file back, code lists, ranges, empties, keys, references between tables, date
order, and no date after the extract date.
"""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pyarrow.parquet as pq
import pytest

from child_mdh.contract import tables as contract


def _read(folder, name):
    return pq.read_table(folder / f"{name}.parquet").to_pandas()


@pytest.fixture(scope="module", params=["synth_dir", "small_2011"])
def folder(request):
    return request.getfixturevalue(request.param)


@pytest.fixture(scope="module")
def tables(folder):
    return {name: _read(folder, name) for name in contract.TABLES}


def test_every_contract_table_is_written(folder):
    for name in contract.TABLES:
        assert (folder / f"{name}.parquet").exists(), name


@pytest.mark.parametrize("name", list(contract.TABLES))
def test_columns_and_dtypes(tables, name):
    t = contract.TABLES[name]
    df = tables[name]
    assert list(df.columns) == t.column_names
    for col in t.columns:
        assert str(df[col.name].dtype) == col.pandas_dtype, (name, col.name, df[col.name].dtype)


@pytest.mark.parametrize("name", list(contract.TABLES))
def test_codes_ranges_and_empties(tables, name):
    t = contract.TABLES[name]
    df = tables[name]
    for col in t.columns:
        s = df[col.name]
        if col.required and not col.nullable:
            assert s.notna().all(), (name, col.name)
        values = s.dropna()
        if col.codes is not None:
            bad = set(values.unique()) - set(col.codes)
            assert not bad, (name, col.name, bad)
        if col.minimum is not None:
            assert (values >= col.minimum).all(), (name, col.name)
        if col.maximum is not None:
            assert (values <= col.maximum).all(), (name, col.name)


@pytest.mark.parametrize("name", list(contract.TABLES))
def test_keys_unique(tables, name):
    t = contract.TABLES[name]
    df = tables[name]
    for key in (t.primary_key, *t.unique):
        if key:
            assert not df.duplicated(list(key)).any(), (name, key)


@pytest.mark.parametrize("name", list(contract.TABLES))
def test_references_resolve(tables, name):
    for col in contract.TABLES[name].columns:
        if col.references:
            target, target_col = col.references
            keys = pd.Index(tables[target][target_col].unique())
            missing = pd.Series(keys.get_indexer(tables[name][col.name]) < 0)
            assert not missing.any(), (name, col.name, tables[name].loc[missing, col.name].head())


@pytest.mark.parametrize("name", list(contract.TABLES))
def test_date_order(tables, name):
    df = tables[name]
    for start, end in contract.TABLES[name].date_order:
        both = df[end].notna()
        assert (df.loc[both, end] >= df.loc[both, start]).all(), (name, start, end)


def test_no_date_after_the_extract_date(folder, tables):
    extract = pd.Timestamp(json.loads((folder / "truth.json").read_text())["extract_date"])
    for name, t in contract.TABLES.items():
        for col in t.columns:
            if col.type == "date":
                assert (tables[name][col.name].dropna() <= extract).all(), (name, col.name)


def test_social_care_pupils_have_pupil_records_and_link_is_one_to_one(tables):
    pupils = set(tables["pupil_census"]["pupil_id"])
    for name in ("cin_referrals", "child_protection_plans", "looked_after_episodes"):
        assert set(tables[name]["pupil_id"]) <= pupils, name
    link = tables["census_npd_link"]
    assert link["person_id"].is_unique and link["pupil_id"].is_unique


def test_linked_persons_are_children(tables):
    persons = tables["persons"].set_index("person_id")
    ages = persons.loc[tables["census_npd_link"]["person_id"], "age"]
    assert ages.between(0, 17).all()


def test_households_carry_the_census_year_and_real_la_codes(folder, tables):
    year = json.loads((folder / "truth.json").read_text())["census_year"]
    assert (tables["households"]["census_year"] == year).all()
    assert tables["areas"]["la_code"].str.match(r"^E(06|07|08|09|10)\d{6}$").all()
    lsoa = tables["households"]["lsoa_code"]
    assert lsoa.notna().all() and lsoa.str.match(r"^E01\d{6}$").all()


def test_pupils_are_of_school_age(folder, tables):
    """On roll when aged 4-15 on the 31 August that starts the academic year."""
    truth_children = pq.read_table(folder / "truth_children.parquet").to_pandas()
    pc = tables["pupil_census"].merge(truth_children[["pupil_id", "date_of_birth"]], on="pupil_id")
    d = pc["census_date"]
    aug31 = pd.to_datetime(
        {"year": d.dt.year - (d.dt.month < 9).astype(int), "month": 8, "day": 31}
    )
    dob = pc["date_of_birth"]
    age = (
        aug31.dt.year
        - dob.dt.year
        - (
            (aug31.dt.month < dob.dt.month)
            | ((aug31.dt.month == dob.dt.month) & (aug31.dt.day < dob.dt.day))
        ).astype(int)
    )
    assert age.between(4, 15).all()


def test_care_periods_start_with_s_and_episodes_are_contiguous(tables):
    ep = tables["looked_after_episodes"].sort_values(["pupil_id", "episode_start"])
    same = ep["pupil_id"].eq(ep["pupil_id"].shift())
    # an episode that does not start a period (RNE other than S) begins when the previous
    # episode of the same child ended
    cont = same & (ep["reason_new_episode"] != "S")
    assert (ep["episode_start"][cont] == ep["episode_end"].shift()[cont]).all()
    first = ~same
    assert (ep.loc[first, "reason_new_episode"] == "S").all()


def test_termly_censuses_in_2011_folder(small_2011):
    pc = _read(small_2011, "pupil_census")
    months = set(pc["census_date"].dt.month)
    assert months == {1, 5, 10}
    census_2011 = contract.CENSUS_DAY[2011]
    assert pc["census_date"].min() > pd.Timestamp(census_2011 - dt.timedelta(days=6 * 366))
