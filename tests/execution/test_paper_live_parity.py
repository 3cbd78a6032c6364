"""One intent stream, traded paper (fill model on the feed's book) and live (the real adapter
against the simulator, which matches for real): the ledgers agree on positions.

Two simulators with the same seed and no agents give both sides the same static book.
Takes at the touch fill identically in both; where the two could differ is documented in
README > Paper fills: a resting order fills in paper only from trades at or through its
price after the visible queue ahead of it, while the simulator fills it whenever a real
counter-order matches it; and a paper take never improves on its limit's share count.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

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

pytestmark = pytest.mark.slow
SH = 1_000_000


async def _until(check: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.05)


def _positions(ex: Executor) -> dict[str, tuple[int, int, int, int]]:
    return {token: (t.settled, t.pending, t.cost, t.realized) for (_, token), t in ex.state.positions.items()}


async def _trade(ex: Executor, market, books: Callable[[], tuple[int, int]],
                 advance: Callable[[], Awaitable[None]]) -> None:
    """Buy 20 YES at the ask; then sell 30 YES at the bid (20 held: 20 sold, 10 become NO).

    Each step waits for its fills to be booked and settled, not only for its orders to end: a
    fill-and-kill's order ends on the venue's answer, its fill arrives on the user channel after
    (waiting on the orders alone, a loaded run sold with nothing booked yet: one order, not two)."""
    steps = [
        (lambda bid, ask: Quote(Side.BUY, ask, 20 * SH, Tif.FAK), {market.yes_token: 20 * SH}),
        (lambda bid, ask: Quote(Side.SELL, bid, 30 * SH, Tif.FAK), {market.yes_token: 0, market.no_token: 10 * SH}),
    ]
    for make, settled in steps:
        bid, ask = books()
        ex.set_intents([Intent("parity", market.condition_id, (make(bid, ask),))])
        await ex.reconcile()
        await advance()

        def booked(settled: dict[str, int] = settled) -> bool:
            held = {token: t for (_, token), t in ex.state.positions.items()}
            return not ex.state.orders and all(token in held and held[token].settled == size
                                               and held[token].pending == 0 for token, size in settled.items())

        await _until(booked)


def _assert_signed_orders_kept_without_credentials(db: Database, venue: PolymarketVenue) -> None:
    """The ledger keeps each signed order, but not the API key the venue sent it under (`owner`)."""
    assert venue.identity is not None
    (api_key,) = venue.identity.api_keys
    with db.read() as conn:
        stored = [row[0] for row in conn.exec_driver_sql("SELECT signed_payload FROM orders").all()]
    assert len(stored) == 3  # buy YES; sell the 20 held and buy 10 NO
    for payload in stored:
        assert json.loads(payload)["order"]["signature"].startswith("0x")
        assert api_key not in payload and "owner" not in json.loads(payload)


async def _run(tmp: Path, mode: str) -> dict[str, tuple[int, int, int, int]]:
    # The live side signs as a type-0 (EOA) wallet, which the venue refuses as a maker: allowed here.
    with approved_simulator(seed=21, agents=False, allow_eoa_makers=True) as sim:
        env = {"TRADER_ENV_FILE": str(tmp / "none.env"), "SIMULATOR_PORT": str(sim.port),
               "POLY_PRIVATE_KEY": "0x" + secrets.token_hex(32), "POLY_SIGNATURE_TYPE": "0"}
        settings = load_settings(env)
        migrate(tmp / f"{mode}.db")
        db = Database(tmp / f"{mode}.db")
        await refresh_markets(db, settings.gamma_host)
        catalog = MarketCatalog()
        catalog.load(db)
        market = next(m for m in catalog.all() if not m.neg_risk and m.min_size <= 20 * SH)
        books = BookCache()
        feed = MarketFeed(settings.ws_host, settings.clob_host, books)
        feed.subscribe([market.yes_token, market.no_token])
        await feed.start()
        await _until(lambda: books.book(market.yes_token) is not None and books.book(market.no_token) is not None)
        if mode == "paper":
            venue = PaperVenue(db, books, catalog,
                               config=PaperConfig(mined_after_ms=0, confirmed_after_ms=0, latency=ZERO))
            books.add_listener(venue.on_market_event)

            async def advance() -> None:
                await asyncio.sleep(0.05)
                venue.advance()
        else:
            venue = PolymarketVenue(settings)  # type: ignore[assignment]  # either venue, through the one protocol

            async def advance() -> None:
                await asyncio.sleep(0.05)

        ex = Executor(db, venue, catalog, mode="live" if mode == "live" else "paper")
        await ex.start()
        ex.gate.unblock()

        def touch() -> tuple[int, int]:
            book = books.book(market.yes_token)
            assert book is not None and book.best_bid and book.best_ask
            return book.best_bid.price, book.best_ask.price

        try:
            await _trade(ex, market, touch, advance)
            if isinstance(venue, PolymarketVenue):
                _assert_signed_orders_kept_without_credentials(db, venue)
            return _positions(ex)
        finally:
            await ex.close()
            await feed.close()


def test_paper_and_live_ledgers_agree_on_positions(tmp_path: Path) -> None:
    paper = asyncio.run(_run(tmp_path, "paper"))
    live = asyncio.run(_run(tmp_path, "live"))
    assert paper == live  # shares, pending, cost and realized PnL, to the micro
    # Bought 20 YES, sold them back, and the 10 more "sold" became 10 NO bought.
    assert sorted(settled for settled, *_ in paper.values()) == [0, 10 * SH]
