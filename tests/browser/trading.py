"""What the browser test does on the desk besides looking: trades by hand through the command
queue (so the pages have a fill, a position and a refused quote to show), and launches a
backtest from the New backtest tab while the engine keeps recording ticks."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import text

from pages.widgets.backtest_launch import LAUNCHED_HERE
from storage.command_queue.commands import post_command
from storage.desk.strategy_lifecycle import set_strategy_paused
from storage.sqlite.db import Database
from tests.browser.cdp import Page
from tests.browser.where import SELECTED_TAB, answer_in_view, selected_tabs
from tests.helpers import wait_until

Settled = Callable[[Page, str], Awaitable[None]]
TABS = "[...document.querySelectorAll('[role=tab]')]"
MARKET_OPTION = "[...document.querySelectorAll('[role=option]')].find(o => o.innerText !== 'Select all')"


def _one(db: Database, sql: str) -> Any:
    with db.read() as conn:
        return conn.execute(text(sql)).scalar()


def _answer(db: Database, command_id: int) -> tuple[str, str | None]:
    def finished() -> tuple[str, str | None] | None:
        with db.read() as conn:
            status, error = conn.execute(text("SELECT status, error FROM commands WHERE id = :i"),
                                         {"i": command_id}).one()
        return (status, error) if status in ("done", "failed") else None

    return wait_until(finished, 30, 0.1, f"the engine's answer to command {command_id}")


@contextmanager
def _paused_makers(db: Database) -> Iterator[None]:
    """The desk's market makers paused (their resting orders withdrawn) for the block, then resumed."""
    with db.read() as conn:
        makers = conn.execute(text("SELECT name FROM strategies WHERE kind = 'market_making' AND enabled = 1 "
                                   "AND paused = 0 AND deleted_at IS NULL")).scalars().all()
    for name in makers:
        _pause(db, name, True)
    wait_until(lambda: not _one(db, "SELECT COUNT(*) FROM orders WHERE strategy != 'manual' AND status_rank < 100"),
               30, 0.2, "the market makers' orders withdrawn")
    try:
        yield
    finally:
        for name in makers:
            _pause(db, name, False)


def _pause(db: Database, name: str, paused: bool) -> None:
    with db.read() as conn:
        version = conn.execute(text("SELECT version FROM strategies WHERE name = :n"), {"n": name}).scalar_one()
    set_strategy_paused(db, name=name, version=version, paused=paused, actor="test")


def trade_by_hand(db: Database) -> None:
    """A marketable buy that fills (a fill and a position); one priced past the max slippage,
    which the ticket refuses with the field named; and a resting one worth less than the
    minimum order value, which the risk gate refuses (a line in the decisions log)."""
    wait_until(lambda: _one(db, "SELECT state FROM engine_state") == "RUNNING", 60, 0.2, "the engine RUNNING")
    market = wait_until(lambda: _one(db, """SELECT m.condition_id FROM markets m WHERE tradable = 1 AND closed = 0
                                              AND accepting_orders = 1 AND EXISTS (SELECT 1 FROM ticks t
                                              WHERE t.token_id = m.yes_token) ORDER BY volume DESC LIMIT 1"""),
                        60, 0.5, "a tradable market with recorded prices")
    order = {"condition_id": market, "outcome": "YES", "side": "BUY", "tif": "FAK", "size": "20"}
    answers = []
    # A buy through the demo market maker's own ask would be refused SELF_TRADE (the desk never
    # trades with itself): it is paused meanwhile (its orders withdrawn), then resumed.
    with _paused_makers(db):
        for slippage in ("0.01", "0.02", "0.03"):  # within the gate's max slippage from the mid
            answers.append(_answer(db, post_command(db, "place_order", {**order, "slippage": slippage},
                                                    actor="test").id))
            if answers[-1][0] == "done" and _one(db, "SELECT COUNT(*) FROM fills WHERE strategy = 'manual'"):
                break
    assert _one(db, "SELECT COUNT(*) FROM fills WHERE strategy = 'manual'"), f"no manual fill: {answers}"
    too_far = _answer(db, post_command(db, "place_order", {**order, "slippage": "0.4"}, actor="test").id)
    assert too_far[0] == "failed" and "max slippage" in (too_far[1] or ""), too_far
    small = {**order, "tif": "GTC", "price": "0.02", "post_only": True}  # 20 × 0.02 = 0.40 pUSD, under 1
    refused = _answer(db, post_command(db, "place_order", small, actor="test").id)
    assert refused[0] == "failed" and "MIN_ORDER_VALUE" in (refused[1] or ""), refused
    wait_until(lambda: _one(db, "SELECT COUNT(*) FROM decisions WHERE reason = 'MIN_ORDER_VALUE'"), 30, 0.2,
               "the refusal in the decisions log")


