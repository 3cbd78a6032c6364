"""How sure a run's figures are: a percentile bootstrap over its independent units, with a two-sided
p-value against zero. Pure and deterministic: the same units and seed give the same interval.

The unit is the round trip: a market's fills from a flat position back to flat (or to the other side),
and what a market still holds at the run's end is one more, marked at the end (engine/backtest/confidence.py
builds them). Fills are not independent: a sweep taking several quotes at once, a ladder filled level after
level, an accumulation's slices all ride the same price moves, so resampling fills claims a certainty the
data does not have (14 identical fills read +23.10 [+23.10, +23.10], p = 0.002). A round trip's PnL is its
fills' shares of the run's PnL summed (each fill's markout against its token's mid at the run's end, less its
fee), and its markouts likewise; a resample draws as many round trips as the run had, with replacement, and
sums every figure over the same draw, so the PnL's and the markouts' intervals describe the same imagined runs.
Income the fills do not carry (liquidity rewards, rebates, marks that differ from the last mid) counts as it
was: `offset` shifts every resample by it.

- the interval: the `level` (default 95 %) central range of the `resamples` resampled totals, from the
  (1 - level) / 2 quantile to the (1 + level) / 2 one, each taken on the outer side of its rank;
- the p-value against zero: twice the smaller share of resampled totals at or beyond zero on either side,
  counted as (k + 1) / (resamples + 1), and never below what n independent units allow: 2^(1 - n), the chance
  that n units with no edge all land on one side of zero (a sign test): 0.0625 for 5 round trips;
- no interval, with the reason in words (`no_interval`), when the data cannot support one: every fill at one
  price (whatever the sizes, the result rests on one move from it), fewer than MIN_UNITS round trips, or
  round trips that all made exactly the same.

Round trips in one market follow one another and share its regime: runs repeated on other seeds or other
days are still the check (bench/mm_toxicity.py does that).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from operator import itemgetter

LEVEL = 0.95
RESAMPLES = 1_000
MIN_UNITS = 5  # independent units an interval is drawn from, at least
UNIT = "round trip"


@dataclass(frozen=True)
class Interval:
    """A total with its bootstrap interval and p-value against zero."""

    estimate: float  # the units' total, plus the offset
    low: float
    high: float
    p_value: float  # two-sided, against a total of zero (never below 2^(1 - samples))
    samples: int  # the independent units resampled
    level: float = LEVEL

    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0


def sum_intervals(columns: Sequence[Sequence[float]], *, offsets: Sequence[float] | None = None,
                  level: float = LEVEL, resamples: int = RESAMPLES, seed: int = 0) -> list[Interval | None]:
    """The interval of each column's total (one column a figure, one entry an independent unit), every
    column resampled on the same draws of units. All columns have the same length; None for each when it
    is under MIN_UNITS."""
    if not 0 < level < 1:
        raise ValueError(f"level must be strictly between 0 and 1, not {level}")
    if resamples < 1:
        raise ValueError(f"resamples must be at least 1, not {resamples}")
    lengths = {len(column) for column in columns}
    if len(lengths) > 1:
        raise ValueError(f"every column needs one entry a unit; lengths differ: {sorted(lengths)}")
    shifts = list(offsets) if offsets is not None else [0.0] * len(columns)
    if len(shifts) != len(columns):
        raise ValueError("one offset a column")
    n = lengths.pop() if lengths else 0
    if n < MIN_UNITS:
        return [None] * len(columns)
    values = [list(map(float, column)) for column in columns]
    totals: list[list[float]] = [[] for _ in columns]
    draw = random.Random(seed).choices
    indexes = range(n)
    for _ in range(resamples):
        picked = itemgetter(*draw(indexes, k=n))  # n >= MIN_UNITS: it gives a tuple
        for column, found in zip(values, totals, strict=True):
            found.append(sum(picked(column)))
    return [_interval(math.fsum(column) + shift, [t + shift for t in found], n, level)
            for column, found, shift in zip(values, totals, shifts, strict=True)]


def sum_interval(values: Sequence[float], *, offset: float = 0.0, level: float = LEVEL,
                 resamples: int = RESAMPLES, seed: int = 0) -> Interval | None:
    """The interval of one column's total (see sum_intervals)."""
    return sum_intervals([values], offsets=[offset], level=level, resamples=resamples, seed=seed)[0]


def _interval(estimate: float, totals: list[float], samples: int, level: float) -> Interval:
    totals.sort()
    tail = (1 - level) / 2
    last = len(totals) - 1
    low = totals[math.floor(tail * last)]
    high = totals[math.ceil((1 - tail) * last)]
    below = sum(1 for t in totals if t <= 0)
    above = sum(1 for t in totals if t >= 0)
    p_value = min(1.0, max(2 * (min(below, above) + 1) / (len(totals) + 1), p_floor(samples)))
    return Interval(estimate, low, high, p_value, samples, level)


def p_floor(units: int) -> float:
    """The smallest p-value `units` independent units allow: 2^(1 - units), the chance that that many units
    with no edge all land on one side of zero."""
    return min(1.0, 2.0 ** (1 - units))


def no_interval(units: Sequence[float], prices: int, price: int | None = None) -> str | None:
    """Why a run's units cannot support an interval, in words (None: they can). `units`: each independent
    unit's total; `prices`: how many distinct prices its fills traded at (`price`: the one, when one)."""
    if not units:
        return "no fills"
    if prices == 1:
        at = f" ({price / 1_000_000:.3f})" if price is not None else ""
        return (f"every fill at one price{at}: whatever the sizes, the result rests on one move from that price, "
                "not on independent trades")
    if len(units) < MIN_UNITS:
        return (f"{len(units)} independent {UNIT}{'s' if len(units) != 1 else ''} (a market's fills from flat back "
                f"to flat, or held to the end): an interval needs at least {MIN_UNITS}")
    if max(units) - min(units) <= 1e-9 * (1 + max(abs(u) for u in units)):
        return f"every {UNIT} made the same: there is no spread to measure"
    return None
