"""Crypto spot prices from an exchange's public ticker stream, spoken as the exchange speaks it
(the short up/down series' reference; engine/venues/polymarket/spot_reference.py turns them into P(Up)).

* **OKX** (`wss://ws.okx.com:8443/ws/v5/public`): after the connection opens the client sends
  `{"op":"subscribe","args":[{"channel":"tickers","instId":"BTC-USDT"}, ...]}`; the server answers
  `{"event":"subscribe",...}` and then pushes `{"arg":{...},"data":[{"instId":"BTC-USDT",
  "last":"97000.1","ts":"1764000000123",...}]}`. A client silent for 30 s is dropped, so the text
  `ping` goes out every 20 s (the answer is `pong`). An `{"event":"error",...}` is counted and its
  message kept.
* **Binance** (`wss://stream.binance.com:9443`): the combined stream
  `/stream?streams=btcusdt@ticker/ethusdt@ticker` pushes `{"stream":"btcusdt@ticker","data":
  {"e":"24hrTicker","E":1764000000123,"s":"BTCUSDT","c":"97000.10",...}}` about once a second;
  the server's protocol pings are answered by the WebSocket library.

Each price is kept with the time it was received (its age is judged by the desk's clock, as the
reference feed's are), in the history every price feed keeps (engine/feeds/price_series.py: the
volatility, the price in force at a window's start). A message that is not a price is counted and
dropped, never guessed at, and so is a price no market could have (engine/feeds/plausible.py:
outside any asset's range, or an absurd move from the last one, such as 99.9 % in a second); the
first refusal's reason is kept for the desk's one alert (engine/trading/refused_records.py), the
good prices beside it are taken. It is the up/down windows' fallback price: they settle on
Chainlink's (engine/venues/polymarket/chainlink.py).
"""

from __future__ import annotations

import json
import logging
import math
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from contracts.jsonsafe import JsonRefused, loads_bounded
from contracts.updown import binance_symbol, okx_instrument
from engine.feeds.pacing import Backoff
from engine.feeds.plausible import MoveGuard, Refusals
from engine.feeds.price_series import HISTORY, PriceSeries
from engine.feeds.wsloop import ReconnectingSocket, SocketFeed, SocketOptions
from storage.sqlite.db import now_ms

log = logging.getLogger("engine.feeds.spot")
OPTIONS = {
    "okx": SocketOptions(ping_interval_s=20.0, ping_text="ping", silence_s=None, max_size=256 * 1024),
    "binance": SocketOptions(ping_interval_s=None, silence_s=None, max_size=256 * 1024),
}


def stream_url(protocol: str, base: str, assets: Iterable[str]) -> str:
    """The address to connect to: OKX's public endpoint as given, Binance's combined stream."""
    if protocol == "binance":
        return f"{base.rstrip('/')}/stream?streams=" + "/".join(f"{binance_symbol(a)}@ticker" for a in assets)
    return base


def subscribe_message(protocol: str, assets: Iterable[str]) -> str | None:
    if protocol != "okx":
        return None
    return json.dumps({"op": "subscribe", "args": [{"channel": "tickers", "instId": okx_instrument(a)}
                                                    for a in assets]})


class SpotFeed(PriceSeries, SocketFeed):
    name = "spot"

    def __init__(self, protocol: str, base_url: str, assets: Iterable[str], *,
                 clock_ms: Callable[[], int] = now_ms, backoff: Backoff | None = None) -> None:
        if protocol not in OPTIONS:
            raise ValueError(f"unknown spot protocol {protocol!r}")
        self.protocol = protocol
        self.assets = tuple(sorted(set(assets)))
        self.url = stream_url(protocol, base_url, self.assets)
        self.subscribe_message = subscribe_message(protocol, self.assets)
        self.clock_ms = clock_ms
        self.refusals = Refusals()  # records refused, and why the first was (the alert says it)
        self.last_error: str | None = None
        self.moves = MoveGuard()
        self._by_symbol = {(okx_instrument(a) if protocol == "okx" else binance_symbol(a).upper()): a
                           for a in self.assets}
        self._history: dict[str, deque[tuple[int, float]]] = {}
        self.socket = ReconnectingSocket(self.url, self, OPTIONS[protocol], backoff)

    def on_text(self, text: str) -> None:
        if text == "pong":
            return
        try:
            data = loads_bounded(text, max_bytes=256 * 1024, max_depth=6, what="a ticker message")
        except JsonRefused as exc:
            self._refused(str(exc))
            return
        if not isinstance(data, dict):
            self._refused("a message that is not a JSON object")
            return
        at = self.clock_ms()
        for symbol, price in self._prices(data):
            self._take(symbol, price, at)

    def _prices(self, data: dict[str, Any]) -> list[tuple[Any, Any]]:
        if self.protocol == "okx":
            if data.get("event") == "error":
                self.last_error = f"{data.get('code')}: {data.get('msg')}"[:200]
                self._refused(f"the exchange's error {self.last_error}")
                log.warning("spot feed refused", extra={"error": self.last_error})
                return []
            if "event" in data:  # the subscription's acknowledgement
                return []
            rows = data.get("data")
            return [(r.get("instId"), r.get("last")) for r in rows if isinstance(r, dict)] \
                if isinstance(rows, list) else self._bad()
        ticker = data.get("data")
        if not isinstance(ticker, dict):
            return self._bad()
        return [(ticker.get("s"), ticker.get("c"))]

    def _bad(self) -> list[tuple[Any, Any]]:
        self._refused("a ticker message without its data")
        return []

    @property
    def rejected(self) -> int:
        return self.refusals.count

    def _refused(self, why: str) -> None:
        self.refusals.add(why)

    def _take(self, symbol: Any, raw_price: Any, at: int) -> None:
        asset = self._by_symbol.get(str(symbol)[:40])
        if asset is None:
            self._refused(f"a price of an instrument not asked for ({str(symbol)[:40]!r})")
            return
        try:
            price = float(raw_price)
        except (TypeError, ValueError, OverflowError):
            price = math.nan
        why = self.moves.refusal(asset, price, at)
        if why:
            self._refused(f"{asset}: {why}")
            return
        points = self._history.setdefault(asset, deque(maxlen=HISTORY))
        points.append((at, price))
