"""Polymarket's Real-Time Data Socket (RTDS, `wss://ws-live-data.polymarket.com`), as the desk speaks it.

Facts (docs.polymarket.com "Real-Time Data Socket"; the official TypeScript `real-time-data-client`):
a client subscribes with `{"action": "subscribe", "subscriptions": [{"topic", "type", "filters"}]}`
(`filters` a string: a JSON object, or empty for everything), may change its subscriptions without
reconnecting, and sends `PING` every 5 s to keep the connection; every message it receives is
`{"topic", "type", "timestamp" (ms, when sent), "payload"}`. The desk reads two topics: the Chainlink
prices the up/down windows settle on (`crypto_prices_chainlink`, engine/venues/polymarket/chainlink.py) and every
trade as the venue reports it (`activity` / `trades`, engine/venues/polymarket/follow/stream.py).

A frame is read bounded (size and depth) and only an object with a string topic and type and an
object payload is handed on: anything else is counted as refused, never guessed at. PolyBolt
(`wss://ws-live-v2.polymarket.com/ws`) is the venue's announced successor for reference prices
(CLOB credentials, Pyth for spot, Chainlink only as a 60 s TWAP); RTDS's Chainlink topic is what the
up/down windows' pages and the venue's own client still use, so the desk reads that.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from contracts.jsonsafe import JsonRefused, loads_bounded
from engine.feeds.wsloop import SocketOptions

PING_S = 5.0  # the documented keep-alive
FRAME_BYTES = 1_000_000  # a trade or a price is a few hundred bytes; a dump a few tens of kilobytes
OPTIONS = SocketOptions(ping_interval_s=PING_S, ping_text="PING", silence_s=30.0, max_size=FRAME_BYTES)


@dataclass(frozen=True)
class Subscription:
    topic: str
    type: str = "*"
    filters: str = ""  # a JSON object as a string, or "" for everything


@dataclass(frozen=True)
class Message:
    topic: str
    type: str
    timestamp: int | None  # ms, when the venue sent it (None: not a number)
    payload: dict[str, Any]


def subscribe_message(subscriptions: list[Subscription], action: str = "subscribe") -> str:
    return json.dumps({"action": action, "subscriptions": [
        {"topic": s.topic, "type": s.type, "filters": s.filters} for s in subscriptions]})


def is_pong(text: str) -> bool:
    return text in ("PONG", "pong")


def parse(text: str) -> Message | None:
    """One RTDS frame, or None when it is not a message the desk can read."""
    try:
        data = loads_bounded(text, max_bytes=FRAME_BYTES, max_depth=6, what="an RTDS message")
    except JsonRefused:
        return None
    if not isinstance(data, dict):
        return None
    topic, kind, payload, at = data.get("topic"), data.get("type"), data.get("payload"), data.get("timestamp")
    if not isinstance(topic, str) or not isinstance(kind, str) or not isinstance(payload, dict):
        return None
    timestamp = at if isinstance(at, int) and not isinstance(at, bool) and at > 0 else None
    return Message(topic, kind, timestamp, payload)
