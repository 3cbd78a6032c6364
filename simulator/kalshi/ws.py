"""Kalshi's WebSocket (``/trade-api/ws/v2``), as its WebSocket docs and AsyncAPI document describe it.

The connection itself requires authentication: the handshake carries the same signed headers as
REST (over timestamp + "GET" + "/trade-api/ws/v2"); without them, or with a bad signature, it is
refused before the upgrade (401). Commands are JSON ``{"id", "cmd", "params"}``:

- ``subscribe`` with ``channels`` (each gets its own subscription and ``subscribed`` answer):
  ``orderbook_delta`` (``market_ticker``/``market_tickers`` required) sends an
  ``orderbook_snapshot`` per market, then ``orderbook_delta`` messages; each of its messages carries
  the subscription's ``sid`` and a ``seq`` one more than the last. No-side levels are in no-leg
  pricing (a NO bid at 0.30) unless ``use_yes_price``. ``fill``, ``user_orders`` and
  ``market_positions`` (the account's own; markets optional) send ``fill``, ``user_order`` and
  ``market_position`` messages, without ``seq``.
  ``cfbenchmarks_value`` (``index_ids``, or ``["all"]``; market tickers refused) sends a
  ``cfbenchmarks_value`` message a tick of each index it tracks (cfbenchmarks.py), with ``seq``.
- ``update_subscription`` (one ``sid``) with ``action`` ``get_snapshot`` re-sends the snapshots of
  ``market_tickers`` on the subscription's sequence without changing it; ``add_markets`` and
  ``delete_markets`` change its markets; on a ``cfbenchmarks_value`` subscription ``subscribe_indices``
  and ``unsubscribe_indices`` (``index_ids`` required: error 24) change its indices and ``indexlist``
  answers a ``cfbenchmarks_value_indexlist`` message.
- ``unsubscribe`` by ``sids``.

Errors answer ``{"id", "type": "error", "msg": {"code", "msg"}}`` with Kalshi's codes. Every frame
carries ``sending_ts_ms``, when it was queued to the socket (Kalshi's AsyncAPI: optional, so a
client must not require it). Faults on demand (the admin API): the next N book messages skip a
sequence number; a book message a client does not expect, on the sequence or as raw text.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import WSMsgType, web

from . import payloads
from .cfbenchmarks import INDEXES, IndexFeed, Tick
from .conformance import SchemaWatch
from .exchange import Exchange
from .keys import AuthError, KeyRing
from .orders import Account, Fill, Order
from .units import MICRO, count, dollars

PATH = "/trade-api/ws/v2"
CHANNELS = ("orderbook_delta", "fill", "user_orders", "market_positions", "cfbenchmarks_value")
INDEX_CHANNEL = "cfbenchmarks_value"
ERRORS = {1: "Unable to process message", 2: "Params required", 3: "Channels required",
          4: "Subscription IDs required", 5: "Unknown command", 7: "Unknown subscription ID",
          8: "Unknown channel name", 9: "Authentication required", 11: "Invalid parameter",
          12: "Exactly one subscription ID is required", 13: "Unsupported action", 14: "Market Ticker required",
          15: "Action required", 16: "Market not found", 24: "Index IDs required"}
QUEUE = 10_000  # messages a slow reader may fall behind before its connection is closed


@dataclass
class Subscription:
    sid: int
    channel: str
    tickers: set[str]
    use_yes_price: bool = False
    seq: int = 0
    indexes: set[str] = field(default_factory=set)  # a cfbenchmarks_value subscription's index ids ("all")


@dataclass(eq=False)  # one per socket: compared by identity
class Connection:
    ws: web.WebSocketResponse
    account: str
    subscriptions: dict[int, Subscription] = field(default_factory=dict)
    queue: asyncio.Queue[dict[str, Any] | str] = field(default_factory=lambda: asyncio.Queue(QUEUE))  # str: as it is


class KalshiHub:
    def __init__(self, exchange: Exchange, keys: KeyRing) -> None:
        self.exchange = exchange
        self.keys = keys
        self.connections: set[Connection] = set()
        self.levels: dict[str, tuple[dict[int, int], dict[int, int]]] = {}  # what subscribers were told
        self.skip_seq = 0  # a fault: the next this-many book messages skip a sequence number
        self.sent: list[dict[str, Any]] = []  # every message sent, kept only while `record` (tests check shapes)
        self.record = False
        self.watch: SchemaWatch | None = None  # set in a test session: each message checked as sent
        self._sid = 0
        exchange.listeners.book.append(self._book_changed)
        exchange.listeners.order.append(self._order_changed)
        exchange.listeners.fill.append(self._filled)
        exchange.listeners.position.append(self._position_changed)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        h = request.headers
        try:
            key = self.keys.verify(h.get("KALSHI-ACCESS-KEY"), h.get("KALSHI-ACCESS-TIMESTAMP"),
                                   h.get("KALSHI-ACCESS-SIGNATURE"), "GET", PATH, int(time.time() * 1000))
        except AuthError as exc:  # refused before the upgrade, with Kalshi's error body
            return web.json_response({"error": {"code": "authentication_error", "message": str(exc)}}, status=401)
        ws = web.WebSocketResponse(heartbeat=10.0, max_msg_size=2**20)
        await ws.prepare(request)
        conn = Connection(ws, key.account)
        self.exchange.open_account(key.account)
        self.connections.add(conn)
        writer = asyncio.get_running_loop().create_task(self._write(conn))
        try:
            async for message in ws:
                if message.type is WSMsgType.TEXT:
                    self._command(conn, message.data)
        finally:
            self.connections.discard(conn)
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
        return ws

    async def _write(self, conn: Connection) -> None:
        while not conn.ws.closed:
            message = await conn.queue.get()
            await conn.ws.send_str(message if isinstance(message, str) else json.dumps(message))

    def _send(self, conn: Connection, message: dict[str, Any]) -> None:
        message["sending_ts_ms"] = int(time.time() * 1000)  # when it was queued to the socket (AsyncAPI)
        if self.record:
            self.sent.append(message)
        if self.watch is not None:
            self.watch.check_ws([message])
        try:
            conn.queue.put_nowait(message)
        except asyncio.QueueFull:  # a reader that does not keep up: Kalshi's buffer overflow, the socket closed
            asyncio.get_running_loop().create_task(conn.ws.close(message=b"subscription buffer overflow"))

    # -- commands -----------------------------------------------------------------------

    def _command(self, conn: Connection, text: str) -> None:
        try:
            command = json.loads(text)
        except ValueError:
            command = None
        if not isinstance(command, dict):
            self._error(conn, None, 1)
            return
        ident, cmd, params = command.get("id"), command.get("cmd"), command.get("params")
        handlers = {"subscribe": self._subscribe, "unsubscribe": self._unsubscribe,
                    "update_subscription": self._update}
        if cmd not in handlers:
            self._error(conn, ident, 5)
        elif not isinstance(params, dict):
            self._error(conn, ident, 2)
        else:
            handlers[cmd](conn, ident, params)

    def _tickers(self, params: dict[str, Any]) -> list[str] | None:
        tickers = params.get("market_tickers")
        if tickers is None and isinstance(params.get("market_ticker"), str):
            tickers = [params["market_ticker"]]
        return tickers if isinstance(tickers, list) and all(isinstance(t, str) for t in tickers) else None

    def _subscribe(self, conn: Connection, ident: Any, params: dict[str, Any]) -> None:
        channels = params.get("channels")
        if not isinstance(channels, list) or not channels:
            self._error(conn, ident, 3)
            return
        if any(c not in CHANNELS for c in channels):
            self._error(conn, ident, 8)
            return
        tickers = self._tickers(params)
        if INDEX_CHANNEL in channels and (tickers or _bad_ids(params)):
            self._error(conn, ident, 11)  # indices only: market tickers are not supported on it
            return
        if "orderbook_delta" in channels and not tickers:
            self._error(conn, ident, 14)
            return
        if tickers and any(t not in self.exchange.markets for t in tickers):
            self._error(conn, ident, 16)
            return
        for channel in channels:
            self._sid += 1
            sub = Subscription(self._sid, channel, set(tickers or ()), bool(params.get("use_yes_price")))
            if channel == INDEX_CHANNEL:
                sub.indexes = set(_index_ids(params))
            conn.subscriptions[sub.sid] = sub
            self._send(conn, {"id": ident, "type": "subscribed", "msg": {"channel": channel, "sid": sub.sid}})
            if channel == "orderbook_delta":
                for ticker in tickers or ():
                    self._snapshot(conn, sub, ticker, None)

    def _unsubscribe(self, conn: Connection, ident: Any, params: dict[str, Any]) -> None:
        sids = params.get("sids")
        if not isinstance(sids, list) or not sids:
            self._error(conn, ident, 4)
            return
        if any(s not in conn.subscriptions for s in sids):
            self._error(conn, ident, 7)
            return
        for sid in sids:
            del conn.subscriptions[sid]
            self._send(conn, {"id": ident, "type": "unsubscribed", "sid": sid})

    def _update(self, conn: Connection, ident: Any, params: dict[str, Any]) -> None:
        sids = params.get("sids") if "sids" in params else [params.get("sid")]
        if not isinstance(sids, list) or len(sids) != 1:
            self._error(conn, ident, 12)
            return
        sub = conn.subscriptions.get(sids[0])
        if sub is None:
            self._error(conn, ident, 7)
            return
        action = params.get("action")
        if not action:
            self._error(conn, ident, 15)
            return
        if sub.channel == INDEX_CHANNEL:
            self._update_indexes(conn, ident, sub, action, params)
            return
        tickers = self._tickers(params)
        if action not in ("get_snapshot", "add_markets", "delete_markets") or \
                (action == "get_snapshot" and sub.channel != "orderbook_delta"):
            self._error(conn, ident, 13)
            return
        if not tickers:
            self._error(conn, ident, 14)
            return
        if any(t not in self.exchange.markets for t in tickers):
            self._error(conn, ident, 16)
            return
        if action == "get_snapshot":
            for ticker in tickers:
                self._snapshot(conn, sub, ticker, ident)
            return
        if action == "add_markets":
            sub.tickers |= set(tickers)
            if sub.channel == "orderbook_delta":
                for ticker in tickers:
                    self._snapshot(conn, sub, ticker, None)
        else:
            sub.tickers -= set(tickers)
        self._send(conn, {"id": ident, "type": "ok", "sid": sub.sid, "seq": sub.seq})

    def _update_indexes(self, conn: Connection, ident: Any, sub: Subscription, action: str,
                        params: dict[str, Any]) -> None:
        if action == "indexlist":  # the indices available, the subscription unchanged
            sub.seq += 1
            self._send(conn, {"id": ident, "type": "cfbenchmarks_value_indexlist", "sid": sub.sid, "seq": sub.seq,
                              "msg": {"index_ids": sorted(INDEXES)}})
            return
        if action not in ("subscribe_indices", "unsubscribe_indices"):
            self._error(conn, ident, 13)
            return
        ids = _index_ids(params)
        if not ids:
            self._error(conn, ident, 24)
            return
        if action == "subscribe_indices":
            sub.indexes |= set(ids)
        else:
            sub.indexes -= set(ids)
        self._send(conn, {"id": ident, "type": "ok", "sid": sub.sid, "seq": sub.seq})

    def index_ticks(self, ticks: list[Tick], feed: IndexFeed) -> None:
        """Each new tick to the subscriptions tracking its index, on each one's sequence."""
        subs = [(conn, sub) for conn in list(self.connections) for sub in list(conn.subscriptions.values())
                if sub.channel == INDEX_CHANNEL and sub.indexes]
        for tick in ticks if subs else ():
            msg = None
            for conn, sub in subs:
                if "all" in sub.indexes or tick.index_id in sub.indexes:
                    msg = msg or feed.message(tick)
                    sub.seq += 1
                    self._send(conn, {"type": INDEX_CHANNEL, "sid": sub.sid, "seq": sub.seq, "msg": msg})

    def _error(self, conn: Connection, ident: Any, code: int) -> None:
        self._send(conn, {"id": ident, "type": "error", "msg": {"code": code, "msg": ERRORS.get(code, "Error")}})

    # -- the book channel -------------------------------------------------------------------

    def _snapshot(self, conn: Connection, sub: Subscription, ticker: str, ident: Any) -> None:
        yes, no = self.exchange.books[ticker].levels()
        self.levels.setdefault(ticker, (dict(yes), dict(no)))
        market = self.exchange.markets[ticker]
        msg: dict[str, Any] = {"market_ticker": ticker, "market_id": market.market_id}
        if yes:
            msg["yes_dollars_fp"] = [[dollars(p), count(q)] for p, q in sorted(yes.items())]
        if no:
            msg["no_dollars_fp"] = [[dollars(MICRO - p if sub.use_yes_price else p), count(q)]
                                    for p, q in sorted(no.items())]
        message: dict[str, Any] = {"type": "orderbook_snapshot", "sid": sub.sid, "msg": msg}
        if ident is not None:
            message["id"] = ident
        self._book_message(conn, sub, message)

    def _book_message(self, conn: Connection, sub: Subscription, message: dict[str, Any]) -> None:
        sub.seq += 1
        if self.skip_seq > 0 and message["type"] == "orderbook_delta":
            self.skip_seq -= 1
            sub.seq += 1  # as if a message had been lost on the way
        message["seq"] = sub.seq
        self._send(conn, message)

    def book_fault(self, *, message: dict[str, Any] | None = None, text: str | None = None) -> int:
        """A fault (the admin API): `message` on every book subscription's sequence, or `text` as it
        is to every connection with one; how many were sent."""
        subscribed = [(conn, sub) for conn in list(self.connections) for sub in list(conn.subscriptions.values())
                      if sub.channel == "orderbook_delta"]
        for conn, sub in subscribed:
            if message is not None:
                self._book_message(conn, sub, {**message, "sid": sub.sid})
        if text is not None:
            conns = {id(conn): conn for conn, _ in subscribed}.values()
            for conn in conns:
                try:
                    conn.queue.put_nowait(text)
                except asyncio.QueueFull:
                    pass
            return len(conns)
        return len(subscribed)

    def _book_changed(self, ticker: str) -> None:
        old_yes, old_no = self.levels.get(ticker, ({}, {}))
        yes, no = self.exchange.books[ticker].levels()
        self.levels[ticker] = (dict(yes), dict(no))
        deltas = [(side, price, new.get(price, 0) - old.get(price, 0))
                  for side, old, new in (("yes", old_yes, yes), ("no", old_no, no))
                  for price in sorted(set(old) | set(new)) if new.get(price, 0) != old.get(price, 0)]
        if not deltas:
            return
        market = self.exchange.markets[ticker]
        now = time.time()
        for conn, sub in self._subscribers("orderbook_delta", ticker):
            for side, price, delta in deltas:
                shown = MICRO - price if side == "no" and sub.use_yes_price else price
                self._book_message(conn, sub, {"type": "orderbook_delta", "sid": sub.sid, "msg": {
                    "market_ticker": ticker, "market_id": market.market_id, "price_dollars": dollars(shown),
                    "delta_fp": count(delta), "side": side,
                    "ts": datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "ts_ms": int(now * 1000)}})

    def _subscribers(self, channel: str, ticker: str, account: str | None = None) -> list[tuple[Connection,
                                                                                                Subscription]]:
        return [(conn, sub) for conn in list(self.connections) for sub in list(conn.subscriptions.values())
                if sub.channel == channel and (account is None or conn.account == account)
                and (not sub.tickers or ticker in sub.tickers)]

    # -- the user channels ------------------------------------------------------------------

    def _order_changed(self, order: Order) -> None:
        for conn, sub in self._subscribers("user_orders", order.ticker, order.account):
            self._send(conn, {"type": "user_order", "sid": sub.sid, "msg": payloads.user_order(order)})

    def _filled(self, account: Account, fill: Fill) -> None:
        for conn, sub in self._subscribers("fill", fill.order.ticker, account.name):
            self._send(conn, {"type": "fill", "sid": sub.sid, "msg": payloads.ws_fill(fill)})

    def _position_changed(self, account: Account, ticker: str) -> None:
        for conn, sub in self._subscribers("market_positions", ticker, account.name):
            self._send(conn, {"type": "market_position", "sid": sub.sid,
                              "msg": payloads.ws_position(account, ticker)})


def _index_ids(params: dict[str, Any]) -> list[str]:
    """A command's `index_ids` ([] when not given, or not a list of strings: see `_bad_ids`)."""
    ids = params.get("index_ids")
    return ids if isinstance(ids, list) and all(isinstance(i, str) for i in ids) else []


def _bad_ids(params: dict[str, Any]) -> bool:
    return params.get("index_ids") is not None and not _index_ids(params) and params.get("index_ids") != []
