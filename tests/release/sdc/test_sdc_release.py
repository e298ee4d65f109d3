"""Writing release files: refusal of unsafe tables, the manifest and its merge."""

import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from child_mdh.release.sdc import (
    DisclosureError,
    Manifest,
    RowMargin,
    SDCConfig,
    TableSpec,
    audit_release,
    merge_manifests,
    write_release_figure,
    write_release_table,
    write_release_text,
)
from child_mdh.release.workbook import read_workbook_table

from sdc_tables import LA_SPEC, la_table

SPEC = LA_SPEC


@pytest.fixture
def release(tmp_path):
    return tmp_path / "release"


def test_writes_a_protected_table_and_records_it(release):
    m = Manifest(release, step="profiles")
    entry = write_release_table(
        la_table(),
        release / "profiles" / "cin.csv",
        SPEC,
        m,
        method="CIN rate per 10,000 by LA",
        comment="",
    )
    written = pd.read_csv(release / "profiles" / "cin.csv")
    assert written["cin_n"].isna().tolist() == [False, True, False, True, False]
    assert written["rate_per_10000"].isna().tolist() == [False, True, False, True, False]
    assert (release / "profiles" / "cin.csv").read_text().splitlines()[2] == "B,,800,"
    assert entry["uid"] == "profiles/cin.csv" and entry["status"] == "pass"
    assert entry["type"] == "table" and entry["properties"]["method"].startswith("CIN")
    assert entry["files"][0]["name"] == "profiles/cin.csv"
    assert len(entry["files"][0]["sha256"]) == 64
    assert entry["files"][0]["sdc"]["summary"]["threshold"] == 1
    assert entry["files"][0]["sdc"]["summary"]["secondary"] == 1
    assert entry["files"][0]["sdc"]["cells"]["secondary"] == [[3, "cin_n"]]
    assert entry["structure"]["margins"][0]["total"] == "E92000001"
    # the part keeps the reasons; the summary line counts emptied cells without them
    assert entry["summary"] == "pass; 4 cells withheld"
    assert {c["name"] for c in entry["checks"]} >= {"threshold", "secondary", "derived"}


def test_refuses_an_unsafe_table_and_writes_nothing(release):
    m = Manifest(release, step="profiles")
    path = release / "profiles" / "cin.csv"
    with pytest.raises(DisclosureError) as err:
        write_release_table(la_table(), path, SPEC, m, mitigate=False)
    text = str(err.value)
    assert "profiles/cin.csv" in text and "threshold" in text and "cin_n" in text
    assert "row 1 (la_code=B)" in text
    assert not path.exists() and m.results == {}


def test_refuses_a_model_with_too_few_residual_df(release):
    m = Manifest(release, step="models")
    coefs = pd.DataFrame({"term": ["intercept", "domains"], "estimate": [0.1, 0.4]})
    with pytest.raises(DisclosureError, match="residual_df"):
        write_release_table(
            coefs,
            release / "models" / "glm.csv",
            TableSpec(residual_df=6, key_columns=("term",)),
            m,
            output_type="regression",
        )
    entry = write_release_table(
        coefs,
        release / "models" / "glm.csv",
        TableSpec(residual_df=1200, key_columns=("term",)),
        m,
        output_type="regression",
        method="binomial GLM",
    )
    assert entry["status"] == "pass" and entry["type"] == "regression"


def test_undeclared_numbers_are_written_for_review_with_a_comment(release):
    m = Manifest(release)
    df = la_table().assign(mystery=1.5)
    entry = write_release_table(df, release / "t.csv", SPEC, m)
    assert entry["status"] == "review"
    assert "mystery" in entry["comments"][0]


def test_xlsx_copy_and_withheld_columns(release):
    m = Manifest(release)
    spec = TableSpec(
        key_columns=("la_code",),
        derived={"rate_per_10000": ("cin_n", "children_n")},
        margins=(RowMargin("la_code", total="E92000001"),),
        withhold_columns=("children_n",),
    )
    entry = write_release_table(la_table(), release / "t.csv", spec, m, xlsx=True)
    assert [f["name"] for f in entry["files"]] == ["t.csv", "t.xlsx"]
    sheet = read_workbook_table(release / "t.xlsx")
    assert "children_n" not in sheet.columns
    assert sheet["cin_n"].isna().tolist() == [False, True, False, True, False]
    assert entry["structure"]["derived"] == {"rate_per_10000": ["cin_n"]}
    m.write()
    assert audit_release(release) == []


def test_paths_outside_the_release_folder_are_refused(release, tmp_path):
    m = Manifest(release)
    with pytest.raises(ValueError, match="inside the release folder"):
        write_release_table(la_table(), tmp_path / "elsewhere.csv", SPEC, m)


