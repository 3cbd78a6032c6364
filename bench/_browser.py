"""What the dashboard benchmarks share: a real dashboard process, headless Chromium driving it over the
DevTools protocol (tests/browser/cdp.py), the time a page takes to settle, and a process's CPU."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.browser.cdp import Chromium, Page, chromium_path
from tests.browser.navigation import IDLE, PASSWORD, TITLE

# Sidebar link -> the page's title.
PAGES = {"Overview": "Overview", "Markets": "Markets", "Orders & trades": "Orders & trades",
         "Strategies": "Strategies", "Risk": "Risk", "Settings": "Settings", "Backtest": "Backtest",
         "Audit & alerts": "Audit & alerts"}
WIDTH, HEIGHT = 1366, 900  # a laptop's window, as the issue measured
QUIET_S = 0.5  # idle this long after the title shows: no rerun the run asked for is still to come
POLL_S = 0.02


def require_chromium() -> None:
    if chromium_path() is None:
        raise SystemExit("Debian's `chromium` is not installed (apt-get install -y chromium): this benchmark drives "
                         "a real browser")


def cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def group_cpu_seconds(pgid: int) -> float:
    """The CPU every live process of a process group has used so far (Chromium's browser, renderer and GPU
    processes: tests/browser/cdp.py starts it in a session of its own)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        if int(fields[2]) == pgid:
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


@contextmanager
def browser(tmp: Path) -> Iterator[Chromium]:
    chromium = Chromium(tmp / "chromium-profile", tmp / "chromium.log")
    try:
        yield chromium
    finally:
        chromium.close()


async def open_tab(chromium: Chromium) -> Page:
    page = await Page.open(chromium.page_ws_url())
    await page.viewport(WIDTH, HEIGHT)
    return page


async def _idle(page: Page) -> bool:
    try:
        return bool(await page.evaluate(IDLE))
    except AssertionError as exc:  # a page switch replaced the document under the look
        if "navigated or closed" not in str(exc):
            raise
        return False


async def settle_time(page: Page, title: str, began: float, timeout: float = 120.0) -> float:
    """Seconds from `began` until the page titled `title` is shown with no script run in progress, the
    last such moment before QUIET_S without a run (a rerun the page asks for counts in its time)."""
    deadline = began + timeout
    settled_at: float | None = None
    while time.perf_counter() < deadline:
        now = time.perf_counter()
        shown = await page.evaluate(TITLE) == title
        if shown and await _idle(page):
            settled_at = settled_at or now
            if now - settled_at >= QUIET_S:
                return settled_at - began
        else:
            settled_at = None
        await asyncio.sleep(POLL_S)
    state = await page.evaluate("[(document.querySelector('[data-testid=\"stApp\"]') || {getAttribute: () => null})"
                                ".getAttribute('data-test-script-state'), "
                                "!!document.querySelector('[data-testid=\"stStatusWidget\"]'), "
                                "(document.querySelector('h1') || {}).innerText]")
    raise RuntimeError(f"{title} did not settle within {timeout:.0f} s (script state, status widget, title: {state})")


async def log_in(page: Page, url: str, *, typing_s: float = 0.0) -> float:
    """Seconds from pressing "Log in" to the Overview settled; `typing_s`: how long the form is shown before
    the password is typed (a person reads and types it)."""
    await page.navigate(url)
    await page.wait_for("!!document.querySelector('.st-key-password input')", 90, what="the login form")
    await asyncio.sleep(typing_s)
    await page.evaluate("document.querySelector('.st-key-password input').focus()")
    await page.type_text(PASSWORD)
    began = time.perf_counter()
    await page.evaluate("[...document.querySelectorAll('[data-testid=\"stForm\"] button')]"
                        ".find(b => b.innerText.includes('Log in')).click()")
    return await settle_time(page, "Overview", began)


async def open_page(page: Page, link: str) -> float:
    """Seconds from clicking the page's link in the sidebar to the page settled."""
    began = time.perf_counter()
    await page.evaluate(f"[...document.querySelectorAll('[data-testid=\"stSidebarNav\"] a')]"
                        f".find(a => a.innerText.includes({link!r})).click()")
    return await settle_time(page, PAGES[link], began)
