"""Spot checks of a quiet market channel against the venue's REST books: what tells a quiet market
from a frozen channel.

The venue's market socket can stay open and answer every PING with PONG while it sends no book
data for hours. A PONG says the socket lives, not that the data does, so only book data makes a
book fresh (engine/venues/polymarket/market_ws.py); on a connection that has delivered none for `quiet_ms`,
this check reads a sample of its books over REST (one POST /books, paced with the desk's other
market-data reads) every `every_s`:

- a book the venue still has as we have it is current: it is confirmed fresh as of the request
  (a quiet market stays quotable, a frozen one does not: its books move);
- a book that differs while the connection stays silent is a change the channel never sent. One
  could still be on its way, so the next check looks again: still silent since the first look,
  the channel is frozen. The connection is closed (the socket reconnects, subscribes and
  resyncs from REST) and the shard is marked frozen until book data flows on it again (the desk
  alerts FEED_FROZEN meanwhile, and its books age, so the risk gate stops quoting on them).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from engine.feeds.books import BookCache
from engine.venues.polymarket.rest import RestClient, fetch_books

log = logging.getLogger("engine.feeds.market")


@dataclass(frozen=True)
class SpotCheckConfig:
    every_s: float = 3.0  # how often a quiet connection's books are checked
    quiet_ms: int = 3_000  # a connection with no book data for this long is quiet
    sample: int = 50  # books read per check (those confirmed longest ago first)


class Channel(Protocol):
    """What the check needs of one market connection (market_ws._Shard)."""

    name: str
    fresh: set[str]  # its tokens with a book from this connection
    data_at: int  # when it last delivered book data, or opened
    suspect_since: int | None  # when a check first found a book the channel had not told us of
    frozen_since: int | None  # silent since then while the venue's books moved (None: not frozen)

    @property
    def connected(self) -> bool: ...

    async def reconnect(self, why: str) -> None: ...


class SpotCheck:
    def __init__(self, books: BookCache, rest: RestClient, clock_ms: Callable[[], int],
                 config: SpotCheckConfig | None = None):
        self.books = books
        self.rest = rest
        self.clock_ms = clock_ms
        self.config = config or SpotCheckConfig()
        self.checks = 0
        self.frozen = 0  # channels found frozen (and reconnected)
        self.failing = False  # the last check's REST read failed (said once a streak)

    async def run(self, channels: Callable[[], Iterable[Channel]]) -> None:
        """Check every quiet connection, every `every_s`, until cancelled."""
        while True:
            await asyncio.sleep(self.config.every_s)
            for channel in list(channels()):
                try:
                    await self.check(channel)
                except Exception as exc:  # a failed check says nothing either way: try again next time
                    (log.info if self.failing else log.warning)(
                        "market channel spot check failed", extra={"connection": channel.name,
                                                                   "error": f"{type(exc).__name__}: {exc}"})
                    self.failing = True

    async def check(self, channel: Channel) -> None:
        sent = self.clock_ms()
        spoke = channel.suspect_since is not None and channel.data_at >= channel.suspect_since
        if not channel.connected or spoke or sent - channel.data_at < self.config.quiet_ms:
            channel.suspect_since = None  # data flows (or there is no connection to judge)
            return
        order = sorted(channel.fresh, key=lambda t: self.books.updated_ms(t) or 0)
        tokens = order[:self.config.sample]
        if not tokens:
            return
        snapshots = await fetch_books(self.rest, tokens)
        self.checks += 1
        self.failing = False
        if channel.data_at >= sent:
            return  # the channel spoke while we asked: it lives, and the answer may be older than its news
        same = {s.token_id: self.books.same_as(s.token_id, s.bids, s.asks) for s in snapshots}
        self.books.confirm([t for t, agrees in same.items() if agrees], sent)
        moved = [t for t, agrees in same.items() if agrees is False]
        if not moved:
            channel.suspect_since = None
        elif channel.suspect_since is None:
            channel.suspect_since = sent  # a change may still be on its way: look again next time
            log.info("the venue's book moved without a word on the market channel: looking again",
                     extra={"connection": channel.name, "tokens": moved[:5]})
        else:
            await self._frozen(channel, moved)

    async def _frozen(self, channel: Channel, moved: list[str]) -> None:
        silent_since = channel.data_at
        channel.frozen_since = channel.frozen_since or silent_since
        channel.suspect_since = None
        self.frozen += 1
        log.warning("market channel frozen: it answers pings but sent no book data while the venue's books "
                    "moved; reconnecting and resyncing",
                    extra={"connection": channel.name, "silent_ms": self.clock_ms() - silent_since,
                           "tokens": moved[:5]})
        await channel.reconnect("frozen feed: no book data while the venue's books moved")
