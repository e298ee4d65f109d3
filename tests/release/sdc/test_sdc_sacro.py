"""A release folder opens in SACRO Viewer, the tool output checkers use for ACRO outputs.

The viewer (github.com/AI-SDC/SACRO-Viewer, a Django and JavaScript app) is not a
dependency, so these tests check the folder against its loading rules as written in its
source: ``sacro/models.py`` (``find_acro_metadata``, ``ACROOutputs.__post_init__``,
``ACROOutputs.annotate``), ``sacro/versioning.py`` (``check_version``) with
``sacro/settings.py`` (``ACRO_SUPPORTED_VERSION``), ``sacro/adapters/zipfile.py``
(``create``) and ``assets/src/scripts/_output-click.js``, ``_set-metadata.js`` and
``_table-builder.js``; see ``sacro_viewer_rules.py``, which restates each of them.

``test_the_viewer_itself_opens_the_folder`` runs the viewer's own code instead when
SACRO_VIEWER_SRC (a checkout) and SACRO_VIEWER_PYTHON (a Python with its
requirements.prod.txt) are set; otherwise it is skipped.
"""

import json
import os
import subprocess

import pytest

from child_mdh.release.sdc import Manifest, write_release_figure, write_release_table
from child_mdh.release.sdc.manifest import ACRO_FORMAT_VERSION
from child_mdh.release.sdc.publish import publish_release

import sacro_viewer_rules as sacro
from paths import REPO
from sdc_tables import LA_SPEC, la_table


@pytest.fixture
def release(tmp_path):
    release = tmp_path / "release"
    m = Manifest(release, step="profiles")
    entry = write_release_table(
        la_table(), release / "profiles" / "cin.csv", LA_SPEC, m, xlsx=True, method="CIN by LA"
    )
    write_release_figure(
        b"\x89PNG\r\n\x1a\n", release / "profiles" / "cin.png", None, m, backed_by=[entry["uid"]]
    )
    part = m.write_part(tmp_path / "secure" / "parts" / "profiles.json")
    publish_release([part], release, tmp_path / "secure" / "disclosure_reasons.json")
    return release


def test_the_viewer_finds_validates_and_accepts_the_version(release):
    results = sacro.load(release)
    assert set(results) >= {
        "profiles/cin.csv",
        "profiles/cin.png",
        "outputs.json",
        "audit.json",
        "checker_summary.html",
    }
    sacro.check_display(results)
    assert json.loads((release / "outputs.json").read_text())["version"] == ACRO_FORMAT_VERSION


def test_every_file_has_a_valid_checksum_in_the_viewer(release):
    results = sacro.load(release)
    invalid = [f["name"] for e in results.values() for f in e["files"] if not f["checksum_valid"]]
    assert invalid == []  # else: 'This file had been modified since ...'


def test_withheld_cells_reach_the_viewer_as_numbers_without_a_reason(release):
    files = sacro.load(release)["profiles/cin.csv"]["files"]
    csv_cells = files[0]["cell_index"]
    assert csv_cells == {
        "1,0": ["withheld"],
        "1,2": ["withheld"],
        "3,0": ["withheld"],
        "3,2": ["withheld"],
    }


def test_versions_the_viewer_refuses():
    sacro.check_version(ACRO_FORMAT_VERSION)
    sacro.check_version("1.0.1")  # ACRO 1.0 is accepted too
    with pytest.raises(AssertionError, match="Unsupported"):
        sacro.check_version("0.1.0")  # child-mdh's own version, written here before
    with pytest.raises(ValueError):
        sacro.check_version("child-mdh outputs v2")


@pytest.mark.skipif(
    not (os.environ.get("SACRO_VIEWER_SRC") and os.environ.get("SACRO_VIEWER_PYTHON")),
    reason="set SACRO_VIEWER_SRC and SACRO_VIEWER_PYTHON to run the viewer",
)
def test_the_viewer_itself_opens_the_folder(release):
    script = REPO / "tests" / "support" / "sacro_viewer_check.py"
    run = subprocess.run(
        [
            os.environ["SACRO_VIEWER_PYTHON"],
            str(script),
            os.environ["SACRO_VIEWER_SRC"],
            str(release),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
