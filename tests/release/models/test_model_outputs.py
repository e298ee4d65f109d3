"""The models step: every output written through disclosure control, audited, and
figures and summary drawn only from what was released."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from simulated import simulated_outcomes

from child_mdh.aggregates.index.tables import child_index
from child_mdh.aggregates.models import tables as mt
from child_mdh.release.models import outputs
from child_mdh.release.sdc import Manifest, SDCConfig, audit_release, merge_manifests
from child_mdh.steps import models as step
from child_mdh.studies.model_recovery import simulate_cohort

WEIGHTS = {"employment": 0.2, "education": 0.2, "health": 0.2, "housing": 0.2, "fsm": 0.2}


def _cohort(n, seed, n_las=20):
    sim = simulate_cohort(n, n_las=n_las, seed=seed)
    out = simulated_outcomes(sim)
    out["age"] = out["age"].clip(5, 15)
    kids = out.drop(columns="mdh")
    return kids, child_index(kids, WEIGHTS, 0.4)


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    kids, idx = _cohort(10_000, seed=3)
    release = tmp_path_factory.mktemp("release")
    manifest = Manifest(release, "models", SDCConfig(mitigation="both"))
    settings = mt.ModelSettings(
        outcomes=("any_referral", "any_cin"), comparator_splits=3, gbm_max_iter=20
    )
    written = outputs.model_outputs(kids, settings, release, manifest, child_index=idx)
    merge_manifests([manifest], release / "outputs.json")
    return release, manifest, written, kids


def test_every_output_is_written_listed_and_audited(released):
    release, manifest, written, _ = released
    assert set(written) == {*mt.TABLES, "coefficients", "gradient", "summary"}
    files = {p.relative_to(release).as_posix() for p in (release / "models").iterdir()}
    assert files == set(written.values())
    assert all(e["status"] == "pass" for e in manifest.results.values())
    assert audit_release(release) == []
    kinds = {manifest.get(written[k])["type"] for k in ("binary", "hazard", "counts")}
    assert kinds == {"regression"}
    structure = manifest.get(written["binary"])["structure"]
    assert structure["residual_df"] == 19  # 20 local authorities


def test_released_counts_are_rounded_and_nothing_is_person_level(released):
    release, _, written, kids = released
    for key in mt.TABLES:
        t = pd.read_csv(release / written[key])
        assert not {"person_id", "pupil_id", "household_id"} & set(t.columns)
        assert len(t) < len(kids) / 10  # aggregates: far fewer rows than children
        for c in [c for c in t.columns if c.endswith("_n")]:
            v = t[c].dropna()
            assert (v % 5 == 0).all(), (key, c)  # mitigation 'both' rounds to base 5
            assert ((v == 0) | (v >= 10)).all(), (key, c)


def test_summary_numbers_come_from_the_released_tables(released):
    release, _, written, _ = released
    text = (release / written["summary"]).read_text()
    b = pd.read_csv(release / written["binary"])
    row = b[(b["model"] == "any_referral_mdh_cloglog") & (b["term"] == "mdh[T.True]")].iloc[0]
    expected = (
        f"hazard ratio of {row['ratio']:.2f} (95% CI {row['ratio_low']:.2f} to "
        f"{row['ratio_high']:.2f})"
    )
    assert expected in text
    assert f"{row['children_n']:,.0f} children" in text  # the rounded, released count
    assert "no model output scores children" in text
    # no number in the summary that is not in a released table is a count of children:
    # every 'N children' figure is a multiple of 5 (the released, rounded counts)
    for n in re.findall(r"\(([\d,]+) children", text):
        assert int(n.replace(",", "")) % 5 == 0


def test_figures_are_backed_by_their_tables(released):
    release, manifest, written, _ = released
    assert manifest.get(written["coefficients"])["backed_by"] == [written["binary"]]
    assert manifest.get(written["gradient"])["backed_by"] == [written["predicted_rates"]]
    png = (release / written["gradient"]).read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    merged = json.loads((release / "outputs.json").read_text())
    assert merged["status_counts"]["review"] == 0


@pytest.mark.slow
def test_small_data_is_suppressed_not_refused(tmp_path):
    # 1,500 children: rare outcomes and sparse levels everywhere; the step must still
    # write only safe outputs (suppressing, pooling or leaving models out), never fail
    kids, idx = _cohort(1_500, seed=9, n_las=12)
    manifest = Manifest(tmp_path, "models", SDCConfig(mitigation="suppress"))
    settings = mt.ModelSettings(comparator_splits=3, gbm_max_iter=10)
    written = outputs.model_outputs(kids, settings, tmp_path, manifest, child_index=idx)
    merge_manifests([manifest], tmp_path / "outputs.json")
    assert audit_release(tmp_path) == []
    text = (tmp_path / written["summary"]).read_text()
    assert "## Notes" in text
    suppressed = sum(
        e["files"][0]["sdc"].get("summary", {}).get("threshold", 0)
        for e in manifest.results.values()
        if e["type"] in ("table", "regression")
    )
    assert suppressed > 0


def test_run_reads_the_rule_inputs_and_writes_the_manifest_part(tmp_path):
    kids, idx = _cohort(3_000, seed=4, n_las=12)
    kids.to_parquet(tmp_path / "children.parquet")
    idx.to_parquet(tmp_path / "child_index.parquet")
    smk = SimpleNamespace(
        input=SimpleNamespace(
            children=str(tmp_path / "children.parquet"),
            child_index=str(tmp_path / "child_index.parquet"),
        ),
        params=SimpleNamespace(
            models={
                "outcomes": ["any_referral"],
                "links": ["logit"],
                "hazard": False,
                "counts": False,
                "comparator": False,
                "inverse_intervention": False,
            },
            index={"weights": WEIGHTS, "k": 0.4},
            disclosure={"mitigation": "suppress"},
        ),
        output=SimpleNamespace(
            manifest=str(tmp_path / "parts" / "models.json"), staged=str(tmp_path / "staged")
        ),
        log=[str(tmp_path / "logs" / "model_outputs.log")],
    )
    step.run(smk)
    assert (tmp_path / "staged" / "models" / "binary_models.csv").is_file()
    assert not (tmp_path / "staged" / "models" / "comparator.csv").exists()  # off here
    part = json.loads((tmp_path / "parts" / "models.json").read_text())
    assert part["step"] == "models"
    assert "models/binary_models.csv" in part["results"]
    assert "models/hazard_models.csv" not in part["results"]
    assert "model outputs written" in (tmp_path / "logs" / "model_outputs.log").read_text()


def test_a_mismatched_index_is_refused_with_the_fix(tmp_path):
    kids, idx = _cohort(2_000, seed=4, n_las=10)
    manifest = Manifest(tmp_path, "models", SDCConfig())
    with pytest.raises(ValueError, match="rerun the index step"):
        outputs.model_outputs(
            kids, mt.ModelSettings(), tmp_path, manifest, child_index=idx.iloc[10:]
        )
    assert not (tmp_path / "models").exists()


def test_table_specs_declare_every_statistic_as_derived():
    specs = outputs.table_specs({"binary": 20})
    for stat in mt.STAT_COLUMNS:
        assert "term_events_n" in specs["binary"].derived[stat]
    assert specs["binary"].residual_df == 20
    assert set(specs["predicted_rates"].derived) == {"rate", "rate_low", "rate_high", "std_error"}
    assert np.isin(["children_n", "events_n"], specs["predicted_rates"].derived["rate"]).all()
