"""Pacing for venue I/O: a token bucket per endpoint family (the desk's one rate limiter,
engine/ratelimit.py), retry delays, reconnect backoff.

Polymarket publishes its limits as "N requests per W seconds" windows (protocol notes
v1 §7). A bucket with capacity C refilling at r/s admits at most C + r*W requests in any
W seconds, so `bucket_for` picks C = margin*N/2 and the largest r that keeps C + r*W
under margin*N for every window of the family. Randomness (jitter) is injectable so
tests are deterministic.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from engine.ratelimit import TokenBucket

Jitter = Callable[[], float]  # returns a number in [0, 1)

# Published limits (requests, window seconds) per endpoint family the desk uses.
PUBLISHED_LIMITS: Mapping[str, Sequence[tuple[int, float]]] = {
    "place": ((3500, 10), (36000, 600)),  # POST /order: burst and sustained
    "batch": ((1000, 10),),  # POST /orders
    "cancel": ((3000, 10),),  # DELETE /order, /orders, /cancel-market-orders
    "data": ((500, 10),),  # GET /data/orders, /data/order, /data/trades
    "market": ((500, 10),),  # POST /books (the tightest market-data endpoint used)
    "balance": ((200, 10),),  # GET /balance-allowance
    "auth": ((100, 10),),  # API key endpoints
    "heartbeat": ((50, 10),),  # POST /v1/heartbeats (not published; one every few seconds is all we send)
    "gamma": ((300, 10),),  # Gamma /markets (not published; kept polite)
    "data_api": ((50, 10),),  # the Data API's public /trades (kept polite: a history read is many pages)
}
SAFETY_MARGIN = 0.8


def bucket_for(windows: Sequence[tuple[int, float]], margin: float = SAFETY_MARGIN,
               clock: Callable[[], float] = time.monotonic) -> TokenBucket:
    capacity = max(1.0, margin * min(n for n, _ in windows) / 2)
    rate = min((margin * n - capacity) / w for n, w in windows)
    return TokenBucket(rate, capacity, clock)


class RateLimits:
    """One token bucket per endpoint family."""

    def __init__(self, limits: Mapping[str, Sequence[tuple[int, float]]] = PUBLISHED_LIMITS,
                 margin: float = SAFETY_MARGIN, clock: Callable[[], float] = time.monotonic):
        self.buckets = {family: bucket_for(windows, margin, clock) for family, windows in limits.items()}

    async def acquire(self, family: str, abort: asyncio.Event | None = None) -> None:
        await self.buckets[family].acquire(1, abort)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential delays with jitter for retryable failures (425/429/5xx/timeouts)."""

    attempts: int = 4  # total tries, the first included
    base_s: float = 0.25
    cap_s: float = 4.0

    def delay(self, attempt: int, jitter: Jitter = random.random) -> float:
        """Delay before try `attempt + 1` (attempt counts from 0): half fixed, half random."""
        ceiling = min(self.cap_s, self.base_s * 2**attempt)
        return ceiling * (0.5 + 0.5 * jitter())


class Backoff:
    """Reconnect delays: grow on each failure, never below `floor_s` (so a server that
    accepts and closes at once cannot spin us), and reset only after a connection that
    stayed up for `healthy_after_s`."""

    def __init__(self, initial_s: float = 0.5, max_s: float = 30.0, floor_s: float = 0.25,
                 healthy_after_s: float = 10.0, jitter: Jitter = random.random):
        self.initial_s = initial_s
        self.max_s = max_s
        self.floor_s = floor_s
        self.healthy_after_s = healthy_after_s
        self.jitter = jitter
        self._next = initial_s

    def after_connection(self, lasted_s: float) -> float:
        """The delay before the next attempt, given how long the last connection lived
        (0 when it never opened)."""
        if lasted_s >= self.healthy_after_s:
            self._next = self.initial_s
        delay = self._next * (0.5 + 0.5 * self.jitter())
        self._next = min(self.max_s, self._next * 2)
        return max(self.floor_s, delay)
