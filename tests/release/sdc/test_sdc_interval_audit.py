"""The release-wide interval audit: leaks planted in small release folders are found, and
a release protected as one whole (totals summed from rounded parts, statistics from the
published counts) passes.

Each planted leak is one an output checker with every file and a linear programming
solver would find; the expected ranges are worked out by hand in the comments.
"""

import json

import numpy as np
import pandas as pd
import pytest

from child_mdh.release.sdc import (
    Manifest,
    RowMargin,
    SDCConfig,
    TableSpec,
    merge_manifests,
    write_release_table,
)
from child_mdh.release.sdc.audit import interval_audit, write_audit
from child_mdh.release.sdc.spec import ColumnMargin, CountSum

from sdc_tables import audit_structure as _structure
from sdc_tables import release_listing as _release

AREA = TableSpec(
    key_columns=("la_code",),
    margins=(RowMargin("la_code", total="ENG"),),
    population="children",
    dimensions={"la_code": "area"},
)


def test_cross_file_margin_gives_a_withheld_count_back(tmp_path):
    # file 1 withholds B and C (B = 4 is small, C its partner); file 2 publishes C for
    # the same population (another suppression pattern): B = 71 - 25 - 30 - 12 = 4
    one = pd.DataFrame(
        {"la_code": ["A", "B", "C", "D", "ENG"], "cin_n": [25, np.nan, np.nan, 12, 71]}
    )
    two = pd.DataFrame({"la_code": ["C"], "cin_n": [30]})
    manifest = _release(
        tmp_path,
        {
            "one.csv": (one, _structure(AREA, one, rounded=False)),
            "two.csv": (
                two,
                _structure(
                    TableSpec(
                        key_columns=("la_code",),
                        population="children",
                        dimensions={"la_code": "area"},
                    ),
                    two,
                    rounded=False,
                ),
            ),
        },
    )
    report = interval_audit(tmp_path, manifest)
    # B; C is published in two.csv (a published count, not a recovered one)
    assert report.exact == 1 and report.withheld == 1
    found = {(f.file, f.row, f.column, f.lower, f.upper) for f in report.findings}
    assert ("one.csv", 1, "cin_n", 4.0, 4.0) in found


def test_the_same_pattern_in_one_file_only_is_safe(tmp_path):
    one = pd.DataFrame(
        {"la_code": ["A", "B", "C", "D", "ENG"], "cin_n": [25, np.nan, np.nan, 12, 71]}
    )
    report = interval_audit(
        tmp_path, _release(tmp_path, {"one.csv": (one, _structure(AREA, one, rounded=False))})
    )
    # B + C = 34: each anywhere in [0, 34]
    assert report.passed and report.withheld == 2


def test_two_small_withheld_cells_only_known_to_be_small(tmp_path):
    # total 20, published part 12: the two withheld parts add to 8, so each is in [0, 8]:
    # the reader learns they are small, which withholding says, not that anyone is there
    one = pd.DataFrame({"la_code": ["A", "B", "C", "ENG"], "cin_n": [12, np.nan, np.nan, 20]})
    report = interval_audit(
        tmp_path, _release(tmp_path, {"one.csv": (one, _structure(AREA, one, rounded=False))})
    )
    assert report.passed and report.below_threshold == 2


def test_a_withheld_part_of_an_independently_rounded_total_is_narrowed(tmp_path):
    # total published as 20 (18..22), one part as 15 (13..17), the other withheld: it is
    # 18 - 17 = 1 at least and 22 - 13 = 9 at most, so someone is there, 1 to 9 of them
    one = pd.DataFrame({"la_code": ["A", "B", "ENG"], "cin_n": [15, np.nan, 20]})
    report = interval_audit(
        tmp_path, _release(tmp_path, {"one.csv": (one, _structure(AREA, one, rounded=True))})
    )
    assert report.narrow == 1 and report.exact == 0
    assert [(f.row, f.lower, f.upper) for f in report.findings] == [(1, 1.0, 9.0)]


def test_a_withheld_count_known_to_be_large_is_no_finding(tmp_path):
    # total published as 60 (58..62), a part as 10 (8..12), the other withheld: 46..54,
    # narrow but at least the threshold, so it could have been published
    one = pd.DataFrame({"la_code": ["A", "B", "ENG"], "cin_n": [10, np.nan, 60]})
    report = interval_audit(
        tmp_path, _release(tmp_path, {"one.csv": (one, _structure(AREA, one, rounded=True))})
    )
    assert report.passed and report.withheld_publishable == 1


