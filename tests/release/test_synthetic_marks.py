"""Figures and the models summary built from synthetic data say so."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from child_mdh.release.models.summary import model_summary
from child_mdh.release.sdc import Manifest, write_release_figure
from child_mdh.release.sdc.release import SYNTHETIC_FIGURE_MARK


def _figure():
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    return fig


def _texts(fig) -> list[str]:
    return [t.get_text() for t in fig.texts]


def test_a_figure_of_a_synthetic_release_carries_the_mark(tmp_path):
    manifest = Manifest(tmp_path, "test", about={"synthetic": True})
    fig = _figure()
    write_release_figure(fig, tmp_path / "a.png", None, manifest, method="test")
    assert SYNTHETIC_FIGURE_MARK in _texts(fig)
    real = Manifest(tmp_path, "test2", about={"synthetic": False})
    fig = _figure()
    write_release_figure(fig, tmp_path / "b.png", None, real, method="test")
    assert SYNTHETIC_FIGURE_MARK not in _texts(fig)
    plt.close("all")


def test_the_models_summary_says_synthetic_first():
    args = dict(outcomes=["any_referral"], links=["logit"], adjust=[])
    text = model_summary({}, synthetic=True, **args)
    assert text.splitlines()[2].startswith("**SYNTHETIC DATA")
    assert "SYNTHETIC DATA" not in model_summary({}, **args)
