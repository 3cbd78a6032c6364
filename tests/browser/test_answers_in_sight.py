"""Answers in sight, in a real browser on the real desk (issue 87, item 6): supervisord runs the simulator, the
engine and the dashboard as `make run` does; headless Chromium, logged in:

- the Markets page's pair finder, with its own example typed, finds the simulator's pair offline; once
  compared, read and linked, "Linked as pair" is there to read under the finder, and still there when the
  page is drawn again with the finder folded (as it is once a pair is linked);
- a position the operator holds is offered under "Position to exit" on the Orders page, and once it is sold
  elsewhere (an exit from the CLI, a retry, a live fill reported later) it is no longer offered, with no
  click on the page;
- on a phone (390 px), the positions table is not cut at the right edge: it scrolls sideways in its frame.

(The whole walk, with "Strategy created" brought into view and every page at a phone's width:
tests/browser/test_dashboard_browser.py.)
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from contracts.cross_venue import FIND_EXAMPLE
from storage.command_queue.commands import post_command
from storage.dashboard_queries import status_queries as queries
from storage.sqlite.db import Database
from tests.browser.cdp import Chromium, Page, chromium_path
from tests.browser.layout import HEIGHT, WIDTH
from tests.browser.narrow import CUT_TABLES, PHONE
from tests.browser.navigation import EXCEPTIONS, click, healthy, login, open_page, settled
from tests.browser.test_dashboard_browser import _desk, _log
from tests.browser.trading import _answer, _one, _paused_makers
from tests.browser.where import answer_in_view
from tests.helpers import wait_until

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(chromium_path() is None,
                       reason="Debian's `chromium` is not installed (apt-get install -y chromium; .ci/run does it)"),
]
LOOKUP_S = 90  # the finder runs `python -m engine pairs find|show --json`: a process of its own, slow when loaded
# The Orders page's "Position to exit" picker: what it offers, as its combobox reads (null: not drawn, nothing held).
PICKER = """(() => { const box = document.querySelector('.st-key-exit_pick_orders');
  return box ? box.innerText + ' ' + [...box.querySelectorAll('input, [aria-label]')]
    .map(e => e.value || e.getAttribute('aria-label') || '').join(' ') : null; })()"""


async def _type(page: Page, key: str, value: str) -> None:
    field = f"document.querySelector('.st-key-{key} input')"
    await page.wait_for(f"!!{field}", 30, what=f"the {key} field")
    await page.evaluate(f"(() => {{ const i = {field}; i.scrollIntoView({{block: 'center'}}); i.focus(); "
                        "i.select(); })()")
    await page.type_text(value)
    await page.evaluate("document.activeElement.blur()")


async def _link_the_pair_the_example_finds(page: Page, db: Database) -> None:
    await open_page(page, "Markets", "Markets")
    placeholder = "(document.querySelector('.st-key-pair_words input') || {}).placeholder || ''"
    assert await page.wait_for(placeholder, 30, what="the finder's example") == f"e.g. {FIND_EXAMPLE}"
    await _type(page, "pair_words", FIND_EXAMPLE)
    await click(page, ".st-key-pair_find button", "Find on both venues")
    await page.wait_for("!!document.querySelector('.st-key-pair_show button')", LOOKUP_S,
                        what="one market of each venue found by the example, offline")
    await click(page, ".st-key-pair_show button", "Compare side by side")
    await page.wait_for("!!document.querySelector('.st-key-pair_read input')", LOOKUP_S, what="both markets read")
    await click(page, ".st-key-pair_read input", "I have read both")
    await page.wait_for("document.querySelector('.st-key-pair_link button').disabled === false", 30,
                        what="Link enabled once read")
    await page.evaluate("document.querySelector('.st-key-pair_link button').scrollIntoView({block: 'center'})")
    await click(page, ".st-key-pair_link button", "Link them")
    said = await answer_in_view(page, "pair_link", "Linked as pair 1", "Link's answer by the Link button")
    assert "reload" in said, said  # with the engine's answer to the reload
    assert _one(db, "SELECT COUNT(*) FROM venue_pairs") == 1
    # Back on the page later, the finder is drawn folded (a pair is linked now): the answer, kept until read,
    # is still there to read rather than folded away inside it.
    await open_page(page, "Overview", "Overview")
    await open_page(page, "Markets", "Markets")
    box = "document.querySelector('.st-key-said_pair_link')"
    await page.evaluate(f"{box} && {box}.scrollIntoView({{block: 'center'}})")
    await answer_in_view(page, "pair_link", "Linked as pair 1", "Link's answer, once the finder is folded")
    assert await page.evaluate(EXCEPTIONS) == 0


def _hold_by_hand(db: Database) -> str:
    """A manual position, bought with a marketable ticket; its market's condition id."""
    market = wait_until(lambda: _one(db, """SELECT m.condition_id FROM markets m WHERE tradable = 1 AND closed = 0
                                              AND accepting_orders = 1 AND EXISTS (SELECT 1 FROM ticks t
                                              WHERE t.token_id = m.yes_token) ORDER BY volume DESC LIMIT 1"""),
                        60, 0.5, "a tradable market with recorded prices")
    order = {"condition_id": market, "outcome": "YES", "side": "BUY", "tif": "FAK", "size": "20"}
    with _paused_makers(db):
        for slippage in ("0.01", "0.02", "0.03"):
            _answer(db, post_command(db, "place_order", {**order, "slippage": slippage}, actor="test").id)
            if _held(db):
                break
    wait_until(lambda: _one(db, """SELECT COUNT(*) FROM positions WHERE strategy = 'manual' AND settled > 0
                                   AND pending = 0"""), 60, 0.5, "the manual shares settled")
    return str(market)


