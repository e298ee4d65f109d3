"""On synthetic data with a known truth, the index pipeline recovers it.

Synthetic households get their ONS domain flags first and persons consistent with them,
so the domain derivation (written from the ONS wording, independently of the generator)
must reproduce every household's flags exactly; estimated prevalences must then hold
the truth within their intervals.
"""

import json

import pandas as pd
import pytest

from child_mdh.aggregates.index.inference import af_inference
from child_mdh.contract.vocabulary import DOMAINS
from child_mdh.derive.children import derive_children
from child_mdh.sources.synthetic import generate
from child_mdh.validation.folder import validate_folder

N_CHILDREN = 15000


@pytest.fixture(scope="module")
def derived(tmp_path_factory):
    root = tmp_path_factory.mktemp("truth")
    generate(n_children=N_CHILDREN, seed=11, out_dir=root / "synth", census_year=2021)
    validate_folder(
        root / "synth",
        out_dir=root / "contract",
        quarantine_dir=root / "q",
        policy="stop",
        reference_date="2026-11-01",
    )
    all_children = derive_children(root / "contract", min_age=0, max_age=17, unlinked="fsm_missing")
    truth = json.loads((root / "synth" / "truth.json").read_text())
    return root, all_children, truth


def test_household_domains_reproduce_the_truth_exactly(derived):
    root, (_children, household_domains, _, _), _ = derived
    truth = pd.read_parquet(root / "synth" / "truth_households.parquet")
    merged = truth.merge(household_domains, on="household_id", suffixes=("_true", ""))
    assert len(merged) == len(truth)
    for d in DOMAINS:
        mismatched = (merged[f"{d}_true"] != merged[d].astype(bool)).sum()
        assert mismatched == 0, f"{d}: {mismatched} households differ from the truth"
    assert (merged["n_domains_true"] == merged["n_domains"]).all()


def test_child_domain_prevalences_equal_realised_truth(derived):
    root, (children, _, _, _), truth = derived
    realised = truth["households"]["domain_prevalence_children"]
    # the generator's children (its dependent children; persons table may hold a few
    # more under-18s, e.g. a 17-year-old partner) are listed in truth_children
    ids = pd.read_parquet(root / "synth" / "truth_children.parquet")["person_id"]
    kids = children[children["person_id"].isin(ids)]
    assert len(kids) == truth["households"]["n_children"] == N_CHILDREN
    for d in DOMAINS:
        assert kids[d].astype(float).mean() == pytest.approx(realised[d], abs=1e-12)


def test_expected_deprivation_distribution_within_intervals(derived):
    # The generator draws each household's count of domains from a known expected
    # distribution; the share of households with >= 1 domain, estimated with an
    # LA-clustered 99% interval, must cover its expected value.
    _, (_, household_domains, _, _), truth = derived
    expected = truth["households"]["expected_count_distribution"]
    hh = household_domains.assign(any_domain=household_domains["n_domains"] >= 1)
    hh = hh.merge(
        pd.read_parquet(derived[0] / "contract" / "households.parquet")[
            ["household_id", "la_code"]
        ],
        on="household_id",
    )
    inf = af_inference(
        hh[["any_domain", "la_code"]].astype({"any_domain": "boolean"}),
        {"any_domain": 1.0},
        1.0,
        cluster="la_code",
        confidence=0.99,
        measures=["H"],
    ).iloc[0]
    target = 1 - expected[0]
    assert inf["lower"] <= target <= inf["upper"], (inf["lower"], target, inf["upper"])
