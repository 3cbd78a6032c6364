"""Kalshi's order books over its WebSocket into the desk's book cache (engine/feeds/kalshi_books.py),
against the simulator's Kalshi side: a signed handshake, the snapshot, deltas as orders rest and
trade, a lost message noticed by its sequence number (the books dropped, then rebuilt from a fresh
snapshot), and the channel's refusals."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import websockets
from kalshi_python_sync import Configuration, KalshiClient

from contracts.kalshi_settings import KalshiSettings
from contracts.settings import load_settings
from engine.feeds.books import BookCache
from engine.feeds.kalshi_books import KalshiBookFeed, ws_url
from engine.venues import kalshi_wire as wire
from simulator.testing import SimHandle, running_simulator
from tests.kalshi import admin, keypair, register

WAIT_S = 15.0


def _account(sim: SimHandle, tmp_path: Path) -> tuple[KalshiSettings, KalshiClient]:
    private_pem, public_pem = keypair()
    key_id = register(sim, public_pem)
    settings = load_settings({"TRADER_ENV_FILE": os.devnull, "TRADER_DB": str(tmp_path / "t.db"),
                              "SIMULATOR_PORT": str(sim.port), "KALSHI_API_KEY_ID": key_id,
                              "KALSHI_PRIVATE_KEY": private_pem}).kalshi
    assert settings is not None
    config = Configuration(host=settings.host)
    config.api_key_id, config.private_key_pem = key_id, private_pem
    return settings, KalshiClient(config)


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with running_simulator(seed=9, agents=False, prefill_books=False, kalshi_markets=2) as handle:
        yield handle


async def _until(condition: Callable[[], bool], what: str) -> None:
    deadline = asyncio.get_running_loop().time() + WAIT_S
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def _best(books: BookCache, ticker: str) -> tuple[int | None, int | None]:
    return books.best_prices(wire.token_id(ticker, "yes"))


def test_books_follow_the_venue_and_a_lost_message_resyncs_them(sim: SimHandle, tmp_path: Path) -> None:
    settings, client = _account(sim, tmp_path)
    _, trader = _account(sim, tmp_path)
    market = client.get_markets(limit=10).markets[0]
    ticker = market.ticker

    async def scenario() -> None:
        books = BookCache()
        feed = KalshiBookFeed(settings, books, [ticker])
        await feed.start()
        try:
            await _until(lambda: _best(books, ticker) != (None, None), "the snapshot")
            assert _best(books, ticker) == (market.yes_bid * wire.CENT, market.yes_ask * wire.CENT)
            no_bid, no_ask = books.best_prices(wire.token_id(ticker, "no"))
            assert (no_bid, no_ask) == ((100 - market.yes_ask) * wire.CENT, (100 - market.yes_bid) * wire.CENT)
            # a new best bid rests: a delta moves the YES bid and the NO ask
            await asyncio.to_thread(trader.create_order, ticker=ticker, side="yes", action="buy", count=7,
                                    yes_price=market.yes_bid + 1, type="limit", post_only=True)
            await _until(lambda: _best(books, ticker)[0] == (market.yes_bid + 1) * wire.CENT, "the delta")
            assert books.level_size(wire.token_id(ticker, "no"), False, (99 - market.yes_bid) * wire.CENT) == \
                7 * wire.CONTRACT
            # a message lost on the way: noticed by its number, the books rebuilt from a new snapshot
            yes_token = wire.token_id(ticker, "yes")
            at_ask = books.level_size(yes_token, False, market.yes_ask * wire.CENT)
            admin(sim, "/_sim/kalshi/ws/skip-seq", {"count": 1})
            await asyncio.to_thread(trader.create_order, ticker=ticker, side="yes", action="sell", count=3,
                                    yes_price=market.yes_ask, type="limit", post_only=True)
            await _until(lambda: feed.gaps == 1, "the gap")
            assert feed.last_error is not None and "after" in feed.last_error
            await _until(lambda: books.level_size(yes_token, False, market.yes_ask * wire.CENT) ==
                         at_ask + 3 * wire.CONTRACT, "the resync")
            assert _best(books, ticker) == ((market.yes_bid + 1) * wire.CENT, market.yes_ask * wire.CENT)
            assert feed.stats.reconnects_asked == 1
        finally:
            await feed.close()

    asyncio.run(scenario())


def test_the_channel_refuses_an_unsigned_subscription_and_a_bad_signature(sim: SimHandle, tmp_path: Path) -> None:
    settings, _ = _account(sim, tmp_path)

    async def scenario() -> None:
        url = ws_url(settings.host)
        async with websockets.connect(url) as ws:  # no key: the book channel needs one
            await ws.send(json.dumps({"id": 3, "cmd": "subscribe", "params": {"channels": ["orderbook_delta"],
                                                                              "market_tickers": ["X"]}}))
            answer = json.loads(await asyncio.wait_for(ws.recv(), WAIT_S))
            assert answer == {"id": 3, "type": "error", "msg": {"code": 9, "msg": "Authentication required"}}
            await ws.send(json.dumps({"id": 4, "cmd": "dance", "params": {}}))
            assert json.loads(await asyncio.wait_for(ws.recv(), WAIT_S))["msg"]["code"] == 5
        headers = {"KALSHI-ACCESS-KEY": settings.api_key_id or "", "KALSHI-ACCESS-TIMESTAMP": "1",
                   "KALSHI-ACCESS-SIGNATURE": "AAAA"}
        with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
            async with websockets.connect(url, additional_headers=headers):
                pass
        assert refused.value.response.status_code == 401

    asyncio.run(scenario())


def test_a_message_out_of_sequence_is_never_applied(tmp_path: Path) -> None:
    """Without a socket: the feed's reading alone. An out-of-order delta drops the books (nothing
    trades on them) instead of applying the change; a malformed level too."""
    private_pem, _ = keypair()
    loaded = load_settings({"TRADER_ENV_FILE": os.devnull, "TRADER_DB": str(tmp_path / "t.db"),
                            "KALSHI_API_KEY_ID": "k", "KALSHI_PRIVATE_KEY": private_pem}).kalshi
    assert loaded is not None
    settings = KalshiSettings("http://127.0.0.1:9/trade-api/v2", "simulator", "k", loaded.private_key)
    books = BookCache()

    async def scenario() -> None:
        feed = KalshiBookFeed(settings, books, ["T"])
        feed.on_text(json.dumps({"type": "orderbook_snapshot", "sid": 1, "seq": 1,
                                 "msg": {"market_ticker": "T", "yes": [[40, 10]], "no": [[55, 5]]}}))
        assert books.best_prices(wire.token_id("T", "yes")) == (40 * wire.CENT, 45 * wire.CENT)
        feed.on_text(json.dumps({"type": "orderbook_delta", "sid": 1, "seq": 3,
                                 "msg": {"market_ticker": "T", "price": 41, "delta": 5, "side": "yes"}}))
        assert books.best_prices(wire.token_id("T", "yes")) == (None, None)  # dropped, not moved to 41
        assert feed.gaps == 1 and "message 3 after 1" in (feed.last_error or "")
        await asyncio.sleep(0)  # (the reconnect it asked for finds no connection)
        feed._resyncing = False  # as a new connection would
        feed.on_text(json.dumps({"type": "orderbook_snapshot", "sid": 2, "seq": 1,
                                 "msg": {"market_ticker": "T", "yes": [[40, 10]], "no": [[55, 5]]}}))
        feed.on_text("[1, 2]")  # not an object at all
        assert books.best_prices(wire.token_id("T", "yes")) == (None, None) and feed.gaps == 2
        await asyncio.sleep(0)

    asyncio.run(scenario())
