"""Tolerant column lookup: case, spaces, NPD term and dataset affixes, ambiguity."""

import pytest

from child_mdh.sources.mapped_extract.columns import (
    ColumnAmbiguousError,
    ColumnNotFoundError,
    bare_names,
    resolve_column,
    similar_columns,
)


@pytest.mark.parametrize(
    ("requested", "available", "expected"),
    [
        (
            "FSMeligible",
            ["PupilMatchingRefAnonymous_SPR21", "FSMeligible_SPR21"],
            "FSMeligible_SPR21",
        ),
        (
            "PupilMatchingRefAnonymous",
            ["SPR21_PupilMatchingRefAnonymous", "SPR21_LA"],
            "SPR21_PupilMatchingRefAnonymous",
        ),
        ("fsmeligible", ["FSMELIGIBLE"], "FSMELIGIBLE"),
        ("LA", [" LA ", "URN"], " LA "),
        ("ReferralDate", ["CIN_ReferralDate"], "CIN_ReferralDate"),
        ("DECOM", ["CLA_DECOM", "CLA_DEC"], "CLA_DECOM"),
        ("LA", ["CIN_LA_AUT2020"], "CIN_LA_AUT2020"),  # prefix and suffix together
        ("URN", ["URN_SUM21"], "URN_SUM21"),
    ],
)
def test_tolerant_matches(requested, available, expected):
    assert resolve_column(requested, available) == expected


def test_exact_name_wins_over_an_affixed_one():
    assert resolve_column("LA", ["LA_SPR21", "LA"]) == "LA"


def test_same_case_wins_over_other_case():
    assert resolve_column("la", ["LA", "la"]) == "la"


def test_non_affix_suffix_does_not_match():
    # "_CODE" is not a term or dataset tag, so LA does not match LA_CODE.
    with pytest.raises(ColumnNotFoundError):
        resolve_column("LA", ["LA_CODE"])


def test_two_terms_in_one_file_are_ambiguous_and_both_are_named():
    with pytest.raises(ColumnAmbiguousError) as err:
        resolve_column("FSMeligible", ["FSMeligible_SPR21", "FSMeligible_AUT20"])
    msg = err.value.describe("npd.csv")
    assert "'FSMeligible_SPR21'" in msg and "'FSMeligible_AUT20'" in msg
    assert "npd.csv" in msg and "full column name" in msg


def test_ambiguity_by_case():
    with pytest.raises(ColumnAmbiguousError) as err:
        resolve_column("urn", ["URN", "Urn"])
    assert set(err.value.matches) == {"URN", "Urn"}


def test_not_found_suggests_similar_names():
    with pytest.raises(ColumnNotFoundError) as err:
        resolve_column("ECONACT", ["resident_id", "ECONACTIVE", "ECON_ACT", "AGE"])
    assert set(err.value.similar) == {"ECONACTIVE", "ECON_ACT"}
    msg = err.value.describe("census_persons.csv")
    assert msg.startswith("column 'ECONACT' not found in census_persons.csv; columns like it:")


def test_bare_names():
    assert bare_names("SPR21_LA_SPR21") == {"la_spr21", "spr21_la", "la"}
    assert bare_names("LA") == set()
    assert bare_names("CIN_LA") == {"la"}


def test_similar_columns_ignores_unrelated_names():
    assert similar_columns("sex", ["resident_id", "hh_id"]) == ()
