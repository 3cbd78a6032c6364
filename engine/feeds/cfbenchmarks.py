"""CF Benchmarks' real-time indices as Kalshi relays them, the values Kalshi's crypto windows settle on
(contracts/kalshi_crypto.py), from its signed WebSocket's `cfbenchmarks_value` channel.

Kalshi's CF Benchmarks Value Feed page: the connection is authenticated (the desk's Kalshi key signs the
handshake, as for its other channels); the subscription names `index_ids` (`BRTI`, `ETHUSD_RTI`, ...);
about once a second per index a message `{"type": "cfbenchmarks_value", "sid", "seq", "msg": {
"index_id", "received_at" (ms, when Kalshi received the upstream frame), "data" (CF Benchmarks' own
frame as a JSON string: {"type": "value", "id", "time" ms, "value"}), "avg_60s_data",
"last_60s_windowed_average_15min" (only in the final minute before a quarter-hour close: the values of
(close - 60 s, now], their count and average)}, "sending_ts_ms"}` (the last optional: when Kalshi
queued it). The feed keeps per index the values at CF Benchmarks' own times (a PriceSeries: the latest,
the volatility) and the quarter-hour accumulation as last sent, with the close it belongs to.

`sending_ts_ms` is read where it helps: the time a value spent inside Kalshi (`sending_ts_ms -
received_at`) and on the way to the desk (arrival - `sending_ts_ms`, the desk's clock against
Kalshi's: a skew shows here) are kept per index (`lags`), so a slow relay is told from a slow source.

A message that is not a positive finite value for an index asked for, whose times are not times, or
whose value no market could have (engine/feeds/plausible.py) is counted and dropped (`refusals`); a
value not after the last one kept is a repeat; a `seq` that is not one more than the last on its
subscription (a lost message) is counted (`gaps`): the next values stand on their own.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from contracts.jsonsafe import JsonRefused, loads_bounded
from contracts.kalshi_settings import KalshiSettings
from engine.feeds.kalshi_http import KalshiSigner
from engine.feeds.plausible import MoveGuard, Refusals
from engine.feeds.price_series import PriceSeries, positive_price
from engine.feeds.wsloop import ReconnectingSocket, SocketFeed, SocketOptions
from storage.sqlite.db import now_ms

log = logging.getLogger("engine.feeds.cfbenchmarks")
WS_PATH = "/trade-api/ws/v2"
CHANNEL = "cfbenchmarks_value"
AHEAD_MS = 60_000  # a value stamped later than this past the desk's clock is not believed
FRAME_BYTES = 64_000  # a value message is a few hundred bytes
# A tick a second: a minute without one and the stream has stopped (the socket is opened again).
OPTIONS = SocketOptions(ping_interval_s=None, silence_s=60.0, protocol_ping_s=20.0, max_size=FRAME_BYTES)


@dataclass(frozen=True)
class Quarter:
    """The final minute's accumulation before a quarter-hour close, as last sent: its average and count
    of values so far, the close it belongs to, and the time of the value that brought it."""

    close_ms: int
    average: float
    count: int
    at_ms: int


@dataclass(frozen=True)
class Lags:
    inside_kalshi_ms: int | None  # sending_ts_ms - received_at
    transit_ms: int | None  # arrival (the desk's clock) - sending_ts_ms


class CfBenchmarksFeed(PriceSeries, SocketFeed):
    name = "cfbenchmarks"

    def __init__(self, settings: KalshiSettings, indexes: Iterable[str], *,
                 clock_ms: Callable[[], int] = now_ms) -> None:
        if not settings.configured:
            raise ValueError("Kalshi's CF Benchmarks channel needs the account's key (KALSHI_API_KEY_ID, "
                             "KALSHI_PRIVATE_KEY): the connection is authenticated")
        assert settings.api_key_id is not None and settings.private_key is not None
        signer = KalshiSigner(settings.api_key_id, settings.private_key.reveal())
        self.indexes = tuple(sorted(set(indexes)))
        self.clock_ms = clock_ms
        self._history = {}
        self.quarters: dict[str, Quarter] = {}
        self.lags: dict[str, Lags] = {}
        self.heard: dict[str, int] = {}  # index -> when its latest value arrived (the desk's clock)
        self.refusals = Refusals()
        self.moves = MoveGuard()
        self.gaps = 0
        self.refused: str | None = None  # Kalshi's answer to the subscription, when it refused it
        self._seq: dict[int, int] = {}
        self.subscribe_message = json.dumps({"id": 1, "cmd": "subscribe", "params": {
            "channels": [CHANNEL], "index_ids": list(self.indexes)}})
        self.socket = ReconnectingSocket(settings.ws_host, self, OPTIONS, headers=lambda: signer.headers("GET",
                                                                                                        WS_PATH))

    def age_ms(self, index_id: str) -> int | None:
        heard = self.heard.get(index_id)
        return None if heard is None else self.clock_ms() - heard

    def quarter(self, index_id: str, close_ms: int) -> tuple[float, int] | None:
        """(average, count) of the final minute before `close_ms` so far, when the feed has it."""
        found = self.quarters.get(index_id)
        return (found.average, found.count) if found is not None and found.close_ms == close_ms else None

    def on_closed(self) -> None:
        self._seq.clear()

    def on_text(self, text: str) -> None:
        try:
            message = loads_bounded(text, max_bytes=FRAME_BYTES, max_depth=6, what="a CF Benchmarks message")
        except JsonRefused as exc:
            self.refusals.add(str(exc)[:120])
            return
        if not isinstance(message, dict):
            self.refusals.add("a message that is not an object")
            return
        kind = message.get("type")
        if kind == "error":
            self.refused = f"Kalshi refused the CF Benchmarks subscription: {message.get('msg')}"[:300]
            log.error(self.refused)
            return
        if kind != CHANNEL:
            return  # subscribed, ok
        self._sequence(message)
        msg = message.get("msg")
        if not isinstance(msg, dict):
            self.refusals.add("a value message without a msg object")
            return
        self._take(msg, message.get("sending_ts_ms"))

    def _sequence(self, message: dict[str, Any]) -> None:
        sid, seq = _whole(message.get("sid")), _whole(message.get("seq"))
        if sid is None or seq is None:
            return
        last = self._seq.get(sid)
        if last is not None and seq != last + 1:
            self.gaps += 1
        self._seq[sid] = seq

    def _take(self, msg: dict[str, Any], sending: Any) -> None:
        index_id = msg.get("index_id")
        if index_id not in self.indexes:
            self.refusals.add(f"a value of an index not asked for ({str(index_id)[:40]!r})")
            return
        frame = msg.get("data")
        try:
            data = json.loads(frame) if isinstance(frame, str) and len(frame) < 4_000 else None
        except ValueError:
            data = None
        at = _whole(data.get("time")) if isinstance(data, dict) else None
        value = positive_price(data.get("value")) if isinstance(data, dict) else None
        now = self.clock_ms()
        if at is None or value is None or at <= 0 or at > now + AHEAD_MS:
            self.refusals.add(f"{index_id}: a value without a time, a positive value, or stamped in the future")
            return
        why = self.moves.refusal(index_id, value, at)
        if why:
            self.refusals.add(f"{index_id}: {why}")
            return
        if not self._append(index_id, at, value):
            return
        self.heard[index_id] = now
        received, sent = _whole(msg.get("received_at")), _whole(sending)
        self.lags[index_id] = Lags(sent - received if sent is not None and received is not None else None,
                                   now - sent if sent is not None else None)
        self._quarter(index_id, msg.get("last_60s_windowed_average_15min"), at)

    def _quarter(self, index_id: str, raw: Any, at: int) -> None:
        if not isinstance(raw, dict):
            return
        average, count, end = positive_price(raw.get("value")), _whole(raw.get("window_size")), \
            _whole(raw.get("window_end_ts_exclusive"))
        if average is None or count is None or end is None or not 0 < count <= 60:
            self.refusals.add(f"{index_id}: a quarter-hour average that is not one")
            return
        self.quarters[index_id] = Quarter(end - 1, average, count, at)


def _whole(value: Any) -> int | None:
    """An integer as JSON sends one (None for anything else, a boolean or a float included)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None
