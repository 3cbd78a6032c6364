"""A tiny Chrome DevTools Protocol client over `websockets`, and headless Chromium to drive.

Just enough for the browser tests: navigate, evaluate JavaScript, type text, take screenshots, and
count the dialogs (alert, confirm, prompt) a page opened.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

# As root, Chromium needs --no-sandbox; the rest keep a headless run quiet and offline.
POLL_S = 0.1  # how often wait_for looks again at a condition not yet met
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,1000",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_get(url: str, timeout: float = 2.0) -> str:
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (127.0.0.1 only)
        return response.read().decode()


def chromium_path() -> str | None:
    return shutil.which("chromium")


# The marks of a test module that drives Chromium: slow, and skipped (saying how to get it) without it.
BROWSER_MARKS = [
    pytest.mark.slow,
    pytest.mark.skipif(chromium_path() is None,
                       reason="Debian's `chromium` is not installed (apt-get install -y chromium; .ci/run does it)"),
]


class Chromium:
    """A headless Chromium with a DevTools port, on a throwaway profile."""

    def __init__(self, profile: Path, log: Path):
        self.port = free_port()
        binary = chromium_path()
        assert binary is not None
        self.log = open(log, "wb")
        self.proc = subprocess.Popen(
            [
                binary,
                *FLAGS,
                f"--user-data-dir={profile}",
                f"--remote-debugging-port={self.port}",
                "about:blank",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def page_ws_url(self, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                targets = json.loads(http_get(f"http://127.0.0.1:{self.port}/json/list"))
                pages = [t for t in targets if t.get("type") == "page"]
                if pages:
                    return str(pages[0]["webSocketDebuggerUrl"])
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError("Chromium's DevTools endpoint did not come up")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()


class Page:
    """One DevTools session on a page target."""

    def __init__(self, ws: ClientConnection):
        self.ws = ws
        self.ids = itertools.count(1)
        # Every alert/confirm/prompt the page opened (answered at once, so the page never hangs on
        # one): a script that ran where none should have.
        self.dialogs: list[str] = []

    @classmethod
    async def open(cls, url: str) -> Page:
        return cls(await connect(url, max_size=64 * 2**20, open_timeout=10))

    async def send(
        self, method: str, params: dict[str, Any] | None = None, timeout: float = 30.0
    ) -> dict[str, Any]:
        call_id = next(self.ids)
        await self.ws.send(json.dumps({"id": call_id, "method": method, "params": params or {}}))
        async with asyncio.timeout(timeout):
            while True:
                message = json.loads(await self.ws.recv())
                if message.get("method") == "Page.javascriptDialogOpening":
                    self.dialogs.append(str(message["params"].get("message", "")))
                    await self.ws.send(json.dumps({"id": next(self.ids), "method": "Page.handleJavaScriptDialog",
                                                   "params": {"accept": True}}))
                if message.get("id") == call_id:  # other events in between are not needed here
                    if "error" in message:
                        raise AssertionError(f"{method} failed: {message['error']}")
                    return dict(message.get("result", {}))

    async def evaluate(self, expression: str) -> Any:
        result = await self.send(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True}
        )
        if "exceptionDetails" in result:
            raise AssertionError(f"JavaScript failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def wait_for(
        self, expression: str, timeout: float = 30.0, what: str = "", check: Callable[[Any], bool] = bool
    ) -> Any:
        deadline = time.monotonic() + timeout
        value = None
        while time.monotonic() < deadline:
            try:
                value = await self.evaluate(expression)
            except AssertionError as exc:
                # Streamlit's own navigation (a page switch, a rerun after login) can replace the
                # document under a poll: the condition is simply not met yet; look again.
                if "navigated or closed" not in str(exc):
                    raise
                await asyncio.sleep(POLL_S)
                continue
            if check(value):
                return value
            await asyncio.sleep(POLL_S)
        text = await self.evaluate("document.body ? document.body.innerText.slice(0, 2000) : ''")
        raise AssertionError(
            f"timed out waiting for {what or expression} (last value {value!r}); page:\n{text}"
        )

    async def viewport(self, width: int, height: int) -> None:
        """The window's size in CSS pixels (Streamlit scrolls inside the app, not the document)."""
        await self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )

    async def navigate(self, url: str) -> None:
        await self.send("Page.enable")
        await self.send("Page.navigate", {"url": url})

    async def reload(self) -> None:
        """Reload through the protocol: `location.reload()` evaluated in the page can lose its own
        answer to the navigation it starts ("Inspected target navigated or closed")."""
        await self.send("Page.reload")

    async def mouse_click(self, x: float, y: float) -> None:
        """A left click at (x, y) in CSS pixels of the window, as a person's (a canvas, such as a data
        grid's, has no element to click)."""
        for kind in ("mousePressed", "mouseReleased"):
            await self.send("Input.dispatchMouseEvent",
                            {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1})

    async def type_text(self, text: str) -> None:
        await self.send("Input.insertText", {"text": text})

    async def screenshot(self, path: Path, *, full: bool = True) -> None:
        """The page (`full`) or just what the window shows."""
        shot = await self.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": full})
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))

    async def close(self) -> None:
        await self.ws.close()
