"""Reference prices for the short crypto up/down markets: P(Up) from the price each window settles on,
its price to beat and the time left (contracts/updown.py), and the desk's other reference prices for
every other market.

A window settles on averages of the Chainlink price of its asset (engine/venues/polymarket/chainlink.py): Up when
the final price, the time-weighted average over the last TWAP_S (60) seconds before its end, is at or
above the price to beat, the same average over the TWAP_S seconds before its start. So the desk prices
it:

- on Chainlink's price while that stream is fresh (a report heard within STALE_MS), else on the
  exchange spot (engine/feeds/spot.py, when the `spot_feed` setting names one) as a fallback: which
  priced each window is kept (`pricing`) and shown on the Markets page, so a window priced on the
  fallback says so;
- against the price to beat Gamma publishes for the window (set by the series job, `set_beat`), else
  the average over the TWAP_S seconds before its start in the stream that prices it (the price in force
  at the lookback's first moment no older than OPENING_TOLERANCE_MS: heard live, or in the stream's
  first dump of recent prices). A window with neither is not priced (a market maker with `fair_value`
  "reference" stays out of it) rather than guessed: a window joined late is priced from Gamma's number;
- from what will settle it: before its last TWAP_S seconds from the price now (the average to come
  varies less than a snapshot would), within them from the average of the prices already in force
  there (known) and the price now for the rest (`average_probability`). A window in its last seconds
  whose stream did not cover their start is not priced.

Without a minute of prices in that stream there is no volatility, and no reference either. The
probability is computed when asked, at the time of the latest price; its history (for the market
maker's regimes and pulls) is the same formula over the last prices, each with the average known then.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from contracts.updown import TWAP_S, Window, average_probability, window_of
from engine.feeds.catalog import MarketCatalog
from engine.feeds.price_series import PriceSeries
from engine.feeds.reference import ReferenceSource
from engine.venues.polymarket.chainlink import ChainlinkFeed
from storage.sqlite.db import now_ms

OPENING_TOLERANCE_MS = 5_000
STALE_MS = 10_000  # Chainlink reports about once a second: older than this, the stream has stopped
HISTORY_POINTS = 120  # the probabilities handed out as history: the last two minutes at one a second
CHAINLINK = "chainlink"


@dataclass(frozen=True)
class Pricing:
    """How one window is priced now: by which stream, against which price to beat, from where."""

    priced_by: str | None  # "chainlink", "okx" or "binance"; None: no stream has a price
    beat: float | None  # the price to beat (USD); None: not known
    beat_from: str | None  # "gamma", or the stream whose price at the start it is


class UpDownReference:
    def __init__(self, settlement: ChainlinkFeed | None, spot: PriceSeries | None, catalog: MarketCatalog,
                 other: ReferenceSource | None = None, clock_ms: Callable[[], int] | None = None,
                 spot_name: str = "spot") -> None:
        """`settlement`: the Chainlink feed (None: not running); `spot`: the exchange's (None: no
        fallback), named `spot_name` on the page."""
        self.settlement = settlement
        self.spot = spot
        self.spot_name = spot_name
        self.catalog = catalog
        self.other = other
        self.clock_ms = clock_ms or now_ms
        self.beats: dict[tuple[str, int], float] = {}  # (asset, window start s) -> Gamma's price to beat
        self.openings: dict[tuple[str, int, str], float] = {}  # (asset, start s, stream) -> price heard at start

    def set_beat(self, window: Window, price: float) -> None:
        self.beats[(window.series.asset, window.start_s)] = price
        self._forget_old(window)

    def reference(self, condition_id: str) -> tuple[int, int] | None:
        window = self._window(condition_id)
        if window is None:
            return self.other.reference(condition_id) if self.other is not None else None
        source = self._source(window.series.asset)
        if source is None:
            return None
        name, feed = source
        latest = feed.spot(window.series.asset)
        if latest is None:
            return None
        price, at = latest
        probability = self._probability(window, name, feed, price, at, feed.volatility(window.series.asset, at))
        return None if probability is None else (probability, at)

    def history(self, condition_id: str) -> tuple[tuple[int, int], ...]:
        window = self._window(condition_id)
        if window is None:
            return self.other.history(condition_id) if self.other is not None else ()
        source = self._source(window.series.asset)
        if source is None:
            return ()
        name, feed = source
        points = feed.recent(window.series.asset, HISTORY_POINTS)
        if not points:
            return ()
        sigma = feed.volatility(window.series.asset, points[-1][0])  # the latest, for every point
        begun = window.end_s * 1000 - TWAP_S * 1000
        known = _averages_from(points, begun, feed.at(window.series.asset, begun, OPENING_TOLERANCE_MS))
        out = []
        for at, price in points:
            probability = self._probability(window, name, feed, price, at, sigma, known.get(at))
            if probability is not None:
                out.append((at, probability))
        return tuple(out)

    def pricing(self, condition_id: str) -> Pricing | None:
        """How a window of a series is priced now (None: not a window)."""
        window = self._window(condition_id)
        if window is None:
            return None
        source = self._source(window.series.asset)
        if source is None:
            return Pricing(None, self.beats.get((window.series.asset, window.start_s)), "gamma"
                           if (window.series.asset, window.start_s) in self.beats else None)
        opening = self.opening(window, *source)
        return Pricing(source[0], None if opening is None else opening[0], None if opening is None else opening[1])

    def opening(self, window: Window, name: str, feed: PriceSeries) -> tuple[float, str] | None:
        """The price to beat and where it comes from: Gamma's, else the average over the TWAP_S seconds
        before the start in the stream pricing the window; None when neither is known (never guessed)."""
        asset = window.series.asset
        beat = self.beats.get((asset, window.start_s))
        if beat is not None:
            return beat, "gamma"
        key = (asset, window.start_s, name)
        known = self.openings.get(key)
        if known is not None:
            return known, name
        start_ms = window.start_s * 1000
        if self.clock_ms() < start_ms:
            return None  # the start has not passed yet: later prices still count in its average
        heard = feed.average(asset, start_ms - TWAP_S * 1000, start_ms, OPENING_TOLERANCE_MS)
        if heard is None:
            return None  # the lookback's first moment not heard: unknown
        self.openings[key] = heard
        self._forget_old(window)
        return heard, name

    def _source(self, asset: str) -> tuple[str, PriceSeries] | None:
        """Chainlink while fresh, else the exchange spot (the fallback), else none."""
        settlement = self.settlement
        age = settlement.age_ms(asset) if settlement is not None else None
        if settlement is not None and age is not None and age <= STALE_MS:
            return CHAINLINK, settlement
        if self.spot is not None and self.spot.spot(asset) is not None:
            return self.spot_name, self.spot
        return None

    def _window(self, condition_id: str) -> Window | None:
        info = self.catalog.get(condition_id)
        return None if info is None else window_of(info.slug)

    def _probability(self, window: Window, name: str, feed: PriceSeries, price: float, at: int,
                     sigma: float | None, so_far: float | None = None) -> int | None:
        """P(Up) at `at`, the price then `price`; `so_far`: the final average's known part then, when the
        caller has it (else read from the feed inside the last TWAP_S seconds)."""
        opening = self.opening(window, name, feed)
        if opening is None or sigma is None or at < window.start_s * 1000:
            return None
        end_ms = window.end_s * 1000
        if so_far is None and end_ms - at < TWAP_S * 1000:
            so_far = feed.average(window.series.asset, end_ms - TWAP_S * 1000, min(at, end_ms), OPENING_TOLERANCE_MS)
        return average_probability(price, opening[0], max(0.0, (end_ms - at) / 1000), sigma, so_far)

    def _forget_old(self, window: Window) -> None:
        """Prices to beat of windows long over go: the tables stay bounded."""
        horizon = window.start_s - 86_400
        for key in [k for k in self.openings if k[1] < horizon]:
            del self.openings[key]
        for beat in [k for k in self.beats if k[1] < horizon]:
            del self.beats[beat]


def _averages_from(points: tuple[tuple[int, float], ...], begun: int, base: float | None) -> dict[int, float]:
    """For each point at or after `begun` (ms), the time-weighted average of the prices in force from `begun`
    to it (`base` in force at `begun`; none without it): the final average's known part at each, in one pass."""
    if base is None:
        return {}
    averages: dict[int, float] = {}
    integral, last_at, last_price = 0.0, begun, base
    for at, price in points:
        if at < begun:
            continue
        integral += last_price * (at - last_at)
        averages[at] = integral / (at - begun) if at > begun else base
        last_at, last_price = at, price
    return averages
