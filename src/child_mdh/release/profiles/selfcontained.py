"""Check that an HTML page loads nothing: no network, no file outside the page.

A profile must open from a USB stick in a secure environment with no network. This
reads a page's markup (Python's ``html.parser``) and lists every reference that would
make a browser fetch something: a ``src``, ``srcset``, ``data``, ``poster`` or
``xlink:href`` that is not a ``data:`` URI, a stylesheet ``<link>`` or any ``<link>``
with an ``href``, a ``<script>`` (inline or not), ``<iframe>``/``<object>``/``<embed>``,
a CSS ``url(...)`` or ``@import`` that is not a ``data:`` URI, and any link (``href``,
``action``) to an absolute address (``http:``, ``https:``, ``//``, ``ftp:``, ``file:``).
Relative links between pages (``<a href="areas/E06000001.html">``) are allowed: they
load nothing until the reader follows them.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

ABSOLUTE = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:|//)", re.IGNORECASE)
CSS_URL = re.compile(r"url\(\s*['\"]?\s*([^'\")\s]*)", re.IGNORECASE)
CSS_IMPORT = re.compile(r"@import", re.IGNORECASE)
FETCHING = ("src", "srcset", "data", "poster", "xlink:href", "background", "lowsrc")
EMBEDDING_TAGS = (
    "iframe",
    "frame",
    "object",
    "embed",
    "applet",
    "audio",
    "video",
    "source",
    "track",
    "base",
)
SAFE_SCHEMES = ("data:",)


def _is_data(value: str) -> bool:
    return value.strip().lower().startswith(SAFE_SCHEMES)


class _Scanner(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._in_style = False

    def _css(self, text: str, where: str) -> None:
        for url in CSS_URL.findall(text):
            if url and not _is_data(url) and not url.startswith("#"):
                self.problems.append(f"{where}: CSS url({url})")
        if CSS_IMPORT.search(text):
            self.problems.append(f"{where}: CSS @import")

    def handle_starttag(self, tag, attrs):
        tag = tag.lower()
        a = {k.lower(): (v or "") for k, v in attrs}
        if tag == "script":
            self.problems.append(f"<script{' src=' + a['src'] if 'src' in a else ''}>")
        if tag in EMBEDDING_TAGS:
            self.problems.append(f"<{tag}>")
        if tag == "link" and ("href" in a or "stylesheet" in a.get("rel", "").lower()):
            self.problems.append(f"<link rel={a.get('rel', '')} href={a.get('href', '')}>")
        for key in FETCHING:
            if key in a and not _is_data(a[key]):
                self.problems.append(f"<{tag} {key}={a[key]}>")
        for key in ("href", "action", "formaction", "ping", "cite"):
            if tag == "link" and key == "href":
                continue  # every <link href> is reported above
            if (
                key in a
                and ABSOLUTE.match(a[key])
                and not _is_data(a[key])
                and not (key == "href" and a[key].startswith("#"))
            ):
                self.problems.append(f"<{tag} {key}={a[key]}>")
        if tag == "meta" and a.get("http-equiv", "").lower() == "refresh":
            self.problems.append("<meta http-equiv=refresh>")
        if "style" in a:
            self._css(a["style"], f"<{tag} style>")
        if tag == "style":
            self._in_style = True

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if tag.lower() == "style":
            self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self._css(data, "<style>")


def external_references(page: str) -> list[str]:
    """Every reference in ``page`` that would make a browser load something (empty: none).

    Method: the HTML is parsed tag by tag (module docstring lists what counts); SVG
    ``xmlns`` declarations are names, not fetches, and are not reported.
    """
    scanner = _Scanner()
    scanner.feed(page)
    scanner.close()
    return list(dict.fromkeys(scanner.problems))
