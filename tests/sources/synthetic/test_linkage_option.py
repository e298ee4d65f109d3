"""The generator's option of non-linkage that depends on deprivation, and its truth."""

from __future__ import annotations

import json

import numpy as np
import pytest

from child_mdh.sources.synthetic import generate
from child_mdh.sources.synthetic.generator import _options, simulate


def _unlinked_by_count(world) -> np.ndarray:
    n_domains = world.hh.flags[world.child_hh].sum(axis=1)
    pupils = world.school.has_record
    return np.array([1 - world.school.linked[pupils & (n_domains == c)].mean() for c in range(3)])


def test_per_domain_log_odds_make_deprived_pupils_link_less():
    plain = simulate(20_000, 11, 2021, _options({}))
    steep = simulate(20_000, 11, 2021, _options({"mismatch_per_domain": 0.8}))
    flat, tilted = _unlinked_by_count(plain), _unlinked_by_count(steep)
    # the default gradient (two or more domains: +0.5) is steeper with the option
    assert tilted[1] / tilted[0] > flat[1] / flat[0] * 1.5
    # the intercept is solved again: the overall rate among pupils stays near 4%
    pupils = steep.school.has_record
    assert 1 - steep.school.linked[pupils].mean() == pytest.approx(0.04, abs=0.01)


def test_default_option_changes_nothing():
    a = simulate(3_000, 5, 2021, _options({}))
    b = simulate(3_000, 5, 2021, _options({"mismatch_per_domain": 0.0}))
    assert np.array_equal(a.school.linked, b.school.linked)


def test_truth_records_the_index_of_all_and_of_linked_children(tmp_path):
    generate(6_000, 3, tmp_path, mismatch_rate=0.2, mismatch_per_domain=0.6)
    truth = json.loads((tmp_path / "truth.json").read_text())["linkage"]
    assert truth["per_domain"] == 0.6
    index = truth["index"]
    assert index["all_children"]["children"] > index["linked_children"]["children"]
    # deprived children link less, so the linked children's H is lower than everyone's
    assert index["linked_children"]["H"] < index["all_children"]["H"]
    h, a, m0 = (index["all_children"][m] for m in ("H", "A", "M0"))
    assert m0 == pytest.approx(h * a)


def test_bad_slope_is_refused():
    with pytest.raises(ValueError, match="mismatch_per_domain"):
        _options({"mismatch_per_domain": "steep"})