def link_the_simulators_pair(db: Database, simulator_port: str) -> str:
    """The pair the simulator offers (the Fed's February 25 bps on both venues), linked as `pairs add`
    links it; returns the Kalshi ticker."""
    from simulator.kalshi.twin import POLYMARKET_QUESTION, SERIES, TITLE
    from storage.desk.venue_pairs import add_pair

    market = wait_until(lambda: _one(db, f"SELECT condition_id FROM markets WHERE question = '{POLYMARKET_QUESTION}'"),
                        60, 0.5, "the Fed market discovered")
    with urllib.request.urlopen(f"http://127.0.0.1:{simulator_port}/trade-api/v2/markets?series_ticker={SERIES}",
                                timeout=10) as answer:  # noqa: S310 (the simulator, 127.0.0.1)
        (ticker,) = [m["ticker"] for m in json.loads(answer.read())["markets"]]
    add_pair(db, condition_id=market, kalshi_ticker=ticker, inverted=False, polymarket_question=POLYMARKET_QUESTION,
             kalshi_title=TITLE, warnings=["Polymarket names no resolution source for this market: read its rules, "
                                           "which name the FOMC's statement after its February meeting, as Kalshi's "
                                           "do"], actor="test")
    return str(ticker)


def _ticks(db: Database) -> int:
    return int(_one(db, "SELECT COUNT(*) FROM ticks") or 0)


async def launch_backtest_while_recording(page: Page, db: Database, settled: Settled) -> None:
    """Pick a market in the New backtest tab, let the recorder add ticks (which changed the
    picker's labels and lost the pick), launch, and see the run launched, finished and offered
    as a report."""
    start = await asyncio.to_thread(wait_until, lambda: _ticks(db), 60, 0.5, "recorded ticks")
    await asyncio.to_thread(wait_until, lambda: _ticks(db) > start, 60, 0.5, "the recorder adding ticks")
    await page.evaluate(f"{TABS}.find(t => t.innerText.includes('New backtest')).click()")
    await page.wait_for("!!document.querySelector('.st-key-bt_markets input')", 20, what="the markets picker")
    await page.evaluate("document.querySelector('.st-key-bt_markets input').click()")
    await page.wait_for("document.querySelectorAll('[role=option]').length", 20, what="the markets offered")
    market = await page.evaluate(f"(() => {{ const o = {MARKET_OPTION}; o.click(); return o.innerText; }})()")
    await page.evaluate("document.body.click()")  # close the list
    await page.wait_for(f"document.body.innerText.includes({json.dumps('In the range: ' + market + ' · ')})", 20,
                        what="the picked market's tick count under the picker")
    await settled(page, "Backtest")
    picked = _ticks(db)
    await asyncio.to_thread(wait_until, lambda: _ticks(db) > picked, 60, 0.5, "more ticks after the pick")
    assert "New backtest" in await selected_tabs(page)  # the pick's rerun left the operator on the tab
    # As a person does: the button in view (the middle of the window), then the click.
    await page.evaluate("(b => { b.scrollIntoView({block: 'center'}); b.click(); })"
                        "(document.querySelector('.st-key-bt_launch button'))")
    text_ = await answer_in_view(page, LAUNCHED_HERE, "Backtest #1 launched", "the launch's answer by its button")
    assert "Backtest #1 launched" in text_, text_
    assert "New backtest" in await selected_tabs(page)  # its progress follows here, where it was launched
    await asyncio.to_thread(wait_until, lambda: _one(db, "SELECT status FROM strategy_runs WHERE id = 1") != "running",
                            180, 0.5, "the backtest to finish")
    assert _one(db, "SELECT status FROM strategy_runs WHERE id = 1") == "done", _one(
        db, "SELECT error FROM strategy_runs WHERE id = 1")
    assert _one(db, "SELECT question FROM markets WHERE condition_id = (SELECT json_extract(markets, '$[0]') "
                    "FROM strategy_runs WHERE id = 1 AND json_array_length(markets) = 1)") == market
    await page.wait_for("!!document.querySelector('.st-key-bt_launched_results button')", 30,
                        what="the finished run's way to its results, in the New backtest tab")
    await page.evaluate("document.querySelector('.st-key-bt_launched_results button').click()")
    await page.wait_for(SELECTED_TAB, 20, what="the Results tab", check=lambda t: "Results" in t)
    await page.wait_for("!!document.querySelector('.st-key-bt_report_html button')", 60,
                        what="the finished run's report to download")
    await settled(page, "Backtest")
    await _report_opens_in_a_tab(page)


async def _report_opens_in_a_tab(page: Page) -> None:
    """Beside the download, a link opens the same report in a new tab: the dashboard serves it inline
    as HTML (not as an attachment), the run's own report."""
    link = await page.wait_for("(a => a && {href: a.href, target: a.target})"
                               "(document.querySelector('.st-key-bt_report_tab a'))", 30,
                               what="the report's Open link", check=bool)
    assert link["target"] == "_blank", link

    def fetch() -> tuple[str, str, str]:
        with urllib.request.urlopen(link["href"], timeout=30) as answer:  # noqa: S310 (the dashboard, 127.0.0.1)
            return (answer.headers.get("Content-Type", ""), answer.headers.get("Content-Disposition") or "",
                    answer.read().decode())

    kind, disposition, body = await asyncio.to_thread(fetch)
    assert kind.startswith("text/html") and "attachment" not in disposition, (kind, disposition)
    assert body.startswith("<!DOCTYPE html>") and "Backtest #1" in body
