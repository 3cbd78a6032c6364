"""Kalshi's order books into the desk's book cache, from its WebSocket `orderbook_delta` channel.

Kalshi shows each market as two lists of bids: YES bids, and NO bids (a NO bid at q is a YES ask
at 100 - q). The desk's two tokens of a Kalshi market (engine/venues/kalshi_wire.py) each get a
whole book from them: YES bids and asks at 100 - NO bids; NO bids and asks at 100 - YES bids.

Each subscription numbers its messages (`seq`, one more each time). A message that is not the
next one (a lost message), a delta that would leave a negative size, or a malformed message
means the books can no longer be trusted: the markets' books are dropped at once (nothing
trades on them) and the connection is opened again, which subscribes afresh and starts from a
new snapshot. The handshake is signed with the account's key, as Kalshi requires for this channel.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from websockets.asyncio.client import ClientConnection

from contracts import kalshi_ids as wire
from contracts.kalshi_settings import KalshiSettings
from engine.feeds.books import BookCache
from engine.feeds.kalshi_reference import put_book
from engine.feeds.wsloop import ReconnectingSocket, SocketFeed, SocketOptions
from storage.sqlite.db import now_ms

log = logging.getLogger("engine.feeds.kalshi_books")
WS_PATH = "/trade-api/ws/v2"
# Kalshi pings at the protocol level; no application ping. A market can be quiet for minutes.
OPTIONS = SocketOptions(ping_interval_s=None, silence_s=None, protocol_ping_s=20.0)


class Gap(ValueError):
    """The books cannot be trusted any more (the message says why)."""


def ws_url(rest_host: str) -> str:
    """The WebSocket beside a Trade API base (https://…/trade-api/v2 -> wss://…/trade-api/ws/v2)."""
    base = rest_host.removesuffix("/trade-api/v2").rstrip("/")
    scheme, _, rest = base.partition("://")
    return f"{'wss' if scheme == 'https' else 'ws'}://{rest}{WS_PATH}"


class KalshiBookFeed(SocketFeed):
    name = "kalshi-books"

    def __init__(self, settings: KalshiSettings, books: BookCache, tickers: Iterable[str], *,
                 clock_ms: Callable[[], int] = now_ms) -> None:
        if not settings.configured:
            raise ValueError("Kalshi's order book channel needs the account's key (KALSHI_API_KEY_ID, "
                             "KALSHI_PRIVATE_KEY)")
        from kalshi_python_sync.auth import KalshiAuth

        assert settings.private_key is not None and settings.api_key_id is not None
        self._auth = KalshiAuth(settings.api_key_id, settings.private_key.reveal())
        self.books = books
        self.tickers = tuple(sorted(set(tickers)))
        self.clock_ms = clock_ms
        self.gaps = 0
        self.last_error: str | None = None
        self._seq: dict[int, int] = {}  # sid -> the last seq applied
        self._levels: dict[str, tuple[dict[int, int], dict[int, int]]] = {}  # ticker -> (YES, NO) bids, cents
        self._resyncing = False  # books dropped, the connection closing: nothing more is applied on it
        self._resync: asyncio.Task[None] | None = None
        self.socket = ReconnectingSocket(ws_url(settings.host), self, OPTIONS,
                                         headers=lambda: self._auth.create_auth_headers("GET", WS_PATH))

    async def on_open(self, ws: ClientConnection) -> None:
        self._seq.clear()
        self._resyncing = False
        await ws.send(json.dumps({"id": 1, "cmd": "subscribe", "params": {
            "channels": ["orderbook_delta"], "market_tickers": list(self.tickers)}}))

    def on_closed(self) -> None:
        self._seq.clear()

    def on_text(self, text: str) -> None:
        if self._resyncing:
            return
        try:
            self._handle(json.loads(text))
        except (Gap, ValueError, KeyError, TypeError, AttributeError) as exc:  # (a message not an object)
            self._lost(f"{type(exc).__name__}: {exc}")

    def _handle(self, message: Any) -> None:
        kind = message.get("type")
        if kind == "error":
            self.last_error = f"Kalshi refused the subscription: {message.get('msg')}"
            log.warning(self.last_error)
            return
        if kind not in ("orderbook_snapshot", "orderbook_delta"):
            return  # subscribed, unsubscribed
        sid, seq, msg = int(message["sid"]), int(message["seq"]), message["msg"]
        last = self._seq.get(sid)
        if last is not None and seq != last + 1:
            raise Gap(f"subscription {sid}: message {seq} after {last}")
        if last is None and kind != "orderbook_snapshot":
            raise Gap(f"subscription {sid}: a delta before any snapshot")
        self._seq[sid] = seq
        ticker = str(msg["market_ticker"])
        if kind == "orderbook_snapshot":
            yes = _levels(msg.get("yes") or [])
            no = _levels(msg.get("no") or [])
            self._levels[ticker] = (yes, no)
            self._publish(ticker)
        else:
            self._delta(ticker, str(msg["side"]), int(msg["price"]), int(msg["delta"]))

    def _delta(self, ticker: str, side: str, price: int, delta: int) -> None:
        if ticker not in self._levels or side not in ("yes", "no") or not 1 <= price <= 99:
            raise Gap(f"a delta the books cannot take: {ticker} {side} {price}")
        levels = self._levels[ticker][0 if side == "yes" else 1]
        size = levels.get(price, 0) + delta
        if size < 0:
            raise Gap(f"{ticker} {side} {price}: the delta leaves {size} contracts")
        if size:
            levels[price] = size
        else:
            levels.pop(price, None)
        at = self.clock_ms()
        own, other = (wire.token_id(ticker, "yes"), wire.token_id(ticker, "no")) if side == "yes" else \
            (wire.token_id(ticker, "no"), wire.token_id(ticker, "yes"))
        self.books.apply_changes([(own, True, price * wire.CENT, size * wire.CONTRACT),
                                  (other, False, (100 - price) * wire.CENT, size * wire.CONTRACT)], at)

    def _publish(self, ticker: str) -> None:
        yes, no = self._levels[ticker]
        put_book(self.books, ticker, [(p * wire.CENT, q * wire.CONTRACT) for p, q in yes.items()],
                 [(p * wire.CENT, q * wire.CONTRACT) for p, q in no.items()], self.clock_ms())

    def _lost(self, why: str) -> None:
        """Drop every book of this feed and reconnect: a fresh subscription starts from a snapshot."""
        self.gaps += 1
        self.last_error = why
        log.warning("Kalshi books out of sequence; resubscribing", extra={"error": why})
        for ticker in self.tickers:
            self.books.drop(wire.token_id(ticker, "yes"))
            self.books.drop(wire.token_id(ticker, "no"))
        self._levels.clear()
        self._seq.clear()
        self._resyncing = True
        self._resync = asyncio.get_running_loop().create_task(self.socket.reconnect(why))


def _levels(rows: list[Any]) -> dict[int, int]:
    levels: dict[int, int] = {}
    for price, size in rows:
        if not (isinstance(price, int) and isinstance(size, int)) or not 1 <= price <= 99 or size < 0:
            raise Gap(f"a snapshot level the books cannot take: {price!r}, {size!r}")
        if size:
            levels[price] = size
    return levels