def _held(db: Database) -> int:
    return int(_one(db, "SELECT COUNT(*) FROM positions WHERE strategy = 'manual' AND settled + pending > 0") or 0)


async def _a_sold_position_is_no_longer_offered(page: Page, db: Database) -> None:
    market = await asyncio.to_thread(_hold_by_hand, db)
    await open_page(page, "Orders & trades", "Orders & trades")
    await page.wait_for(PICKER, 30, what="the position offered under 'Position to exit'",
                        check=lambda t: bool(t) and "manual" in t and "shares" in t)
    # On a phone, the positions table with it scrolls sideways in its frame, never cut at the right edge.
    await page.viewport(*PHONE)
    try:
        await settled(page, "Orders & trades")
        cut = await page.evaluate(CUT_TABLES)
        assert cut == [], f"tables cut at the right edge at {PHONE[0]} px: {cut}"
    finally:
        await page.viewport(WIDTH, HEIGHT)
    # Sold elsewhere, with no click here: the page follows the ledger.
    state, error = await asyncio.to_thread(_answer, db, post_command(
        db, "exit", {"strategy": "manual", "condition_id": market, "outcome": "YES"}, actor="test").id)
    assert state == "done", error
    await asyncio.to_thread(wait_until, lambda: not _held(db), 60, 0.5, "the position sold")
    await page.wait_for(PICKER, 30, what="the sold position no longer offered", check=lambda t: t is None)
    assert "No open paper positions." in await page.evaluate("document.body.innerText")
    assert await page.evaluate(EXCEPTIONS) == 0


async def _drive(ws_url: str, url: str, db: Database) -> None:
    page = await Page.open(ws_url)
    try:
        await page.viewport(WIDTH, HEIGHT)
        await login(page, url)
        await _link_the_pair_the_example_finds(page, db)
        await _a_sold_position_is_no_longer_offered(page, db)
    finally:
        await page.close()


def test_answers_stay_in_sight_and_the_pages_follow_the_ledger(tmp_path: Path) -> None:
    sup, env, port = _desk(tmp_path)
    chromium: Any = None
    try:
        for program in ("simulator", "engine", "dashboard"):
            try:
                sup.wait_running(program, timeout=60)
            except AssertionError:
                raise AssertionError(f"{program} did not reach RUNNING:\n{_log(tmp_path, program)}") from None
        url = f"http://127.0.0.1:{port}"
        wait_until(lambda: healthy(url), 60, 0.25, "the dashboard's /_stcore/health")
        db = Database(Path(env["TRADER_DB"]))
        wait_until(lambda: db.exists() and not queries.engine_status(db).heartbeat_stale, 60, 0.2,
                   "the engine's heartbeat")
        chromium = Chromium(tmp_path / "chromium-profile", tmp_path / "chromium.log")
        try:
            asyncio.run(_drive(chromium.page_ws_url(), url, db))
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n--- engine log tail ---\n{_log(tmp_path, 'engine')}\n"
                                 f"--- dashboard log tail ---\n{_log(tmp_path, 'dashboard')}") from None
    finally:
        if chromium is not None:
            chromium.close()
        sup.shutdown()
