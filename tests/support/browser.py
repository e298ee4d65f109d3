"""Headless Chromium for the page tests: found on the system, or the test skips.

Chromium comes from the system (Debian package ``chromium``). Without it the browser
tests skip, unless ``CHILD_MDH_REQUIRE_BROWSER=1``, when they fail instead.
"""

import base64
import contextlib
import json
import os
import select
import shutil
import subprocess
from pathlib import Path

import pytest


def chromium() -> str:
    """The path of the Chromium executable (skips, or fails when it is required)."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None and Path("/usr/bin/chromium").exists():
        path = "/usr/bin/chromium"
    if path is None:
        if os.environ.get("CHILD_MDH_REQUIRE_BROWSER") == "1":
            pytest.fail(
                "CHILD_MDH_REQUIRE_BROWSER=1 but chromium is not installed "
                "(apt-get install chromium)"
            )
        pytest.skip("chromium is not installed (set CHILD_MDH_REQUIRE_BROWSER=1 to require it)")
    return path


class DevTools:
    """Headless Chromium driven through the DevTools protocol over a pipe.

    Unlike ``--window-size`` (whose smallest headless window is 500 pixels wide), the
    protocol's device metrics lay a page out at any width, as a phone would. Use as a
    context manager; :meth:`send` runs one command (on the page once :meth:`open` has
    attached to it) and returns its result.
    """

    def __init__(self, user_data_dir: Path):
        exe = chromium()
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def pipes_as_3_and_4():  # the protocol's file descriptors in the child
            read_end, write_end = os.dup(to_browser_r), os.dup(from_browser_w)
            os.dup2(read_end, 3)
            os.dup2(write_end, 4)

        self.process = subprocess.Popen(
            [
                exe,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                "--remote-debugging-pipe",
                f"--user-data-dir={user_data_dir}",
                "about:blank",
            ],
            close_fds=False,
            preexec_fn=pipes_as_3_and_4,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._id = 0
        self.session = None
        self.events: list[dict] = []

    def _read(self) -> dict:
        while b"\0" not in self._buffer:
            ready, _, _ = select.select([self._from_browser], [], [], 60)
            chunk = os.read(self._from_browser, 1 << 20) if ready else b""
            if not chunk:
                raise RuntimeError("chromium stopped answering on its DevTools pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def send(self, method: str, params: dict | None = None, *, page: bool = True) -> dict:
        self._id += 1
        message = {"id": self._id, "method": method, "params": params or {}}
        if page and self.session is not None:
            message["sessionId"] = self.session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read()
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, event: str) -> dict:
        while True:
            for i, e in enumerate(self.events):
                if e.get("method") == event:
                    return self.events.pop(i)
            self.events.append(self._read())

    def open(self, url: str, width: int, height: int, *, mobile: bool) -> None:
        """Load ``url`` in a page laid out ``width`` x ``height`` CSS pixels."""
        target = self.send("Target.createTarget", {"url": "about:blank"}, page=False)
        self.session = self.send(
            "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}, page=False
        )["sessionId"]
        self.resize(width, height, mobile=mobile)
        self.send("Page.enable")
        self.events.clear()
        self.send("Page.navigate", {"url": url})
        self.wait_for("Page.loadEventFired")

    def resize(self, width: int, height: int, *, mobile: bool) -> None:
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile},
        )

    def evaluate(self, expression: str):
        """The value of a JavaScript expression in the page (DevTools runs it even where
        the page's Content-Security-Policy forbids scripts)."""
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in result:
            raise RuntimeError(str(result["exceptionDetails"])[:2000])
        return result["result"].get("value")

    def screenshot(self, path: Path) -> None:
        data = self.send("Page.captureScreenshot", {"format": "png"})["data"]
        Path(path).write_bytes(base64.b64decode(data))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        with contextlib.suppress(OSError, RuntimeError):
            self.send("Browser.close", page=False)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._to_browser)
        os.close(self._from_browser)
