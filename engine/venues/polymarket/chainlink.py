"""The Chainlink prices Polymarket's crypto up/down windows settle on, from its real-time data socket.

An up/down window resolves Up when the Chainlink price of its asset at the window's end is at or
above the price to beat, the Chainlink price at its start (the venue's rules; Polymarket relays the
same Chainlink Data Streams prices on RTDS, engine/venues/polymarket/rtds.py). The feed subscribes to
`crypto_prices_chainlink` once per followed asset, filtered `{"symbol": "btc/usd"}`, and reads:

- an update, `{"symbol": "btc/usd", "timestamp": ms, "value": 97000.12, "full_accuracy_value": "..."}`:
  one point at the report's own time (the time the price is Chainlink's, so the price in force at a
  window's start is read on Chainlink's clock), the exact decimal preferred to the float;
- the first message after a filtered subscription, `{"symbol", "data": [{"timestamp", "value"}]}`: the
  recent prices, so a desk that joins a window late may still know its start's price.

A message that is not a positive finite price for a followed symbol, whose time is not a time
(none, or more than a minute ahead of the desk's clock), or whose price no market could have
(engine/feeds/plausible.py: out of range, or a 99.9 % move in a second) is counted and dropped, its
first reason kept for the desk's one alert (the Chainlink stream, beside the spot's); a point not after
the last one kept is a repeat. The latest price's age is judged by when it was heard (`heard`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

from contracts.updown import chainlink_symbol
from engine.feeds.pacing import Backoff
from engine.feeds.plausible import MoveGuard, Refusals
from engine.feeds.price_series import PriceSeries, positive_price
from engine.feeds.wsloop import ReconnectingSocket, SocketFeed
from engine.venues.polymarket import rtds
from storage.sqlite.db import now_ms

log = logging.getLogger("engine.feeds.chainlink")
TOPIC = "crypto_prices_chainlink"
AHEAD_MS = 60_000  # a report stamped later than this past the desk's clock is not believed
MAX_DUMP = 2_000  # points taken from one dump, at most


class ChainlinkFeed(PriceSeries, SocketFeed):
    name = "chainlink"

    def __init__(self, url: str, assets: Iterable[str], *, clock_ms: Callable[[], int] = now_ms,
                 backoff: Backoff | None = None) -> None:
        self.url = url
        self.assets = tuple(sorted(set(assets)))
        self.clock_ms = clock_ms
        self.refusals = Refusals()  # records refused, and why the first was (the desk alerts it once)
        self.moves = MoveGuard()  # a price no market could have (engine/feeds/plausible.py)
        self._history = {}
        self.heard: dict[str, int] = {}  # asset -> when its latest report arrived (desk's clock)
        self._by_symbol = {chainlink_symbol(a): a for a in self.assets}
        self.subscribe_message = rtds.subscribe_message(
            [rtds.Subscription(TOPIC, "*", json.dumps({"symbol": s}, separators=(",", ":"))) for s in self._by_symbol])
        self.socket = ReconnectingSocket(url, self, rtds.OPTIONS, backoff)

    @property
    def rejected(self) -> int:
        return self.refusals.count

    def age_ms(self, asset: str) -> int | None:
        """How long ago its latest report arrived (None: none yet)."""
        heard = self.heard.get(asset)
        return None if heard is None else self.clock_ms() - heard

    def on_text(self, text: str) -> None:
        if rtds.is_pong(text):
            return
        message = rtds.parse(text)
        if message is None:
            self.refusals.add("a message that is not an RTDS message")
            return
        if message.topic != TOPIC:
            return  # another topic's (a shared socket's): not ours to judge
        payload = message.payload
        asset = self._by_symbol.get(str(payload.get("symbol", "")).lower())
        if asset is None:
            self.refusals.add(f"a price of a symbol not asked for ({str(payload.get('symbol'))[:40]!r})")
            return
        if "data" in payload:
            self._dump(asset, payload["data"])
            return
        self._take(asset, payload.get("timestamp"), payload.get("full_accuracy_value", payload.get("value")))

    def _dump(self, asset: str, data: Any) -> None:
        if not isinstance(data, list):
            self.refusals.add("a first dump whose data is not a list")
            return
        points = sorted(((p["timestamp"], p.get("value")) for p in data[-MAX_DUMP:]
                         if isinstance(p, dict) and _time(p.get("timestamp")) is not None), key=lambda p: p[0])
        for _ in range(min(len(data), MAX_DUMP) - len(points)):
            self.refusals.add("a first dump's point without a time")
        for at, value in points:
            self._take(asset, at, value, heard=False)

    def _take(self, asset: str, raw_at: Any, raw_price: Any, *, heard: bool = True) -> None:
        now, at, price = self.clock_ms(), _time(raw_at), positive_price(raw_price)
        if at is None or price is None or at > now + AHEAD_MS:
            self.refusals.add(f"{asset}: a report without a time, a positive price, or stamped in the future")
            return
        why = self.moves.refusal(asset, price, at)
        if why:
            self.refusals.add(f"{asset}: {why}")
            return
        if self._append(asset, at, price) and heard:
            self.heard[asset] = now


def _time(raw: Any) -> int | None:
    return raw if isinstance(raw, int) and not isinstance(raw, bool) and raw > 0 else None

