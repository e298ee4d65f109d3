"""Cell-level disclosure rules: settings, threshold, rounding, dominance, residual df."""

import numpy as np
import pandas as pd
import pytest

from child_mdh.release.sdc import (
    CheckResult,
    Contributions,
    SDCConfig,
    dominance_table,
    overall_status,
    residual_df_check,
    round_to_base,
    threshold_mask,
)


def test_defaults_are_acro_defaults():
    c = SDCConfig()
    assert (c.threshold, c.rounding_base, c.zeros_disclosive) == (10, 5, True)
    assert (c.dominance_n, c.dominance_k, c.p_ratio, c.min_residual_df) == (2, 0.90, 0.10, 10)
    assert c.mitigation == "suppress" and c.suppresses_secondary and not c.rounds


def test_settings_from_the_workflow_block():
    block = {
        "threshold": 7,
        "rounding_base": 5,
        "zeros_disclosive": False,
        "dominance_n": 2,
        "dominance_k": 0.9,
        "p_ratio": 0.1,
        "min_residual_df": 10,
        "mitigation": "both",
    }
    c = SDCConfig.from_mapping(block)
    assert c.threshold == 7 and c.rounds and c.suppresses_secondary
    assert SDCConfig.from_mapping(None) == SDCConfig()
    with pytest.raises(ValueError, match="unknown key.*treshold"):
        SDCConfig.from_mapping({"treshold": 5})
    with pytest.raises(ValueError, match="mitigation must be one of"):
        SDCConfig(mitigation="hide")
    with pytest.raises(ValueError, match="threshold"):
        SDCConfig(threshold=0)


def test_threshold_mask_with_zeros_and_structural_zeros():
    counts = pd.DataFrame({"a_n": [0, 1, 9, 10, np.nan], "b_n": [0, 0, 25, 3, 11]})
    structural = pd.DataFrame(
        {"a_n": [True, False, False, False, False], "b_n": [False, False, False, False, False]}
    )
    got = threshold_mask(counts, SDCConfig(), structural)
    # a_n: 0 structural -> fine; 1 and 9 below 10; 10 fine; empty fine
    # b_n: 0, 0 disclosive (not structural); 25 fine; 3 below; 11 fine
    assert got["a_n"].tolist() == [False, True, True, False, False]
    assert got["b_n"].tolist() == [True, True, False, True, False]
    lenient = threshold_mask(counts, SDCConfig(zeros_disclosive=False))
    assert lenient["b_n"].tolist() == [False, False, False, True, False]


def test_round_to_base():
    # base 5, halves up: 0->0, 2->0, 3->5, 7->5, 8->10, 12->10, 13->15, 22.5 cannot occur
    values = np.array([0, 2, 3, 7, 8, 12, 13, np.nan])
    np.testing.assert_array_equal(round_to_base(values, 5), [0, 0, 5, 5, 10, 10, 15, np.nan])
    # base 10: 5 -> 10 (half up, not to even), 14 -> 10, 15 -> 20
    np.testing.assert_array_equal(round_to_base([5, 14, 15], 10), [10, 10, 20])
    s = round_to_base(pd.Series([3, 8], index=["x", "y"]))
    assert s.to_dict() == {"x": 5.0, "y": 10.0}


def test_dominance_by_hand():
    frame = pd.DataFrame(
        {
            "cell": ["A"] * 4 + ["B"] * 5 + ["C"] * 3 + ["D"],
            "hours": [50, 45, 3, 2, 30, 25, 20, 15, 10, 100, 8, 1, 40],
        }
    )
    config = SDCConfig(threshold=3)
    got = dominance_table(Contributions(frame, ("cell",), "hours"), config)
    # A: total 100, two largest 95 -> share 0.95 > 0.90 fails nk;
    #    p = (100 - 50 - 45)/50 = 0.10, not below 0.10 -> p-ratio passes
    assert got.loc["A", "top_n_share"] == pytest.approx(0.95)
    assert got.loc["A", "p_value"] == pytest.approx(0.10)
    assert bool(got.loc["A", "nk_fail"]) and not bool(got.loc["A", "p_ratio_fail"])
    # B: total 100, two largest 55 -> 0.55 passes; p = 45/30 = 1.5 passes
    assert not bool(got.loc["B", "disclosive"])
    # C: total 109, two largest 108 -> 0.991 fails; p = 1/100 = 0.01 < 0.10 fails
    assert bool(got.loc["C", "nk_fail"]) and bool(got.loc["C", "p_ratio_fail"])
    # D: one contributor -> fails both, and fewer than 3 contributors
    assert bool(got.loc["D", "nk_fail"]) and bool(got.loc["D", "p_ratio_fail"])
    assert bool(got.loc["D", "threshold_fail"])
    assert got["contributors"].tolist() == [4, 5, 3, 1]


def test_dominance_rejects_negative_contributions():
    frame = pd.DataFrame({"cell": ["A", "A"], "v": [5, -1]})
    with pytest.raises(ValueError, match="negative"):
        dominance_table(Contributions(frame, ("cell",), "v"), SDCConfig())


def test_residual_df():
    assert residual_df_check(9, SDCConfig()).status == "fail"
    assert residual_df_check(10, SDCConfig()).status == "pass"
    assert residual_df_check(None, SDCConfig()).status == "fail"
    assert residual_df_check(4, SDCConfig(min_residual_df=3)).status == "pass"


def test_overall_status():
    p = CheckResult("a", "pass", "")
    r = CheckResult("b", "review", "")
    f = CheckResult("c", "fail", "")
    assert overall_status([p, p]) == "pass"
    assert overall_status([p, r]) == "review"
    assert overall_status([r, f, p]) == "fail"
    with pytest.raises(ValueError):
        CheckResult("d", "ok", "")
