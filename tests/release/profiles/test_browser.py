"""The pages in headless Chromium: they render, and they load nothing from outside.

Chromium comes from the system (Debian package ``chromium``); the tests skip when it is
absent unless ``CHILD_MDH_REQUIRE_BROWSER=1``, when they fail instead. Every request the
browser makes is sent to a local recording proxy: the page's own requests must be none.
Chromium's own background calls (update and time checks, also made for a blank page)
are told apart by running a blank page first; a deliberately bad page shows that the
proxy does see a page's requests.
"""

import socket
import subprocess
import threading
from pathlib import Path

import numpy as np
import pytest
from browser import chromium

#: headless Chromium renders: the slow tier
pytestmark = [pytest.mark.browser, pytest.mark.slow]

#: Hosts Chromium contacts by itself (component updates, clock checks, sign-in).
BROWSER_OWN_HOSTS = {
    "clients2.google.com",
    "android.clients.google.com",
    "update.googleapis.com",
    "accounts.google.com",
    "clientservices.googleapis.com",
    "optimizationguide-pa.googleapis.com",
    "safebrowsingohttpgateway.googleapis.com",
    "redirector.gvt1.com",
}


class RecordingProxy:
    """An HTTP proxy on 127.0.0.1 that records each request line and answers 403."""

    def __init__(self):
        self.requests: list[str] = []
        self.server = socket.socket()
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(64)
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            try:
                conn.settimeout(2)
                first = conn.recv(4096).split(b"\r\n", 1)[0].decode("latin-1")
                self.requests.append(first)
                conn.sendall(
                    b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                )
            except OSError:
                pass
            finally:
                conn.close()

    def hosts(self) -> set[str]:
        out = set()
        for line in self.requests:
            parts = line.split()
            if len(parts) < 2:
                continue
            target = parts[1]
            host = target.split("://", 1)[-1].split("/", 1)[0].rsplit(":", 1)[0]
            out.add(host.lower())
        return out

    def close(self):
        self.server.close()


def run_browser(page: Path | str, tmp_path: Path, screenshot: Path | None = None):
    """Open ``page`` headless through the recording proxy; return (DOM, hosts contacted)."""
    exe = chromium()
    proxy = RecordingProxy()
    profile = tmp_path / f"profile-{len(list(tmp_path.iterdir()))}"
    url = page if isinstance(page, str) else page.resolve().as_uri()
    args = [
        exe,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        f"--proxy-server=http://127.0.0.1:{proxy.port}",
        "--proxy-bypass-list=<-loopback>",
        "--window-size=1200,2000",
        "--dump-dom",
    ]
    if screenshot is not None:
        args.append(f"--screenshot={screenshot}")
    try:
        result = subprocess.run([*args, url], capture_output=True, text=True, timeout=120)
    finally:
        proxy.close()
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout, proxy.hosts()


@pytest.fixture(scope="module")
def browser_baseline(tmp_path_factory):
    """Hosts Chromium contacts for a blank page (its own background calls)."""
    tmp = tmp_path_factory.mktemp("blank")
    blank = tmp / "blank.html"
    blank.write_text("<!DOCTYPE html><html><body>blank</body></html>")
    _, hosts = run_browser(blank, tmp)
    return hosts | BROWSER_OWN_HOSTS


def test_profile_page_renders_and_loads_nothing(built_release, browser_baseline, tmp_path):
    page = built_release["out"] / "areas" / "E06000001.html"
    shot = tmp_path / "page.png"
    dom, hosts = run_browser(page, tmp_path, screenshot=shot)
    assert hosts - browser_baseline == set()
    assert "Hartlepool" in dom and "<svg" in dom and "Key figures" in dom
    assert "Local information supplied by the council" in dom
    from PIL import Image

    image = np.asarray(Image.open(shot).convert("RGB"))
    assert image.shape[:2] == (2000, 1200)
    colours = np.unique(image.reshape(-1, 3), axis=0)
    assert len(colours) > 200  # text, charts and badges, not a blank page
    assert (image < 250).any(axis=2).mean() > 0.05


def test_index_and_small_area_pages_load_nothing(built_release, browser_baseline, tmp_path):
    for page in (
        built_release["out"] / "index.html",
        built_release["out"] / "areas" / "E06000004.html",
    ):
        dom, hosts = run_browser(page, tmp_path)
        assert hosts - browser_baseline == set(), page.name
        # the small area has nothing publishable: its page is one line
        assert "</table>" in dom or "Nothing can be published for" in dom


def test_the_proxy_sees_a_page_that_loads_from_outside(browser_baseline, tmp_path):
    bad = tmp_path / "bad.html"
    bad.write_text(
        '<!DOCTYPE html><html><head><link rel="stylesheet" '
        'href="https://example.com/a.css"></head><body>'
        '<img src="http://example.org/x.png"></body></html>'
    )
    _, hosts = run_browser(bad, tmp_path)
    assert {"example.com", "example.org"} <= hosts - browser_baseline
