"""The written release: pages, figures and tables, all listed, all self-contained.

The tests reading the built release (the profiles' tables, two chunks of pages with
their figures, the index page and the release audit: the profiles stage end to end) are
in the slow tier; the rest are fast."""

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from child_mdh.release.profiles import html as profile_html
from child_mdh.release.profiles.build import build_profiles, read_profile_tables
from child_mdh.release.profiles.local import LOCAL_LABEL
from child_mdh.release.profiles.selfcontained import external_references
from child_mdh.release.sdc import Manifest
from child_mdh.release.workbook import read_workbook_table

from profile_inputs import FEW_MDH_LA, PROFILE_CODES, SMALL_LA


def page(built, code):
    return (built["out"] / "areas" / f"{code}.html").read_text(encoding="utf-8")


def outputs(built):
    return json.loads((built["release"] / "outputs.json").read_text())


@pytest.mark.slow
def test_release_audit_passes_and_every_file_is_listed(built_release):
    assert built_release["problems"] == []
    listed = {f["name"] for e in outputs(built_release)["results"].values() for f in e["files"]}
    written = {
        p.relative_to(built_release["release"]).as_posix()
        for p in built_release["release"].rglob("*")
        if p.is_file()
    }
    assert written - listed == set()
    profile_files = {n for n in written if n.startswith("profiles/")}
    # 5 LA pages + England, index, per-area tables (csv+xlsx), PNGs of the first chunk
    assert len([n for n in profile_files if n.endswith(".html")]) == 7
    assert len([n for n in profile_files if n.endswith(".png")]) >= 8
    assert {
        "profiles/tables/area_statistics.xlsx",
        "profiles/tables/indicators.csv",
        f"profiles/areas/{SMALL_LA}_indicators.xlsx",
    } <= profile_files


@pytest.mark.slow
def test_pages_load_nothing_from_outside(built_release):
    pages = sorted(built_release["out"].rglob("*.html"))
    assert len(pages) == 7
    for p in pages:
        text = p.read_text(encoding="utf-8")
        assert external_references(text) == [], p.name
        assert "Content-Security-Policy" in text and "default-src 'none'" in text
        assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", text)
        assert "<script" not in text.lower()


@pytest.mark.slow
def test_relative_links_resolve(built_release):
    class Links(HTMLParser):
        def __init__(self):
            super().__init__()
            self.hrefs = []

        def handle_starttag(self, tag, attrs):
            href = dict(attrs).get("href")
            if tag == "a" and href and not href.startswith("#"):
                self.hrefs.append(href)

    for p in built_release["out"].rglob("*.html"):
        parser = Links()
        parser.feed(p.read_text(encoding="utf-8"))
        assert parser.hrefs, p.name
        for href in parser.hrefs:
            assert (p.parent / href).resolve().is_file(), f"{p.name} -> {href}"


def test_static_check_catches_external_loads():
    bad = (
        '<html><head><link rel="stylesheet" href="https://cdn.example/x.css">'
        '<script src="app.js"></script></head><body>'
        '<img src="https://example.org/a.png"><div style="background: url(//x/y.png)">'
        '</div><a href="https://example.org">out</a></body></html>'
    )
    found = external_references(bad)
    assert len(found) == 5
    ok = '<a href="areas/E06000001.html">x</a><img src="data:image/png;base64,AAAA">'
    assert external_references(ok) == []


@pytest.mark.slow
def test_figures_have_hover_text_and_words_for_comparisons(built_release):
    text = page(built_release, "E06000001")
    # every funnel point carries its area's name and value in an SVG <title>
    titles = re.findall(r"<circle[^>]*><title>([^<]+)</title>", text)
    assert any(t.startswith("Middlesbrough:") and "%" in t for t in titles)
    assert re.search(r"<title>[^<]*Hartlepool[^<]*95% CI", text)
    assert 'role="img"' in text and "<desc" in text
    # 'higher'/'lower' are carried by words (and a symbol), not colour alone
    assert re.search(r"(Higher|Lower|Similar) than England", text)
    assert "\u25b2" in text or "\u25bc" in text or "\u25cf" in text


@pytest.mark.slow
def test_small_la_page_shows_suppressed_values(built_release):
    few = page(built_release, FEW_MDH_LA)
    assert few.count("suppressed (fewer than 10)") >= 10
    assert re.search(r'class="big"><span class="suppressed">suppressed \(fewer than 10\)', few)
    assert 'id="nothing"' not in few


