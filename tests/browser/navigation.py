"""Moving around the dashboard in the browser as an operator does: log in, open a page from the
sidebar, wait until its script run has settled, click. Shared by the browser tests."""

from __future__ import annotations

import asyncio

from tests.browser.cdp import Page, http_get

PASSWORD = "browser test password"
EXCEPTIONS = "document.querySelectorAll('[data-testid=\"stException\"]').length"
RUNNING = "document.querySelectorAll('[data-testid=\"stStatusWidget\"]').length"
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
    quiet = 0
    for _ in range(80):
        quiet = quiet + 1 if await page.evaluate(RUNNING) == 0 else 0
        if quiet >= 6:
            return
        await asyncio.sleep(0.25)


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
