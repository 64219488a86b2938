"""A real headless Chromium, driven over the DevTools protocol, for the report test.

``HeadlessChromium`` starts Debian's ``chromium`` with a fresh profile and a
DevTools port chosen by the browser (read back from ``DevToolsActivePort``),
opens a page in a new tab through one WebSocket (``websocket-client``), and
records what a user would not see: console errors, uncaught exceptions, failed
loads, and every request that leaves the machine. It can evaluate JavaScript
and take a full-page PNG screenshot.

Kept out of ``conftest.py`` so that it is imported where it is used; also a
script, to take the screenshot committed under ``docs/``::

    python tests/chromium.py REPORT.html SCREENSHOT.png [--width 1366]
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import websocket

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--mute-audio", "--remote-allow-origins=*",
         "--remote-debugging-port=0"]
"""The flags the project runs Chromium with, plus a DevTools port of the
browser's choosing (so parallel test runs never clash)."""

LOCAL_SCHEMES = ("file:", "data:", "about:", "devtools:", "chrome:")


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def needs_chromium(test):
    """Skip ``test`` where Chromium is missing, except under ``CI`` (set by CI
    services): there scripts/test.sh installs it, so a missing browser fails
    the test instead of hiding it, as tests/test_ph.py does for mpi-sppy."""
    import os

    import pytest

    return pytest.mark.skipif(chromium_path() is None and not os.environ.get("CI"),
                              reason="needs chromium (scripts/test.sh installs it)")(test)


class HeadlessChromium:
    """``with HeadlessChromium() as browser: browser.open(path) ...``"""

    def __init__(self, width: int = 1366, height: int = 900, timeout: float = 30.0):
        self.width, self.height, self.timeout = width, height, timeout
        self.proc: subprocess.Popen | None = None
        self.profile: str | None = None
        self.ws: websocket.WebSocket | None = None
        self._id = 0
        self.events: list[dict[str, Any]] = []

    # ------------------------------------------------------------ life cycle
    def __enter__(self) -> HeadlessChromium:
        exe = chromium_path()
        if exe is None:
            raise RuntimeError("chromium not found: run scripts/test.sh (it installs it)")
        self.profile = tempfile.mkdtemp(prefix="wfopt-chromium-")
        self.proc = subprocess.Popen(
            [exe, *FLAGS, f"--user-data-dir={self.profile}",
             f"--window-size={self.width},{self.height}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port = self._wait_for_port()
        req = urllib.request.Request(f"http://127.0.0.1:{port}/json/new?about:blank",
                                     method="PUT")
        with urllib.request.urlopen(req, timeout=self.timeout) as resp:
            target = json.load(resp)
        self.ws = websocket.create_connection(target["webSocketDebuggerUrl"],
                                              timeout=self.timeout, suppress_origin=True)
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable")
        self.send("Emulation.setDeviceMetricsOverride", width=self.width, height=self.height,
                  deviceScaleFactor=1, mobile=False)
        return self

    def _wait_for_port(self) -> int:
        active = Path(self.profile) / "DevToolsActivePort"
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"chromium exited with code {self.proc.returncode}")
            if active.is_file():
                text = active.read_text().split()
                if text:
                    return int(text[0])
            time.sleep(0.05)
        raise RuntimeError("chromium did not open its DevTools port in time")

    def __exit__(self, *exc: Any) -> None:
        if self.ws is not None:
            self.ws.close()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.profile:
            shutil.rmtree(self.profile, ignore_errors=True)

    # ------------------------------------------------------------ protocol
    def send(self, method: str, **params: Any) -> dict[str, Any]:
        """Send one command and wait for its answer, keeping the events that
        arrive meanwhile."""
        self._id += 1
        self.ws.send(json.dumps({"id": self._id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self._id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def wait_for(self, method: str) -> dict[str, Any]:
        """Wait for an event (one already received counts)."""
        for e in self.events:
            if e["method"] == method:
                return e
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            msg = json.loads(self.ws.recv())
            if "method" in msg:
                self.events.append(msg)
                if msg["method"] == method:
                    return msg
        raise TimeoutError(method)

    # ------------------------------------------------------------ pages
    def open(self, path: str | Path) -> None:
        """Load a local file and wait until it and its images are ready."""
        self.events.clear()
        self.send("Page.navigate", url=Path(path).resolve().as_uri())
        self.wait_for("Page.loadEventFired")
        self.evaluate("Promise.all(Array.from(document.images).map(i => i.decode()))"
                      ".then(() => true)")

    def evaluate(self, expression: str) -> Any:
        res = self.send("Runtime.evaluate", expression=expression, awaitPromise=True,
                        returnByValue=True)
        if "exceptionDetails" in res:
            raise RuntimeError(f"JavaScript failed: {res['exceptionDetails']}")
        return res["result"].get("value")

    def console_errors(self) -> list[str]:
        """Console errors, uncaught exceptions and browser log errors (failed
        loads among them) since the page was opened."""
        out = []
        for e in self.events:
            p = e.get("params", {})
            if e["method"] == "Runtime.consoleAPICalled" and p.get("type") in ("error",
                                                                                "assert"):
                out.append(" ".join(str(a.get("value", a.get("description", "")))
                                    for a in p.get("args", [])))
            elif e["method"] == "Runtime.exceptionThrown":
                out.append(p["exceptionDetails"].get("text", "exception"))
            elif e["method"] == "Log.entryAdded" and p["entry"].get("level") == "error":
                out.append(p["entry"].get("text", "log error"))
            elif e["method"] == "Network.loadingFailed":
                out.append(f"failed to load: {p.get('errorText')}")
        return out

    def remote_requests(self) -> list[str]:
        """URLs the page asked for that are not local (file, data)."""
        return [e["params"]["request"]["url"] for e in self.events
                if e["method"] == "Network.requestWillBeSent"
                and not e["params"]["request"]["url"].startswith(LOCAL_SCHEMES)]

    def screenshot(self, path: str | Path, full_page: bool = True) -> Path:
        """A PNG of the page (all of it, or the viewport)."""
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            size = self.send("Page.getLayoutMetrics")["cssContentSize"]
            params.update(captureBeyondViewport=True, clip={
                "x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1})
        data = self.send("Page.captureScreenshot", **params)["data"]
        path = Path(path)
        path.write_bytes(base64.b64decode(data))
        return path


def main(argv: list[str]) -> int:
    """``python tests/chromium.py REPORT.html OUT.png [--width N]``."""
    args = list(argv)
    width = 1366
    if "--width" in args:
        k = args.index("--width")
        width = int(args[k + 1])
        del args[k:k + 2]
    if len(args) != 2:
        print(main.__doc__, file=sys.stderr)
        return 2
    with HeadlessChromium(width=width) as browser:
        browser.open(args[0])
        errors = browser.console_errors()
        browser.screenshot(args[1])
    for e in errors:
        print(f"console error: {e}", file=sys.stderr)
    print(f"screenshot written to {args[1]}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
