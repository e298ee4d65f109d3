"""Pseudonymised ids: keyed SHA-256 of the UPN, or of the return's own id."""

import hashlib
import hmac

import pandas as pd
import pytest

from child_mdh.sources.la_returns.errors import LAReturnError
from child_mdh.sources.la_returns.linkage import assign_pupil_ids, check_salt, pseudonymise

from la_builders import SALT


def _hand(salt: str, namespace: str, value: str) -> str:
    return hmac.new(salt.encode(), f"{namespace}\x1f{value}".encode(), hashlib.sha256).hexdigest()[
        :16
    ]


def test_pseudonym_is_the_keyed_sha256_and_keeps_missing():
    s = pd.Series(["A123456789012", None, "A123456789012", "B123456789013"], dtype="str")
    got = pseudonymise(s, SALT, "upn")
    assert got.iloc[0] == _hand(SALT, "upn", "A123456789012") == got.iloc[2]
    assert got.iloc[3] == _hand(SALT, "upn", "B123456789013")
    assert pd.isna(got.iloc[1])
    assert len(got.iloc[0]) == 16
    # another salt, or another namespace, gives other ids
    assert pseudonymise(s, SALT + "x", "upn").iloc[0] != got.iloc[0]
    assert pseudonymise(s, SALT, "ssda903").iloc[0] != got.iloc[0]


@pytest.mark.parametrize("salt", [None, "", "short", 1234567890123456789])
def test_weak_salt_refused_with_advice(salt):
    with pytest.raises(LAReturnError, match="secrets.token_hex"):
        check_salt(salt)


def test_children_linked_by_upn_and_unlinked_children_prefixed():
    children = pd.DataFrame(
        {
            "return_name": [
                "ssda903",
                "cin_census",
                "cin_census",
                "ssda903",
                "cin_census",
                "cin_census",
            ],
            "child_ref": ["1001", "LA1", "LA2", "1002", "LA9", "LA9"],
            "upn": ["A123456789012", "A123456789012", None, None, "B123456789013", "C123456789014"],
            "order": [0, 0, 0, 0, 0, 1],
        }
    )
    ids = assign_pupil_ids(children, SALT).set_index(["return_name", "child_ref"])
    a = _hand(SALT, "upn", "A123456789012")
    assert (
        ids.loc[("ssda903", "1001"), "pupil_id"] == a == ids.loc[("cin_census", "LA1"), "pupil_id"]
    )
    assert ids.loc[("cin_census", "LA2"), "pupil_id"] == "cin_census-" + _hand(
        SALT, "cin_census", "LA2"
    )
    assert ids.loc[("ssda903", "1002"), "pupil_id"] == "ssda903-" + _hand(SALT, "ssda903", "1002")
    assert ids.loc[("ssda903", "1002"), "linked_by"] == "return id"
    # a child id with two UPNs over the years takes the latest one, and is flagged
    assert ids.loc[("cin_census", "LA9"), "pupil_id"] == _hand(SALT, "upn", "C123456789014")
    assert ids.loc[("cin_census", "LA9"), "n_upns"] == 2
    assert len(ids) == 5
