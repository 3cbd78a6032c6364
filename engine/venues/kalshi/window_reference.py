"""Reference prices for Kalshi's crypto windows: P(YES) from the CF Benchmarks index each settles on, as
Polymarket's up/down windows are priced from the Chainlink price theirs settle on
(engine/venues/polymarket/spot_reference.py).

A Kalshi market the desk follows (`kalshi:<ticker>`, paired) whose series settles on an index
(contracts/venues/kalshi/crypto.py: `KXBTC15M` on `BRTI`, ...) is priced from that index as Kalshi relays it
(engine/venues/kalshi/cfbenchmarks.py): its value now, its volatility over the last ten minutes, the window's
price to beat (`floor_strike`, as Kalshi sets it when the window opens: read by the pairs' poller,
never guessed) and its close, and within the final minute the values already averaged. A window
without a price to beat yet, an index not heard for STALE_MS, or without a minute of values (no
volatility) is not priced (a market maker with `fair_value` "reference" stays out of it); every other
market is asked of `other`.
"""

from __future__ import annotations

from collections.abc import Callable

from contracts.venues.kalshi import ids as kalshi_ids
from contracts.venues.kalshi.crypto import index_of, yes_probability
from engine.feeds.reference import ReferenceSource
from engine.venues.kalshi import models
from engine.venues.kalshi.cfbenchmarks import CfBenchmarksFeed

STALE_MS = 10_000  # the index ticks once a second: older than this, the stream has stopped
HISTORY_POINTS = 120  # the probabilities handed out as history: the last two minutes at one a second


class KalshiWindowReference:
    def __init__(self, feed: CfBenchmarksFeed, market_of: Callable[[str], models.Market | None],
                 other: ReferenceSource | None = None) -> None:
        """`market_of`: a Kalshi market as the desk last read it, by ticker (None: not read yet)."""
        self.feed = feed
        self.market_of = market_of
        self.other = other

    def _window(self, condition_id: str) -> tuple[models.Market, str] | None:
        if not condition_id.startswith(kalshi_ids.PREFIX):
            return None
        ticker = kalshi_ids.ticker_of(condition_id)
        index_id = index_of(ticker)
        market = self.market_of(ticker) if index_id is not None else None
        return None if market is None or index_id is None else (market, index_id)

    def reference(self, condition_id: str) -> tuple[int, int] | None:
        window = self._window(condition_id)
        if window is None:
            return self.other.reference(condition_id) if self.other is not None else None
        market, index_id = window
        age = self.feed.age_ms(index_id)
        latest = self.feed.spot(index_id)
        if latest is None or age is None or age > STALE_MS:
            return None
        value, at = latest
        probability = self._probability(market, index_id, value, at, self.feed.volatility(index_id, at), True)
        return None if probability is None else (probability, at)

    def history(self, condition_id: str) -> tuple[tuple[int, int], ...]:
        window = self._window(condition_id)
        if window is None:
            return self.other.history(condition_id) if self.other is not None else ()
        market, index_id = window
        points = self.feed.recent(index_id, HISTORY_POINTS)
        if not points:
            return ()
        sigma = self.feed.volatility(index_id, points[-1][0])
        found = ((at, self._probability(market, index_id, value, at, sigma, at == points[-1][0]))
                 for at, value in points)
        return tuple((at, p) for at, p in found if p is not None)

    def _probability(self, market: models.Market, index_id: str, value: float, at: int, sigma: float | None,
                     latest: bool) -> int | None:
        """P(YES) at `at`; the final minute's accumulation is the feed's latest, so only the latest
        point in that minute is priced with it (an earlier one is priced without)."""
        if sigma is None or at >= market.close_ms + 1_000:
            return None
        known = self.feed.quarter(index_id, market.close_ms) if latest else None
        return yes_probability(market.strike_type, market.floor_strike, market.cap_strike, value,
                               max(0.0, (market.close_ms - at) / 1000), sigma, known)