@pytest.mark.slow
def test_an_area_with_nothing_published_gets_one_line(built_release):
    """Tiny Borough (7 children): every figure is suppressed, so its page says so in one
    line and links back to the index, instead of screens of 'suppressed'."""
    text = page(built_release, SMALL_LA)
    assert "Tiny Borough" in text
    assert 'id="nothing"' in text and "Nothing can be published for Tiny Borough" in text
    assert 'href="../index.html"' in text
    assert "<table" not in text and "<svg" not in text
    assert text.split("<body>", 1)[1].count("suppressed") == 1
    assert not re.search(r">\s*7\s*<", text)
    assert "Synthetic data: every figure on this page describes" in text
    # its tables are still written (all empty), and the index still links to it
    assert (built_release["out"] / "areas" / f"{SMALL_LA}_indicators.csv").is_file()


@pytest.mark.slow
def test_local_information_shown_labelled_and_reviewed(built_release):
    text = page(built_release, "E06000001")
    assert LOCAL_LABEL in text
    assert "Care leavers who feel safe where they live" in text
    # the quoted statement on hover (title attribute, escaped) and in a details box
    assert re.search(r'title="&#34;I finally have a place that feels like mine.&#34;', text)
    assert "<details><summary>Read the statement</summary>" in text
    results = outputs(built_release)["results"]
    assert results["profiles/areas/E06000001.html"]["status"] == "review"
    assert results["profiles/tables/local_indicators.csv"]["status"] == "review"
    other = page(built_release, "E06000003")
    assert LOCAL_LABEL not in other
    assert results["profiles/areas/E06000003.html"]["status"] == "pass"


@pytest.mark.slow
def test_synthetic_banner_caveats_and_provenance(built_release):
    for code in ("E06000002", "E92000001"):
        text = page(built_release, code)
        assert "Synthetic data: every figure on this page describes" in text
        assert "Census domains come from small-area counts" in text
        assert "Synthetic test children" in text and "commit 0123456789ab" in text
        assert "2026-01-01T00:00:00+00:00" in text
    index = (built_release["out"] / "index.html").read_text(encoding="utf-8")
    assert all(f"areas/{c}.html" in index for c in PROFILE_CODES)


def test_statement_text_is_escaped(protected_tables):
    local = pd.DataFrame(
        {
            "la_code": ["E06000001"],
            "indicator": ["Score <b>bold</b>"],
            "value": [7.0],
            "unit": ["out of 10"],
            "period": ["2024"],
            "source": ["survey"],
            "statement": ['"<script>alert(1)</script>" said a young person'],
        }
    )
    context = profile_html.area_page_context(
        protected_tables,
        "E06000001",
        base=5,
        threshold=10,
        links={"index": "../index.html", "england": "E92000001.html"},
        local=local,
    )
    text = profile_html.render("profile.html", context)
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert "Score &lt;b&gt;bold&lt;/b&gt;" in text
    assert external_references(text) == []


@pytest.mark.slow
def test_released_tables_read_back_as_computed(built_release, protected_tables):
    tables = read_profile_tables(built_release["out"] / "tables")
    got = tables["area_statistics"]
    want = protected_tables["area_statistics"]
    assert list(got.columns) == list(want.columns)
    for col in want.columns:
        if col.endswith("_n") or pd.api.types.is_float_dtype(want[col]):
            pd.testing.assert_series_equal(
                got[col].astype("float64"), want[col].astype("float64"), check_names=False
            )
        else:
            assert got[col].fillna("").tolist() == want[col].fillna("").astype(str).tolist()
    csv = pd.read_csv(built_release["out"] / "areas" / "E06000002_indicators.csv")
    book = built_release["out"] / "areas" / "E06000002_indicators.xlsx"
    pd.testing.assert_frame_equal(csv, read_workbook_table(book), check_dtype=False)
    # an empty count shows [c] where area_statistics withheld it, never a bare blank
    marks = read_workbook_table(book, keep_shorthand=True)
    shown = set(marks.loc[csv["count_n"].isna(), "count_n"])
    assert shown and shown <= {"[c]", "[x]"} and "[c]" in shown
    assert set(csv["la_code"]) == {"E06000002"}
    assert csv["england_value"].notna().sum() > 20


@pytest.mark.slow
def test_build_profiles_refuses_england_and_unknown_codes(built_release, tmp_path):
    m = Manifest(tmp_path, "x")
    with pytest.raises(ValueError, match="build_index_page"):
        build_profiles(built_release["out"] / "tables", ["E92000001"], tmp_path / "p", m)
    with pytest.raises(ValueError, match="E09999999"):
        build_profiles(built_release["out"] / "tables", ["E09999999"], tmp_path / "p", m)


