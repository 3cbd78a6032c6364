"""Candles: a token's book and prints rolled into 1-minute, 5-minute, 1-hour and 1-day buckets (UTC),
kept for good after the raw ticks' retention ends (the `candles` table, migration 0092).

Each candle holds the mid's open, high, low and close (micro; none when the bucket saw no two-sided
book), when its first and last mid were seen, the spread's sum and count (the mean spread is their
quotient), and the prints' volume (micro-shares) and count. Candles *merge*: two partial candles of
one bucket make the candle of everything both saw, whatever order they come in (the open is the
earlier first mid's, the close the later last mid's, the rest are sums and extremes), so the recorder
writes what each second added and the table merges it into what it holds, a restart mid-bucket loses
nothing the recorder wrote, and a wider candle is the merge of the narrower ones inside it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

MINUTE_MS = 60_000
WIDTHS_MS = (MINUTE_MS, 5 * MINUTE_MS, 60 * MINUTE_MS, 24 * 60 * MINUTE_MS)
WIDTH_NAMES = {MINUTE_MS: "1 min", 5 * MINUTE_MS: "5 min", 60 * MINUTE_MS: "1 h", 24 * 60 * MINUTE_MS: "1 day"}


@dataclass(slots=True)
class Candle:
    token_id: str
    width_ms: int
    start_at: int
    mid_open: int | None = None
    mid_high: int | None = None
    mid_low: int | None = None
    mid_close: int | None = None
    first_at: int | None = None  # when its first mid was seen (None: no mid)
    last_at: int | None = None
    spread_sum: int = 0
    spreads: int = 0
    volume: int = 0
    trades: int = 0

    def add_mid(self, at: int, mid: int, spread: int | None) -> None:
        """A two-sided book seen at `at` (within the bucket): its mid and spread."""
        if self.first_at is None or at < self.first_at:
            self.first_at, self.mid_open = at, mid
        if self.last_at is None or at >= self.last_at:
            self.last_at, self.mid_close = at, mid
        self.mid_high = mid if self.mid_high is None else max(self.mid_high, mid)
        self.mid_low = mid if self.mid_low is None else min(self.mid_low, mid)
        if spread is not None:
            self.spread_sum += spread
            self.spreads += 1

    def add_trade(self, size: int) -> None:
        self.volume += size
        self.trades += 1

    @property
    def mean_spread(self) -> int | None:
        return self.spread_sum // self.spreads if self.spreads else None


def bucket(at: int, width_ms: int) -> int:
    """The start of the UTC bucket of `width_ms` holding `at` (epoch ms)."""
    return at - at % width_ms


def merged(a: Candle, b: Candle) -> Candle:
    """The candle of everything `a` and `b` (of one token, width and bucket) saw, in either order."""
    out = Candle(a.token_id, a.width_ms, a.start_at, spread_sum=a.spread_sum + b.spread_sum,
                 spreads=a.spreads + b.spreads, volume=a.volume + b.volume, trades=a.trades + b.trades)
    for part in (a, b):
        if part.first_at is None or part.last_at is None or part.mid_high is None or part.mid_low is None:
            continue  # saw no mid
        if out.first_at is None or part.first_at < out.first_at:
            out.first_at, out.mid_open = part.first_at, part.mid_open
        if out.last_at is None or part.last_at >= out.last_at:
            out.last_at, out.mid_close = part.last_at, part.mid_close
        out.mid_high = part.mid_high if out.mid_high is None else max(out.mid_high, part.mid_high)
        out.mid_low = part.mid_low if out.mid_low is None else min(out.mid_low, part.mid_low)
    return out


def rolled_up(minutes: Iterable[Candle]) -> list[Candle]:
    """Every width's candles from 1-minute ones: each minute, and its merge into the 5-minute, hour
    and day buckets it falls in; by token, width and start."""
    out: dict[tuple[str, int, int], Candle] = {}
    for minute in minutes:
        for width in WIDTHS_MS:
            start = bucket(minute.start_at, width)
            key = (minute.token_id, width, start)
            part = Candle(minute.token_id, width, start, minute.mid_open, minute.mid_high, minute.mid_low,
                          minute.mid_close, minute.first_at, minute.last_at, minute.spread_sum, minute.spreads,
                          minute.volume, minute.trades)
            out[key] = merged(out[key], part) if key in out else part
    return [out[key] for key in sorted(out)]


class CandleRoll:
    """The 1-minute candles seen since they were last taken, by (token, minute): the recorder adds
    each book it records and each print; `take` hands them over (to be rolled up and written) and
    starts afresh. No I/O: it runs on the feed's hot path."""

    def __init__(self) -> None:
        self.minutes: dict[tuple[str, int], Candle] = {}

    def _minute(self, token_id: str, at: int) -> Candle:
        start = at - at % MINUTE_MS
        candle = self.minutes.get((token_id, start))
        if candle is None:
            candle = self.minutes[(token_id, start)] = Candle(token_id, MINUTE_MS, start)
        return candle

    def book(self, token_id: str, at: int, mid: int | None, spread: int | None) -> None:
        if mid is not None:
            self._minute(token_id, at).add_mid(at, mid, spread)

    def trade(self, token_id: str, at: int, size: int) -> None:
        self._minute(token_id, at).add_trade(size)

    def take(self) -> list[Candle]:
        taken, self.minutes = self.minutes, {}
        return list(taken.values())

    def give_back(self, minutes: Iterable[Candle]) -> None:
        """Minutes taken but not written (a failed write): merged back in with what came since."""
        for minute in minutes:
            key = (minute.token_id, minute.start_at)
            self.minutes[key] = merged(self.minutes[key], minute) if key in self.minutes else minute
