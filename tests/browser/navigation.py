"""Moving around the dashboard in the browser as an operator does: log in, open a page from the
sidebar, wait until its script run has settled, click. Shared by the browser tests."""

from __future__ import annotations

import asyncio
import time

from tests.browser.cdp import Page, http_get

PASSWORD = "browser test password"
EXCEPTIONS = "document.querySelectorAll('[data-testid=\"stException\"]').length"
# Idle: the app's script-run state (Streamlit sets it on its root the moment a run starts or ends) says
# no run, and no status widget shows. The status widget alone appears only 0.5 s into a run, so a
# check on it needed a long quiet spell to see a run that had just begun; the state has no such lag.
IDLE = """(() => {
  const app = document.querySelector('[data-testid="stApp"]');
  return !!app && app.getAttribute('data-test-script-state') === 'notRunning'
    && !document.querySelector('[data-testid="stStatusWidget"]');
})()"""
QUIET_S = 0.5  # idle this long in a row: a rerun the last run asked for (st.rerun, a callback) has begun
IDLE_POLL_S = 0.1
TITLE = "(document.querySelector('h1') || {}).innerText || ''"


def healthy(url: str) -> bool:
    """The dashboard at `url` answers its health check."""
    try:
        return http_get(f"{url}/_stcore/health") == "ok"
    except OSError:
        return False


async def settled(page: Page, title: str) -> None:
    """The page's title is shown and no script run is in progress for a moment."""
    await page.wait_for(TITLE, 40, what=f"title {title!r}", check=lambda t: t == title)
    deadline = time.monotonic() + 20
    idle_since: float | None = None
    while time.monotonic() < deadline:
        now = time.monotonic()
        idle_since = (idle_since or now) if await _idle(page) else None
        if idle_since is not None and now - idle_since >= QUIET_S:
            return
        await asyncio.sleep(IDLE_POLL_S)


async def _idle(page: Page) -> bool:
    try:
        return bool(await page.evaluate(IDLE))
    except AssertionError as exc:  # a page switch replaced the document under the look: not idle yet
        if "navigated or closed" not in str(exc):
            raise
        return False


async def click(page: Page, selector: str, what: str, *, js: bool = False) -> None:
    """Click the element a CSS `selector` (or, with `js`, a JavaScript expression) finds."""
    element = selector if js else f"document.querySelector({selector!r})"
    await page.wait_for(f"!!({element})", 30, what=what)
    await page.evaluate(f"({element}).click()")


async def login(page: Page, url: str, lands_on: str = "Overview") -> None:
    await page.navigate(url)
    await page.wait_for("!!document.querySelector('.st-key-password input')", 60, what="the login form")
    # A bookmark of a page opened while logged out shows the login, not "Page not found" over it.
    assert not await page.evaluate("document.body.innerText.includes('Page not found')"), url
    await page.evaluate("document.querySelector('.st-key-password input').focus()")
    await page.type_text(PASSWORD)
    await page.evaluate(
        "[...document.querySelectorAll('[data-testid=\"stForm\"] button')]"
        ".find(b => b.innerText.includes('Log in')).click()"
    )
    await settled(page, lands_on)


async def open_page(page: Page, link: str, title: str) -> None:
    """Open a page by its link in the sidebar."""
    await page.evaluate(
        f"[...document.querySelectorAll('[data-testid=\"stSidebarNav\"] a')]"
        f".find(a => a.innerText.includes({link!r})).click()"
    )
    await settled(page, title)