def test_zero_by_subtraction_across_files(tmp_path):
    # file 1: England's total 60; file 2: the parts, one withheld; the others add to 60
    one = pd.DataFrame({"la_code": ["ENG"], "cin_n": [60]})
    two = pd.DataFrame({"la_code": ["A", "B", "C", "ENG"], "cin_n": [25, 35, np.nan, np.nan]})
    spec_one = TableSpec(
        key_columns=("la_code",), population="children", dimensions={"la_code": "area"}
    )
    report = interval_audit(
        tmp_path,
        _release(
            tmp_path,
            {
                "one.csv": (one, _structure(spec_one, one, rounded=False)),
                "two.csv": (two, _structure(AREA, two, rounded=False)),
            },
        ),
    )
    zero = [f for f in report.findings if f.file == "two.csv" and f.row == 2]
    assert zero and zero[0].kind == "exact" and zero[0].lower == zero[0].upper == 0


def _profiles_release(tmp_path, sums=(), index_mdh=57.0):
    """Children by deprivation profile in area A (the 7 of P2 withheld) and, in an index
    table of another population, A's MDH children (those of P1, P2 and P3)."""
    profiles = pd.DataFrame({"area_code": ["A"] * 4, "profile": ["none", "P1", "P2", "P3"]}).assign(
        children_n=[400, 30, np.nan, 20]
    )
    spec = TableSpec(
        key_columns=("area_code", "profile"),
        population="profiles",
        dimensions={"area_code": "area", "profile": "profile"},
        sums=sums,
    )
    index = pd.DataFrame({"area_code": ["A"], "mdh_n": [index_mdh]})
    index_spec = TableSpec(
        key_columns=("area_code",), population="index", dimensions={"area_code": "area"}
    )
    return _release(
        tmp_path,
        {
            "profiles.csv": (profiles, _structure(spec, profiles, rounded=False)),
            "index.csv": (index, _structure(index_spec, index, rounded=False)),
        },
    )


MDH_PROFILES = CountSum(
    "index", "mdh_n", "children_n", {"profile": ("P1", "P2", "P3")}, by=("area_code",)
)


def test_a_count_of_another_population_declared_as_a_sum_gives_a_part_back(tmp_path):
    # undeclared, the two tables are unrelated: P2 is anywhere from 0
    assert interval_audit(tmp_path, _profiles_release(tmp_path)).passed
    # declared: MDH children 57 = 30 + P2 + 20, so P2 = 7
    report = interval_audit(tmp_path, _profiles_release(tmp_path, sums=(MDH_PROFILES,)))
    found = {(f.file, f.row, f.column, f.kind, f.lower, f.upper) for f in report.findings}
    assert found == {("profiles.csv", 2, "children_n", "exact", 7.0, 7.0)}


def test_a_declared_sum_whose_total_is_withheld_adds_nothing(tmp_path):
    manifest = _profiles_release(tmp_path, sums=(MDH_PROFILES,), index_mdh=np.nan)
    report = interval_audit(tmp_path, manifest)
    assert report.passed and report.withheld == 2


def test_count_sums_are_recorded_and_read_back():
    spec = TableSpec(key_columns=("area_code", "profile"), sums=(MDH_PROFILES,))
    frame = pd.DataFrame({"area_code": ["A"], "profile": ["P1"], "children_n": [30]})
    assert TableSpec.from_structure(spec.structure(frame)).sums == (MDH_PROFILES,)


RATE = TableSpec(key_columns=("la_code",), formulas={"rate": "10000 * cin_n / children_n"})


def test_rate_from_exact_counts_pins_the_rounded_count(tmp_path):
    # cin_n 71 published as 70 (68..72), children 14200 (14198..14202), rate 50.0 to one
    # decimal: cin_n / children in [49.95, 50.05] / 10000 pins cin_n to 71
    df = pd.DataFrame({"la_code": ["A"], "cin_n": [70], "children_n": [14200], "rate": [50.0]})
    spec = TableSpec(
        key_columns=("la_code",),
        formulas={"rate": {"expr": "10000 * cin_n / children_n", "digits": 1}},
    )
    report = interval_audit(
        tmp_path, _release(tmp_path, {"one.csv": (df, _structure(spec, df, rounded=True))})
    )
    pinned = {f.column: (f.lower, f.upper) for f in report.findings if f.kind == "pinned"}
    assert pinned["cin_n"] == (71.0, 71.0)


