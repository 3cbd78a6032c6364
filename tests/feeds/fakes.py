"""A tiny scriptable venue on 127.0.0.1 for feed tests: REST `/books` and `/ws/market`
(or any WebSocket path), with switchable misbehaviour (silent, close at once, slow or
failing `/books`)."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from aiohttp import WSMsgType, web


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def summary(token: str, bids: list[tuple[str, str]], asks: list[tuple[str, str]], ts: int | None = None,
            tick: str = "0.01") -> dict[str, Any]:
    """A REST book summary; levels given best first, sent best LAST like the venue."""
    return {"market": "0xcond", "asset_id": token, "timestamp": str(ts or now_ms()), "hash": "h",
            "bids": [{"price": p, "size": s} for p, s in reversed(bids)],
            "asks": [{"price": p, "size": s} for p, s in reversed(asks)],
            "min_order_size": "5", "tick_size": tick, "neg_risk": False, "last_trade_price": "0.5"}


class FakeVenue:
    def __init__(self) -> None:
        self.books: dict[str, dict[str, Any]] = {}
        self.mode = "normal"  # "normal" | "silent" (never answers) | "close" (closes at once)
        self.initial_dump = True
        self.books_delay_s = 0.0  # `/books` answers this late (the request is logged at once)
        self.books_failing: set[str] = set()  # `/books` refuses (HTTP 400) requests naming these
        self.connections = 0
        self.connected_at: list[float] = []  # the loop's clock at each connection (reconnect pacing)
        self.book_requests: list[list[str]] = []
        self.received: list[str] = []
        self.sockets: list[web.WebSocketResponse] = []
        self.port = 0
        self._runner: web.AppRunner | None = None

    @property
    def clob_host(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_host(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/"

    async def start(self) -> FakeVenue:
        app = web.Application()
        app.router.add_post("/books", self._books)
        app.router.add_get("/ws/{channel}", self._ws)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        for ws in list(self.sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def push(self, message: Any) -> None:
        text = message if isinstance(message, str) else json.dumps(message)
        for ws in list(self.sockets):
            if not ws.closed:
                await ws.send_str(text)

    async def kick(self) -> None:
        """Close every live connection from the server side."""
        for ws in list(self.sockets):
            await ws.close(code=1011, message=b"kicked")

    def subscriptions(self) -> list[dict[str, Any]]:
        out = []
        for text in self.received:
            if text.startswith("{"):
                out.append(json.loads(text))
        return out

    async def _books(self, request: web.Request) -> web.Response:
        items = json.loads(await request.read())
        tokens = [i["token_id"] for i in items]
        self.book_requests.append(tokens)
        if self.books_delay_s:
            await asyncio.sleep(self.books_delay_s)
        if self.books_failing & set(tokens):
            return web.json_response({"error": "scripted failure"}, status=400)
        return web.json_response([self.books[t] for t in tokens if t in self.books])

    async def _ws(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=self.mode != "silent")
        await ws.prepare(request)
        self.connections += 1
        self.connected_at.append(asyncio.get_running_loop().time())
        if self.mode == "close":
            await ws.close()
            return ws
        self.sockets.append(ws)
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                self.received.append(msg.data)
                if self.mode == "silent":
                    continue
                if msg.data == "PING":
                    await ws.send_str("PONG")
                    continue
                data = json.loads(msg.data)
                if self.initial_dump and data.get("type") == "market":
                    dump = [dict(self.books[t], event_type="book") for t in data["assets_ids"] if t in self.books]
                    if dump:
                        await ws.send_str(json.dumps(dump))
        finally:
            self.sockets.remove(ws)
        return ws


async def eventually(predicate: Any, timeout: float = 5.0, interval: float = 0.02) -> Any:
    """Await until `predicate()` is truthy; fail after `timeout` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(interval)
