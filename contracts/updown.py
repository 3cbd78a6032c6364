"""The short crypto up/down series (pure): their names, their markets' slugs and windows, the spot
symbols that price them, and the probability of "Up" a spot price implies.

Polymarket lists a market per window of each series, with a slug computed from the window's start:
`btc-updown-5m-1764000000` is Bitcoin over the five minutes from 1764000000 (unix seconds, a
multiple of 300). Its outcomes are "Up" and "Down" (Up first: the desk's YES); Up wins when the
price at the window's end is at or above the price at its start. The slug can be computed ahead,
so the desk asks Gamma for the current and the next window's market by slug every few seconds
(engine/feeds/series.py) instead of paging the whole listing.

The fair probability of Up from a spot price S, the window's opening price S0, the time left tau
(seconds) and the spot's volatility sigma (per square-root second, measured from the feed):

    P(Up) = Phi(ln(S / S0) / (sigma * sqrt(tau)))

(a driftless log-normal walk; at tau = 0 it is 1 when S >= S0, else 0).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from contracts.domain import ONE

ASSETS = {"btc": "Bitcoin", "eth": "Ethereum", "sol": "Solana", "xrp": "XRP"}
INTERVALS = {"5m": 300, "15m": 900}
SLUG = re.compile(r"^(?P<asset>[a-z]+)-updown-(?P<interval>\d+m)-(?P<start>\d{9,11})$")
SPOT_PROTOCOLS = ("okx", "binance")


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


def okx_instrument(asset: str) -> str:
    return f"{asset.upper()}-USDT"


def binance_symbol(asset: str) -> str:
    return f"{asset}usdt"


def chainlink_symbol(asset: str) -> str:
    """The symbol of an asset's Chainlink price on Polymarket's real-time data socket ("btc/usd")."""
    return f"{asset}/usd"


def up_probability(spot: float, opening: float, tau_s: float, sigma: float) -> int:
    """P(Up) in micro-units (see the module's docstring); 0 < spot, opening."""
    if tau_s <= 0 or sigma <= 0:
        return ONE if spot >= opening else 0
    z = math.log(spot / opening) / (sigma * math.sqrt(tau_s))
    return round(ONE * 0.5 * math.erfc(-z / math.sqrt(2)))