def test_rate_from_the_published_counts_adds_nothing(tmp_path):
    # the same table with the rate computed from what is published: 70 / 14200
    df = pd.DataFrame(
        {
            "la_code": ["A"],
            "cin_n": [70],
            "children_n": [14200],
            "rate": [round(70 / 14200 * 10000, 1)],
        }
    )
    spec = TableSpec(
        key_columns=("la_code",),
        formulas={"rate": {"expr": "10000 * cin_n / children_n", "digits": 1}},
    )
    report = interval_audit(
        tmp_path, _release(tmp_path, {"one.csv": (df, _structure(spec, df, rounded=True))})
    )
    assert report.passed and report.rounded == 2


def test_percentage_at_full_precision_pins_both_counts(tmp_path):
    # 123 of 457 published as 125 and 455, with the exact percentage 26.914660...%
    df = pd.DataFrame(
        {"la_code": ["A"], "mdh_n": [125], "children_n": [455], "pct": [100 * 123 / 457]}
    )
    spec = TableSpec(key_columns=("la_code",), formulas={"pct": "100 * mdh_n / children_n"})
    report = interval_audit(
        tmp_path, _release(tmp_path, {"one.csv": (df, _structure(spec, df, rounded=True))})
    )
    pinned = {f.column: (f.lower, f.upper) for f in report.findings}
    assert pinned == {"mdh_n": (123.0, 123.0), "children_n": (457.0, 457.0)}


def test_independent_rounding_narrows_parts_and_total(tmp_path):
    # parts 347 and 832 rounded to 345 and 830, total 1179 rounded to 1180: the total is
    # at most 347 + 832 = 1179 and each part at least 1178 - 832 = 346 (or 1178 - 347)
    df = pd.DataFrame({"mdh_n": [345], "non_mdh_n": [830], "children_n": [1180]})
    spec = TableSpec(margins=(ColumnMargin(("mdh_n", "non_mdh_n"), "children_n"),))
    report = interval_audit(
        tmp_path, _release(tmp_path, {"one.csv": (df, _structure(spec, df, rounded=True))})
    )
    ranges = {f.column: (f.lower, f.upper) for f in report.findings}
    assert ranges == {
        "mdh_n": (346.0, 347.0),
        "non_mdh_n": (831.0, 832.0),
        "children_n": (1178.0, 1179.0),
    }


def test_totals_summed_from_rounded_parts_are_not_narrowed(tmp_path):
    # the same counts published additively: total 345 + 830 = 1175 (true 1179, within
    # the parts' rounding), nothing narrower than its rounding
    df = pd.DataFrame({"mdh_n": [345], "non_mdh_n": [830], "children_n": [1175]})
    spec = TableSpec(margins=(ColumnMargin(("mdh_n", "non_mdh_n"), "children_n"),))
    report = interval_audit(
        tmp_path,
        _release(tmp_path, {"one.csv": (df, _structure(spec, df, rounded=True, additive=True))}),
    )
    assert report.passed, report.findings


def test_the_same_count_published_twice_with_values_that_cannot_both_hold(tmp_path):
    one = pd.DataFrame({"la_code": ["A"], "cin_n": [40]})
    two = pd.DataFrame({"la_code": ["A"], "cin_n": [50]})
    spec = TableSpec(
        key_columns=("la_code",), population="children", dimensions={"la_code": "area"}
    )
    report = interval_audit(
        tmp_path,
        _release(
            tmp_path,
            {
                "one.csv": (one, _structure(spec, one, rounded=True)),
                "two.csv": (two, _structure(spec, two, rounded=True)),
            },
        ),
    )
    assert report.inconsistent == 1 and not report.passed


@pytest.fixture
def protected_release(tmp_path):
    """Two tables protected by write_release_table with the default settings (suppression
    then rounding): LA counts with their England total, and a rate table."""
    config = SDCConfig(mitigation="both")
    release = tmp_path / "release"
    manifest = Manifest(release, "test", config)
    mdh = [123, 4, 58, 31, 87, 64, 212, 45]
    non = [334, 40, 102, 77, 301, 250, 530, 160]
    areas = pd.DataFrame(
        {
            "la_code": ["A", "B", "C", "D", "E", "F", "G", "H", "ENG"],
            "mdh_n": [*mdh, sum(mdh)],
            "non_mdh_n": [*non, sum(non)],
            "children_n": [*(m + o for m, o in zip(mdh, non)), sum(mdh) + sum(non)],
            "pct": 0.0,
        }
    )
    spec = TableSpec(
        key_columns=("la_code",),
        margins=(
            RowMargin("la_code", total="ENG"),
            ColumnMargin(("mdh_n", "non_mdh_n"), "children_n"),
        ),
        formulas={"pct": {"expr": "100 * mdh_n / children_n", "digits": 1}},
        population="children",
        dimensions={"la_code": "area"},
    )
    write_release_table(areas, release / "areas.csv", spec, manifest)
    manifest.write_part(tmp_path / "part.json")
    merge_manifests([tmp_path / "part.json"], release / "outputs.json")
    return release


