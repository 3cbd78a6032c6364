"""How sure a run's figures are: a percentile bootstrap over its fills, with a two-sided p-value
against zero. Pure and deterministic: the same samples and seed give the same interval.

Why over fills, not over days: the desk's backtests replay hours to a few days of recording (a
bootstrap over days would have one to a handful of draws, none on an hour's run), while a maker
earns or loses fill by fill. Each fill carries its share of the run's PnL (its markout against the
token's mid at the run's end, less its fee: the shares summed are the trading PnL) and its markout
at each horizon. A resample draws as many fills as the run had, with replacement, and sums every
figure over the same draw, so the PnL's and the markouts' intervals describe the same imagined runs.

What it assumes: fills are exchangeable draws of one strategy on one market regime. Fills that
come in bursts (a sweep taking several quotes at once) or share a price move are not independent,
so on such runs the interval is narrower than the truth: runs repeated on other seeds or other
days are the check (bench/mm_toxicity.py does that). Income the fills do not carry (liquidity
rewards, rebates, a difference between the equity's marks and the mids) counts as it was: `offset`
shifts every resample by it.

- the interval: the `level` (default 95 %) central range of the `resamples` resampled totals,
  from the (1 - level) / 2 quantile to the (1 + level) / 2 one, each taken on the outer side of
  its rank (never narrower than the nearest ranks say);
- the p-value against zero: twice the smaller share of resampled totals at or beyond zero on
  either side, counted as (k + 1) / (resamples + 1) so that it is never 0, and at most 1 (below
  1 - level exactly when the interval leaves zero out, up to the rank rounding);
- fewer than MIN_SAMPLES fills: no interval (None), never one drawn from two or three fills.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from operator import itemgetter

LEVEL = 0.95
RESAMPLES = 1_000
MIN_SAMPLES = 5


@dataclass(frozen=True)
class Interval:
    """A total with its bootstrap interval and p-value against zero."""

    estimate: float  # the samples' total, plus the offset
    low: float
    high: float
    p_value: float  # two-sided, against a total of zero
    samples: int
    level: float = LEVEL

    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0


def sum_intervals(columns: Sequence[Sequence[float]], *, offsets: Sequence[float] | None = None,
                  level: float = LEVEL, resamples: int = RESAMPLES, seed: int = 0) -> list[Interval | None]:
    """The interval of each column's total (one column a figure, one entry a fill), every column
    resampled on the same draws of fills. All columns have the same length; None for each when
    it is under MIN_SAMPLES."""
    if not 0 < level < 1:
        raise ValueError(f"level must be strictly between 0 and 1, not {level}")
    if resamples < 1:
        raise ValueError(f"resamples must be at least 1, not {resamples}")
    lengths = {len(column) for column in columns}
    if len(lengths) > 1:
        raise ValueError(f"every column needs one entry a fill; lengths differ: {sorted(lengths)}")
    shifts = list(offsets) if offsets is not None else [0.0] * len(columns)
    if len(shifts) != len(columns):
        raise ValueError("one offset a column")
    n = lengths.pop() if lengths else 0
    if n < MIN_SAMPLES:
        return [None] * len(columns)
    values = [list(map(float, column)) for column in columns]
    totals: list[list[float]] = [[] for _ in columns]
    draw = random.Random(seed).choices
    indexes = range(n)
    for _ in range(resamples):
        picked = itemgetter(*draw(indexes, k=n))  # n >= MIN_SAMPLES: it gives a tuple
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
    p_value = min(1.0, 2 * (min(below, above) + 1) / (len(totals) + 1))
    return Interval(estimate, low, high, p_value, samples, level)
