"""Streaming window indicators, pure: O(1) amortised work per update (each sample enters and
leaves its window once) and memory bounded by MAX_SAMPLES whatever the feed's rate. The caller
passes the time; a sample older than the last is taken at the last's time.

- TimeWeighted: each mid holds until the next, so the average over the window is the integral of
  that step function over the window's length (from the first sample, while younger).
- Velocity: the mid now less the mid the window's length ago (the last sample at or before then),
  per minute.
- VolumeSurge: shares in the short window over the long window's shares per short window.

Floats are fine here: indicators are signals, never money.
"""

from __future__ import annotations

from collections import deque

MAX_SAMPLES = 20_000


class TimeWeighted:
    """Segments closed as (since, until, value), their integral kept as they come and go; the open
    segment is the last value, held until now."""

    def __init__(self, window_ms: int) -> None:
        self.window_ms = window_ms
        self.closed: deque[tuple[int, int, float]] = deque()
        self.integral = 0.0  # sum of value x duration over `closed`
        self.open: tuple[int, float] | None = None  # (since, value)
        self.now = 0

    def update(self, value: float, now: int) -> None:
        now = max(now, self.now)
        self.now = now
        if self.open is None:
            self.open = (now, value)
        elif self.open[1] != value:
            since, held = self.open
            if now > since:
                self.closed.append((since, now, held))
                self.integral += held * (now - since)
                if len(self.closed) > MAX_SAMPLES:
                    self._drop()
            self.open = (now, value)
        while self.closed and self.closed[0][1] <= now - self.window_ms:
            self._drop()

    def _drop(self) -> None:
        since, until, held = self.closed.popleft()
        self.integral -= held * (until - since)

    @property
    def value(self) -> float | None:
        if self.open is None:
            return None
        start = self.now - self.window_ms
        first = self.closed[0][0] if self.closed else self.open[0]
        begin = max(first, start)
        if self.now <= begin:
            return self.open[1]
        total = self.integral + self.open[1] * (self.now - max(self.open[0], start))
        if self.closed and self.closed[0][0] < start:  # the oldest segment began before the window
            since, _, held = self.closed[0]
            total -= held * (start - since)
        return total / (self.now - begin)


class Velocity:
    def __init__(self, window_ms: int) -> None:
        self.window_ms = window_ms
        self.points: deque[tuple[int, float]] = deque(maxlen=MAX_SAMPLES)
        self.now = 0

    def update(self, value: float, now: int) -> None:
        now = max(now, self.now)
        self.points.append((now, value))
        self.now = now
        start = now - self.window_ms
        while len(self.points) > 1 and self.points[1][0] <= start:
            self.points.popleft()  # keep the last sample at or before the window's start

    @property
    def value(self) -> float | None:
        if len(self.points) < 2 or self.points[0][0] > self.now - self.window_ms:
            return None  # not watched for a whole window yet
        return (self.points[-1][1] - self.points[0][1]) * 60_000 / self.window_ms


class VolumeSurge:
    def __init__(self, short_ms: int, long_ms: int) -> None:
        self.short_ms, self.long_ms = short_ms, long_ms
        self.trades: deque[tuple[int, float]] = deque(maxlen=MAX_SAMPLES)
        self.short_sum = self.long_sum = 0.0
        self.short_from = 0  # index into `trades` of the first in the short window
        self.first_ms: int | None = None
        self.now = 0

    def update(self, shares: float, now: int) -> None:
        now = max(now, self.now)
        self.first_ms = now if self.first_ms is None else self.first_ms
        if shares > 0:
            if len(self.trades) == self.trades.maxlen:
                self._drop_oldest()
            self.trades.append((now, shares))
            self.short_sum += shares
            self.long_sum += shares
        self.now = now
        while self.trades and self.trades[0][0] <= now - self.long_ms:
            self._drop_oldest()
        while self.short_from < len(self.trades) and self.trades[self.short_from][0] <= now - self.short_ms:
            self.short_sum -= self.trades[self.short_from][1]
            self.short_from += 1

    def _drop_oldest(self) -> None:
        _, shares = self.trades.popleft()
        self.long_sum -= shares
        if self.short_from > 0:
            self.short_from -= 1
        else:
            self.short_sum -= shares

    @property
    def value(self) -> float | None:
        if self.first_ms is None or self.now - self.first_ms < self.long_ms:
            return None  # not watched for a whole long window yet
        usual = self.long_sum * self.short_ms / self.long_ms
        return self.short_sum / usual if usual > 0 else None
