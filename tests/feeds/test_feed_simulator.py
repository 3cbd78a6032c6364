"""The feed end to end against the simulator (in-process, agents trading): discovery into
a real SQLite file, then live books that match the simulator's REST books, through
dropped, duplicated and reordered frames."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from contracts.domain import ONE
from engine.feeds.books import BookCache
from engine.feeds.catalog import MarketCatalog
from engine.feeds.market_data_events import BookChanged, MarketResolved, TickSizeChanged, TradePrint
from engine.feeds.pacing import Backoff
from engine.feeds.wsloop import SocketOptions
from engine.venues.polymarket.discovery import refresh_markets
from engine.venues.polymarket.market_ws import MarketFeed
from engine.venues.polymarket.rest import RestClient, fetch_books
from simulator.testing import SimHandle, running_simulator
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate
from tests.feeds.fakes import eventually

OPTIONS = SocketOptions(ping_interval_s=0.5, silence_s=3.0, close_timeout_s=0.5)


def backoff() -> Backoff:
    return Backoff(initial_s=0.05, max_s=0.3, floor_s=0.05, healthy_after_s=1.0)


async def unmatched_books(cache: BookCache, rest: RestClient, tokens: list[str]) -> list[str]:
    """Tokens whose cached book differs from the venue's REST book right now."""
    wrong = []
    for snap in await fetch_books(rest, tokens):
        book = cache.book(snap.token_id, depth=10_000)
        if book is None:
            wrong.append(snap.token_id)
            continue
        got = ([(lv.price, lv.size) for lv in book.bids], [(lv.price, lv.size) for lv in book.asks])
        if got != (sorted(snap.bids, reverse=True), sorted(snap.asks)):
            wrong.append(snap.token_id)
    return wrong


async def converge(cache: BookCache, rest: RestClient, tokens: list[str], timeout: float = 10.0) -> None:
    """Agents keep trading, so a REST read and the cache can straddle a change; each book
    must match REST at some moment (and a corrupted book never would)."""
    pending = list(tokens)
    deadline = asyncio.get_running_loop().time() + timeout
    while pending:
        pending = await unmatched_books(cache, rest, pending)
        if not pending:
            return
        assert asyncio.get_running_loop().time() < deadline, f"books never matched REST: {pending}"
        await asyncio.sleep(0.05)


async def discover_and_stream(sim: SimHandle, tmp_path: Path,
                              until: Callable[[MarketFeed, list[Any]], bool]) -> tuple[MarketFeed, BookCache,
                                                                                      list[Any], list[str]]:
    """Markets discovered, their books streamed until `until(feed, events)` holds (polled,
    bounded: a loaded machine streams more slowly, it does not stream for less)."""
    migrate(tmp_path / "t.db")
    db = Database(tmp_path / "t.db")
    try:
        report = await refresh_markets(db, sim.gamma_host)
        catalog = MarketCatalog()
        catalog.load(db)
        markets = [m for m in catalog.all() if m.tradable and not m.closed]
    finally:
        db.dispose()
    assert report.tradable == len(markets) == 14
    tokens = [t for m in markets for t in (m.yes_token, m.no_token)]
    cache, events = BookCache(), list[Any]()
    cache.add_listener(events.append)
    feed = MarketFeed(sim.ws_host, sim.clob_host, cache, options=OPTIONS, backoff_factory=backoff)
    feed.subscribe(tokens)
    await feed.start()
    await eventually(lambda: until(feed, events), timeout=30)
    return feed, cache, events, tokens


def test_discovered_markets_stream_books_that_match_rest(tmp_path: Path) -> None:
    with running_simulator(seed=5, agents=True, agent_interval_s=0.1) as sim:
        async def scenario() -> None:
            # The agents really move books: more than 50 changes streamed.
            feed, cache, events, tokens = await discover_and_stream(
                sim, tmp_path, lambda _, seen: sum(isinstance(e, BookChanged) for e in seen) > 50)
            rest = RestClient(sim.clob_host)
            try:
                await converge(cache, rest, tokens)
                assert feed.stats()[0].connects == 1 and feed.audit_failures == 0
                now = max(cache.updated_ms(t) or 0 for t in tokens)
                assert all(now - (cache.updated_ms(t) or 0) < 2_000 for t in tokens)  # all fresh
            finally:
                await rest.close()
                await feed.close()

        asyncio.run(asyncio.wait_for(scenario(), 60))


def test_books_stay_right_through_drops_duplicates_and_reorders(tmp_path: Path) -> None:
    faults: dict[str, Any] = dict(ws_dup_rate=0.2, ws_reorder_rate=0.2, ws_drop_every_s=1.0)
    with running_simulator(seed=6, agents=True, agent_interval_s=0.1, **faults) as sim:
        async def scenario() -> None:
            # Dropped every second: at least three connections, each resynced.
            feed, cache, _, tokens = await discover_and_stream(
                sim, tmp_path, lambda f, _: f.stats()[0].connects >= 3 and f.resyncs >= 3)
            rest = RestClient(sim.clob_host)
            try:
                await eventually(lambda: feed.stats()[0].connected)
                sim.set_faults(ws_drop_every_s=0)  # hold the connection still while comparing
                await converge(cache, rest, tokens)
                assert sim.set_faults()["stats"]["ws_reorders"] > 0 and sim.set_faults()["stats"]["ws_dups"] > 0
            finally:
                await rest.close()
                await feed.close()

        asyncio.run(asyncio.wait_for(scenario(), 60))


def test_trade_prints_tick_changes_and_resolution_reach_listeners() -> None:
    # Final at once (no UMA liveness): `market_resolved` goes out when a resolution is final.
    with running_simulator(seed=7, agents=False, resolution_delay_s=0) as sim:
        market = sim.market(neg_risk=False)
        cid, yes, no = market["condition_id"], market["yes_token_id"], market["no_token_id"]

        async def scenario() -> None:
            cache, events = BookCache(), list[Any]()
            cache.add_listener(events.append)
            feed = MarketFeed(sim.ws_host, sim.clob_host, cache, options=OPTIONS, backoff_factory=backoff)
            feed.subscribe([yes, no])
            await feed.start()
            try:
                await eventually(lambda: cache.book(yes) and cache.book(no))
                sim.print_trade(yes, "0.5", "10")
                await eventually(lambda: cache.last_trade(no) is not None)
                assert (cache.last_trade(yes).price, cache.last_trade(yes).size) == (500_000, 10_000_000)
                assert cache.last_trade(no).price == ONE - 500_000
                assert any(isinstance(e, TradePrint) for e in events)
                sim.set_tick_size(cid, "0.001")
                await eventually(lambda: feed.ticks.get(yes) == 1_000 and feed.ticks.get(no) == 1_000)
                assert {e.token_id for e in events if isinstance(e, TickSizeChanged)} == {yes, no}
                sim.resolve(cid, "YES")
                resolved = await eventually(lambda: [e for e in events if isinstance(e, MarketResolved)])
                assert resolved[0].condition_id == cid and resolved[0].winning_token == yes
            finally:
                await feed.close()

        asyncio.run(asyncio.wait_for(scenario(), 30))