@pytest.mark.slow
def test_figures_backed_by_the_area_table(built_release):
    results = outputs(built_release)["results"]
    pngs = [e for u, e in results.items() if u.endswith(".png")]
    assert pngs and all(
        e["backed_by"] == ["profiles/tables/area_statistics.csv"] and e["status"] == "pass"
        for e in pngs
    )
    png = Path(built_release["release"] / pngs[0]["uid"]).read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_pages_show_counts_rounded_even_when_tables_are_not():
    from child_mdh.release.profiles.tables import profile_tables

    from profile_inputs import WEIGHTS, K, make_areas, make_children

    codes = ["E06000001", "E06000002"]
    tables = profile_tables(
        make_children(dict(zip(codes, [1503, 902])), seed=4),
        make_areas(codes, ["Alpha", "Beta"]),
        WEIGHTS,
        K,
        {"mitigation": "suppress"},
    )
    wide = tables["area_statistics"].set_index("la_code")
    assert wide.loc["E06000001", "children_n"] == 1503  # exact in the table
    context = profile_html.area_page_context(
        tables,
        "E06000001",
        base=5,
        threshold=10,
        links={"index": "../index.html", "england": "E92000001.html"},
    )
    text = profile_html.render("profile.html", context)
    assert ">1,505<" in text and "1,503" not in text  # 1503 rounds to 1505


def _text(page: Path) -> str:
    return re.sub(r"<[^>]+>", " ", page.read_text(encoding="utf-8"))


@pytest.mark.slow
def test_captions_name_the_area_once_and_england_is_not_compared_with_itself(built_release):
    for code in built_release["codes"]:
        page = (built_release["out"] / "areas" / f"{code}.html").read_text(encoding="utf-8")
        assert not re.search(r"\b([A-Z][\w ,'-]+): \1:", page), code
        assert "Black ticks show England" in page or 'id="nothing"' in page
    england = _text(built_release["out"] / "areas" / "E92000001.html")
    for said in ("black ticks", "Black ticks", "Compared with England", "compares with England"):
        assert said not in england


@pytest.mark.slow
def test_every_state_is_explained(built_release):
    for code in (FEW_MDH_LA, "E92000001"):
        text = _text(built_release["out"] / "areas" / f"{code}.html")
        assert "What the words in place of a number mean" in text
        for state in (
            "suppressed (fewer than 10)",
            "not available",
            "not applicable",
            "Not compared",
            "[c]",
            "[x]",
            "[z]",
        ):
            assert state in text, (code, state)
    index = _text(built_release["out"] / "index.html")
    assert "not applicable" in index and "not available" in index


@pytest.mark.slow
def test_pages_state_what_the_figures_cover(built_release):
    for code in ("E06000001", "E92000001"):
        text = " ".join(_text(built_release["out"] / "areas" / f"{code}.html").split())
        assert "What these figures cover" in text
        assert "children aged 5 to 15 at the reference date" in text
        assert "Reference date 21 March 2021" in text
        assert "5 years after the reference date (to 21 March 2026)" in text
        assert "Census 2021" in text
        assert "Social care data extracted 21 March 2026" in text
        assert (
            "A child is counted as living in a multidimensionally disadvantaged household "
            "(MDH) when deprived in at least 2 of the 5 indicators below"
        ) in text
        for words in (
            "not a full-time student is unemployed or long-term sick or disabled",
            "no member has at least level 2 qualifications",
            "bad or very bad general health",
            "overcrowded, in a shared dwelling or has no central heating",
            "eligible for free school meals in the school census",
            "census household deprivation dimensions",
        ):
            assert words in text, (code, words)
    index = " ".join(_text(built_release["out"] / "index.html").split())
    assert "at least 2 of the 5 indicators" in index and "21 March 2021" in index


def test_period_and_definition_come_from_the_configuration():
    config = {
        "input": {"source": "synthetic"},
        "synthetic": {"census_year": 2011},
        "population": {"min_age": 4, "max_age": 16, "reference_date": None},
        "outcomes": {"follow_up_years": 3, "extract_date": "2013-06-30"},
        "index": {
            "weights": dict.fromkeys(("employment", "education", "health", "housing"), 0.25),
            "k": 0.75,
        },
    }
    items = dict(profile_html.period_items({"config": config}))
    assert items["Ages"].startswith("children aged 4 to 16")
    assert items["Reference date"] == "census day of the 2011 census"
    assert items["Follow-up for social care contacts"] == "3 years after the reference date"
    assert items["Census"].startswith("Census 2011")
    assert items["Social care data extracted"].startswith("30 June 2013")
    # the derivation's dates win over the configuration's
    dated = dict(profile_html.period_items({"config": config}, {"reference_date": "2011-03-27"}))
    assert dated["Reference date"] == "27 March 2011"
    assert "(to 27 March 2014)" in dated["Follow-up for social care contacts"]
    definition = profile_html.index_definition({"config": config})
    assert "deprived in at least 3 of the 4 indicators" in definition["sentence"]
    assert [i["label"] for i in definition["indicators"]] == [
        "Employment",
        "Education",
        "Health and disability",
        "Housing",
    ]
    unequal = {
        "index": {"weights": {"employment": 0.3, "fsm": 0.5, "health": 0.2, "housing": 0}, "k": 0.5}
    }
    definition = profile_html.index_definition({"config": unequal})
    assert "weights add up to at least 0.5" in definition["sentence"]
    assert len(definition["indicators"]) == 3  # a zero weight is not an indicator
    ever = {**unequal, "population": {"fsm_measure": "ever_fsm_6"}}
    assert "EVERFSM_6" in profile_html.index_definition({"config": ever})["indicators"][1]["text"]
    assert profile_html.period_items({}) == [] and profile_html.index_definition({}) == {}


