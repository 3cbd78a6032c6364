"""Breakout on a market's own history: enter when the YES mid leaves its recent range.

Each decision samples every market's YES mid (only while its book's spread is at most
`max_spread`) into per-market buckets of the window (`window_s` / 360, at least a second: a
bucket keeps the high and the low of the mids sampled in it, so memory stays bounded whatever the
decision rate). The range is the high and low of the buckets before the current one within the
window; once a market has been watched for a whole window, a mid at or above high + `margin` is
a breakout up (hold +`size` YES), one at or below low - `margin` a breakout down (hold -`size`,
i.e. NO), as `direction` allows.

A breakout arms an entry: fill-and-kill orders at the touch toward the target while the mid stays
beyond the level it broke, until the position is within the market's minimum order of the target
(then the entry is done) or the mid falls back (the entry is dropped). After that the strategy
does nothing with the position: the strategy's exits (stop-loss, take-profit, order age, on its
Capital, limits and exits tab) close it, or the opposite breakout turns it over. While one of
its orders there is in flight it says nothing.

The buckets are its memory (`memory`, `recall`): a restart does not watch a whole window again.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from contracts.domain import ONE, Intent, MarketView, Quote, Snapshot, StrategyState, fmt
from contracts.strategy_schemas.breakout import BREAKOUT
from engine.strategies.base import MemoryUnreadable, StrategyBase, closed_reason, net_yes, orders_in, take_toward

BUCKETS = 360  # buckets in a window: the range is measured to 1/360 of it
MAX_RECALLED = 10_000


@dataclass(slots=True)
class Range:
    """One market's watch: its mids' buckets (start ms, high, low), oldest first, and an armed entry."""

    first_ms: int
    buckets: deque[tuple[int, int, int]] = field(default_factory=deque)
    entry: tuple[int, int] | None = None  # (direction +1/-1, the level the mid broke)


class Breakout(StrategyBase):
    schema = BREAKOUT
    per_market = ("ranges",)

    def __init__(self, name: str, params: Mapping[str, Any] | None = None) -> None:
        super().__init__(name, params)
        self.window_ms = int(self.params["window_s"]) * 1000
        self.bucket_ms = max(1000, self.window_ms // BUCKETS)
        self.margin = self.micros("margin")
        self.size = self.micros("size")
        self.up = self.params["direction"] in ("both", "up")
        self.down = self.params["direction"] in ("both", "down")
        self.max_spread = self.micros("max_spread")
        self.ranges: dict[str, Range] = {}

    def decide(self, snapshot: Snapshot, state: StrategyState, now_ms: int) -> list[Intent]:
        intents = []
        for cid, view in snapshot.markets.items():
            mid = self.watched_mid(view)
            if mid is not None:
                self.observe(cid, mid, now_ms)
            if orders_in(state, cid):
                continue  # a take is in flight: let it resolve before deciding again
            intents.append(self.intent(cid, *self.quotes_for(view, mid, net_yes(state, cid))))
        return intents

    def watched_mid(self, view: MarketView) -> int | None:
        book = view.yes
        if book is None or book.mid is None or book.spread is None or book.spread > self.max_spread:
            return None
        return book.mid

    def observe(self, condition_id: str, mid: int, now: int) -> None:
        """One mid: a breakout of the range before it arms an entry; then it joins its bucket."""
        watch = self.ranges.get(condition_id)
        if watch is None:
            watch = self.ranges[condition_id] = Range(first_ms=now)
        start = now - now % self.bucket_ms
        while watch.buckets and watch.buckets[0][0] < now - self.window_ms:
            watch.buckets.popleft()
        before = [b for b in watch.buckets if b[0] < start]
        if before and now - watch.first_ms >= self.window_ms:
            high, low = max(b[1] for b in before), min(b[2] for b in before)
            if self.up and mid >= high + self.margin and (watch.entry is None or watch.entry[0] < 0):
                watch.entry = (1, high + self.margin)
            elif self.down and mid <= low - self.margin and (watch.entry is None or watch.entry[0] > 0):
                watch.entry = (-1, low - self.margin)
        if watch.buckets and watch.buckets[-1][0] == start:
            _, high, low = watch.buckets[-1]
            watch.buckets[-1] = (start, max(high, mid), min(low, mid))
        else:
            watch.buckets.append((start, mid, mid))

    def quotes_for(self, view: MarketView, mid: int | None, position: int) -> tuple[tuple[Quote, ...], str]:
        if reason := closed_reason(view.info):
            return (), reason
        watch = self.ranges.get(view.info.condition_id)
        if watch is None or mid is None or view.yes is None:
            return (), "no mid to watch (no book, or its spread is above max_spread)"
        if watch.entry is None:
            return (), "no breakout"
        direction, level = watch.entry
        if (mid < level) if direction > 0 else (mid > level):
            watch.entry = None
            return (), f"the breakout {'up' if direction > 0 else 'down'} faded: mid {fmt(mid)} back past {fmt(level)}"
        target = direction * self.size
        gap = target - position
        if abs(gap) < max(view.info.min_size, 1):
            watch.entry = None
            return (), f"entered: holding {fmt(position)} YES (target {fmt(target)}, within the market's minimum order)"
        word = "above" if direction > 0 else "below"
        return take_toward(view.yes, gap, f"breakout: mid {fmt(mid)} {word} {fmt(level)}; target {fmt(target)}")

    def memory(self) -> dict[str, Any]:
        return {"ranges": {cid: {"first_ms": w.first_ms, "buckets": [list(b) for b in w.buckets]}
                           for cid, w in self.ranges.items()}}

    def recall(self, memory: Mapping[str, Any]) -> None:
        ranges = memory.get("ranges")
        if not isinstance(ranges, Mapping):
            raise MemoryUnreadable("no ranges")
        for cid, saved in list(ranges.items())[:MAX_RECALLED]:
            watch = _recalled(saved) if isinstance(cid, str) and len(cid) <= 100 else None
            if watch is not None:
                self.ranges[cid] = watch


def _recalled(saved: Any) -> Range | None:
    """One market's watch, or None when any part of it cannot be read."""
    if not isinstance(saved, Mapping):
        return None
    first, buckets = saved.get("first_ms"), saved.get("buckets")
    if type(first) is not int or first < 0 or not isinstance(buckets, list) or len(buckets) > 10 * BUCKETS:
        return None
    read: deque[tuple[int, int, int]] = deque()
    for bucket in buckets:
        if not (isinstance(bucket, list) and len(bucket) == 3 and all(type(x) is int for x in bucket)):
            return None
        start, high, low = bucket
        if not (start >= 0 and 0 <= low <= high <= ONE) or (read and start <= read[-1][0]):
            return None
        read.append((start, high, low))
    return Range(first_ms=first, buckets=read)
