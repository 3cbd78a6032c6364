"""The short crypto up/down series (pure): their names, their markets' slugs and windows, the spot
symbols that price them, and the probability of "Up" from the price the window settles on.

Polymarket lists a market per window of each series, with a slug computed from the window's start:
`btc-updown-5m-1764000000` is Bitcoin over the five minutes from 1764000000 (unix seconds, a
multiple of 300). Its outcomes are "Up" and "Down" (Up first: the desk's YES). Up wins when the final
price is at or above the price to beat, and both are **averages** of Chainlink's price, not snapshots
(the venue's changelog and its "Chainlink TWAP Prices" page): the price to beat is the time-weighted
average over the TWAP_S seconds before the window's start, the final price the same over the TWAP_S
seconds before its end (60 s for every series since 2026-08-14). The slug can be computed ahead, so the
desk asks Gamma for the current and the next window's market by slug every few seconds
(engine/venues/polymarket/series.py) instead of paging the whole listing.

The fair probability of Up (`average_probability`), with the price a driftless log-normal walk of
volatility sigma (per square-root second, measured from the feed), S the price now, K the price to
beat and tau the seconds left:

- before the final average begins (tau >= W = TWAP_S): the average of a walk over W seconds varies as
  W/3 of them, the rest of the way whole, so P(Up) = Phi(ln(S / K) / (sigma * sqrt(tau - 2W/3)));
- within it, the prices of the W - tau seconds past averaging A: the rest must average at least
  R = (W K - (W - tau) A) / tau, and their mean varies as tau/3 seconds of the walk, so
  P(Up) = Phi(ln(S / R) / (sigma * sqrt(tau / 3))) (1 when what is known already clears K, R <= 0);
- at the end: 1 when the average is at or above K, else 0.

`up_probability` is the snapshot's formula, Phi(ln(S / K) / (sigma * sqrt(tau))), on which both stand.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from contracts.domain import ONE, MarketInfo

ASSETS = {"btc": "Bitcoin", "eth": "Ethereum", "sol": "Solana", "xrp": "XRP"}
INTERVALS = {"5m": 300, "15m": 900}
SLUG = re.compile(r"^(?P<asset>[a-z]+)-updown-(?P<interval>\d+m)-(?P<start>\d{9,11})$")
SPOT_PROTOCOLS = ("okx", "binance")
# The seconds of Chainlink's price each settling price averages (its TWAP's lookback): 60 for the 5-minute
# windows since 2026-08-14 (30 before), 60 for the 15-minute ones (the venue's changelog).
TWAP_S = 60


class SeriesError(ValueError):
    """A series name the desk cannot follow; the message says why, in words for the operator."""


@dataclass(frozen=True, slots=True)
class Series:
    asset: str  # "btc"
    interval: str  # "5m"

    @property
    def name(self) -> str:
        return f"{self.asset}-updown-{self.interval}"

    @property
    def seconds(self) -> int:
        return INTERVALS[self.interval]

    def window_start(self, now_s: float) -> int:
        """The start (unix seconds) of the window `now_s` falls in."""
        return int(now_s) // self.seconds * self.seconds

    def slug(self, start_s: int) -> str:
        return f"{self.name}-{start_s}"


@dataclass(frozen=True, slots=True)
class Window:
    """One market of a series: its asset and span (unix seconds)."""

    series: Series
    start_s: int

    @property
    def end_s(self) -> int:
        return self.start_s + self.series.seconds


def parse_series(text: str) -> tuple[Series, ...]:
    """`btc-updown-5m, eth-updown-15m` -> the series; an unknown asset or interval is refused."""
    found: list[Series] = []
    for raw in (part.strip().lower() for part in text.split(",")):
        if not raw:
            continue
        match = re.fullmatch(r"([a-z]+)-updown-(\d+m)", raw)
        if match is None:
            raise SeriesError(f"{raw!r} is not a series name like btc-updown-5m")
        asset, interval = match.groups()
        if asset not in ASSETS:
            raise SeriesError(f"{raw!r}: the asset must be one of {', '.join(ASSETS)}")
        if interval not in INTERVALS:
            raise SeriesError(f"{raw!r}: the interval must be one of {', '.join(INTERVALS)}")
        if Series(asset, interval) not in found:
            found.append(Series(asset, interval))
    return tuple(found)


def window_of(slug: str | None) -> Window | None:
    """The series window a market's slug names, or None for any other market."""
    match = SLUG.match(slug or "")
    if match is None or match["asset"] not in ASSETS or match["interval"] not in INTERVALS:
        return None
    series = Series(match["asset"], match["interval"])
    start = int(match["start"])
    return Window(series, start) if start % series.seconds == 0 else None


def is_crypto(market: MarketInfo) -> bool:
    """A market of the venue's crypto category (its tags name it, or it is a window of a series): its
    takers wait out the venue's crypto taker delay (`VenuePolicy.crypto_taker_delay_ms`)."""
    return any(tag.strip().lower() == "crypto" for tag in market.tags) or window_of(market.slug) is not None


def okx_instrument(asset: str) -> str:
    return f"{asset.upper()}-USDT"


def binance_symbol(asset: str) -> str:
    return f"{asset}usdt"


def chainlink_symbol(asset: str) -> str:
    """The symbol of an asset's Chainlink price on Polymarket's real-time data socket ("btc/usd")."""
    return f"{asset}/usd"


def up_probability(spot: float, opening: float, tau_s: float, sigma: float) -> int:
    """P(the price at tau_s from now >= opening) in micro-units (see the module's docstring); 0 < spot, opening."""
    if tau_s <= 0 or sigma <= 0:
        return ONE if spot >= opening else 0
    z = math.log(spot / opening) / (sigma * math.sqrt(tau_s))
    return round(ONE * 0.5 * math.erfc(-z / math.sqrt(2)))


def average_probability(spot: float, beat: float, tau_s: float, sigma: float, so_far: float | None = None,
                        window_s: float = TWAP_S) -> int | None:
    """P(Up) in micro-units when the final price is the average over the last `window_s` seconds (see the
    module's docstring): `so_far` the time-weighted average of the prices in force over the part of them
    already past. None inside them without it: what settles the window is partly known, and not here."""
    if tau_s >= window_s:
        return up_probability(spot, beat, tau_s - 2 * window_s / 3, sigma)
    if so_far is None:
        return None
    if tau_s <= 0:
        return ONE if so_far >= beat else 0
    rest = (window_s * beat - (window_s - tau_s) * so_far) / tau_s  # what the seconds to come must average
    return ONE if rest <= 0 else up_probability(spot, rest, tau_s / 3, sigma)
