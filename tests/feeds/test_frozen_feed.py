"""A frozen market channel is noticed: a PONG never makes a book fresh, a quiet channel's books stay
fresh only as far as REST finds them unchanged, and a channel that stays silent while the venue's
REST books move is found frozen, reconnected and resynced, and clear again once data flows."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from engine.feeds.books import BookCache
from engine.venues.polymarket.market_ws import MarketFeed
from engine.venues.polymarket.spot_check import SpotCheckConfig
from tests.feeds.fakes import FakeVenue, eventually, now_ms, summary
from tests.feeds.test_market_feed import bids, feed_with_book_a, run

NEVER = SpotCheckConfig(every_s=3600)  # no spot checks: only the channel can make a book fresh
QUICK = SpotCheckConfig(every_s=0.2, quiet_ms=300)


def _change(price: str, size: str) -> dict[str, object]:
    return {"event_type": "price_change", "market": "0xcond", "timestamp": str(now_ms() + 1_000),
            "price_changes": [{"asset_id": "A", "price": price, "side": "BUY", "size": size}]}


@asynccontextmanager
async def quiet_feed(venue: FakeVenue, spot_check: SpotCheckConfig) -> AsyncIterator[tuple[MarketFeed, BookCache]]:
    """A started feed on token A from a venue that sends no snapshot on subscribe, nor anything
    else until the test pushes it; closed afterwards."""
    venue.initial_dump = False
    async with feed_with_book_a(venue, spot_check=spot_check) as started:
        yield started


def test_a_pong_never_makes_a_book_fresh_only_book_data_does() -> None:
    async def scenario(venue: FakeVenue) -> None:
        async with quiet_feed(venue, NEVER) as (feed, cache):
            stamp, pings = cache.updated_ms("A"), venue.received.count("PING")
            await eventually(lambda: venue.received.count("PING") >= pings + 5)  # each answered with a PONG
            assert cache.updated_ms("A") == stamp  # the socket lives; the book is none the fresher
            await venue.push(_change("0.47", "3"))
            await eventually(lambda: cache.updated_ms("A") > stamp)

    run(scenario)


def test_a_quiet_channel_stays_fresh_while_rest_finds_its_books_unchanged() -> None:
    async def scenario(venue: FakeVenue) -> None:
        async with quiet_feed(venue, QUICK) as (feed, cache):
            stamp = cache.updated_ms("A")
            await eventually(lambda: feed.spot.checks >= 3)
            assert cache.updated_ms("A") > stamp + 300  # confirmed by each check, not by the PONGs
            assert (venue.connections, feed.frozen_since(), feed.spot.frozen) == (1, None, 0)  # quiet, not frozen

    run(scenario)


def test_a_channel_silent_while_the_venues_book_moves_is_frozen_reconnected_and_cleared_by_data() -> None:
    async def scenario(venue: FakeVenue) -> None:
        async with quiet_feed(venue, QUICK) as (feed, cache):
            silent_from = now_ms()
            venue.books = {"A": summary("A", [("0.45", "4")], [])}  # the venue's book moves; the channel says nothing
            stale = cache.updated_ms("A")
            await eventually(lambda: feed.frozen_since() is not None, timeout=5)
            assert cache.updated_ms("A") == stale  # never confirmed while it differed: it ages
            assert feed.frozen_since() <= silent_from and feed.spot.frozen == 1
            # Reconnected, and the resync brought the venue's book.
            await eventually(lambda: venue.connections >= 2 and bids(cache, "A") == [(450_000, 4_000_000)])
            assert feed.stats()[0].reconnects_asked == 1
            await venue.push(_change("0.44", "2"))  # data flows again
            await eventually(lambda: feed.frozen_since() is None)

    run(scenario)


def test_a_change_the_channel_delivers_before_the_second_look_is_no_freeze() -> None:
    async def scenario(venue: FakeVenue) -> None:
        async with quiet_feed(venue, QUICK) as (feed, cache):
            venue.books = {"A": summary("A", [("0.48", "10"), ("0.47", "3")], [])}
            await eventually(lambda: feed.spot.checks >= 1 and any(s.suspect_since for s in feed._shards))
            await venue.push(_change("0.47", "3"))  # late, but it came: the channel lives
            await eventually(lambda: feed.spot.checks >= 4)
            assert (feed.frozen_since(), feed.spot.frozen, venue.connections) == (None, 0, 1)

    run(scenario)
