"""The market channel client against a scriptable local venue: subscription, REST resync,
every message kind, keepalive, the silence watchdog, reconnect discipline, sharding and
the best-price audit."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from contracts.domain import Level, Side
from contracts.jsonsafe import FEED_BYTES
from engine.feeds.books import BookCache
from engine.feeds.market_data_events import BookChanged, MarketResolved, TickSizeChanged, TradePrint
from engine.feeds.pacing import Backoff
from engine.feeds.wsloop import SocketOptions
from engine.venues.polymarket.market_ws import MarketFeed
from engine.venues.polymarket.user_ws import UserFeed
from tests.feeds.fakes import FakeVenue, eventually, now_ms, summary

FAST = SocketOptions(ping_interval_s=0.1, silence_s=2.0, open_timeout_s=2.0, close_timeout_s=0.5)


def quick_backoff() -> Backoff:
    return Backoff(initial_s=0.05, max_s=0.2, floor_s=0.05, healthy_after_s=1.0)


def run(scenario: Callable[[FakeVenue], Awaitable[None]], timeout: float = 20.0) -> None:
    async def main() -> None:
        venue = await FakeVenue().start()
        try:
            await asyncio.wait_for(scenario(venue), timeout)
        finally:
            await venue.stop()

    asyncio.run(main())


def make_feed(venue: FakeVenue, cache: BookCache, options: SocketOptions = FAST, **kw: Any) -> MarketFeed:
    return MarketFeed(venue.ws_host, venue.clob_host, cache, options=options, backoff_factory=quick_backoff, **kw)


@asynccontextmanager
async def feed_with_book_a(venue: FakeVenue, **kw: Any) -> AsyncIterator[tuple[MarketFeed, BookCache]]:
    """A started feed on token A (`kw` for the feed), whose book (10 bid at 0.48) is in; closed afterwards."""
    venue.books = {"A": summary("A", [("0.48", "10")], [])}
    cache = BookCache()
    feed = make_feed(venue, cache, **kw)
    feed.subscribe(["A"])
    await feed.start()
    try:
        await eventually(lambda: cache.book("A") is not None)
        yield feed, cache
    finally:
        await feed.close()


def bids(cache: BookCache, token: str) -> list[tuple[int, int]]:
    book = cache.book(token)
    return [] if book is None else [(lv.price, lv.size) for lv in book.bids]


def test_subscribes_resyncs_and_applies_every_message_kind() -> None:
    async def scenario(venue: FakeVenue) -> None:
        venue.books = {"A": summary("A", [("0.48", "10")], [("0.52", "5")]),
                       "B": summary("B", [("0.47", "1")], [("0.53", "2")])}
        cache, events = BookCache(), list[Any]()
        cache.add_listener(events.append)
        feed = make_feed(venue, cache)
        feed.subscribe(["B", "A"])
        await feed.start()
        try:
            await eventually(lambda: cache.book("A") and cache.book("B"))
            sub = venue.subscriptions()[0]
            assert sub == {"type": "market", "assets_ids": ["A", "B"], "custom_feature_enabled": True}
            assert sorted(venue.book_requests[0]) == ["A", "B"]  # REST resync after connect
            ts = now_ms() + 1_000
            await venue.push({"event_type": "price_change", "market": "0xcond", "timestamp": str(ts),
                              "price_changes": [{"asset_id": "A", "price": "0.49", "side": "BUY", "size": "7",
                                                 "hash": "x", "best_bid": "0.49", "best_ask": "0.52"},
                                                {"asset_id": "A", "price": "0.52", "side": "SELL", "size": "0",
                                                 "hash": "y", "best_bid": "0.49", "best_ask": "1"}]})
            await venue.push({"event_type": "last_trade_price", "asset_id": "A", "market": "0xcond",
                              "price": "0.52", "side": "BUY", "size": "5", "timestamp": str(ts + 1)})
            await venue.push({"event_type": "tick_size_change", "asset_id": "B", "market": "0xcond",
                              "old_tick_size": "0.01", "new_tick_size": "0.001", "timestamp": str(ts + 2)})
            await venue.push({"event_type": "market_resolved", "market": "0xcond", "winning_asset_id": "A",
                              "timestamp": str(ts + 3)})
            await eventually(lambda: any(isinstance(e, MarketResolved) for e in events))
            assert bids(cache, "A") == [(490_000, 7_000_000), (480_000, 10_000_000)]
            assert cache.book("A").asks == ()
            assert cache.last_trade("A") == TradePrint("A", 520_000, 5_000_000, Side.BUY, ts + 1)
            assert TickSizeChanged("B", 10_000, 1_000, ts + 2) in events
            assert feed.ticks["B"] == 1_000
            assert MarketResolved("0xcond", "A", ts + 3) in events
            assert any(isinstance(e, BookChanged) and e.token_id == "A" for e in events)
        finally:
            await feed.close()

    run(scenario)


def test_pings_and_the_watchdog_reconnects_a_silent_feed_with_a_resync() -> None:
    async def scenario(venue: FakeVenue) -> None:
        venue.books = {"A": summary("A", [("0.48", "10")], [])}
        venue.mode = "silent"
        cache = BookCache()
        feed = make_feed(venue, cache, SocketOptions(ping_interval_s=0.1, silence_s=0.4, close_timeout_s=0.2))
        feed.subscribe(["A"])
        await feed.start()
        try:
            await eventually(lambda: feed.stats()[0].silent_closes >= 2, timeout=8)
            await eventually(lambda: venue.connections >= 3 and len(venue.book_requests) >= 3)
            assert venue.received.count("PING") >= 3  # a REST resync after every reconnect, above
        finally:
            await feed.close()

    run(scenario)


def test_a_server_that_closes_at_once_is_retried_no_faster_than_the_floor() -> None:
    async def scenario(venue: FakeVenue) -> None:
        venue.mode = "close"
        cache = BookCache()
        feed = MarketFeed(venue.ws_host, venue.clob_host, cache, options=FAST,
                          backoff_factory=lambda: Backoff(initial_s=0.01, max_s=0.01, floor_s=0.2))
        feed.subscribe(["A"])
        await feed.start()
        try:
            await eventually(lambda: venue.connections >= 4)
        finally:
            await feed.close()
        gaps = [later - earlier for earlier, later in zip(venue.connected_at, venue.connected_at[1:], strict=False)]
        assert min(gaps) >= 0.19, gaps  # the 0.2 s floor, whatever the 0.01 s backoff asks (a load only adds)

    run(scenario)


def test_reconnect_replaces_books_and_drops_tokens_the_venue_no_longer_has() -> None:
    async def scenario(venue: FakeVenue) -> None:
        venue.initial_dump = False  # only the REST resync can refresh the books
        venue.books = {"A": summary("A", [("0.48", "10")], []), "B": summary("B", [("0.30", "1")], [])}
        cache = BookCache()
        feed = make_feed(venue, cache)
        feed.subscribe(["A", "B"])
        await feed.start()
        try:
            await eventually(lambda: cache.book("B") is not None)
            venue.books = {"A": summary("A", [("0.40", "3")], [])}
            await venue.kick()
            await eventually(lambda: cache.book("B") is None and bids(cache, "A") == [(400_000, 3_000_000)])
            assert feed.stats()[0].connects >= 2
        finally:
            await feed.close()

    run(scenario)


def test_books_age_while_disconnected_and_are_not_vouched_for_until_resynced() -> None:
    async def scenario(venue: FakeVenue) -> None:
        venue.initial_dump = False  # only the REST resync refreshes a book
        venue.books = {t: summary(t, [("0.48", "10")], []) for t in ("A", "B")}
        cache = BookCache()
        feed = make_feed(venue, cache, max_assets=1)  # A and B on connections of their own
        feed.subscribe(["A", "B"])
        await feed.start()
        try:
            await eventually(lambda: cache.book("A") is not None and cache.book("B") is not None)
            await eventually(lambda: all(cache.updated_ms(t) >= now_ms() - 300 for t in "AB"))  # just resynced
            venue.mode = "close"
            venue.books_failing = {"B"}  # from now on B's resync fails
            await venue.kick()
            stamps = {t: cache.updated_ms(t) for t in "AB"}
            tried = venue.connections
            await eventually(lambda: venue.connections >= tried + 4)  # both connections retried, twice
            assert {t: cache.updated_ms(t) for t in "AB"} == stamps  # nobody vouches for them while away
            # Back on a healthy connection: A is resynced and vouched for again; B's
            # connection gets PONGs too, but B has had no snapshot since it reconnected.
            frames = feed.stats()[1].frames
            venue.mode = "normal"
            await eventually(lambda: cache.updated_ms("A") > stamps["A"])
            await eventually(lambda: feed.stats()[1].connected and feed.stats()[1].frames >= frames + 3)
            assert cache.updated_ms("B") == stamps["B"]
            assert cache.book("B") is not None  # kept (ageing), not dropped: the venue did not deny it
        finally:
            await feed.close()

    run(scenario)


def test_more_tokens_than_one_connection_carries_are_sharded() -> None:
    async def scenario(venue: FakeVenue) -> None:
        tokens = [f"T{i}" for i in range(5)]
        venue.books = {t: summary(t, [("0.40", "1")], []) for t in tokens}
        cache = BookCache()
        feed = make_feed(venue, cache, max_assets=2)
        feed.subscribe(tokens)
        await feed.start()
        try:
            await eventually(lambda: all(cache.book(t) for t in tokens))
            subs = [s for s in venue.subscriptions() if s.get("type") == "market"]
            assert len(feed.stats()) == 3 and venue.connections == 3
            assert sorted(len(s["assets_ids"]) for s in subs) == [1, 2, 2]
            assert sorted(t for s in subs for t in s["assets_ids"]) == tokens
        finally:
            await feed.close()

    run(scenario)


def test_dynamic_subscribe_and_unsubscribe() -> None:
    async def scenario(venue: FakeVenue) -> None:
        venue.books = {t: summary(t, [("0.40", "1")], []) for t in ("A", "C")}
        cache = BookCache()
        feed = make_feed(venue, cache)
        feed.subscribe(["A"])
        await feed.start()
        try:
            await eventually(lambda: cache.book("A") is not None)
            feed.subscribe(["C"])
            await eventually(lambda: cache.book("C") is not None)
            feed.unsubscribe(["A"])
            await eventually(lambda: {"assets_ids": ["A"], "operation": "unsubscribe"} in venue.subscriptions())
            assert {"assets_ids": ["C"], "operation": "subscribe", "custom_feature_enabled": True} \
                in venue.subscriptions()
            assert cache.book("A") is None and feed.subscribed() == {"C"}
        finally:
            await feed.close()

    run(scenario)


def test_tokens_subscribed_and_unsubscribed_during_a_reconnects_resync_are_sent() -> None:
    """While on_open resyncs over REST the connection is not live yet, so (un)subscribes
    made then cannot go out at once: on_open must send them when its resync is done."""
    async def scenario(venue: FakeVenue) -> None:
        venue.initial_dump = False  # only the REST resync brings books
        venue.books = {t: summary(t, [("0.40", "1")], []) for t in ("A", "B", "C")}
        cache = BookCache()
        feed = make_feed(venue, cache)
        feed.subscribe(["A", "B"])
        await feed.start()
        try:
            await eventually(lambda: cache.book("A") and cache.book("B"))
            requests = len(venue.book_requests)
            venue.books_delay_s = 0.5
            await venue.kick()
            await eventually(lambda: len(venue.book_requests) > requests)  # the reconnect's resync is under way
            feed.subscribe(["C"])
            feed.unsubscribe(["B"])
            venue.books_delay_s = 0.0
            await eventually(lambda: cache.book("C") is not None)
            assert {"assets_ids": ["C"], "operation": "subscribe", "custom_feature_enabled": True} \
                in venue.subscriptions()
            assert {"assets_ids": ["B"], "operation": "unsubscribe"} in venue.subscriptions()
            assert feed.stats()[0].connects == 2  # caught up on the same connection
        finally:
            await feed.close()

    run(scenario)


def test_a_book_that_disagrees_with_the_venues_best_prices_is_resynced() -> None:
    async def scenario(venue: FakeVenue) -> None:
        venue.books = {"A": summary("A", [("0.48", "10")], [("0.52", "5")])}
        cache = BookCache()
        feed = make_feed(venue, cache)
        feed.subscribe(["A"])
        await feed.start()
        try:
            await eventually(lambda: cache.book("A") is not None)
            requests = len(venue.book_requests)
            # The venue says the best bid is now 0.47, yet this change alone would leave
            # 0.48 on top: an update was lost. The next audit must notice and resync.
            venue.books = {"A": summary("A", [("0.47", "9")], [("0.52", "5")], ts=now_ms() + 5_000)}
            await venue.push({"event_type": "price_change", "market": "0xcond", "timestamp": str(now_ms() + 4_000),
                              "price_changes": [{"asset_id": "A", "price": "0.47", "side": "BUY", "size": "9",
                                                 "hash": "x", "best_bid": "0.47", "best_ask": "0.52"}]})
            await eventually(lambda: len(venue.book_requests) > requests, timeout=5)
            await eventually(lambda: cache.best("A")[0] == Level(470_000, 9_000_000))
            assert feed.audit_failures == 1
        finally:
            await feed.close()

    run(scenario)


def test_malformed_frames_do_not_drop_the_connection() -> None:
    async def scenario(venue: FakeVenue) -> None:
        async with feed_with_book_a(venue) as (feed, cache):
            await venue.push("{not json")
            await venue.push(json.dumps({"event_type": "price_change", "market": "m", "price_changes": [{}]}))
            await venue.push({"event_type": "price_change", "market": "0xcond", "timestamp": str(now_ms() + 9_000),
                              "price_changes": [{"asset_id": "A", "price": "0.45", "side": "BUY", "size": "2"}]})
            await eventually(lambda: (450_000, 2_000_000) in bids(cache, "A"))
            assert feed.stats()[0].connects == 1

    run(scenario)


def test_a_closed_feed_can_be_started_again() -> None:
    async def scenario(venue: FakeVenue) -> None:
        venue.books = {"A": summary("A", [("0.48", "10")], [])}
        cache = BookCache()
        feed = make_feed(venue, cache)
        feed.subscribe(["A"])
        await feed.start()
        await eventually(lambda: cache.book("A") is not None)
        await feed.close()
        venue.books = {"A": summary("A", [("0.41", "4")], [])}
        await feed.start()
        try:
            await eventually(lambda: bids(cache, "A") == [(410_000, 4_000_000)])
            assert venue.connections == 2
        finally:
            await feed.close()

    run(scenario)


def test_a_connection_left_without_tokens_is_closed_and_reopened_when_needed() -> None:
    async def scenario(venue: FakeVenue) -> None:
        venue.books = {t: summary(t, [("0.40", "1")], []) for t in ("A", "B")}
        cache = BookCache()
        feed = make_feed(venue, cache)
        feed.subscribe(["A"])
        await feed.start()
        try:
            await eventually(lambda: cache.book("A") is not None)
            feed.unsubscribe(["A"])
            await eventually(lambda: not venue.sockets)
            feed.subscribe(["B"])
            await eventually(lambda: cache.book("B") is not None)
            assert venue.connections == 2 and len(feed.stats()) == 1
        finally:
            await feed.close()

    run(scenario)


def _change(price: str, size: str, **extra: Any) -> dict[str, Any]:
    return {"event_type": "price_change", "market": "0xcond", "timestamp": str(now_ms() + 9_000),
            "price_changes": [{"asset_id": "A", "price": price, "side": "BUY", "size": size, **extra}]}


def test_a_frame_over_the_feed_bound_is_never_read_and_the_feed_reconnects() -> None:
    """Market frames are bounded at FEED_BYTES (what the README documents): a bigger one closes
    the connection (1009) before it is read whole, and the feed comes back with a resync."""
    async def scenario(venue: FakeVenue) -> None:
        async with feed_with_book_a(venue) as (feed, cache):
            big = json.dumps(_change("0.41", "3", pad=""))
            await venue.push(json.dumps(_change("0.41", "3", pad="x" * (FEED_BYTES - len(big) + 1))))
            await eventually(lambda: feed.stats()[0].connects >= 2, timeout=10)
            assert "1009" in (feed.stats()[0].last_error or "")
            await eventually(lambda: cache.book("A") is not None and feed.stats()[0].connected)
            assert (410_000, 3_000_000) not in bids(cache, "A")
            await venue.push(_change("0.44", "2"))  # the new connection reads normal frames
            await eventually(lambda: (440_000, 2_000_000) in bids(cache, "A"))

    run(scenario)


def test_a_frame_nested_past_the_depth_bound_is_dropped_and_the_connection_kept() -> None:
    async def scenario(venue: FakeVenue) -> None:
        async with feed_with_book_a(venue) as (feed, cache):
            deep = json.dumps(_change("0.41", "3")).replace('"size": "3"', '"size": "3", "x": ' + "[" * 40 + "]" * 40)
            await venue.push(deep)
            await venue.push(_change("0.44", "2"))
            await eventually(lambda: (440_000, 2_000_000) in bids(cache, "A"))
            assert (410_000, 3_000_000) not in bids(cache, "A")
            assert feed.stats()[0].connects == 1

    run(scenario)


def test_a_user_channel_message_past_the_bounds_is_dropped_not_raised() -> None:
    got: list[dict[str, Any]] = []

    async def connected() -> None:
        return None

    feed = UserFeed("ws://127.0.0.1:9/ws/", {}, got.append, connected)
    feed.on_text(json.dumps({"event_type": "order", "id": "1", "x": [[[[[[[[[[[[]]]]]]]]]]]]}))
    assert len(got) == 1  # an ordinary message is delivered
    feed.on_text('{"event_type": "order", "id": "2", "x": ' + "[" * 40 + "]" * 40 + "}")
    feed.on_text("{not json")
    assert [m["id"] for m in got] == ["1"]