def test_a_release_protected_as_a_whole_passes(protected_release):
    written = pd.read_csv(protected_release / "areas.csv")
    # totals are the sums of their published parts, and the percentage follows from them
    full = written.dropna(subset=["mdh_n", "non_mdh_n"])
    assert (full["mdh_n"] + full["non_mdh_n"] == full["children_n"]).all()
    shown = written.dropna(subset=["pct"])
    assert np.allclose(shown["pct"], (100 * shown["mdh_n"] / shown["children_n"]).round(1))
    report = interval_audit(protected_release)
    assert report.passed, report.findings
    assert report.withheld >= 2 and report.rounded > 0


def test_write_audit_records_the_figures_and_fails_on_a_planted_leak(protected_release):
    assert write_audit(protected_release) == []
    figures = json.loads((protected_release / "audit.json").read_text())["intervals"]
    assert figures["passed"] and figures["exact_recoveries"] == 0
    # plant the exact percentage of one local authority (123 / 457)
    written = pd.read_csv(protected_release / "areas.csv")
    written.loc[written["la_code"] == "A", "pct"] = 100 * 123 / 457
    written.to_csv(protected_release / "areas.csv", index=False)
    kinds = {p.kind for p in write_audit(protected_release)}
    assert {"pinned_rounded_count", "statistic_not_from_counts"} <= kinds


def _edit_manifest(release, change):
    path = release / "outputs.json"
    manifest = json.loads(path.read_text())
    change(manifest["results"]["areas.csv"])
    path.write_text(json.dumps(manifest))


def test_a_manifest_that_says_why_a_cell_is_empty_fails(protected_release):
    def plant(entry):
        entry["files"][0]["sdc"]["cells"]["threshold"] = [[1, 0]]

    _edit_manifest(protected_release, plant)
    problems = write_audit(protected_release)
    assert [p.kind for p in problems] == ["reason_disclosed"]
    assert "threshold" in problems[0].detail


def test_an_undeclared_sum_between_published_counts_fails(protected_release):
    # the table holds mdh + other = children; without the declaration it is unprotected
    def plant(entry):
        entry["structure"]["margins"] = [
            m for m in entry["structure"]["margins"] if m["kind"] != "columns"
        ]

    _edit_manifest(protected_release, plant)
    problems = [p for p in write_audit(protected_release) if p.kind == "undeclared_relation"]
    assert len(problems) == 1 and problems[0].detail.startswith("children_n = mdh_n + non_mdh_n")


def test_a_count_withheld_in_one_file_and_published_rounded_in_another_is_published(tmp_path):
    # England's count is published as 10 (8..12) in one file; the regional file withholds
    # England with its regions. The reader knows 8..12 from the first file: a published
    # count, not one the release gives back; the regions stay anywhere in [0, 12]
    one = pd.DataFrame({"la_code": ["ENG"], "cin_n": [10]})
    two = pd.DataFrame({"la_code": ["A", "B", "ENG"], "cin_n": [np.nan, np.nan, np.nan]})
    spec_one = TableSpec(
        key_columns=("la_code",), population="children", dimensions={"la_code": "area"}
    )
    manifest = _release(
        tmp_path,
        {
            "one.csv": (one, _structure(spec_one, one, rounded=True)),
            "two.csv": (two, _structure(AREA, two, rounded=True, additive=True)),
        },
    )
    report = interval_audit(tmp_path, manifest)
    assert report.passed, report.findings
    assert report.withheld == 2 and report.rounded == 1


