"""An optional external reference price per market, over a WebSocket (for market making).

The source sends JSON `{"condition_id": "0x..", "price": "0.53"}` or a list of them. The
latest price per condition id is kept with the time we received it; consumers judge its
age. The last HISTORY prices per condition id are kept too (received ms, price), for the market
maker's regimes (short-term volatility, engine/strategies/regimes.py); a price equal to the one
before only moves its time. Prices outside [0, 1] or unreadable are ignored (never guessed at). The connection
follows the same reconnect discipline as the venue feeds; the application PING and the
data watchdog are off by default since a reference source may be quiet for long spells.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

from contracts.domain import ONE, to_micros
from contracts.jsonsafe import JsonRefused, loads_bounded
from engine.feeds.pacing import Backoff
from engine.feeds.plausible import Refusals
from engine.feeds.wsloop import ReconnectingSocket, SocketFeed, SocketOptions
from storage.sqlite.db import now_ms

log = logging.getLogger("engine.feeds.reference")
# A reference message is one price (or a short list of them): anything near this size is not one.
QUIET = SocketOptions(ping_interval_s=None, silence_s=None, max_size=64 * 1024)
HISTORY = 512  # prices kept per market: memory stays bounded however chatty the source


class ReferenceSource(Protocol):
    """What the market views read of a reference: the latest price per market and its history
    (this feed, or engine/venues/polymarket/spot_reference.py's up/down prices beside it)."""

    def reference(self, condition_id: str) -> tuple[int, int] | None: ...

    def history(self, condition_id: str) -> tuple[tuple[int, int], ...]: ...


class ReferenceFeed(SocketFeed):
    name = "reference"

    def __init__(self, url: str, *, options: SocketOptions = QUIET, backoff: Backoff | None = None,
                 clock_ms: Callable[[], int] = now_ms, subscribe_message: str | None = None):
        self.url = url
        self.clock_ms = clock_ms
        self.subscribe_message = subscribe_message
        self.socket = ReconnectingSocket(url, self, options, backoff)
        self.refusals = Refusals()  # records refused, and why the first was (the desk alerts it once)
        self._latest: dict[str, tuple[int, int]] = {}
        self._history: dict[str, deque[tuple[int, int]]] = {}
        self._frozen: dict[str, tuple[tuple[int, int], ...]] = {}  # history as handed out, until it changes

    def reference(self, condition_id: str) -> tuple[int, int] | None:
        """(price in micros, receive time in epoch ms), or None if never received."""
        return self._latest.get(condition_id)

    def history(self, condition_id: str) -> tuple[tuple[int, int], ...]:
        """The recent (receive time, price) points of one market, oldest first."""
        frozen = self._frozen.get(condition_id)
        if frozen is None:
            frozen = self._frozen[condition_id] = tuple(self._history.get(condition_id, ()))
        return frozen

    def on_text(self, text: str) -> None:
        if text == "PONG":
            return
        try:
            data = loads_bounded(text, max_bytes=64 * 1024, max_depth=4, what="a reference message")
        except JsonRefused as exc:
            self.refusals.add(str(exc))
            return
        at = self.clock_ms()
        for item in data if isinstance(data, list) else (data,):
            why = self._take(item, at)
            if why:
                self.refusals.add(why)

    @property
    def rejected(self) -> int:
        return self.refusals.count

    def _take(self, item: Any, at_ms: int) -> str:
        """Why `item` is refused ("" when its price is taken)."""
        if not isinstance(item, dict) or not isinstance(item.get("condition_id"), str) \
                or len(item["condition_id"]) > 100:
            return "a record without a condition id"
        raw: Any = item.get("price")
        try:
            price = to_micros(raw)
        except (ValueError, TypeError, ArithmeticError):
            return f"a price that is not a number ({str(item.get('price'))[:40]!r})"
        if not 0 <= price <= ONE:
            return f"a price outside [0, 1] ({str(item.get('price'))[:40]!r})"
        condition_id = item["condition_id"]
        self._latest[condition_id] = (price, at_ms)
        points = self._history.setdefault(condition_id, deque(maxlen=HISTORY))
        if points and points[-1][1] == price:
            points.pop()  # the same price again: one point, at its latest time
        points.append((at_ms, price))
        self._frozen.pop(condition_id, None)
        return ""
