"""What the browser walk checks on a phone's width and across a dashboard restart: at 390 px the
page list closes once a page is chosen (it is drawn over the page there), the Overview's six
controls take two rows, not a screen, and no table is cut at the right edge (one wider than the
phone scrolls sideways in its frame); a tab left open while the dashboard restarts comes back with
the app's page list and Log out, on the page it showed, without a click."""

from __future__ import annotations

import asyncio

from tests.browser.cdp import Page
from tests.browser.layout import HEIGHT, WIDTH
from tests.browser.navigation import healthy, open_page, settled
from tests.helpers import wait_until
from tests.supervisor_harness import Supervisor

PHONE = (390, 844)
# The sidebar's box, and whether its close button is there (only while it is open).
SIDEBAR = """(s => ({left: Math.round(s.getBoundingClientRect().left),
  open: !!document.querySelector('[data-testid="stSidebarCollapseButton"] button')}))
  (document.querySelector('[data-testid="stSidebar"]'))"""
OPEN_SIDEBAR = "document.querySelector('[data-testid=\"stExpandSidebarButton\"]').click()"
CONTROL_TOPS = """['start', 'pause', 'resume', 'stop', 'kill', 'rearm']
  .map(k => [...document.querySelectorAll(`.st-key-btn_${k} button`)].map(b => b.getBoundingClientRect())
    .filter(r => r.height > 0).map(r => Math.round(r.top + window.scrollY))[0] || 0)"""
NAV = "[...document.querySelectorAll('[data-testid=\"stSidebarNav\"] a')].map(a => a.innerText.trim())"
# Tables (in view) wider than their frame whose frame does not scroll sideways: their last columns are cut off
# at the right edge with no way to reach them (Streamlit clips a table's frame).
CUT_TABLES = """[...document.querySelectorAll('[data-testid="stTable"]')]
  .filter(t => t.getBoundingClientRect().width > 0)
  .map(t => ({headers: [...t.querySelectorAll('th')].slice(0, 3).map(h => h.innerText.trim()).join(' | '),
              wide: (t.querySelector('table') || t).scrollWidth, shown: t.clientWidth,
              scrolls: /auto|scroll/.test(getComputedStyle(t).overflowX)}))
  .filter(t => t.wide > t.shown + 1 && !t.scrolls)"""
LOGOUT = "!!document.querySelector('.st-key-logout button')"


async def on_a_phone(page: Page) -> None:
    """390 × 844: the page list, opened and a page chosen, closes; the controls take two rows."""
    await page.viewport(*PHONE)
    try:
        await page.wait_for("window.innerWidth", 10, what="the phone's width", check=lambda w: w == PHONE[0])
        await page.evaluate(OPEN_SIDEBAR)
        await page.wait_for(SIDEBAR, 10, what="the page list open", check=lambda s: s["open"] and s["left"] >= 0)
        await open_page(page, "Overview", "Overview")
        await page.wait_for(SIDEBAR, 10, what="the page list closed once a page was chosen",
                            check=lambda s: not s["open"])
        tops = await page.wait_for(CONTROL_TOPS, 20, what="the controls laid out", check=lambda t: min(t) > 0)
        assert len(set(tops)) <= 2, f"the six controls take {len(set(tops))} rows at {PHONE[0]} px: {tops}"
        # Every table's columns within reach: one wider than the phone scrolls sideways in its own frame.
        for link, title in (("Overview", "Overview"), ("Orders & trades", "Orders & trades")):
            if title != "Overview":
                await page.evaluate(OPEN_SIDEBAR)
                await page.wait_for(SIDEBAR, 10, what="the page list open", check=lambda s: s["open"])
                await open_page(page, link, title)
            cut = await page.evaluate(CUT_TABLES)
            assert cut == [], f"{title} at {PHONE[0]} px: tables cut at the right edge, out of reach: {cut}"
    finally:
        await page.viewport(WIDTH, HEIGHT)


async def across_a_restart(page: Page, sup: Supervisor, url: str, title: str) -> None:
    """The dashboard restarts under an open tab: once it is back the tab shows the app's page list and Log
    out again, on the same page, with nobody clicking."""
    before = await page.evaluate(NAV)
    old = sup.wait_running("dashboard")
    rpc = sup.rpc()
    rpc.supervisor.stopProcess("dashboard")
    rpc.supervisor.startProcess("dashboard")
    await asyncio.to_thread(sup.wait_running, "dashboard", 60, old)
    await asyncio.to_thread(wait_until, lambda: healthy(url), 60, 0.25, "the dashboard's health after its restart")
    await page.wait_for(f"[{NAV}, {LOGOUT}]", 60, what="the app's page list and Log out back without a click",
                        check=lambda found: found[0] == before and found[1])
    await settled(page, title)
