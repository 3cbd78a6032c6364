"""Kalshi's crypto windows (pure): which CF Benchmarks index a window settles on, and the probability
its YES pays from the index now.

A window (`KXBTC15M-...`: Bitcoin over a quarter hour) settles on CF Benchmarks' real-time index as
Kalshi relays it (its `cfbenchmarks_value` channel, engine/feeds/cfbenchmarks.py): YES pays when the
average of the index's 60 one-second values before the close (`last_60s_windowed_average_15min`, the
close's value included: Kalshi's CF Benchmarks Value Feed page) is at or above its price to beat,
`floor_strike` (strike type `greater_or_equal`; `less_or_equal` below `cap_strike` the other way).

The probability, with the index a driftless log-normal walk of volatility sigma (per square-root
second, measured from the feed) and tau seconds to the close, of an average A of the index over the
last W = 60 seconds:

- before that minute (tau >= W): ln A - ln S ~ N(0, sigma^2 (tau - 2W/3)) (the average of a walk over
  W seconds varies as W/3 of them, the rest of the way whole), so P(A >= K) = Phi(ln(S/K) / sd);
- within it, n of the 60 values known, averaging A_n: the remaining m = 60 - n must average at least
  R = (60 K - n A_n) / m, and their mean varies as tau/3: P = Phi(ln(S/R) / (sigma sqrt(tau/3)))
  (1 when R <= 0, when what is known already clears the strike whatever comes);
- at the close: 1 if the average is at or above K, else 0.
"""

from __future__ import annotations

import math

from contracts.domain import ONE

# Kalshi's crypto window series and the CF Benchmarks index each settles on (its page's coin table).
SERIES_INDEX = {"KXBTC15M": "BRTI", "KXETH15M": "ETHUSD_RTI", "KXSOL15M": "SOLUSD_RTI", "KXXRP15M": "XRPUSD_RTI",
                "KXDOGE15M": "DOGEUSD_RTI"}
WINDOW_S = 60  # the settlement averages this many seconds of the index before the close
TICKS = 60  # one value a second
UP_STRIKES = ("greater", "greater_or_equal")
DOWN_STRIKES = ("less", "less_or_equal")


def index_of(ticker: str) -> str | None:
    """The index a Kalshi market settles on, by its series (the ticker's first part); None: not a window."""
    return SERIES_INDEX.get(ticker.split("-", 1)[0].upper())


def window_probability(spot: float, strike: float, tau_s: float, sigma: float,
                       known: tuple[float, int] | None = None) -> float:
    """P(the settlement average >= strike): `spot` the index now, `tau_s` seconds to the close, `known`
    (the average, the count) of the final minute's values so far, when it has begun."""
    if spot <= 0 or strike <= 0:
        raise ValueError("the index and the strike are positive")
    average, count = known if known is not None and known[1] > 0 else (0.0, 0)
    if tau_s <= 0 or count >= TICKS:
        settled = average if count else spot
        return 1.0 if settled >= strike else 0.0
    if count:
        need = (TICKS * strike - count * average) / (TICKS - count)
        if need <= 0:
            return 1.0
        variance = sigma * sigma * tau_s / 3
        target = need
    else:
        variance = sigma * sigma * max(tau_s - 2 * WINDOW_S / 3, tau_s / 3)
        target = strike
    if variance <= 0:
        return 1.0 if spot >= target else 0.0
    return 0.5 * math.erfc(-math.log(spot / target) / math.sqrt(2 * variance))


def yes_probability(strike_type: str | None, floor: float | None, cap: float | None, spot: float, tau_s: float,
                    sigma: float, known: tuple[float, int] | None = None) -> int | None:
    """P(YES) in micro-units of a window of `strike_type` (None: a strike the desk does not price, or not
    set yet: a window not yet open has no price to beat)."""
    if strike_type in UP_STRIKES and floor is not None:
        return round(ONE * window_probability(spot, floor, tau_s, sigma, known))
    if strike_type in DOWN_STRIKES and cap is not None:
        return ONE - round(ONE * window_probability(spot, cap, tau_s, sigma, known))
    return None
