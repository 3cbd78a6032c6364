"""Quotes pulled on a sweep or a jump, for a cool-down (market making; state kept per market).

Each call sees one market's YES book and reference history and remembers the touch and mid over
the last `window_ms`. Within that window:

* **sweep**: the best bid fell, or the best ask rose, by at least `move` from where it stood
  (a taker took several levels, or the makers there fled);
* **jump**: the YES mid moved by at least `move` (highest minus lowest);
* **reference jump**: the external reference price moved by at least `move`.

Any of them pulls the quotes until `cooldown_ms` after it was last seen; the reason names what
moved and by how much. Live, the desk's own quotes are part of the book it reads, so `move`
should exceed the distance its own quotes sit from the touch (a few ticks; the default 0.03).
State is bounded: points older than the window are dropped and markets that leave the
snapshot forgotten. It is part of the market maker's memory (`memory`, `recall`), so a restart
keeps a pull's cool-down and the window it was seen in.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from contracts.domain import MarketView, fmt


@dataclass(frozen=True, slots=True)
class _Seen:
    at: int
    bid: int | None
    ask: int | None
    mid: int | None


class PullWatch:
    def __init__(self, move: int, window_ms: int, cooldown_ms: int) -> None:
        self.move = move
        self.window_ms = window_ms
        self.cooldown_ms = cooldown_ms
        self.seen: dict[str, deque[_Seen]] = {}
        self.pulled: dict[str, tuple[int, str]] = {}  # condition id -> (pulled until, why)

    def check(self, view: MarketView, now: int) -> str:
        """Why this market's quotes are pulled now ("" when they are not)."""
        cid = view.info.condition_id
        book = view.yes
        seen = self.seen.setdefault(cid, deque())
        bid = None if book is None or book.best_bid is None else book.best_bid.price
        ask = None if book is None or book.best_ask is None else book.best_ask.price
        seen.append(_Seen(now, bid, ask, None if book is None else book.mid))
        while seen and seen[0].at < now - self.window_ms:
            seen.popleft()
        why = self._sweep(seen) or self._jump(seen) or self._reference_jump(view, now)
        if why:
            self.pulled[cid] = (now + self.cooldown_ms, why)
        until, last_why = self.pulled.get(cid, (0, ""))
        if until <= now:
            self.pulled.pop(cid, None)
            return ""
        return f"{last_why}; quotes pulled for {(until - now) / 1000:.0f} s more"

    def memory(self) -> dict[str, Any]:
        return {"seen": {cid: [[p.at, p.bid, p.ask, p.mid] for p in points] for cid, points in self.seen.items()},
                "pulled": {cid: [until, why] for cid, (until, why) in self.pulled.items()}}

    def recall(self, memory: Any) -> None:
        """Take back what `memory` returned (a market whose record cannot be read starts empty)."""
        if not isinstance(memory, Mapping):
            return
        for cid, points in _items(memory.get("seen")):
            read = [_seen(p) for p in points] if isinstance(points, list) else [None]
            if None not in read:
                self.seen[cid] = deque(p for p in read if p is not None)
        for cid, pulled in _items(memory.get("pulled")):
            if (isinstance(pulled, list) and len(pulled) == 2 and _whole(pulled[0])
                    and isinstance(pulled[1], str)):
                self.pulled[cid] = (pulled[0], pulled[1][:500])

    def markets(self) -> frozenset[str]:
        """The markets it keeps something for."""
        return frozenset(self.seen).union(self.pulled)

    def forget(self, gone: Iterable[str]) -> None:
        """What it saw and pulled in markets that left the strategy."""
        for cid in gone:
            self.seen.pop(cid, None)
            self.pulled.pop(cid, None)

    def _window_s(self) -> str:
        return f"{self.window_ms / 1000:g} s"

    def _sweep(self, seen: deque[_Seen]) -> str:
        now = seen[-1]
        bids = [s.bid for s in seen if s.bid is not None]
        asks = [s.ask for s in seen if s.ask is not None]
        if now.bid is not None and bids and max(bids) - now.bid >= self.move:
            return f"sweep: best bid fell from {fmt(max(bids))} to {fmt(now.bid)} within {self._window_s()}"
        if now.ask is not None and asks and now.ask - min(asks) >= self.move:
            return f"sweep: best ask rose from {fmt(min(asks))} to {fmt(now.ask)} within {self._window_s()}"
        return ""

    def _jump(self, seen: deque[_Seen]) -> str:
        mids = [s.mid for s in seen if s.mid is not None]
        if mids and max(mids) - min(mids) >= self.move:
            return f"jump: the mid moved {fmt(max(mids) - min(mids))} within {self._window_s()}"
        return ""

    def _reference_jump(self, view: MarketView, now: int) -> str:
        start = now - self.window_ms
        prices = [price for at, price in view.reference_history if start <= at <= now]
        if prices and max(prices) - min(prices) >= self.move:
            return f"reference jump: it moved {fmt(max(prices) - min(prices))} within {self._window_s()}"
        return ""


MAX_POINTS = 10_000  # points of one market taken back from a stored memory, at most


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _price(value: Any) -> bool:
    return value is None or _whole(value)


def _items(table: Any) -> list[tuple[str, Any]]:
    """A stored market table's (condition id, record) pairs with readable ids."""
    if not isinstance(table, Mapping):
        return []
    return [(cid, v) for cid, v in list(table.items())[:MAX_POINTS] if isinstance(cid, str) and len(cid) <= 100]


def _seen(point: Any) -> _Seen | None:
    if not (isinstance(point, list) and len(point) == 4 and _whole(point[0]) and all(map(_price, point[1:]))):
        return None
    return _Seen(point[0], point[1], point[2], point[3])
