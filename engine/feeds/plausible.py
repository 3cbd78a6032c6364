"""Prices from outside judged where they enter: a price no market could have is refused.

A feed's price is refused (counted, left out, its reason kept for the one alert) when it is outside
the range any asset the desk follows trades in (a subnormal 5e-324 or 1e300 is a broken message,
not a price), or when it moves more than MAX_MOVE from the last price taken within MOVE_WINDOW_MS
(a 99.9 % move in a second is a bad print). A move that holds is real: CONFIRMATIONS prices in a
row that agree with one another (within MAX_MOVE) and disagree with the old level are taken as the
new level, and so is any price once the last one taken is older than MOVE_WINDOW_MS.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

LOWEST = 1e-8  # below any spot price the desk follows (a few assets trade near 1e-5)
HIGHEST = 1e12
MAX_MOVE = 0.2  # a fifth up or down from the last price taken
MOVE_WINDOW_MS = 60_000
CONFIRMATIONS = 5


@dataclass
class Refusals:
    """A feed's refused records: how many, and why the first was (the desk alerts it once)."""

    count: int = 0
    first: str | None = None

    def add(self, why: str) -> None:
        self.count += 1
        if self.first is None:
            self.first = why[:200]


@dataclass
class MoveGuard:
    """The last price taken per key, and the prices that disagreed with it, waiting for confirmation."""

    last: dict[str, tuple[int, float]] = field(default_factory=dict)
    pending: dict[str, tuple[float, int]] = field(default_factory=dict)  # key -> (level, prices agreeing)

    def refusal(self, key: str, price: float, at: int) -> str:
        """Why `price` is refused ("" when it is taken, and remembered as the last price)."""
        if not math.isfinite(price) or not LOWEST <= price <= HIGHEST:
            return f"a price of {price!r}, outside [{LOWEST:g}, {HIGHEST:g}]"
        before = self.last.get(key)
        if before is not None and at - before[0] <= MOVE_WINDOW_MS and _moved(before[1], price):
            if not self._confirmed(key, price):
                return (f"a move from {before[1]:g} to {price:g} ({price / before[1] - 1:+.1%}) within "
                        f"{(at - before[0]) / 1000:.1f} s")
        self.pending.pop(key, None)
        self.last[key] = (at, price)
        return ""

    def _confirmed(self, key: str, price: float) -> bool:
        level, count = self.pending.get(key, (price, 0))
        count = count + 1 if not _moved(level, price) else 1
        self.pending[key] = (price if count == 1 else level, count)
        return count >= CONFIRMATIONS


def _moved(before: float, after: float) -> bool:
    return abs(after / before - 1) > MAX_MOVE
