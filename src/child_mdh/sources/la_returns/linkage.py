"""Linking children across returns by UPN, under one pseudonymised id.

Every child gets one ``pupil_id`` used in every contract table:

- a child with a UPN: the keyed SHA-256 hash (HMAC-SHA-256, the salt as key) of the
  normalised UPN (upper case, no spaces), first 16 hexadecimal characters. The same UPN
  gives the same id in the SSDA903, CIN census and school census, so the child is linked
  across returns; the same salt gives the same id in next year's import;
- a child without a UPN: the same hash of the child's own id in that return (CHILD,
  LAchildID or pupilonrolltableid), prefixed with the return's name
  (``ssda903-``, ``cin_census-``, ``school_census-``). Such a child cannot be linked
  across returns, and the import report counts them.

The salt is a secret: without it the ids cannot be recomputed from UPNs (a plain hash
of a 13-character UPN could be reversed by trying every UPN). It is never written to
any output. Sixteen hexadecimal characters (64 bits) make a collision between two
children of one local authority vanishingly unlikely (about 3 in a million for ten
million children); the import checks for one anyway.
"""

from __future__ import annotations

import hashlib
import hmac

import numpy as np
import pandas as pd

from child_mdh.sources.la_returns.errors import LAReturnError

MIN_SALT_LENGTH = 16
ID_LENGTH = 16


def check_salt(salt) -> None:
    """Raise :class:`LAReturnError` unless ``salt`` is a string of at least 16 characters."""
    if not isinstance(salt, str) or len(salt) < MIN_SALT_LENGTH:
        raise LAReturnError(
            f"the salt must be a secret text of at least {MIN_SALT_LENGTH} characters. Make one "
            'with: python -c "import secrets; print(secrets.token_hex(16))", keep it outside '
            "the output folder (for example in the environment variable CHILD_MDH_SALT), and "
            "use the same salt for every import so that children keep the same ids."
        )


def pseudonymise(values: pd.Series, salt: str, namespace: str) -> pd.Series:
    """Keyed SHA-256 (HMAC, key = ``salt``) of ``namespace`` + each value, 16 hex characters.

    Missing values stay missing. Each distinct value is hashed once, so the cost grows
    with the number of children, not of rows.
    """
    check_salt(salt)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    key = salt.encode("utf-8")
    hashed = np.array(
        [
            hmac.new(key, f"{namespace}\x1f{u}".encode(), hashlib.sha256).hexdigest()[:ID_LENGTH]
            for u in uniques
        ],
        dtype=object,
    )
    out = np.full(len(values), None, dtype=object)
    has = codes >= 0
    out[has] = hashed[codes[has]]
    result = pd.Series(out, index=values.index, dtype="str")
    if len(uniques) and pd.Series(hashed).duplicated().any():
        raise LAReturnError(
            f"two different {namespace} values gave the same pseudonymised id. This is "
            "extremely unlikely; run the import again with a different salt."
        )
    return result


def assign_pupil_ids(children: pd.DataFrame, salt: str) -> pd.DataFrame:
    """Give each (return_name, child_ref) one ``pupil_id``, linking by UPN.

    ``children`` has columns ``return_name``, ``child_ref``, ``upn`` (normalised, may be
    missing) and ``order`` (later returns higher). A child id with different UPNs in
    different years takes the UPN of its latest return. Returns one row per
    (return_name, child_ref) with ``upn``, ``pupil_id`` and ``linked_by`` (``upn`` or
    ``return id``).
    """
    c = children.dropna(subset=["child_ref"]).copy()
    c["_pos"] = range(len(c))
    c = c.sort_values(["return_name", "child_ref", "order", "_pos"], kind="stable")
    has_upn = c[c["upn"].notna()]
    latest_upn = has_upn.drop_duplicates(["return_name", "child_ref"], keep="last")
    n_upns = (
        has_upn.drop_duplicates(["return_name", "child_ref", "upn"])
        .groupby(["return_name", "child_ref"])
        .size()
    )
    ids = c.drop_duplicates(["return_name", "child_ref"], keep="last")[["return_name", "child_ref"]]
    ids = ids.merge(
        latest_upn[["return_name", "child_ref", "upn"]], on=["return_name", "child_ref"], how="left"
    )
    ids = ids.merge(
        n_upns.rename("n_upns").reset_index(), on=["return_name", "child_ref"], how="left"
    )
    ids["n_upns"] = ids["n_upns"].fillna(0).astype("int64")
    by_upn = pseudonymise(ids["upn"], salt, "upn")
    own = pd.Series(pd.NA, index=ids.index, dtype="str")
    for name, part in ids[ids["upn"].isna()].groupby("return_name"):
        own.loc[part.index] = (f"{name}-" + pseudonymise(part["child_ref"], salt, name)).to_numpy()
    ids["pupil_id"] = by_upn.fillna(own)
    ids["linked_by"] = np.where(ids["upn"].notna(), "upn", "return id")
    return ids
