"""Reference prices for the short crypto up/down markets: P(Up) from the spot feed
(engine/feeds/spot.py), the window's opening price and the time left (contracts/updown.py), and
the desk's other reference prices for every other market.

A window's opening price is the spot price in force at its start: the last price received at or
before it, no older than OPENING_TOLERANCE_MS. A desk that was not listening then does not know
it, and has no reference for that window (a market maker with `fair_value` "reference" stays out
of it) rather than a guess. Without a minute of spot prices there is no volatility, and no
reference either. The probability is computed when asked, at the time of the latest spot price;
its history (for the market maker's regimes and pulls) is the same formula over the last spot
prices.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable

from contracts.updown import Window, up_probability, window_of
from engine.feeds.catalog import MarketCatalog
from engine.feeds.reference import ReferenceSource
from engine.feeds.spot import SpotFeed

OPENING_TOLERANCE_MS = 5_000
HISTORY_POINTS = 120  # the probabilities handed out as history: the last two minutes at one a second


class UpDownReference:
    def __init__(self, spot: SpotFeed, catalog: MarketCatalog, other: ReferenceSource | None = None,
                 clock_ms: Callable[[], int] | None = None) -> None:
        self.spot = spot
        self.catalog = catalog
        self.other = other
        self.clock_ms = clock_ms or spot.clock_ms
        self.openings: dict[tuple[str, int], float] = {}  # (asset, window start s) -> opening price

    def reference(self, condition_id: str) -> tuple[int, int] | None:
        window = self._window(condition_id)
        if window is None:
            return self.other.reference(condition_id) if self.other is not None else None
        latest = self.spot.spot(window.series.asset)
        if latest is None:
            return None
        price, at = latest
        probability = self._probability(window, price, at, self.spot.volatility(window.series.asset, at))
        return None if probability is None else (probability, at)

    def history(self, condition_id: str) -> tuple[tuple[int, int], ...]:
        window = self._window(condition_id)
        if window is None:
            return self.other.history(condition_id) if self.other is not None else ()
        points = self.spot.recent(window.series.asset, HISTORY_POINTS)
        if not points:
            return ()
        sigma = self.spot.volatility(window.series.asset, points[-1][0])  # the latest, for every point
        out = []
        for at, price in points:
            probability = self._probability(window, price, at, sigma)
            if probability is not None:
                out.append((at, probability))
        return tuple(out)

    def opening(self, window: Window) -> float | None:
        key = (window.series.asset, window.start_s)
        known = self.openings.get(key)
        if known is not None:
            return known
        start_ms = window.start_s * 1000
        points = self.spot.history(window.series.asset)
        index = bisect_right(points, (start_ms, float("inf")))
        if index == 0 or start_ms - points[index - 1][0] > OPENING_TOLERANCE_MS:
            return None  # not listening at the start: unknown, never guessed
        if self.clock_ms() < start_ms:
            return None  # the start has not passed yet: a later price may still be the opening
        self.openings[key] = points[index - 1][1]
        self._forget_old(window)
        return self.openings[key]

    def _window(self, condition_id: str) -> Window | None:
        info = self.catalog.get(condition_id)
        return None if info is None else window_of(info.slug)

    def _probability(self, window: Window, price: float, at: int, sigma: float | None) -> int | None:
        opening = self.opening(window)
        if opening is None or sigma is None or at < window.start_s * 1000:
            return None
        return up_probability(price, opening, max(0.0, window.end_s - at / 1000), sigma)

    def _forget_old(self, window: Window) -> None:
        """Openings of windows long over go: the dict stays bounded."""
        horizon = window.start_s - 86_400
        for key in [k for k in self.openings if k[1] < horizon]:
            del self.openings[key]