@pytest.mark.slow
def test_each_interval_is_named_and_the_comparison_says_which(built_release):
    text = " ".join(page(built_release, "E06000001").split())
    # the prevalence: Wilson, and the badge says it is compared on that interval
    assert re.search(r"of children \(95% CI [\d.]+ to [\d.]+, Wilson interval\)", text)
    assert "(compared on the Wilson interval)" in text
    # M0 and H: the household-clustered interval, named in the index table's headers
    assert "(compared on the household-clustered interval)" in text
    assert "95% confidence interval (household-clustered)" in text
    assert "H is the Child-MDH prevalence above, as a proportion" in text
    assert "(Byar or exact Poisson interval)" in text


def test_the_cut_off_in_words():
    equal = {"config": {"index": {"weights": dict.fromkeys("abcde", 0.2), "k": 0.4}}}
    assert profile_html.cut_off_text(equal).startswith(
        "deprived in at least 2 of the 5 indicators (a, b, c, d, e)"
    )
    four = {"config": {"index": {"weights": dict.fromkeys("abcd", 0.25), "k": 1 / 3}}}
    assert "at least 2 of the 4 indicators" in profile_html.cut_off_text(four)
    unequal = {"config": {"index": {"weights": {"a": 0.5, "b": 0.25, "c": 0.25}, "k": 0.5}}}
    assert "weights add up to at least 0.5" in profile_html.cut_off_text(unequal)
    assert profile_html.cut_off_text({}) == ""


def test_the_steps_read_the_dates_from_the_derivation_report(tmp_path):
    from types import SimpleNamespace

    from child_mdh.steps.profiles import _period

    report = tmp_path / "derive_report.json"
    report.write_text(
        json.dumps(
            {
                "census_year": 2021,
                "reference_date": "2021-03-21",
                "extract_date": None,
                "children_n": 12251,
            }
        )
    )
    smk = SimpleNamespace(input=SimpleNamespace(derive_report=str(report)))
    assert _period(smk) == {"census_year": 2021, "reference_date": "2021-03-21"}
    assert _period(SimpleNamespace(input=SimpleNamespace())) == {}


@pytest.mark.slow
def test_a_page_built_after_others_is_the_page_built_alone(built_release, tmp_path):
    """What the pages share is computed once per table (child_mdh.release.profiles.memo):
    each page of a chunk equals the page built alone, from tables read afresh."""
    import shutil

    from child_mdh.release.profiles.build import la_chunks, withheld_from_manifest
    from child_mdh.release.sdc import SDCConfig

    built = built_release["out"]
    parts = built_release["release"].parent / "parts"
    release = tmp_path / "release"
    out = release / "profiles"
    shutil.copytree(built / "tables", out / "tables")
    withheld = withheld_from_manifest(
        Manifest.read(parts / "profile_tables.json", release), out / "tables"
    )
    for i, chunk in enumerate(la_chunks(built_release["codes"], 2)):
        for code in chunk:
            manifest = Manifest(release, f"alone_{code}", SDCConfig(mitigation="both"))
            build_profiles(
                read_profile_tables(out / "tables", withheld),
                [code],
                out,
                manifest,
                tables_dir=out / "tables",
                png=(i == 0),
                **built_release["common"],
            )
            for name in (f"{code}.html", f"{code}_indicators.csv"):
                assert (out / "areas" / name).read_bytes() == (built / "areas" / name).read_bytes()
            xlsx = f"{code}_indicators.xlsx"
            pd.testing.assert_frame_equal(
                read_workbook_table(out / "areas" / xlsx, keep_shorthand=True),
                read_workbook_table(built / "areas" / xlsx, keep_shorthand=True),
            )
