"""Kalshi's WebSocket (``/trade-api/ws/v2``): the `orderbook_delta` channel, as Kalshi documents it.

The handshake may carry the same signed headers as REST (over timestamp + "GET" +
"/trade-api/ws/v2"); a bad signature is refused before the upgrade (401). Commands are JSON:
``{"id": n, "cmd": "subscribe", "params": {"channels": ["orderbook_delta"], "market_tickers": [...]}}``
answers ``{"id": n, "type": "subscribed", "msg": {"channel", "sid"}}`` and then, per market, an
``orderbook_snapshot`` followed by ``orderbook_delta`` messages, each carrying the subscription's
``sid`` and a ``seq`` that grows by one per message of that subscription (a gap means a lost
message: resubscribe). ``unsubscribe`` takes ``{"sids": [...]}``. Errors answer
``{"id": n, "type": "error", "msg": {"code", "msg"}}`` with Kalshi's codes (2 params required,
3 channels required, 5 unknown command, 7 unknown subscription id, 8 unknown channel, 9
authentication required, 11 invalid parameter). `orderbook_delta` needs an authenticated
connection and the markets named.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from .exchange import Exchange
from .keys import AuthError, KeyRing

PATH = "/trade-api/ws/v2"
CHANNELS = {"orderbook_delta"}
ERRORS = {2: "Params required", 3: "Channels required", 5: "Unknown command", 7: "Unknown subscription ID",
          8: "Unknown channel name", 9: "Authentication required", 11: "Invalid parameter"}


@dataclass
class Subscription:
    sid: int
    tickers: set[str]
    seq: int = 0


@dataclass(eq=False)  # compared (and hashed) by identity: one per socket
class Connection:
    ws: web.WebSocketResponse
    account: str | None
    subscriptions: dict[int, Subscription] = field(default_factory=dict)


class KalshiHub:
    def __init__(self, exchange: Exchange, keys: KeyRing) -> None:
        self.exchange = exchange
        self.keys = keys
        self.connections: set[Connection] = set()
        self.levels: dict[str, tuple[dict[int, int], dict[int, int]]] = {}  # what subscribers were told
        self.skip_seq = 0  # a fault: the next this-many book messages skip a sequence number
        self._sid = 0

    async def handle(self, request: web.Request) -> web.StreamResponse:
        account = None
        if "KALSHI-ACCESS-KEY" in request.headers:
            h = request.headers
            try:
                account = self.keys.verify(h.get("KALSHI-ACCESS-KEY"), h.get("KALSHI-ACCESS-TIMESTAMP"),
                                           h.get("KALSHI-ACCESS-SIGNATURE"), "GET", PATH,
                                           int(time.time() * 1000)).account
            except AuthError as exc:  # refused before the upgrade, with Kalshi's error body
                return web.json_response({"code": "authentication_error", "message": str(exc),
                                          "service": "exchange"}, status=401)
        ws = web.WebSocketResponse(heartbeat=10.0, max_msg_size=2**20)
        await ws.prepare(request)
        conn = Connection(ws, account)
        self.connections.add(conn)
        try:
            async for message in ws:
                if message.type is not WSMsgType.TEXT:
                    continue
                await self._command(conn, message.data)
        finally:
            self.connections.discard(conn)
        return ws

    async def _command(self, conn: Connection, text: str) -> None:
        try:
            command = json.loads(text)
        except ValueError:
            command = None
        if not isinstance(command, dict):
            await self._error(conn, None, 1)
            return
        ident, cmd, params = command.get("id"), command.get("cmd"), command.get("params")
        if cmd not in ("subscribe", "unsubscribe"):
            await self._error(conn, ident, 5)
        elif not isinstance(params, dict):
            await self._error(conn, ident, 2)
        elif cmd == "subscribe":
            await self._subscribe(conn, ident, params)
        else:
            await self._unsubscribe(conn, ident, params)

    async def _subscribe(self, conn: Connection, ident: Any, params: dict[str, Any]) -> None:
        channels = params.get("channels")
        if not isinstance(channels, list) or not channels:
            await self._error(conn, ident, 3)
            return
        if any(c not in CHANNELS for c in channels):
            await self._error(conn, ident, 8)
            return
        if conn.account is None:
            await self._error(conn, ident, 9)
            return
        tickers = params.get("market_tickers") or ([params["market_ticker"]] if params.get("market_ticker") else [])
        if not isinstance(tickers, list) or not tickers or any(t not in self.exchange.markets for t in tickers):
            await self._error(conn, ident, 11, "market_tickers must name known markets")
            return
        self._sid += 1
        sub = Subscription(self._sid, set(tickers))
        conn.subscriptions[sub.sid] = sub
        await self._send(conn, {"id": ident, "type": "subscribed", "msg": {"channel": "orderbook_delta",
                                                                            "sid": sub.sid}})
        for ticker in tickers:
            yes, no = self.exchange.books[ticker].levels()
            self.levels[ticker] = (yes, no)
            await self._book_message(conn, sub, "orderbook_snapshot", {
                "market_ticker": ticker, "yes": sorted([p, q] for p, q in yes.items()),
                "no": sorted([p, q] for p, q in no.items())})

    async def _unsubscribe(self, conn: Connection, ident: Any, params: dict[str, Any]) -> None:
        sids = params.get("sids")
        if not isinstance(sids, list) or not sids or any(s not in conn.subscriptions for s in sids):
            await self._error(conn, ident, 7)
            return
        for sid in sids:
            del conn.subscriptions[sid]
            await self._send(conn, {"id": ident, "type": "unsubscribed", "sid": sid})

    async def changed(self, ticker: str) -> None:
        """Tell every subscriber of `ticker` how its levels moved since they were last told."""
        if ticker not in self.exchange.books:
            return
        old_yes, old_no = self.levels.get(ticker, ({}, {}))
        yes, no = self.exchange.books[ticker].levels()
        self.levels[ticker] = (yes, no)
        deltas = [(side, price, new.get(price, 0) - old.get(price, 0))
                  for side, old, new in (("yes", old_yes, yes), ("no", old_no, no))
                  for price in sorted(set(old) | set(new)) if new.get(price, 0) != old.get(price, 0)]
        for conn in list(self.connections):
            for sub in list(conn.subscriptions.values()):
                if ticker in sub.tickers:
                    for side, price, delta in deltas:
                        await self._book_message(conn, sub, "orderbook_delta", {
                            "market_ticker": ticker, "price": price, "delta": delta, "side": side})

    async def _book_message(self, conn: Connection, sub: Subscription, kind: str, msg: dict[str, Any]) -> None:
        sub.seq += 1
        if self.skip_seq > 0 and kind == "orderbook_delta":
            self.skip_seq -= 1
            sub.seq += 1  # as if a message had been lost on the way
        await self._send(conn, {"type": kind, "sid": sub.sid, "seq": sub.seq, "msg": msg})

    async def _error(self, conn: Connection, ident: Any, code: int, detail: str | None = None) -> None:
        await self._send(conn, {"id": ident, "type": "error", "msg": {"code": code, "msg": detail or ERRORS.get(
            code, "Unable to process message")}})

    async def _send(self, conn: Connection, message: dict[str, Any]) -> None:
        if not conn.ws.closed:
            await conn.ws.send_str(json.dumps(message))