def test_a_count_sum_at_fixed_dimensions_is_recorded_and_read_back():
    # a cell of a table without an area column declared to be England's count elsewhere
    at = CountSum("index", "mdh_n", "mdh_n", {"group": ("All",)}, at={"area": "ENG"})
    spec = TableSpec(key_columns=("group",), sums=(at,))
    frame = pd.DataFrame({"group": ["All"], "mdh_n": [30]})
    assert TableSpec.from_structure(spec.structure(frame)).sums == (at,)
    assert CountSum.from_dict({**MDH_PROFILES.to_dict(), "at": {}}) == MDH_PROFILES


def test_a_view_of_a_total_summed_from_rounded_parts_bounds_nothing_of_its_own(tmp_path):
    # a table publishes A (13 -> 15), withholds B (8) and publishes England as the sum of
    # its parts' rounded values (15 + 10 = 25; true 21); another file rounds England on
    # its own (21 -> 20: 18..22); a third repeats the first file's 25. Read as a rounding
    # of its own (23..27) the repeat contradicts the second file; declared a view of the
    # first file's published value, it bounds nothing of its own
    parts = pd.DataFrame({"la_code": ["A", "B", "ENG"], "cin_n": [15, np.nan, 25]})
    own = pd.DataFrame({"la_code": ["ENG"], "cin_n": [20]})
    view = pd.DataFrame({"group": ["All"], "cin_n": [25]})
    own_spec = TableSpec(
        key_columns=("la_code",), population="children", dimensions={"la_code": "area"}
    )

    def audit(as_view):
        at = CountSum(
            "children", "cin_n", "cin_n", {"group": ("All",)}, at={"area": "ENG"}, view=as_view
        )
        view_spec = TableSpec(key_columns=("group",), sums=(at,))
        return interval_audit(
            tmp_path,
            _release(
                tmp_path,
                {
                    "parts.csv": (parts, _structure(AREA, parts, rounded=True, additive=True)),
                    "own.csv": (own, _structure(own_spec, own, rounded=True)),
                    "view.csv": (view, _structure(view_spec, view, rounded=True)),
                },
            ),
        )

    assert audit(False).inconsistent
    assert not audit(True).inconsistent
    at = CountSum("children", "cin_n", "cin_n", {"group": ("All",)}, view=True)
    assert CountSum.from_dict(at.to_dict()).view


def test_a_withheld_view_takes_its_sources_hidden_value_not_a_rounding_of_its_own(tmp_path):
    # the source: five areas and England the sum of their rounded values (A 3 -> 5,
    # B 2 -> 0, C 7 -> 5, D 7 -> 5, E 1 -> 0: 15 for a true 20), every area withheld and
    # so the subtotal of B-E. A view (a gradient: none, any, all) repeats A, the subtotal
    # and England, withholding what the source withholds. Another file rounds England on
    # its own (20: 18..22). Read as roundings of their own, the view's two withheld
    # values would be within 2 of two numbers adding up to 15, so England at most 19,
    # pinning 20; they are the source's hidden values (A's rounding, and a sum of four
    # roundings), so England is at most 15 + 5 x 2 = 25: nothing pinned
    source = pd.DataFrame(
        {
            "la_code": ["A", "B", "C", "D", "E", "BCDE", "ENG"],
            "care_n": [np.nan] * 6 + [15.0],
        }
    )
    parents = {"A": "ENG", "BCDE": "ENG", **dict.fromkeys("BCDE", "BCDE")}
    source_spec = TableSpec(
        key_columns=("la_code",),
        population="children",
        dimensions={"la_code": "area"},
        margins=(RowMargin("la_code", parent=parents),),
    )
    own = pd.DataFrame({"la_code": ["ENG"], "care_n": [20]})
    own_spec = TableSpec(
        key_columns=("la_code",), population="children", dimensions={"la_code": "area"}
    )
    view = pd.DataFrame({"group": ["none", "any", "all"], "care_n": [np.nan, np.nan, 15.0]})
    sums = tuple(
        CountSum("children", "care_n", "care_n", {"group": (g,)}, at={"area": a}, view=True)
        for g, a in (("none", "A"), ("any", "BCDE"), ("all", "ENG"))
    )
    view_spec = TableSpec(
        key_columns=("group",), margins=(RowMargin("group", total="all"),), sums=sums
    )
    report = interval_audit(
        tmp_path,
        _release(
            tmp_path,
            {
                "source.csv": (
                    source,
                    _structure(source_spec, source, rounded=True, additive=True),
                ),
                "own.csv": (own, _structure(own_spec, own, rounded=True)),
                "view.csv": (view, _structure(view_spec, view, rounded=True, additive=True)),
            },
        ),
    )
    assert report.passed, report.findings
