"""A profile page laid out by headless Chromium at 1280 and 390 pixels wide.

The page is opened as released (its Content-Security-Policy and all) through the
DevTools protocol, whose device metrics lay it out at 390 CSS pixels as a phone would
(a headless window cannot be narrower than 500). A small script evaluated in the page
then records what the browser laid out: the page's ``scrollWidth``, the elements that
reach past the right edge outside a sideways-scrolling table wrapper, the spine chart's
rows, the visible headings and the smallest text. A screenshot of the whole page is
taken at each width and checked for the page's colours.

Screenshots are kept in ``CHILD_MDH_SCREENSHOTS`` when it names a folder. The page is
the test release's Hartlepool page, or ``CHILD_MDH_LAYOUT_PAGE`` when it names one (a
page of a real run). Chromium comes from the system: the test skips without it unless
``CHILD_MDH_REQUIRE_BROWSER=1``.
"""

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from browser import DevTools

#: headless Chromium renders: the slow tier
pytestmark = [pytest.mark.browser, pytest.mark.slow]

#: pixels a page may be wider than the window (rounding of fractional widths)
TOLERANCE = 2
#: the tallest screenshot taken (CSS pixels)
MAX_HEIGHT = 24000

PROBE = (
    """(function () {
  var w = window.innerWidth;
  var over = [];
  document.querySelectorAll("body *").forEach(function (el) {
    var r = el.getBoundingClientRect();
    if (r.width > 0 && r.right > w + __TOLERANCE__ && !el.closest(".table-wrap")) {
      over.push(el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
                " right=" + Math.round(r.right));
    }
  });
  var spines = Array.prototype.map.call(document.querySelectorAll("svg.spine"), function (s) {
    var r = s.getBoundingClientRect();
    return [Math.round(r.width), Math.round(r.height)];
  });
  var headings = Array.prototype.filter.call(document.querySelectorAll("h1, h2"), function (h) {
    var r = h.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  }).map(function (h) { return h.textContent.trim().replace(/\\s+/g, " "); });
  var sizes = Array.prototype.map.call(document.querySelectorAll("main p, main td, main dd"),
    function (e) { return parseFloat(getComputedStyle(e).fontSize); });
  return {
    innerWidth: w,
    scrollWidth: document.documentElement.scrollWidth,
    bodyScrollWidth: document.body.scrollWidth,
    height: document.documentElement.scrollHeight,
    overflowing: over.slice(0, 20),
    wrappers: document.querySelectorAll(".table-wrap").length,
    tables: document.querySelectorAll("table").length,
    spines: spines,
    headings: headings,
    smallestText: Math.min.apply(null, sizes)
  };
})()"""
).replace("__TOLERANCE__", str(TOLERANCE))


def lay_out(page: Path, width: int, shot: Path, tmp_path: Path) -> tuple[dict, np.ndarray]:
    """What Chromium laid out for ``page`` at ``width`` CSS pixels, and a screenshot of
    the whole page (up to ``MAX_HEIGHT``)."""
    from PIL import Image

    with DevTools(tmp_path / f"profile-{width}") as browser:
        browser.open(page.resolve().as_uri(), width, 1000, mobile=width < 600)
        got = browser.evaluate(PROBE)
        browser.resize(width, min(int(got["height"]), MAX_HEIGHT), mobile=width < 600)
        browser.screenshot(shot)
    return got, np.asarray(Image.open(shot).convert("RGB"))


@pytest.fixture
def layout_page(request) -> Path:
    chosen = os.environ.get("CHILD_MDH_LAYOUT_PAGE")
    if chosen:
        return Path(chosen)
    return request.getfixturevalue("built_release")["out"] / "areas" / "E06000001.html"


@pytest.mark.parametrize("width", [1280, 390])
def test_page_fits_the_window_and_its_charts_render(layout_page, width, tmp_path):
    shot = tmp_path / f"{layout_page.stem}_{width}.png"
    got, image = lay_out(layout_page, width, shot, tmp_path)
    keep = os.environ.get("CHILD_MDH_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / shot.name)

    assert got["innerWidth"] == width
    # nothing makes the page scroll sideways: wide tables scroll inside their wrapper
    assert got["scrollWidth"] <= width + TOLERANCE, got
    assert got["bodyScrollWidth"] <= width + TOLERANCE, got
    assert got["overflowing"] == [], got["overflowing"]
    assert got["wrappers"] == got["tables"] > 0
    # the headings render; the spine chart has a visible row per indicator
    headings = " | ".join(got["headings"])
    for heading in ("Key figures", "What these figures cover", "among the local authorities"):
        assert heading in headings, headings
    assert len(got["spines"]) >= 8
    assert all(w >= 150 and h >= 12 for w, h in got["spines"]), got["spines"]
    # readable text: nothing in the page's paragraphs, tables and lists below 12 px
    assert got["smallestText"] >= 12, got["smallestText"]

    # the screenshot: the whole page at this width, not blank, and what it shows is the
    # page: its dark blue header across the full width, the spine chart's grey band
    assert image.shape[1] == width and image.shape[0] >= min(got["height"], MAX_HEIGHT) - 1
    assert (image < 250).any(axis=2).mean() > 0.05
    header = np.abs(image[5].astype(int) - [11, 61, 99]).sum(axis=1)
    assert (header < 30).all()
    band = (np.abs(image.astype(int) - [140, 140, 140]).sum(axis=2) < 6).sum()
    assert band > 8 * 50  # eight or more rows of the 25th-75th percentile band
    # no column of the right-hand edge is cut: the page's content ends inside the window
    assert got["scrollWidth"] == image.shape[1] or got["scrollWidth"] < image.shape[1]
