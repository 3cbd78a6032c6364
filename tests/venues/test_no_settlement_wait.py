"""A marketable order is answered at once and its fill booked, though the venue settles after the
answer (since 2026-07-24 a match answers its `tradeIDs` and no transaction hash, and
py-clob-client-v2's own `post_order` would poll /data/trades for up to 30 s for one).

The simulator here mines nothing for two minutes: a trade has no hash for the whole test, so any
path that waited for one would not return within the bounded run. Paper books its fill from its
own fill model; live from the venue's answer (its trade ids) and the user channel.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from pathlib import Path

import pytest
from py_clob_client_v2 import OrderArgs, OrderType, PartialCreateOrderOptions, PostOrdersV2Args

from contracts.domain import Intent, Quote, Side, Tif
from contracts.settings import load_settings
from engine.execution.executor import Executor
from engine.feeds.books import BookCache
from engine.feeds.catalog import MarketCatalog
from engine.venues.latency import ZERO
from engine.venues.paper import PaperConfig, PaperVenue
from engine.venues.polymarket.discovery import refresh_markets
from engine.venues.polymarket.market_ws import MarketFeed
from engine.venues.polymarket.venue import PolymarketVenue
from simulator.testing import approved_simulator
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate
from tests.venues.conftest import QUIET, fresh_market, run, venue_for

SH = 1_000_000
# Nothing is mined while the test runs: every trade stays MATCHED, without a transaction hash.
UNMINED = {**QUIET, "mined_delay_s": 120.0, "confirmed_delay_s": 120.0}


async def _until(check: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.05)


async def _take_and_book(tmp: Path, mode: str) -> tuple[int, int]:
    """Buy 10 YES at the ask with a fill-and-kill; (shares held pending, its order's trades)."""
    with approved_simulator(seed=77, **UNMINED) as sim:
        settings = load_settings({"TRADER_ENV_FILE": str(tmp / "none.env"), "SIMULATOR_PORT": str(sim.port),
                                  "POLY_PRIVATE_KEY": "0x" + secrets.token_hex(32), "POLY_SIGNATURE_TYPE": "0"})
        migrate(tmp / f"{mode}.db")
        db = Database(tmp / f"{mode}.db")
        await refresh_markets(db, settings.gamma_host)
        catalog = MarketCatalog()
        catalog.load(db)
        market = next(m for m in catalog.all() if not m.neg_risk and not m.protocol_v2 and m.min_size <= 10 * SH)
        sim.clear_book(market.condition_id)
        sim.place_liquidity(market.yes_token, "SELL", "0.5", "40")
        books = BookCache()
        feed = MarketFeed(settings.ws_host, settings.clob_host, books)
        feed.subscribe([market.yes_token])
        await feed.start()
        await _until(lambda: (b := books.book(market.yes_token)) is not None and b.best_ask is not None)
        if mode == "paper":
            paper = PaperVenue(db, books, catalog,
                               config=PaperConfig(mined_after_ms=120_000, confirmed_after_ms=120_000, latency=ZERO))
            books.add_listener(paper.on_market_event)
            ex = Executor(db, paper, catalog, mode="paper")
        else:
            ex = Executor(db, PolymarketVenue(settings), catalog, mode="live")
        await ex.start()
        ex.gate.unblock()
        try:
            ex.set_intents([Intent("taker", market.condition_id, (Quote(Side.BUY, 500_000, 10 * SH, Tif.FAK),))])
            await ex.reconcile()
            if mode == "paper":
                paper.advance()
            held = {}

            def booked() -> bool:
                held.update({token: t for (_, token), t in ex.state.positions.items()})
                return not ex.state.orders and market.yes_token in held and held[market.yes_token].pending > 0

            await _until(booked)
            with db.read() as conn:
                trades = conn.exec_driver_sql("SELECT COUNT(*) FROM fills WHERE status = 'MATCHED'").scalar_one()
            return held[market.yes_token].pending, int(trades)
        finally:
            await ex.close()
            await feed.close()


@pytest.mark.parametrize("mode", ["paper", "live"])
def test_a_taker_order_is_answered_and_booked_before_any_settlement_hash(tmp_path: Path, mode: str) -> None:
    pending, matched = run(_take_and_book(tmp_path, mode), timeout=25)  # a 30 s wait for a hash fails here
    assert (pending, matched) == (10 * SH, 1)  # booked as matched, settling: from the trade id alone


def test_no_call_of_the_adapters_client_waits_for_a_hash(sim) -> None:
    """The adapter's client answers a matched `post_order` / `post_orders` as the venue did, even
    if a later path of the desk posted through the client's own methods instead of raw bytes."""
    market = fresh_market(sim)
    yes = market["yes_token_id"]
    sim.configure(mined_delay_s=120.0)
    try:
        sim.place_liquidity(yes, "SELL", "0.5", "40")

        async def scenario() -> list[dict[str, object]]:
            venue = venue_for(sim)
            try:
                await venue.connect()
                client = venue.client
                assert client is not None
                options = PartialCreateOrderOptions(tick_size=market["tick_size"], neg_risk=False)

                def taker() -> object:
                    return client.create_order(OrderArgs(token_id=yes, price=0.5, size=10, side="BUY"), options)

                single = await asyncio.to_thread(client.post_order, taker(), OrderType.FAK)
                batch = await asyncio.to_thread(client.post_orders, [PostOrdersV2Args(order=taker(),
                                                                                     orderType=OrderType.FAK)])
                return [single, *batch]
            finally:
                await venue.close()

        answers = run(scenario(), timeout=20)  # the client's own wait would be 30 s
    finally:
        sim.configure(mined_delay_s=QUIET["mined_delay_s"])
    assert [(a["status"], a["transactionsHashes"], len(a["tradeIDs"])) for a in answers] == [("matched", [], 1)] * 2  # type: ignore[arg-type]  # the venue's JSON answers
