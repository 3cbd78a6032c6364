"""WebSocket channels ``/ws/market`` and ``/ws/user`` and the hub that fans out
exchange events to them.

Each connection has its own bounded queue and writer task, so a slow client never
stalls the matching engine; fault injection (drops, duplicates, reordering)
happens in the writer, a frozen market channel included (PONGs still go out, data does
not). Clients must send something (e.g. the text ``PING``, answered with ``PONG``) at least
every ``ws_idle_timeout_s`` or they are dropped.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from aiohttp import WSMsgType, web

from .auth import ApiCreds, Auth
from .faults import Faults
from .market_payloads import JSON
from .markets import Market

log = logging.getLogger(__name__)
QUEUE_LIMIT = 10_000
REORDER_FLUSH_S = 0.5  # a held-back message goes out at the latest after this
DROP_CODE = 1011
Snapshot = Callable[[str], JSON | None]


class Connection:
    def __init__(self, ws: web.WebSocketResponse, channel: str) -> None:
        self.ws = ws
        self.channel = channel
        self.assets: set[str] = set()
        self.markets: set[str] = set()  # user channel: condition ids ...
        self.all_markets = False  # ... unless it subscribed with [] (= every market)
        self.creds: ApiCreds | None = None
        self.custom = False
        self.queue: asyncio.Queue[tuple[str, bool]] = asyncio.Queue(QUEUE_LIMIT)
        self.sent = 0
        self.opened = time.monotonic()
        self.last_text = self.opened  # only text frames (e.g. "PING") count as activity

    def push(self, text: str, faultable: bool = True) -> None:
        try:
            self.queue.put_nowait((text, faultable))
        except asyncio.QueueFull:
            log.warning("dropping slow websocket client (%s channel)", self.channel)
            asyncio.ensure_future(self.ws.close(code=DROP_CODE, message=b"slow consumer"))


class Hub:
    """Implements the exchange's EventSink and serves both channels."""

    def __init__(self, auth: Auth, faults: Faults, snapshot: Snapshot, idle_timeout_s: float) -> None:
        self.auth = auth
        self.faults = faults
        self.snapshot = snapshot
        self.idle_timeout_s = idle_timeout_s
        self.by_asset: dict[str, set[Connection]] = {}
        self.by_owner: dict[str, set[Connection]] = {}
        self.connections: set[Connection] = set()

    # -- EventSink -----------------------------------------------------------------

    def watching(self, market: Market) -> bool:
        return any(self.by_asset.get(t.token_id) for t in market.tokens)

    def market(self, market: Market, message: JSON) -> None:
        kind = message.get("event_type")
        if kind == "price_change":
            self._fan_price_change(market, message)
            return
        if kind == "market_resolved":
            conns = {c for t in market.tokens for c in self.by_asset.get(t.token_id, ()) if c.custom}
        else:
            conns = self.by_asset.get(message.get("asset_id", ""), set())
        if conns:
            text = json.dumps(message)
            for conn in list(conns):
                conn.push(text)

    def _fan_price_change(self, market: Market, message: JSON) -> None:
        ids = [t.token_id for t in market.tokens]
        conns = {c for tid in ids for c in self.by_asset.get(tid, ())}
        cache: dict[frozenset[str], str] = {}
        for conn in conns:
            wanted = frozenset(tid for tid in ids if tid in conn.assets)
            if wanted not in cache:
                entries = [e for e in message["price_changes"] if e["asset_id"] in wanted]
                cache[wanted] = json.dumps({**message, "price_changes": entries})
            conn.push(cache[wanted])

    def user(self, owner: str, market: Market, message: JSON) -> None:
        conns = self.by_owner.get(owner)
        if not conns:
            return
        text = json.dumps(message)
        for conn in list(conns):
            if conn.all_markets or market.condition_id in conn.markets:
                conn.push(text)

    # -- connection handling -----------------------------------------------------

    async def handle_market(self, request: web.Request) -> web.WebSocketResponse:
        return await self._serve(request, "market")

    async def handle_user(self, request: web.Request) -> web.WebSocketResponse:
        return await self._serve(request, "user")

    async def _serve(self, request: web.Request, channel: str) -> web.WebSocketResponse:
        # autoping off: protocol-level pings are answered but do not count as activity,
        # so a client that never sends text PINGs is dropped (the venue asks for them).
        if channel == "user" and self.faults.user_channel_down():
            self.faults.stats["ws_drops"] += 1
            raise web.HTTPServiceUnavailable(text="the user channel is down (simulated outage)")
        ws = web.WebSocketResponse(autoping=False, max_msg_size=4 * 2**20)
        await ws.prepare(request)
        conn = Connection(ws, channel)
        self.connections.add(conn)
        writer = asyncio.create_task(self._writer(conn))
        try:
            await self._reader(conn)
        finally:
            self._unsubscribe_all(conn)
            self.connections.discard(conn)
            writer.cancel()
            if not ws.closed:
                await ws.close()
        return ws

    async def _reader(self, conn: Connection) -> None:
        while not conn.ws.closed:
            remaining = conn.last_text + self.idle_timeout_s - time.monotonic()
            if remaining <= 0:
                await conn.ws.close(code=1000, message=b"idle timeout")
                return
            try:
                msg = await conn.ws.receive(timeout=remaining)
            except TimeoutError:
                continue
            if msg.type == WSMsgType.PING:
                await conn.ws.pong(msg.data)
                continue
            if msg.type != WSMsgType.TEXT:
                if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
                    return
                continue
            conn.last_text = time.monotonic()
            if msg.data.strip().upper() == "PING":
                conn.push("PONG", faultable=False)
                continue
            try:
                data = json.loads(msg.data)
            except ValueError:
                continue
            if isinstance(data, dict) and not await self._on_message(conn, data):
                return

    async def _on_message(self, conn: Connection, data: dict[str, Any]) -> bool:
        """Apply a subscription message; False when the connection must close."""
        operation = str(data.get("operation", "")).lower()
        if conn.channel == "user":
            if operation in ("subscribe", "unsubscribe") and conn.creds is not None:
                self._update_set(conn.markets, data.get("markets"), operation)
                return True
            creds = self.auth.check_ws(data.get("auth"))
            if creds is None or str(data.get("type", "user")).lower() != "user":
                await conn.ws.close(code=1008, message=b"invalid auth")
                return False
            self._bind_owner(conn, creds)
            conn.markets = {str(m) for m in data.get("markets") or []}
            conn.all_markets = not conn.markets
            return True
        if operation in ("subscribe", "unsubscribe"):
            self._subscribe_assets(conn, data.get("assets_ids"), operation, dump=operation == "subscribe")
            return True
        if str(data.get("type", "")).lower() == "market":
            conn.custom = bool(data.get("custom_feature_enabled", conn.custom))
            self._subscribe_assets(conn, data.get("assets_ids"), "subscribe",
                                   dump=data.get("initial_dump", True) is not False)
        return True

    @staticmethod
    def _update_set(target: set[str], items: Any, operation: str) -> None:
        values = {str(v) for v in items or []} if isinstance(items, list) else set()
        if operation == "subscribe":
            target.update(values)
        else:
            target.difference_update(values)

    def _subscribe_assets(self, conn: Connection, ids: Any, operation: str, dump: bool) -> None:
        if not isinstance(ids, list):
            return
        books = []
        for raw in ids:
            asset = str(raw)
            if operation == "unsubscribe":
                conn.assets.discard(asset)
                self.by_asset.get(asset, set()).discard(conn)
                continue
            snap = self.snapshot(asset)
            if snap is None:
                continue  # unknown token ids are ignored, as on the venue
            conn.assets.add(asset)
            self.by_asset.setdefault(asset, set()).add(conn)
            books.append(snap)
        if dump and books:
            conn.push(json.dumps(books))

    def _bind_owner(self, conn: Connection, creds: ApiCreds) -> None:
        if conn.creds is not None:
            self.by_owner.get(conn.creds.api_key, set()).discard(conn)
        conn.creds = creds
        self.by_owner.setdefault(creds.api_key, set()).add(conn)

    def _unsubscribe_all(self, conn: Connection) -> None:
        for asset in conn.assets:
            self.by_asset.get(asset, set()).discard(conn)
        if conn.creds is not None:
            self.by_owner.get(conn.creds.api_key, set()).discard(conn)

    async def _writer(self, conn: Connection) -> None:
        held: str | None = None
        try:
            while not conn.ws.closed:
                timeout = self._next_wakeup(conn, held)
                try:
                    text, faultable = await asyncio.wait_for(conn.queue.get(), timeout)
                except TimeoutError:
                    if held is not None:
                        await self._send(conn, held)
                        held = None
                    if self._drop_due(conn):
                        await self._drop(conn)
                    continue
                if not faultable:
                    await conn.ws.send_str(text)
                    continue
                if conn.channel == "market" and self.faults.market_frozen():
                    self.faults.stats["ws_frozen"] += 1  # never sent: the venue's frozen channel says nothing
                    continue
                held = await self._send_with_faults(conn, text, held)
                if self._drop_due(conn):
                    await self._drop(conn)
        except (ConnectionResetError, RuntimeError, asyncio.CancelledError):
            return

    async def _send_with_faults(self, conn: Connection, text: str, held: str | None) -> str | None:
        cfg = self.faults.config
        if held is None and self.faults.roll(cfg.ws_reorder_rate):
            self.faults.stats["ws_reorders"] += 1
            return text  # hold it back; it goes out after the next message
        await self._send(conn, text)
        if self.faults.roll(cfg.ws_dup_rate):
            self.faults.stats["ws_dups"] += 1
            await self._send(conn, text)
        if held is not None:
            await self._send(conn, held)
        return None

    async def _send(self, conn: Connection, text: str) -> None:
        await conn.ws.send_str(text)
        conn.sent += 1

    def _next_wakeup(self, conn: Connection, held: str | None) -> float | None:
        waits = []
        if held is not None:
            waits.append(REORDER_FLUSH_S)
        every_s = self.faults.config.ws_drop_every_s
        if every_s > 0:
            waits.append(max(0.0, conn.opened + every_s - time.monotonic()))
        return min(waits) if waits else 1.0  # re-check fault settings changed at runtime

    def _drop_due(self, conn: Connection) -> bool:
        cfg = self.faults.config
        by_count = cfg.ws_drop_every > 0 and conn.sent >= cfg.ws_drop_every
        by_time = cfg.ws_drop_every_s > 0 and time.monotonic() - conn.opened >= cfg.ws_drop_every_s
        outage = conn.channel == "user" and self.faults.user_channel_down()
        return by_count or by_time or outage

    async def _drop(self, conn: Connection) -> None:
        self.faults.stats["ws_drops"] += 1
        await conn.ws.close(code=DROP_CODE, message=b"simulated disconnect")

    async def close_all(self) -> None:
        for conn in list(self.connections):
            await conn.ws.close(code=1001, message=b"server shutdown")
