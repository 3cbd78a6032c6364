"""Measured correlation of mids, pure: which markets move together, and when everything does.

Each market's mid is sampled at the end of every bucket (`bucket_ms`, from the books the engine
keeps); a bucket's return is the change from the previous bucket's end. Two markets' correlation
is Pearson's over the buckets of the window in which both have a return, once there are at least
MIN_BUCKETS of them and both moved; otherwise it is unknown, and unknown is not correlated.

- **Correlated groups**: markets whose correlation reaches `threshold` in either direction (YES
  of one falling as YES of the other rises is the same bet held both ways round) are joined
  (transitively), and the risk gate caps each group's exposure together (`max_correlated_exposure`, Budget in
  gate.py), as it caps a neg-risk event's; a market in no group is its own.
- **Correlation spike**: the mean absolute correlation over every known pair of the watched markets
  (at least MIN_MARKETS of them) reaching `spike` means the book is moving as one (a macro shock,
  a venue-wide event): the desk goes REDUCING (correlation_guard.py) until it is back below
  `spike - SPIKE_HYSTERESIS`.

The groups and the mean are computed when a bucket closes (not every pass): O(k² × buckets) for k
watched markets, once a bucket.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from contracts.limits import Limits

MIN_BUCKETS = 20  # common returns before a correlation is believed
MIN_MARKETS = 3  # markets with known pairs before the desk-wide mean is judged
SPIKE_HYSTERESIS = 0.1


@dataclass(frozen=True)
class Settings:
    bucket_ms: int
    window_ms: int
    threshold: float  # 0: no groups
    spike: float  # 0: the breaker is off

    @classmethod
    def of(cls, limits: Limits) -> Settings:
        v = limits.values
        return cls(limits.ms("correlation_bucket"), limits.ms("correlation_window"),
                   float(v["correlation_threshold"]), float(v["correlation_spike"]))

    @property
    def buckets(self) -> int:
        return max(1, self.window_ms // max(1, self.bucket_ms))


class Returns:
    """One market's bucket returns, newest last, at most `size` of them."""

    def __init__(self, size: int) -> None:
        self.by_bucket: deque[tuple[int, int]] = deque(maxlen=size)  # (bucket index, return)
        self.bucket: int | None = None  # the bucket being sampled
        self.last_mid: int | None = None  # the latest mid in it
        self.closed_mid: int | None = None  # the mid the previous bucket closed at

    def observe(self, mid: int, bucket: int) -> bool:
        """Sample `mid` in `bucket`; True when this closed the previous bucket."""
        closed = False
        if self.bucket is not None and bucket > self.bucket and self.last_mid is not None:
            if self.closed_mid is not None:
                self.by_bucket.append((self.bucket, self.last_mid - self.closed_mid))
            self.closed_mid = self.last_mid
            closed = True
        self.bucket, self.last_mid = bucket, mid
        return closed


def pearson(a: Mapping[int, int], b: Mapping[int, int]) -> float | None:
    common = a.keys() & b.keys()
    if len(common) < MIN_BUCKETS:
        return None
    xs, ys = [a[k] for k in common], [b[k] for k in common]
    n = len(common)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    if sxx <= 0 or syy <= 0:
        return None
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / math.sqrt(sxx * syy)


@dataclass(frozen=True)
class Picture:
    groups: Mapping[str, str]  # market -> its group's key (one of its ids), for grouped markets only
    mean_abs: float | None  # mean |correlation| over known pairs; None below MIN_MARKETS
    pairs: int  # known pairs


class CorrelationWatch:
    def __init__(self) -> None:
        self.series: dict[str, Returns] = {}
        self.picture = Picture({}, None, 0)
        self._size = 0

    def next_bucket(self, now: int, s: Settings) -> int | None:
        """When the next bucket starts (a pass in it closes the one before, with no new mid); None
        while no market is sampled."""
        if not self.series:
            return None
        size = max(1, s.bucket_ms)
        return (now // size + 1) * size

    def observe(self, mids: Mapping[str, int | None], now: int, s: Settings) -> bool:
        """Sample each market's mid; True when a bucket closed and the picture was recomputed."""
        if s.buckets != self._size:
            self.series, self._size = {}, s.buckets
        bucket = now // max(1, s.bucket_ms)
        closed = False
        for cid, mid in mids.items():
            if mid is not None:
                closed |= self.series.setdefault(cid, Returns(s.buckets)).observe(mid, bucket)
        for cid in set(self.series) - set(mids):
            del self.series[cid]  # no longer watched
        if closed:
            self.picture = self.compute(mids.keys(), s)
        return closed

    def compute(self, markets: Iterable[str], s: Settings) -> Picture:
        returns = {cid: dict(self.series[cid].by_bucket) for cid in sorted(markets) if cid in self.series}
        ids = list(returns)
        parent = {cid: cid for cid in ids}
        total, known = 0.0, 0
        seen: set[str] = set()
        for i, a in enumerate(ids):
            for b in ids[i + 1:]:
                rho = pearson(returns[a], returns[b])
                if rho is None:
                    continue
                total, known = total + abs(rho), known + 1
                seen.update((a, b))
                if s.threshold > 0 and abs(rho) >= s.threshold:
                    parent[_root(parent, b)] = _root(parent, a)
        roots = {cid: _root(parent, cid) for cid in ids}
        sizes: dict[str, int] = {}
        for root in roots.values():
            sizes[root] = sizes.get(root, 0) + 1
        groups = {cid: root for cid, root in roots.items() if sizes[root] > 1}
        mean = total / known if known and len(seen) >= MIN_MARKETS else None
        return Picture(groups, mean, known)


def _root(parent: dict[str, str], cid: str) -> str:
    while parent[cid] != cid:
        parent[cid] = parent[parent[cid]]
        cid = parent[cid]
    return cid
