"""The user channel: our order and trade events, authenticated with the API creds.

It only moves decoded JSON objects to a callback; turning them into OrderEvent and
TradeEvent is the venue adapter's job (it knows which fills are ours). After every
(re)connect, `on_connected` runs before any frame is handled, so the adapter can
reconcile over REST and no fill made while we were away is lost.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from websockets.asyncio.client import ClientConnection

from contracts.jsonsafe import FEED_BYTES, JsonRefused, loads_bounded
from engine.feeds.pacing import Backoff
from engine.feeds.wsloop import ReconnectingSocket, SocketFeed, SocketOptions

log = logging.getLogger("engine.feeds.user")


class UserFeed(SocketFeed):
    name = "user"

    def __init__(self, ws_host: str, auth: dict[str, str], on_message: Callable[[dict[str, Any]], None],
                 on_connected: Callable[[], Awaitable[None]], *, markets: Iterable[str] = (),
                 options: SocketOptions | None = None, backoff: Backoff | None = None,
                 on_disconnected: Callable[[], None] = lambda: None):
        self.url = ws_host.rstrip("/") + "/user"
        self._auth = auth
        self._on_message = on_message
        self._on_connected = on_connected
        self._on_disconnected = on_disconnected
        self.markets = list(markets)  # condition ids; empty = every market
        self.socket = ReconnectingSocket(self.url, self, options, backoff)

    async def on_open(self, ws: ClientConnection) -> None:
        await ws.send(json.dumps({"type": "user", "markets": self.markets, "auth": self._auth}))
        await self._on_connected()

    def on_text(self, text: str) -> None:
        if text == "PONG":
            return
        try:
            data = loads_bounded(text, max_bytes=FEED_BYTES, what="a user-channel message")
        except JsonRefused as exc:  # never from the venue: dropped, and said so
            log.warning("user-channel message dropped", extra={"error": str(exc), "frame": text[:200]})
            return
        for item in data if isinstance(data, list) else (data,):
            if isinstance(item, dict):
                self._deliver(item)

    def _deliver(self, item: dict[str, Any]) -> None:
        """One message of a frame: one the desk cannot read is logged and skipped, and the other
        messages of its frame are still applied (a frame may carry several orders' news)."""
        try:
            self._on_message(item)
        except Exception as exc:
            log.exception("user-channel message could not be read: skipped, the rest of its frame applied",
                          extra={"error": f"{type(exc).__name__}: {exc}", "payload": str(item)[:300]})

    def on_closed(self) -> None:
        log.info("user channel disconnected")
        self._on_disconnected()
