"""The market channel: live L2 books for every subscribed token, kept in a BookCache.

Tokens are spread over connections of at most `max_assets` each (the venue's limit is
about 500). Every (re)connect subscribes and then resyncs its books over REST, so
nothing missed while away survives; tokens the venue no longer has a book for are
dropped. Frames carry both `price_change` formats, `book` snapshots, `last_trade_price`,
`tick_size_change` and `market_resolved`; everything is applied in venue-timestamp order
by the cache, so duplicated and reordered frames leave the books intact.

A book is fresh only through the venue's book data (on its connection) or a REST read that
finds it unchanged, never through a PONG: the venue's socket can answer pings for hours with
no data. A quiet connection's books are spot-checked over REST (engine/venues/polymarket/spot_check.py),
which tells a quiet market from a frozen channel, reconnects a frozen one and marks it frozen
until book data flows again.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from typing import Any

from websockets.asyncio.client import ClientConnection

from contracts.jsonsafe import JsonRefused
from engine.feeds.books import CONFIRM_EVERY_MS, BookCache
from engine.feeds.market_data_events import MarketResolved, TickSizeChanged, TradePrint
from engine.feeds.pacing import Backoff
from engine.feeds.wsloop import ReconnectingSocket, SocketOptions, SocketStats
from engine.venues.polymarket.parse import BookSnapshot, PriceChanges, market_frame, reported_tops, top_price
from engine.venues.polymarket.rest import RestClient, fetch_books
from engine.venues.polymarket.spot_check import SpotCheck, SpotCheckConfig
from storage.sqlite.db import now_ms

log = logging.getLogger("engine.feeds.market")
MAX_ASSETS_PER_CONNECTION = 500
RESYNC_COOLDOWN_MS = 2_000  # per token, between audit-triggered resyncs
MAX_CATCH_UP_PASSES = 5  # on connect: rounds of (un)subscribes that arrived during the previous round
MAX_REPORTED = 50_000  # markets remembered between two audits


class _Shard:
    """One connection and the tokens it carries."""

    def __init__(self, feed: MarketFeed, index: int):
        self.feed = feed
        self.name = f"market-{index}"
        self.assets: set[str] = set()
        self.sent: set[str] = set()  # what this connection has subscribed
        self.fresh: set[str] = set()  # tokens with a snapshot since this connection opened
        self.confirmed_at = 0
        self.audited_at = 0
        self.data_at = 0  # when the venue last sent book data here, or this connection opened
        self.suspect_since: int | None = None  # see engine/venues/polymarket/spot_check.py
        self.frozen_since: int | None = None
        self.socket = ReconnectingSocket(feed.url, self, feed.options, feed.backoff_factory())

    @property
    def connected(self) -> bool:
        return self.socket.ws is not None

    async def reconnect(self, why: str) -> None:
        await self.socket.reconnect(why)

    async def on_open(self, ws: ClientConnection) -> None:
        self.data_at = self.feed.clock_ms()  # quiet, or frozen, from here until it says something
        self.sent = set(self.assets)
        await ws.send(json.dumps({"type": "market", "assets_ids": sorted(self.sent),
                                  "custom_feature_enabled": self.feed.custom_features}))
        self.fresh |= await self.feed.resync(self.sent)
        # (Un)subscribes made while that resync ran found no live socket (`sync` leaves
        # them to us): send the difference now, again until a pass finds none.

        async def send(text: str) -> bool:
            await ws.send(text)  # a closed connection raises: the socket reconnects
            return True

        for _ in range(MAX_CATCH_UP_PASSES):
            if not await self._send_difference(send):
                return
        log.warning("subscriptions kept changing while connecting; the next change sends the rest",
                    extra={"connection": self.name})

    def on_text(self, text: str) -> None:
        at = self.feed.clock_ms()
        # A PONG says the socket lives (its watchdog counted the frame), not that the books do.
        if text != "PONG" and self.feed.handle_frame(text, at, self.fresh):
            self._delivered(at)
        if at - self.audited_at >= CONFIRM_EVERY_MS:
            self.audited_at = at
            self.feed.audit(at)

    def _delivered(self, at: int) -> None:
        """Book data arrived: the connection is current, and so is every book it resynced."""
        self.data_at = at
        if self.frozen_since is not None:
            log.warning("market channel delivers book data again", extra={"connection": self.name,
                                                                          "frozen_ms": at - self.frozen_since})
            self.frozen_since = None
        if at - self.confirmed_at >= CONFIRM_EVERY_MS:
            # Only books resynced on this connection: one left over from before a
            # reconnect must age, not be vouched for.
            self.confirmed_at = at
            self.feed.books.confirm(self.fresh, at)

    def on_closed(self) -> None:
        self.sent = set()
        self.fresh = set()
        self.confirmed_at = 0
        self.suspect_since = None  # a frozen channel stays frozen until it sends data again

    async def sync(self) -> None:
        """Bring the live subscription in line with `assets` (dynamic (un)subscribe)."""
        if self.socket.ws is None:
            return  # on_open subscribes everything, and catches up, when the connection is up
        await self._send_difference(self.socket.send)

    async def _send_difference(self, send: Callable[[str], Awaitable[bool]]) -> bool:
        """(Un)subscribe what differs between `assets` and `sent`, resyncing the added
        tokens; False when there was nothing to send. `send` returns False when the
        connection is gone (on_open will send everything again)."""
        added, removed = self.assets - self.sent, self.sent - self.assets
        if removed and await send(json.dumps({"assets_ids": sorted(removed), "operation": "unsubscribe"})):
            self.sent -= removed
        if added and await send(json.dumps({"assets_ids": sorted(added), "operation": "subscribe",
                                            "custom_feature_enabled": self.feed.custom_features})):
            self.sent |= added
            self.fresh |= await self.feed.resync(added)
        return bool(added or removed)


class MarketFeed:
    def __init__(self, ws_host: str, clob_host: str, books: BookCache, *,
                 max_assets: int = MAX_ASSETS_PER_CONNECTION, options: SocketOptions | None = None,
                 backoff_factory: Callable[[], Backoff] = Backoff, rest: RestClient | None = None,
                 clock_ms: Callable[[], int] = now_ms, custom_features: bool = True,
                 spot_check: SpotCheckConfig | None = None):
        self.url = ws_host.rstrip("/") + "/market"
        self.books = books
        self.max_assets = max_assets
        self.options = options or SocketOptions()
        self.backoff_factory = backoff_factory
        self.rest = rest or RestClient(clob_host)
        self.clock_ms = clock_ms
        self.custom_features = custom_features
        self.spot = SpotCheck(books, self.rest, clock_ms, spot_check)
        self.ticks: dict[str, int] = {}
        self.resyncs = 0
        self.audit_failures = 0
        self._reported: dict[str, tuple[int, list[list[dict[str, Any]]]]] = {}
        self._resynced_at: dict[str, int] = {}
        self._tasks: set[asyncio.Task[object]] = set()
        self._wanted: set[str] = set()
        self._shards: list[_Shard] = []
        self._started = False

    # -- control -------------------------------------------------------------------------

    async def start(self) -> None:
        if not self._started:
            self._spawn(self.spot.run(lambda: self._shards))
        self._started = True
        for shard in self._shards:
            self._launch(shard)

    async def close(self) -> None:
        """Disconnect everything; books stay (ageing) and `start()` may be called again."""
        self._started = False
        await asyncio.gather(*(shard.socket.close() for shard in self._shards))
        pending = list(self._tasks)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        await self.rest.close()

    def subscribe(self, token_ids: Iterable[str]) -> None:
        touched = set()
        for token in token_ids:
            if token in self._wanted:
                continue
            self._wanted.add(token)
            shard = self._shard_with_room()
            shard.assets.add(token)
            touched.add(shard)
        self._sync(touched)

    def unsubscribe(self, token_ids: Iterable[str]) -> None:
        touched = set()
        for token in token_ids:
            if token not in self._wanted:
                continue
            self._wanted.discard(token)
            for shard in self._shards:
                if token in shard.assets:
                    shard.assets.discard(token)
                    touched.add(shard)
            self.books.drop(token)
        self._sync(touched)

    def subscribed(self) -> set[str]:
        return set(self._wanted)

    def stats(self) -> list[SocketStats]:
        return [shard.socket.stats for shard in self._shards]

    def frozen_since(self) -> int | None:
        """Since when a connection has sent no book data while the venue's books moved (the
        earliest, if several); None while every connection delivers or is merely quiet."""
        return min((s.frozen_since for s in self._shards if s.frozen_since is not None), default=None)

    # -- data ----------------------------------------------------------------------------

    def handle_frame(self, text: str, at_ms: int, fresh: set[str] | None = None) -> bool:
        """Apply one market-channel frame to the books (the hot path); tokens that got a
        snapshot are added to `fresh`. True when it carried book data (a book, price change,
        tick change or trade print: what makes books fresh)."""
        books = self.books
        try:
            messages = market_frame(text, at_ms)
        except JsonRefused as exc:  # never from the venue: dropped, and said so
            log.warning("market frame dropped", extra={"error": str(exc), "frame": text[:200]})
            return False
        data = False
        for msg in messages:  # `type(msg) is`: exact and cheap on the hot path, and mypy narrows on it
            if type(msg) is PriceChanges:
                books.apply_changes(msg.changes, at_ms, msg.ts_ms)
                if msg.entries and msg.ts_ms is not None:
                    self._note_reported(msg.condition_id, msg.ts_ms, msg.entries)
            elif type(msg) is BookSnapshot:
                if msg.token_id in self._wanted:
                    books.apply_snapshot(msg.token_id, msg.bids, msg.asks, at_ms, msg.ts_ms)
                    if fresh is not None:
                        fresh.add(msg.token_id)
            elif type(msg) is TradePrint:
                books.record_trade(msg)
            elif type(msg) is TickSizeChanged:
                self.ticks[msg.token_id] = msg.new_tick
                books.publish(msg)
            elif type(msg) is MarketResolved:
                books.publish(msg)
                continue
            data = True
        return data

    async def resync(self, token_ids: Iterable[str]) -> set[str]:
        """Replace books from REST (newer WS data wins on timestamps); drop unknown tokens.
        Returns the tokens the venue returned a book for."""
        tokens = [t for t in token_ids if t in self._wanted]
        if not tokens:
            return set()
        try:
            snapshots = await fetch_books(self.rest, tokens)
        except Exception as exc:  # the WS snapshot still arrives; log and carry on
            log.warning("book resync failed",
                        extra={"error": f"{type(exc).__name__}: {exc}", "tokens": len(tokens)})
            return set()
        at = self.clock_ms()
        self.resyncs += 1
        returned = set()
        for snap in snapshots:
            if snap.token_id not in self._wanted:
                continue
            returned.add(snap.token_id)
            self.books.apply_snapshot(snap.token_id, snap.bids, snap.asks, at, snap.ts_ms)
            self._note_tick(snap, at)
        self.books.confirm(returned, at)
        for token in set(tokens) - returned:
            log.warning("no order book for token: dropped", extra={"token_id": token})
            self.books.drop(token)
        return returned

    def _note_reported(self, condition_id: str, ts_ms: int, entries: list[dict[str, Any]]) -> None:
        """Keep the newest message(s) per market for the next audit (cheap: one lookup)."""
        seen = self._reported.get(condition_id)
        if seen is None or seen[0] < ts_ms:
            if seen is None and len(self._reported) >= MAX_REPORTED:
                self._reported.clear()  # audits have stalled; never grow without bound
            self._reported[condition_id] = (ts_ms, [entries])
        elif seen[0] == ts_ms and len(seen[1]) < 16:
            seen[1].append(entries)  # same millisecond: any of them may be the venue's last

    def audit(self, at_ms: int) -> list[str]:
        """Compare books with the best bid/ask the venue reported after its latest change.

        Timestamps order messages only to the millisecond; two changes to one level in
        the same millisecond, delivered out of order, would leave a wrong level that no
        timestamp reveals. The venue's own best prices do: a book that matches none of
        the tops reported in its newest millisecond, with no newer data applied since,
        is resynced from REST."""
        expected: dict[str, tuple[int, set[tuple[str | None, str | None]]]] = {}
        for ts, batches in self._reported.values():
            for entries in batches:
                for token_id, top in reported_tops(entries).items():
                    expected.setdefault(token_id, (ts, set()))[1].add(top)
        self._reported.clear()
        wrong = []
        for token_id, (ts, tops) in expected.items():
            if self.books.venue_ts(token_id) != ts:
                continue  # newer data arrived since (or the book is gone): nothing to compare
            bid, ask = self.books.best(token_id)
            got = (bid.price if bid else None, ask.price if ask else None)
            if all(got != (top_price(b), top_price(a)) for b, a in tops):
                wrong.append(token_id)
        due = [t for t in wrong if at_ms - self._resynced_at.get(t, 0) >= RESYNC_COOLDOWN_MS]
        if due:
            self.audit_failures += len(due)
            log.warning("book disagrees with the venue's best prices: resyncing", extra={"tokens": due})
            for token_id in due:
                self._resynced_at[token_id] = at_ms
            self._spawn(self.resync(due))
        return wrong

    def _note_tick(self, snap: BookSnapshot, at_ms: int) -> None:
        if snap.tick is None:
            return
        old = self.ticks.get(snap.token_id)
        self.ticks[snap.token_id] = snap.tick
        if old is not None and old != snap.tick:  # a tick_size_change we missed while away
            self.books.publish(TickSizeChanged(snap.token_id, old, snap.tick, at_ms))

    # -- shards --------------------------------------------------------------------------

    def _shard_with_room(self) -> _Shard:
        for shard in self._shards:
            if len(shard.assets) < self.max_assets:
                return shard
        shard = _Shard(self, len(self._shards))
        self._shards.append(shard)
        return shard

    def _sync(self, shards: set[_Shard]) -> None:
        if not self._started:
            return
        for shard in shards:
            if not shard.assets:
                self._spawn(self._retire(shard))  # an empty subscription is not worth a socket
            elif not shard.socket.running:
                self._launch(shard)
            else:
                self._spawn(shard.sync())

    async def _retire(self, shard: _Shard) -> None:
        if not shard.socket.running:
            return
        await shard.socket.close()
        if shard.assets and self._started:  # tokens arrived while it was closing
            self._launch(shard)

    def _spawn(self, coro: Coroutine[object, object, object]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _launch(self, shard: _Shard) -> None:
        if shard.assets:
            shard.socket.start()
