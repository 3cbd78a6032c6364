"""Kalshi's order books into the desk's book cache, from its WebSocket `orderbook_delta` channel, in
today's shapes (Kalshi's AsyncAPI document): a snapshot (`yes_dollars_fp`, `no_dollars_fp`: lists of
[price, count] strings) then deltas (`price_dollars`, `delta_fp`, `side`), prices exact to Kalshi's
grid and counts to 0.01 contract (nothing rounded to cents).

Kalshi shows each market as two lists of bids: YES bids, and NO bids at the NO price (a NO bid at q
is a YES ask at 1 - q). The desk's two tokens of a Kalshi market each get a whole book from them:
YES bids and asks at 1 - NO bids; NO bids and asks at 1 - YES bids.

Each subscription numbers its messages (`seq`, one more each time). A message that is not the next
one (a lost message) means the subscription's books can no longer be trusted: they are dropped at
once (nothing trades on them) and their snapshots asked for again on the same connection
(`update_subscription` with `get_snapshot`, which Kalshi re-sends on the subscription's sequence), no
reconnect needed; a delta for a market whose snapshot has not come is left out, and so is a snapshot
of a market the feed never asked for (it is not published: nothing trades on a book nobody follows).
A delta that would leave a negative size, or a message that cannot be read (a `seq` that is not a
whole number, 1e309 say, a frame nested past MAX_DEPTH), is the same loss for its market. Error 25
(Kalshi's buffer overflowed) ends the subscription: the connection is opened again. The handshake is
signed with the account's key, as Kalshi requires for the connection.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from websockets.asyncio.client import ClientConnection

from contracts import kalshi_ids as wire
from contracts.jsonsafe import FEED_BYTES, loads_bounded
from contracts.kalshi_settings import KalshiSettings
from engine.feeds import kalshi_models as models
from engine.feeds.books import BookCache
from engine.feeds.kalshi_fixed import KalshiShapeError
from engine.feeds.kalshi_http import KalshiSigner
from engine.feeds.kalshi_reference import put_book
from engine.feeds.wsloop import ReconnectingSocket, SocketFeed, SocketOptions
from storage.sqlite.db import now_ms

log = logging.getLogger("engine.feeds.kalshi_books")
WS_PATH = "/trade-api/ws/v2"
OVERFLOW = 25  # Kalshi's "Subscription buffer overflow": the subscription is over
# Kalshi pings at the protocol level; no application ping. A market can be quiet for minutes.
OPTIONS = SocketOptions(ping_interval_s=None, silence_s=None, protocol_ping_s=20.0)


class Gap(ValueError):
    """The books cannot be trusted any more (the message says why)."""


class KalshiBookFeed(SocketFeed):
    name = "kalshi-books"

    def __init__(self, settings: KalshiSettings, books: BookCache, tickers: Iterable[str], *,
                 clock_ms: Callable[[], int] = now_ms, ended: Callable[[str], bool] = lambda ticker: False) -> None:
        """`ended`: a market the desk no longer follows (settled, not binary): its messages are left out."""
        if not settings.configured:
            raise ValueError("Kalshi's WebSocket needs the account's key (KALSHI_API_KEY_ID, KALSHI_PRIVATE_KEY)")
        assert settings.private_key is not None and settings.api_key_id is not None
        signer = KalshiSigner(settings.api_key_id, settings.private_key.reveal())
        self.books = books
        self.tickers = tuple(sorted(set(tickers)))
        self.clock_ms = clock_ms
        self.ended = ended
        self.gaps = 0
        self.foreign = 0  # snapshots of markets the feed did not ask for, left out
        self.snapshots_asked = 0
        self.last_error: str | None = None
        self._sid: int | None = None
        self._seq: int | None = None  # the last seq applied on the subscription
        self._levels: dict[str, tuple[dict[int, int], dict[int, int]]] = {}  # ticker -> (YES, NO) bids
        self._pending: list[asyncio.Task[bool]] = []
        self.socket = ReconnectingSocket(settings.ws_host, self, OPTIONS, headers=lambda: signer.headers("GET",
                                                                                                        WS_PATH))

    def streamed(self) -> set[str]:
        """The markets whose books the stream serves now (a snapshot applied, no gap since)."""
        return set(self._levels) if self.socket.stats.connected else set()

    async def on_open(self, ws: ClientConnection) -> None:
        self._sid = self._seq = None
        self._levels.clear()
        await ws.send(json.dumps({"id": 1, "cmd": "subscribe", "params": {
            "channels": ["orderbook_delta"], "market_tickers": list(self.tickers)}}))

    def on_closed(self) -> None:
        self._sid = self._seq = None
        self._levels.clear()

    def on_text(self, text: str) -> None:
        try:
            message = loads_bounded(text, max_bytes=FEED_BYTES, what="a book message")
            if not isinstance(message, dict):
                raise Gap("a message that is not an object")
            self._handle(message)
        except (Gap, KalshiShapeError, ValueError, KeyError, TypeError) as exc:
            self._lost(f"{type(exc).__name__}: {exc}")

    def _handle(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "error":
            said = message.get("msg")
            code = said.get("code") if isinstance(said, dict) else None
            self.last_error = f"Kalshi refused the book subscription: {message.get('msg')}"
            log.warning(self.last_error)
            if code == OVERFLOW:
                self._pending.append(asyncio.get_running_loop().create_task(
                    self._reconnect("subscription buffer overflow")))
            return
        if kind == "subscribed":
            self._sid = _whole(message["msg"]["sid"], "sid")
            return
        if kind not in ("orderbook_snapshot", "orderbook_delta"):
            return  # ok, unsubscribed
        seq, msg = _whole(message.get("seq"), "seq"), message["msg"]
        last, self._seq = self._seq, seq
        if last is not None and seq != last + 1:
            raise Gap(f"message {seq} after {last}")
        if kind == "orderbook_snapshot":
            snapshot = models.ws_snapshot(msg)
            if snapshot.ticker not in self.tickers:
                self.foreign += 1
                log.warning("a Kalshi book snapshot of a market not asked for; left out",
                            extra={"ticker": snapshot.ticker[:60]})
                return
            if self.ended(snapshot.ticker):
                return
            self._levels[snapshot.ticker] = (dict(snapshot.yes_bids), dict(snapshot.no_bids))
            self._publish(snapshot.ticker)
            return
        delta = models.ws_delta(msg)
        # (a market waiting for its snapshot takes no delta)
        if delta.ticker in self._levels and not self.ended(delta.ticker):
            self._delta(delta)

    def _delta(self, delta: models.BookDelta) -> None:
        levels = self._levels[delta.ticker][0 if delta.side == "yes" else 1]
        size = levels.get(delta.price, 0) + delta.delta
        if size < 0:
            raise Gap(f"{delta.ticker} {delta.side} {delta.price / 1e6:g}: the delta leaves {size / 1e6:g} contracts")
        if size:
            levels[delta.price] = size
        else:
            levels.pop(delta.price, None)
        at = self.clock_ms()
        own, other = (wire.token_id(delta.ticker, "yes"), wire.token_id(delta.ticker, "no")) \
            if delta.side == "yes" else (wire.token_id(delta.ticker, "no"), wire.token_id(delta.ticker, "yes"))
        self.books.apply_changes([(own, True, delta.price, size), (other, False, wire.CONTRACT - delta.price, size)],
                                 at)

    def _publish(self, ticker: str) -> None:
        yes, no = self._levels[ticker]
        put_book(self.books, ticker, sorted(yes.items()), sorted(no.items()), self.clock_ms())

    def resync(self, ticker: str) -> None:
        """A book that disagrees with Kalshi's REST answer (engine/feeds/kalshi_reference.py): every
        book of the subscription taken again from its snapshots."""
        if ticker in self._levels:
            self._lost(f"{ticker}'s streamed book disagrees with Kalshi's REST book")

    def _lost(self, why: str) -> None:
        """Drop every book of the subscription and ask for their snapshots again on this connection."""
        self._pending = [t for t in self._pending if not t.done()]
        self.gaps += 1
        self.last_error = why
        log.warning("Kalshi books out of sequence; asking for snapshots", extra={"error": why})
        for ticker in self.tickers:
            self.books.drop(wire.token_id(ticker, "yes"))
            self.books.drop(wire.token_id(ticker, "no"))
        self._levels.clear()
        if self._sid is None:
            self._pending.append(asyncio.get_running_loop().create_task(self._reconnect(why)))
            return
        self.snapshots_asked += 1
        self._pending.append(asyncio.get_running_loop().create_task(self.socket.send(json.dumps({
            "id": 2, "cmd": "update_subscription", "params": {"sids": [self._sid], "market_tickers": list(self.tickers),
                                                             "action": "get_snapshot"}}))))

    async def _reconnect(self, why: str) -> bool:
        await self.socket.reconnect(why)
        return True


def _whole(raw: Any, name: str) -> int:
    """A sequence number or a subscription id: a JSON integer (not 1e309, 1.5 or "7")."""
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise Gap(f"{name} {raw!r:.30} is not a whole number")
    return raw
