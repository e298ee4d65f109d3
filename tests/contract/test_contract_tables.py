"""The contract module: one definition of every table, and the docs generated from it."""

import pandas as pd
import pytest

from child_mdh.contract import tables as contract
from child_mdh.contract.children import children_markdown

from paths import REPO

ROOT = REPO

DESIGN_TABLES = [
    "areas",
    "households",
    "persons",
    "pupil_census",
    "census_npd_link",
    "cin_referrals",
    "child_protection_plans",
    "looked_after_episodes",
]


def test_every_design_table_is_defined():
    assert list(contract.TABLES) == DESIGN_TABLES


def test_references_point_to_existing_key_columns():
    for t in contract.TABLES.values():
        for c in t.columns:
            if c.references:
                target_table, target_col = c.references
                assert target_col in contract.table(target_table).column_names


def test_identifiers_are_strings():
    for t in contract.TABLES.values():
        for c in t.columns:
            if c.name.endswith("_id") or c.name.endswith("_code"):
                assert c.type == "string", (t.name, c.name)


def test_empty_frame_has_contract_dtypes():
    df = contract.empty_frame("cin_referrals")
    assert list(df.columns) == contract.table("cin_referrals").column_names
    assert str(df["referral_date"].dtype) == "datetime64[ns]"
    assert str(df["cin_closure_date"].dtype) == "datetime64[ns]"


def test_conform_orders_casts_and_keeps_extra_columns():
    raw = pd.DataFrame(
        {
            "extra": [1, 2],
            "la_name": ["Leeds", "York"],
            "la_code": ["E08000035", "E06000014"],
            "region_code": ["E12000003"] * 2,
            "region_name": ["Yorkshire and The Humber"] * 2,
        }
    )
    out = contract.conform(raw, "areas")
    assert list(out.columns) == ["la_code", "la_name", "region_code", "region_name", "extra"]


def test_conform_refuses_missing_required_column():
    with pytest.raises(KeyError, match="la_name"):
        contract.conform(pd.DataFrame({"la_code": ["E1"]}), "areas")


def test_unknown_table_error_lists_tables():
    with pytest.raises(KeyError, match="households"):
        contract.table("househlods")


def test_docs_data_contract_is_generated_from_code():
    doc = (ROOT / "docs" / "data-contract.md").read_text()
    assert children_markdown() in doc, "docs/data-contract.md lacks the children table"
    assert contract.contract_markdown() in doc, (
        "docs/data-contract.md is out of date: regenerate it with "
        "`child-mdh contract-docs > docs/data-contract.md`"
    )
