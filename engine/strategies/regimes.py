"""Regimes of the reference market, read from what a strategy's snapshot carries (pure).

A market maker quoting off an external reference price is exposed when that reference moves
fast (the next taker knows the new price before our quote moves) or goes quiet (our fair value
is an old number). Each tick it reads the regime from the reference's recent history in the
market view:

* **stale**: no reference price at all, or the last one was received more than `stale_ms` ago;
* **fast**: the realised volatility of the reference over the last `window_ms` is at least
  `fast_volatility`;
* **calm**: otherwise.

Realised volatility here is the square root of the sum of squared changes between consecutive
reference prices in the window (the last price before the window counts as its start, so a jump
just inside the window is seen), in micro-units of probability: a single move of 0.03 reads 0.03,
three moves of 0.01 read ~0.017. It needs no clock beyond the snapshot's `now_ms`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from contracts.domain import MarketView, fmt

CALM = "calm"
FAST = "fast"
STALE = "stale"
REGIMES = (CALM, FAST, STALE)
# The market maker's own controls (engine/strategies/market_making.py, steps 13-15): named like
# regimes so the decisions log notes their changes the same way.
TOXIC = "toxic"
PULLED = "pulled"
REDUCE_ONLY = "reduce_only"
CLOSING = "closing"


@dataclass(frozen=True, slots=True)
class RegimeReading:
    regime: str
    volatility: int | None = None  # micro-units of probability over the window; None without a reference
    age_ms: int | None = None  # how old the newest reference price is

    def describe(self) -> str:
        """Why this regime, in words for the decisions log."""
        if self.age_ms is None:
            return f"regime {self.regime}: no reference price"
        age = f"reference {self.age_ms / 1000:.1f} s old"
        vol = f"volatility {fmt(self.volatility or 0)}"
        return f"regime {self.regime}: {age}, {vol}"


def realised_volatility(history: Sequence[tuple[int, int]], now_ms: int, window_ms: int) -> int:
    """sqrt(sum of squared consecutive changes) of the (received ms, price) points in the window,
    oldest first; the last point before the window is where it starts."""
    start = now_ms - window_ms
    first = 0
    for index, (at_ms, _) in enumerate(history):
        if at_ms >= start:
            break
        first = index
    else:
        return 0  # every point is older than the window: nothing moved in it
    squares = 0
    previous = history[first][1]
    for at_ms, price in history[first + 1:]:
        if at_ms > now_ms:
            break
        squares += (price - previous) ** 2
        previous = price
    return math.isqrt(squares)


def read_regime(view: MarketView, now_ms: int, *, window_ms: int, fast_volatility: int,
                stale_ms: int) -> RegimeReading:
    if view.reference is None or view.reference_at is None:
        return RegimeReading(STALE)
    age = max(0, now_ms - view.reference_at)
    volatility = realised_volatility(view.reference_history, now_ms, window_ms)
    if age > stale_ms:
        return RegimeReading(STALE, volatility, age)
    return RegimeReading(FAST if volatility >= fast_volatility else CALM, volatility, age)
