"""The account's own Kalshi channels over its signed WebSocket: every fill (`fill`) and every change
of an order (`user_orders`) as Kalshi sends them, handed to the venue at once (engine/venues/kalshi.py
puts them on the executor's queue), and the account's positions (`market_positions`) kept for the
balance watch. The venue reconciles from REST as well (its poll), so a message lost while the socket
was down is found there; each (re)connection asks the venue to reconcile at once.

A message that cannot be read is counted, its reason kept (`last_error`), logged and left out: the
messages beside it are still handled. Kalshi sends these channels without a sequence number.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from websockets.asyncio.client import ClientConnection

from contracts.jsonsafe import FEED_BYTES, loads_bounded
from engine.feeds import kalshi_models as models
from engine.feeds.kalshi_fixed import KalshiShapeError, count
from engine.feeds.kalshi_http import KalshiSigner
from engine.feeds.wsloop import ReconnectingSocket, SocketFeed, SocketOptions

log = logging.getLogger("engine.feeds.kalshi_stream")
WS_PATH = "/trade-api/ws/v2"
CHANNELS = ("fill", "user_orders", "market_positions")
# Kalshi pings at the protocol level every 10 s; an account can be quiet for hours: no silence watchdog.
OPTIONS = SocketOptions(ping_interval_s=None, silence_s=None, protocol_ping_s=20.0)


class KalshiUserStream(SocketFeed):
    name = "kalshi-user"

    def __init__(self, ws_url: str, signer: KalshiSigner, *, on_fill: Callable[[models.Fill], None],
                 on_order: Callable[[models.Order], None], on_open: Callable[[], None]) -> None:
        self.on_fill, self.on_order, self.opened = on_fill, on_order, on_open
        self.positions: dict[str, int] = {}  # ticker -> signed micro-contracts, as last streamed
        self.bad = 0
        self.last_error: str | None = None
        self.refused: str | None = None  # Kalshi's answer to the subscription, when it refused it
        self.socket = ReconnectingSocket(ws_url, self, OPTIONS, headers=lambda: signer.headers("GET", WS_PATH))

    async def on_open(self, ws: ClientConnection) -> None:
        await ws.send(json.dumps({"id": 1, "cmd": "subscribe", "params": {"channels": list(CHANNELS)}}))
        self.opened()

    def on_text(self, text: str) -> None:
        try:
            message = loads_bounded(text, max_bytes=FEED_BYTES, what="an account message")
            if not isinstance(message, dict):
                raise KalshiShapeError("a message that is not an object")
            self._handle(message)
        except (KalshiShapeError, ValueError) as exc:
            self.bad += 1
            self.last_error = f"{type(exc).__name__}: {exc}"[:300]
            log.warning("a Kalshi account message could not be read; left out", extra={"error": self.last_error})

    def _handle(self, message: dict[str, Any]) -> None:
        kind, msg = message.get("type"), message.get("msg")
        if kind == "error":
            self.refused = f"Kalshi refused the account channels: {msg}"
            log.error(self.refused)
            return
        if kind not in ("fill", "user_order", "market_position"):
            return  # subscribed, ok
        if not isinstance(msg, dict):
            raise KalshiShapeError(f"{kind}: no msg object")
        if kind == "fill":
            self.on_fill(models.ws_fill(msg))
        elif kind == "user_order":
            self.on_order(models.ws_order(msg))
        else:
            ticker = msg.get("market_ticker")
            if not isinstance(ticker, str):
                raise KalshiShapeError("market_position: no market_ticker")
            self.positions[ticker] = count(msg, "position_fp", f"market_position {ticker}", signed=True)
