"""What the browser test checks of a page's layout at a laptop's 1366 × 900 (and a desktop's
1920 × 1080): no table scrolls sideways (each shows the columns a trader decides on, the details
on demand), the decision columns' headers lie wholly inside the window and inside their table's
frame; and a screenshot of the view with the first of them.

Only a browser can tell: where a column lands depends on the fonts, the widths the page gets
and how the table wraps, none of which AppTest sees.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pages.widgets.market_panels import LEADING, SCAN_COLUMNS
from tests.browser.cdp import Page

WIDTH, HEIGHT = 1366, 900
WIDE, TALL = 1920, 1080

# Page title -> the headers an operator must read without scrolling sideways. A header is looked
# for in the tables drawn by pages/widgets/tables.py (HTML, so each header has a box to measure).
KEY_HEADERS: dict[str, tuple[str, ...]] = {
    "Overview": ("market", "strategy", "venue", "size (sh)", "cost (pUSD)", "value (pUSD)", "unrealized PnL (pUSD)"),
    "Orders & trades": ("market", "trade", "price (prob.)", "size (sh)", "filled (sh)", "status", "why it ended",
                        "strategy", "created (UTC)", "venue"),
    "Strategies": ("name", "state", "not trading because", "ledger now", "status", "realized after fees (pUSD)",
                   "open cost (pUSD)"),
    "Risk": ("limit", "used / limit", "of limit (%)", "reason", "strategy", "venue", "approved (sh)", "detail"),
    "Backtest": ("name", "status", "progress (%)", "return (%)", "fills"),
    "Audit & alerts": ("at (UTC)", "action", "entity", "what changed", "message"),
    # The Kalshi pairs (the walk links the simulator's): its last columns in view, the differences wrapped.
    "Markets": ("Polymarket market", "Kalshi market", "differences noted when linked", "linked (UTC)", "by"),
}
# Page title -> a data grid (st.dataframe: its key, the columns it shows until the operator asks for
# every one). A grid draws its headers on a canvas, with no box to measure; so the test measures
# the grid's scrolling frame: its content is at least as wide as the declared widths of the columns
# shown (a wider grid stretches them), proving the grid keeps them, and it fits the frame's visible
# width: no column is cut off, nothing scrolls sideways.
KEY_GRIDS: dict[str, tuple[str, dict[str, Any]]] = {"Markets": ("mk_scan", {k: SCAN_COLUMNS[k] for k in LEADING})}
FILLS_HEADERS = ("trade", "price (prob.)", "size (sh)", "value (pUSD)", "fee (pUSD)", "strategy", "matched (UTC)",
                 "venue")
TRIPS_HEADERS = ("closed (UTC)", "strategy", "venue", "PnL after fees (pUSD)", "held for", "exit")

# For each header: scroll its first visible cell into the middle of the window, then measure it
# against the window and against the table's frame (a table scrolls sideways inside its frame).
_MEASURE = """((headers) => headers.map(text => {
  const th = [...document.querySelectorAll('[data-testid="stTable"] th')]
    .find(h => h.innerText.replace(/\\s+/g, ' ').trim() === text && h.getBoundingClientRect().width > 0);
  if (!th) return {text, found: false};
  th.scrollIntoView({block: 'center', inline: 'nearest'});
  const r = th.getBoundingClientRect();
  const frame = th.closest('[data-testid="stTable"]').getBoundingClientRect();
  const inWindow = r.left >= 0 && r.right <= window.innerWidth && r.top >= 0 && r.bottom <= window.innerHeight;
  const inFrame = r.left >= frame.left - 1 && r.right <= frame.right + 1;
  return {text, found: true, inWindow, inFrame, left: Math.round(r.left), right: Math.round(r.right),
          frameRight: Math.round(frame.right), width: window.innerWidth};
}))"""
_GRID = """((key) => {
  const grid = document.querySelector(`.st-key-${key} [data-testid="stDataFrame"]`);
  const scroller = grid && grid.querySelector('.dvn-scroller');
  if (!scroller) return {found: false};
  grid.scrollIntoView({block: 'center'});
  const r = grid.getBoundingClientRect();
  return {found: true, headers: [...grid.querySelectorAll('[role=columnheader]')].map(h => h.innerText.trim()),
          scrollWidth: scroller.scrollWidth, clientWidth: scroller.clientWidth,
          inWindow: r.left >= 0 && r.right <= window.innerWidth};
})"""
# The document itself never scrolls sideways.
PAGE_WIDE = "document.documentElement.scrollWidth > window.innerWidth + 1"
# Every table in view (a hidden tab's are not laid out) that scrolls sideways inside its frame, by
# its headers: none should, the details being on demand.
SIDEWAYS = """[...document.querySelectorAll('[data-testid="stTable"]')]
  .filter(t => t.getBoundingClientRect().width > 0)
  .map(t => {
    const s = [t, ...t.querySelectorAll('div')].find(e => /auto|scroll/.test(getComputedStyle(e).overflowX)) || t;
    return {headers: [...t.querySelectorAll('th')].map(h => h.innerText.replace(/\\s+/g, ' ').trim()).join(' | '),
            over: s.scrollWidth - s.clientWidth};
  }).filter(t => t.over > 1)"""


async def misplaced_headers(page: Page, headers: tuple[str, ...]) -> list[str]:
    """Each header not wholly in view (or missing), with where it was."""
    found = await page.evaluate(f"{_MEASURE}({json.dumps(list(headers))})")
    problems = []
    for item in found:
        if not item["found"]:
            problems.append(f"{item['text']!r}: no such column header on the page")
        elif not (item["inWindow"] and item["inFrame"]):
            problems.append(f"{item['text']!r}: at x {item['left']}–{item['right']} (table frame ends at "
                            f"{item['frameRight']}, window {item['width']} px)")
    return problems


async def misplaced_grid_columns(page: Page, key: str, columns: dict[str, Any]) -> list[str]:
    """The grid's columns not wholly in its visible width, or why not measured."""
    # The grid draws its frame before its header cells (they come with its first paint, which a
    # loaded machine delays): wait for both, bounded, before measuring.
    grid = await page.wait_for(f"{_GRID}({json.dumps(key)})", 20, what=f"the data grid {key!r} with its headers",
                               check=lambda g: bool(g["found"] and g["headers"]))
    labels = [c["label"] for c in columns.values()]  # the grid names the columns it draws, in order
    if labels != grid["headers"]:  # headers present: waited for above
        return [f"the grid draws the columns {grid['headers']}, not the declared {labels}"]
    declared = sum(int(c["width"]) for c in columns.values())
    if grid["scrollWidth"] < declared:  # (a grid wider than its columns stretches them to its width)
        return [f"the grid is {grid['scrollWidth']} px wide, less than its declared {declared} px"]
    problems = [] if grid["inWindow"] else ["the grid reaches outside the window"]
    if grid["scrollWidth"] > grid["clientWidth"] + 1:
        problems.append(f"its columns need {grid['scrollWidth']} px, the grid shows {grid['clientWidth']} px: "
                        f"the last ones are cut off")
    return problems


async def check_and_shoot(page: Page, title: str, headers: tuple[str, ...], shot: Path, *,
                          size: tuple[int, int] = (WIDTH, HEIGHT)) -> None:
    """Assert no table scrolls sideways and the headers are in view (the last one measured stays
    scrolled into view), then screenshot the window as the operator sees it."""
    problems = await misplaced_headers(page, headers)
    if title in KEY_GRIDS:
        problems += await misplaced_grid_columns(page, *KEY_GRIDS[title])
    problems += [f"a table scrolls {t['over']} px sideways: {t['headers']}" for t in await page.evaluate(SIDEWAYS)]
    assert not await page.evaluate(PAGE_WIDE), f"{title}: the page scrolls sideways at {size[0]} px"
    await page.evaluate(f"{_MEASURE}({json.dumps(list(headers[:1]))})")  # the first key table in view
    await page.screenshot(shot, full=False)
    assert problems == [], f"{title} at {size[0]} × {size[1]}: key columns out of view: {problems}"
