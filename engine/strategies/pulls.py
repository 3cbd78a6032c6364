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
snapshot forgotten.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

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

    def forget(self, keep: Iterable[str]) -> None:
        wanted = set(keep)
        for table in (self.seen, self.pulled):
            for cid in [c for c in table if c not in wanted]:
                del table[cid]

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
