"""The release says a cell is withheld, never why; the reasons stay in the secure area."""

import json
import re

import pandas as pd
import pytest

from child_mdh.release.sdc import Manifest, merge_manifests, write_release_table
from child_mdh.release.sdc.manifest import load_parts
from child_mdh.release.sdc.suppression import REASONS
from child_mdh.release.sdc.withheld import (
    ACRO_SDC_KEYS,
    WITHHELD_KEY,
    released_sdc,
    viewer_cells,
    write_disclosure_reasons,
)

from sdc_tables import LA_SPEC, la_table

RULES = [r for r in REASONS if r != "missing"]  # threshold, dominance, secondary, derived


@pytest.fixture
def merged(tmp_path):
    release = tmp_path / "release"
    m = Manifest(release, step="profiles")
    write_release_table(la_table(), release / "profiles" / "cin.csv", LA_SPEC, m, xlsx=True)
    part = m.write_part(tmp_path / "secure" / "manifest_parts" / "profiles.json")
    out = merge_manifests([part], release / "outputs.json")
    return release, part, json.loads(out.read_text())


def _cell_labels(sdc: dict) -> dict[str, int]:
    """Every key of an sdc block that labels a cell or counts cells, with its number."""
    labels = {k: len(v) for k, v in (sdc.get("cells") or {}).items() if v}
    labels.update(
        {
            k: v
            for k, v in (sdc.get("summary") or {}).items()
            if isinstance(v, int) and not isinstance(v, bool) and v
        }
    )
    return labels


def test_released_outputs_json_names_no_reason_for_an_empty_cell(merged):
    release, part, data = merged
    entry = data["results"]["profiles/cin.csv"]
    for f in entry["files"]:
        sdc = f["sdc"]
        # one count and one list, under our own key; ACRO's per-rule keys all 0 / empty
        assert _cell_labels(sdc) == {WITHHELD_KEY: 4}
        assert set(sdc["summary"]) >= {"suppressed", *ACRO_SDC_KEYS}
        assert all(sdc["summary"][k] == 0 and sdc["cells"][k] == [] for k in ACRO_SDC_KEYS)
        assert not set(sdc["summary"]) & {"dominance", "secondary", "derived"}
        assert not set(sdc["cells"]) & {"dominance", "secondary", "derived"}
        assert "withheld" in sdc["comment"]
    assert entry["summary"] == "pass; 4 cells withheld"
    # no file's sdc block and no summary line ties a cell, or a count of cells, to a rule
    # (the word 'threshold' still names a setting and a check, which say nothing of a cell)
    sdc_text = json.dumps([f["sdc"] for e in data["results"].values() for f in e["files"]])
    summaries = " ".join(e["summary"] for e in data["results"].values())
    for rule in RULES:
        assert not re.search(rf'"{rule}": \[\[', sdc_text), rule
        assert not re.search(rf'"{rule}": [1-9]', sdc_text), rule
        assert rule not in summaries, rule
    # the step's part (secure) and the reasons file still say why
    reasons_path = write_disclosure_reasons(
        load_parts([part]), part.parent.parent / "disclosure_reasons.json", release
    )
    reasons = json.loads(reasons_path.read_text())["outputs"]["profiles/cin.csv"]
    assert reasons["files"] == ["profiles/cin.csv", "profiles/cin.xlsx"]
    assert reasons["cells"]["threshold"] == [[1, "cin_n"]]
    assert reasons["cells"]["secondary"] == [[3, "cin_n"]]
    assert sorted(reasons["cells"]["derived"]) == [[1, "rate_per_10000"], [3, "rate_per_10000"]]
    assert reasons["summary"] == {
        "threshold": 1,
        "dominance": 0,
        "secondary": 1,
        "derived": 2,
        "missing": 0,
    }


def test_withheld_cells_are_where_the_csv_is_empty_as_sacro_viewer_counts(merged):
    release, _, data = merged
    written = pd.read_csv(release / "profiles" / "cin.csv", keep_default_na=True)
    cells = data["results"]["profiles/cin.csv"]["files"][0]["sdc"]["cells"][WITHHELD_KEY]
    # SACRO Viewer marks td:nth-child(column + 2) of data row `row`: column + 1 from 0
    marked = {(r, written.columns[c + 1]) for r, c in cells}
    empty = {
        (r, col)
        for col in written.columns
        for r in range(len(written))
        if pd.isna(written.at[r, col])
    }
    assert (
        marked
        == empty
        == {(1, "cin_n"), (3, "cin_n"), (1, "rate_per_10000"), (3, "rate_per_10000")}
    )


def test_reasons_file_must_stay_outside_the_release(merged):
    release, part, _ = merged
    with pytest.raises(ValueError, match="secure area"):
        write_disclosure_reasons(load_parts([part]), release / "reasons.json", release)


def test_released_sdc_of_figures_and_unknown_columns():
    assert released_sdc({}) == {}
    sdc = {
        "summary": {"threshold": 1, "missing": 2, "rounded": True},
        "cells": {"threshold": [[0, "a_n"]], "missing": [[1, "a_n"], [2, "a_n"]]},
    }
    out = released_sdc(sdc)  # no CSV header known: column names kept
    assert out["cells"][WITHHELD_KEY] == [[0, "a_n"]]  # missing cells are not withheld
    assert out["summary"][WITHHELD_KEY] == 1 and out["summary"]["rounded"] is True
    assert out["summary"]["missing"] == 0 and out["summary"]["suppressed"] is True
    # a cell of a withheld column (not in the file) is left out
    assert viewer_cells([[0, "key"], [0, "a_n"], [2, "gone_n"]], ["key", "a_n"]) == [
        [0, -1],
        [0, 0],
    ]
