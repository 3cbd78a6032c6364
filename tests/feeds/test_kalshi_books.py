"""Kalshi's order books over its WebSocket into the desk's book cache (engine/feeds/kalshi_books.py),
against the simulator's Kalshi side in today's shapes: a signed handshake, the snapshot with its
sub-penny levels kept exact, deltas in fractions of a contract as orders rest and trade, a lost
message noticed by its sequence number (the books dropped, then rebuilt from `get_snapshot` on the
same connection, no reconnect), hostile messages among good ones left out, and the channel's refusals."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import websockets

from contracts.kalshi_ids import token_id
from contracts.kalshi_settings import KalshiSettings
from contracts.settings import load_settings
from engine.feeds.books import BookCache
from engine.feeds.kalshi_books import KalshiBookFeed
from engine.feeds.kalshi_client import KalshiClient
from simulator.testing import SimHandle, running_simulator
from tests.kalshi import admin, binary_tickers, client, keypair, register, structure

WAIT_S = 15.0
C = 1_000_000


def _settings(sim: SimHandle, tmp_path: Path) -> KalshiSettings:
    private_pem, public_pem = keypair()
    key_id = register(sim, public_pem)
    settings = load_settings({"TRADER_ENV_FILE": os.devnull, "TRADER_DB": str(tmp_path / "t.db"),
                              "SIMULATOR_PORT": str(sim.port), "KALSHI_API_KEY_ID": key_id,
                              "KALSHI_PRIVATE_KEY": private_pem}).kalshi
    assert settings is not None
    return settings


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with running_simulator(seed=9, agents=False, prefill_books=False, kalshi_markets=3) as handle:
        yield handle


async def _until(condition: Callable[[], bool], what: str) -> None:
    deadline = asyncio.get_running_loop().time() + WAIT_S
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def _best(books: BookCache, ticker: str) -> tuple[int | None, int | None]:
    return books.best_prices(token_id(ticker, "yes"))


def test_books_follow_the_venue_exactly_and_a_lost_message_is_resynced_in_place(sim: SimHandle,
                                                                                tmp_path: Path) -> None:
    settings = _settings(sim, tmp_path)
    trader, _ = client(sim)
    ticker = next(t for t in binary_tickers(sim) if structure(sim, t) == "tapered_deci_cent")

    async def scenario() -> None:
        market = await trader.market(ticker)
        books = BookCache()
        feed = KalshiBookFeed(settings, books, [ticker])
        await feed.start()
        try:
            await _until(lambda: _best(books, ticker) != (None, None), "the snapshot")
            assert _best(books, ticker) == (market.yes_bid, market.yes_ask)
            assert books.level_size(token_id(ticker, "yes"), False, 995_000) == 10 * C  # $0.9950, not rounded to $1
            assert feed.streamed() == {ticker}
            # a new best bid rests, fractions of a contract: a delta moves the YES bid and the NO ask
            await trader.create_order(ticker=ticker, client_order_id="b1", book_side="bid",
                                      price=market.yes_bid + 10_000, count=7_250_000,
                                      time_in_force="good_till_canceled", post_only=True)
            await _until(lambda: _best(books, ticker)[0] == market.yes_bid + 10_000, "the delta")
            assert books.level_size(token_id(ticker, "no"), False, C - market.yes_bid - 10_000) == 7_250_000
            # a message lost on the way: noticed by its number, the books rebuilt on the same connection
            yes = token_id(ticker, "yes")
            at_ask = books.level_size(yes, False, market.yes_ask)
            admin(sim, "/_sim/kalshi/ws/skip-seq", {"count": 1})
            await trader.create_order(ticker=ticker, client_order_id="a1", book_side="ask", price=market.yes_ask,
                                      count=3 * C, time_in_force="good_till_canceled", post_only=True)
            await _until(lambda: feed.gaps == 1, "the gap")
            assert feed.last_error is not None and "after" in feed.last_error
            await _until(lambda: books.level_size(yes, False, market.yes_ask) == at_ask + 3 * C, "the resync")
            assert _best(books, ticker) == (market.yes_bid + 10_000, market.yes_ask)
            assert feed.snapshots_asked == 1 and feed.stats.reconnects_asked == 0 and feed.stats.connects == 1
        finally:
            await feed.close()
            await trader.close()

    asyncio.run(scenario())


def test_a_snapshot_never_asked_for_is_left_out_and_a_seq_of_1e309_is_a_gap(sim: SimHandle, tmp_path: Path) -> None:
    """Kalshi sends what the client does not expect: a snapshot of a market the feed never subscribed
    (on the subscription's sequence) is not kept nor published; a frame numbered 1e309 is a lost
    message (the books dropped and taken again on the same connection), not an exception."""
    settings = _settings(sim, tmp_path)
    ours, stranger = binary_tickers(sim)[:2]

    async def scenario() -> None:
        books = BookCache()
        feed = KalshiBookFeed(settings, books, [ours])
        await feed.start()
        try:
            await _until(lambda: feed.streamed() == {ours} and feed._seq is not None, "the snapshot")
            before, seq = _best(books, ours), feed._seq
            admin(sim, "/_sim/kalshi/ws/book-message", {"message": {"type": "orderbook_snapshot", "msg": {
                "market_ticker": stranger, "market_id": "m", "yes_dollars_fp": [["0.4000", "10.00"]]}}})
            await _until(lambda: feed._seq == (seq or 0) + 1, "the stranger's snapshot read")
            assert _best(books, stranger) == (None, None) and feed.streamed() == {ours} and feed.gaps == 0
            admin(sim, "/_sim/kalshi/ws/book-message",
                  {"text": '{"type": "orderbook_delta", "sid": 1, "seq": 1e309, "msg": {}}'})
            await _until(lambda: feed.gaps == 1, "the gap")
            assert "seq" in (feed.last_error or "")
            await _until(lambda: feed.streamed() == {ours} and _best(books, ours) == before, "the resync")
            assert feed.snapshots_asked == 1 and feed.stats.connects == 1
        finally:
            await feed.close()

    asyncio.run(scenario())


def test_the_connection_refuses_no_key_and_a_bad_signature(sim: SimHandle, tmp_path: Path) -> None:
    settings = _settings(sim, tmp_path)

    async def scenario() -> None:
        for headers in ({}, {"KALSHI-ACCESS-KEY": settings.api_key_id or "", "KALSHI-ACCESS-TIMESTAMP": "1",
                             "KALSHI-ACCESS-SIGNATURE": "AAAA"}):
            with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
                async with websockets.connect(settings.ws_host, additional_headers=headers):
                    pass
            assert refused.value.response.status_code == 401

    asyncio.run(scenario())


def _feed(tmp_path: Path) -> tuple[KalshiBookFeed, BookCache]:
    private_pem, _ = keypair()
    loaded = load_settings({"TRADER_ENV_FILE": os.devnull, "TRADER_DB": str(tmp_path / "t.db"),
                            "KALSHI_API_KEY_ID": "k", "KALSHI_PRIVATE_KEY": private_pem}).kalshi
    assert loaded is not None
    settings = KalshiSettings("http://127.0.0.1:9/trade-api/v2", "simulator", "k", loaded.private_key,
                              "ws://127.0.0.1:9/trade-api/ws/v2")
    books = BookCache()
    return KalshiBookFeed(settings, books, ["T"]), books


def _snapshot(seq: int, yes: list[list[str]], no: list[list[str]]) -> str:
    return json.dumps({"type": "orderbook_snapshot", "sid": 1, "seq": seq,
                       "msg": {"market_ticker": "T", "market_id": "m", "yes_dollars_fp": yes, "no_dollars_fp": no}})


def _delta(seq: int, price: str, delta: str, side: str = "yes") -> str:
    return json.dumps({"type": "orderbook_delta", "sid": 1, "seq": seq, "msg": {
        "market_ticker": "T", "market_id": "m", "price_dollars": price, "delta_fp": delta, "side": side,
        "ts_ms": 1}})


def test_a_message_out_of_sequence_or_unreadable_is_never_applied(tmp_path: Path) -> None:
    """Without a socket: the feed's reading alone. An out-of-order delta drops the books (nothing
    trades on them) instead of applying the change; so does a count with three decimals or a level
    not priced in dollars; a delta for a market waiting for its snapshot is left out."""
    feed, books = _feed(tmp_path)

    async def scenario() -> None:
        feed.on_text(json.dumps({"type": "subscribed", "id": 1, "msg": {"channel": "orderbook_delta", "sid": 1}}))
        feed.on_text(_snapshot(1, [["0.4000", "10.00"]], [["0.5550", "5.50"]]))
        assert books.best_prices(token_id("T", "yes")) == (400_000, 445_000)
        feed.on_text(_delta(3, "0.4100", "5.00"))
        assert books.best_prices(token_id("T", "yes")) == (None, None)  # dropped, not moved to 0.41
        assert feed.gaps == 1 and "message 3 after 1" in (feed.last_error or "")
        assert feed.snapshots_asked == 1
        feed.on_text(_delta(4, "0.4100", "5.00"))  # still waiting for its snapshot: left out
        assert books.best_prices(token_id("T", "yes")) == (None, None) and feed.gaps == 1
        feed.on_text(_snapshot(5, [["0.4000", "10.00"]], [["0.5550", "5.50"]]))
        assert books.best_prices(token_id("T", "yes")) == (400_000, 445_000)
        for hostile in (_delta(6, "0.4100", "1.005"), _delta(7, "41", "1.00"), "[1, 2]",
                        _delta(8, "0.4000", "-99.00")):
            before = feed.gaps
            feed.on_text(hostile)
            assert feed.gaps == before + 1 and books.best_prices(token_id("T", "yes")) == (None, None)
            feed.on_text(_snapshot(feed._seq + 1 if feed._seq else 1, [["0.4000", "10.00"]], []))
        await asyncio.sleep(0)

    asyncio.run(scenario())


def test_the_desks_client_reads_the_same_book_from_rest(sim: SimHandle) -> None:
    """The REST book (where the stream is down) is the same book, level for level."""
    ticker = binary_tickers(sim)[0]

    async def scenario() -> None:
        c = KalshiClient.at(f"{sim.clob_host}/trade-api/v2")
        try:
            [book] = await c.orderbooks([ticker])
            one = await c.orderbook(ticker)
            assert book == one and book.yes_bids and book.no_bids
        finally:
            await c.close()

    asyncio.run(scenario())
