"""Fixtures of the profile tests (the inputs are in profile_inputs.py)."""

import pytest

from profile_inputs import (
    LOCAL_EXAMPLE,
    WEIGHTS,
    K,
    profile_areas,
    profile_children,
)

#: the part of the run's configuration the pages read (through provenance.json)
PAGE_CONFIG = {
    "input": {"source": "synthetic"},
    "synthetic": {"census_year": 2021},
    "population": {"min_age": 5, "max_age": 15, "reference_date": None},
    "outcomes": {"follow_up_years": 5, "extract_date": None},
    "index": {"weights": WEIGHTS, "k": K},
}
#: the dates the derivation used (from its report)
PAGE_PERIOD = {"reference_date": "2021-03-21", "extract_date": "2026-03-21", "census_year": 2021}


@pytest.fixture
def sdc_config():
    return {"threshold": 10, "rounding_base": 5, "zeros_disclosive": True, "mitigation": "both"}


@pytest.fixture(scope="session")
def protected_tables():
    from child_mdh.release.profiles.tables import profile_tables

    return profile_tables(profile_children(), profile_areas(), WEIGHTS, K, {"mitigation": "both"})


@pytest.fixture(scope="session")
def built_release(tmp_path_factory):
    """The profiles of the five LAs and England, written as the workflow writes them:
    the tables step, two chunks of pages (separate manifests), the index step, then the
    merged manifest and audit."""
    import matplotlib

    matplotlib.use("Agg")

    from child_mdh.aggregates.profiles.statistics import profile_statistics
    from child_mdh.release.profiles.build import (
        build_index_page,
        build_profiles,
        la_chunks,
        profile_la_codes,
        read_profile_tables,
        withheld_from_manifest,
        write_profile_tables,
    )
    from child_mdh.release.sdc import Manifest, SDCConfig, finalise_release

    root = tmp_path_factory.mktemp("profiles")
    release, parts = root / "release", root / "parts"
    out = release / "profiles"
    config = SDCConfig(mitigation="both")
    from paths import REPO

    repo = REPO
    stats = profile_statistics(profile_children(), profile_areas(), WEIGHTS, K)
    m = Manifest(release, "profile_tables", config)
    write_profile_tables(
        stats, out, m, local_indicators=repo / LOCAL_EXAMPLE, areas=profile_areas()
    )
    paths = [m.write_part(parts / "profile_tables.json")]
    common = dict(
        provenance={
            "data_source": "Synthetic test children",
            "created_utc": "2026-01-01T00:00:00+00:00",
            "code": {"package_version": "0.1.0", "git_commit": "0123456789abcdef"},
            "config": PAGE_CONFIG,
        },
        period=PAGE_PERIOD,
        caveats=["Census domains come from small-area counts, not household records."],
        is_synthetic=True,
    )
    codes = profile_la_codes(out / "tables")
    # as the workflow's steps: the tables read back with the cells the tables step withheld
    withheld = withheld_from_manifest(
        Manifest.read(parts / "profile_tables.json", release), out / "tables"
    )
    for i, chunk in enumerate(la_chunks(codes, 2)):
        mc = Manifest(release, f"profiles_{i}", config)
        tables = read_profile_tables(out / "tables", withheld)
        build_profiles(tables, chunk, out, mc, tables_dir=out / "tables", png=(i == 0), **common)
        paths.append(mc.write_part(parts / f"profiles_{i}.json"))
    mi = Manifest(release, "profiles_index", config)
    build_index_page(
        read_profile_tables(out / "tables", withheld), out, mi, tables_dir=out / "tables", **common
    )
    paths.append(mi.write_part(parts / "profiles_index.json"))
    problems = finalise_release(paths, release, raise_on_problems=False)
    return {
        "release": release,
        "out": out,
        "problems": problems,
        "codes": codes,
        "common": common,
    }
