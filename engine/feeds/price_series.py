"""A crypto asset's recent prices as a feed hears them: the exchange spot (engine/feeds/spot.py) and
the Chainlink price the up/down windows settle on (engine/venues/polymarket/chainlink.py) keep the same record.

The last HISTORY points per asset, oldest first, each (time ms, price); the latest price and when it
was heard; the price in force at a time (the last point at or before it, no older than a tolerance);
its time-weighted average over a span (what an up/down window settles on); and the volatility per
square-root second over the last ten minutes (the root of the squared log moves over the time they
span; None with less than a minute, or thirty, of prices).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import deque
from itertools import islice
from typing import Any

HISTORY = 7_200  # points per asset: two hours at one a second
VOLATILITY_WINDOW_MS = 600_000  # the volatility is measured over the last ten minutes
MIN_VOLATILITY_SPAN_MS = 60_000  # and needs a minute of prices at least,
MIN_VOLATILITY_POINTS = 30  # and that many of them (two prices a minute apart say little)


def positive_price(raw: Any) -> float | None:
    """A price as a feed sends it (a JSON number or a decimal string): positive and finite, else None."""
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        return None
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if math.isfinite(value) and value > 0 else None


class PriceSeries:
    """The history part of a price feed: `_history` per asset, (ms, price), oldest first."""

    _history: dict[str, deque[tuple[int, float]]]

    def spot(self, asset: str) -> tuple[float, int] | None:
        """(price, time ms) of the latest price, or None if none arrived."""
        points = self._history.get(asset)
        return (points[-1][1], points[-1][0]) if points else None

    def history(self, asset: str) -> tuple[tuple[int, float], ...]:
        return tuple(self._history.get(asset, ()))

    def recent(self, asset: str, count: int) -> tuple[tuple[int, float], ...]:
        """The last `count` points, oldest first, without copying the whole history."""
        return tuple(islice(reversed(self._history.get(asset, ())), count))[::-1]

    def at(self, asset: str, when_ms: int, tolerance_ms: int) -> float | None:
        """The price in force at `when_ms`: the last point at or before it, no more than `tolerance_ms`
        older; None when none was heard then."""
        points = self._history.get(asset, ())
        index = bisect_right(points, (when_ms, math.inf))
        if index == 0 or when_ms - points[index - 1][0] > tolerance_ms:
            return None
        return points[index - 1][1]

    def average(self, asset: str, from_ms: int, to_ms: int, tolerance_ms: int) -> float | None:
        """The time-weighted average over [from_ms, to_ms] of the price in force (each price weighted by how
        long it stood there); None when none was in force at `from_ms` (none heard within `tolerance_ms`)."""
        base = self.at(asset, from_ms, tolerance_ms)
        if base is None or to_ms <= from_ms:
            return base
        inside = []
        for at, price in reversed(self._history.get(asset, ())):
            if at <= from_ms:
                break
            if at < to_ms:
                inside.append((at, price))
        integral, last_at, last_price = 0.0, from_ms, base
        for at, price in reversed(inside):
            integral += last_price * (at - last_at)
            last_at, last_price = at, price
        return (integral + last_price * (to_ms - last_at)) / (to_ms - from_ms)

    def volatility(self, asset: str, now: int) -> float | None:
        points = [p for p in self._history.get(asset, ()) if p[0] >= now - VOLATILITY_WINDOW_MS]
        if len(points) < MIN_VOLATILITY_POINTS or points[-1][0] - points[0][0] < MIN_VOLATILITY_SPAN_MS:
            return None
        squares = sum(math.log(b / a) ** 2 for (_, a), (_, b) in zip(points, points[1:], strict=False))
        return math.sqrt(squares / ((points[-1][0] - points[0][0]) / 1000))

    def _append(self, asset: str, at: int, price: float) -> bool:
        """Keep one point; a point not after the last one kept is a repeat (False)."""
        points = self._history.setdefault(asset, deque(maxlen=HISTORY))
        if points and at <= points[-1][0]:
            return False
        points.append((at, price))
        return True