def test_figures_and_text(release):
    m = Manifest(release, step="profiles")
    write_release_table(la_table(), release / "cin.csv", SPEC, m)
    fig, ax = plt.subplots()
    ax.plot([1, 2], [3, 4])
    entry = write_release_figure(
        fig, release / "cin.png", None, m, backed_by=["cin.csv"], method="funnel plot"
    )
    plt.close(fig)
    assert entry["status"] == "pass" and entry["type"] == "figure"
    assert entry["backed_by"] == ["cin.csv"]
    assert (release / "cin.png").read_bytes()[:4] == b"\x89PNG"
    loose = write_release_figure(b"<svg/>", release / "loose.svg", None, m)
    assert loose["status"] == "review" and loose["comments"]
    with pytest.raises(DisclosureError):
        write_release_figure(b"x", release / "bad.png", TableSpec(), m, data=la_table())
    page = write_release_text("<html></html>", release / "cin.html", m, backed_by=["cin.csv"])
    assert page["status"] == "pass" and page["type"] == "html"
    prov = write_release_text(
        "{}",
        release / "provenance.json",
        m,
        output_type="provenance",
        status="pass",
        comment="versions and hashes only",
    )
    assert prov["status"] == "pass"
    with pytest.raises(ValueError, match="comment"):
        write_release_text("{}", release / "p2.json", m, output_type="provenance", status="pass")


def test_manifest_parts_merge_into_outputs_json(release, tmp_path):
    parts_dir = tmp_path / "secure" / "manifest_parts"
    a = Manifest(release, step="profiles")
    write_release_table(la_table(), release / "cin.csv", SPEC, a)
    a.write_part(parts_dir / "profiles.json")
    b = Manifest(release, step="figures")
    (release / "plot.png").write_bytes(b"png")
    b.add(
        files=[release / "plot.png"],
        status="pass",
        output_type="figure",
        method="bar chart",
        backed_by=["cin.csv", "not_there"],
    )
    b.write_part(parts_dir / "figures.json")
    out = merge_manifests(
        [parts_dir / "profiles.json", parts_dir / "figures.json"], release / "outputs.json"
    )
    data = json.loads(out.read_text())
    assert data["format"].startswith("child-mdh outputs v2")
    assert data["steps"] == ["profiles", "figures"]
    assert data["disclosure"] == SDCConfig().to_dict()
    # the list names itself, the audit report and the checker's summary page, so every
    # release file is listed
    assert set(data["results"]) == {
        "cin.csv",
        "plot.png",
        "outputs.json",
        "audit.json",
        "checker_summary.html",
    }
    assert data["results"]["outputs.json"]["type"] == "manifest"
    assert data["outputs"]["cin.csv"] == {"status": "pass", "type": "table", "files": ["cin.csv"]}
    for entry in data["results"].values():
        assert {
            "uid",
            "status",
            "type",
            "properties",
            "files",
            "command",
            "summary",
            "timestamp",
            "comments",
            "exception",
            "checks",
        } <= set(entry)
    # the figure claims a backing table that no step wrote: downgraded to review
    assert data["results"]["plot.png"]["status"] == "review"
    assert "not_there" in data["results"]["plot.png"]["comments"][0]
    assert data["status_counts"] == {"pass": 4, "review": 1, "fail": 0}


def test_merge_refuses_duplicates_and_mixed_settings(release, tmp_path):
    (release).mkdir(parents=True)
    (release / "x.csv").write_text("a\n1\n")
    a = Manifest(release, step="a")
    a.add(files=[release / "x.csv"], status="review", output_type="table", comment="look")
    b = Manifest(release, step="b")
    b.add(
        files=[release / "x.csv"], status="review", output_type="table", comment="look", uid="other"
    )
    with pytest.raises(ValueError, match="file x.csv is listed by outputs x.csv and other"):
        merge_manifests([a, b], tmp_path / "outputs.json")
    c = Manifest(release, step="c", config={"threshold": 5})
    with pytest.raises(ValueError, match="different disclosure settings"):
        merge_manifests([a, c], tmp_path / "outputs.json")
    with pytest.raises(ValueError, match="already in this manifest"):
        a.add(files=[release / "x.csv"], status="pass", output_type="table")
    with pytest.raises(ValueError, match="add a comment"):
        a.add(files=[release / "x.csv"], status="review", output_type="table", uid="y")


def test_read_back_a_part(release, tmp_path):
    a = Manifest(release, step="profiles")
    write_release_table(la_table(), release / "cin.csv", SPEC, a)
    path = a.write_part(tmp_path / "part.json")
    back = Manifest.read(path, release)
    assert back.step == "profiles" and back.get("cin.csv")["status"] == "pass"
    assert np.isclose(back.config.dominance_k, 0.9)


def test_finalise_release_merges_and_audits(release, tmp_path):
    from child_mdh.release.sdc import finalise_release

    a = Manifest(release, step="profiles")
    write_release_table(la_table(), release / "cin.csv", SPEC, a)
    part = a.write_part(tmp_path / "parts" / "profiles.json")
    assert finalise_release([part], release) == []
    assert json.loads((release / "audit.json").read_text())["passed"] is True
    (release / "stray.csv").write_text("x_n\n3\n")
    with pytest.raises(ValueError, match="problem"):
        finalise_release([part], release)


def test_settings_must_match_the_manifest_and_index_must_be_columns(release):
    m = Manifest(release, config={"threshold": 10})
    with pytest.raises(ValueError, match="differ from the manifest"):
        write_release_table(la_table(), release / "t.csv", SPEC, m, config={"threshold": 5})
    with pytest.raises(ValueError, match="reset_index"):
        write_release_table(la_table().set_index("la_code"), release / "t.csv", TableSpec(), m)
