"""The Kalshi side's state: its keys, its exchange, its markets and its rate limits."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import UTC, datetime

from .exchange import Exchange, Market
from .keys import KeyRing
from .ws import KalshiHub

# Kalshi's Basic tier (what a new account gets): reads and writes per second, each its own bucket.
READS_PER_S, WRITES_PER_S = 20, 10
# How far a request's timestamp may be from the exchange's clock. Kalshi documents 30 s for its
# FIX sessions and nothing looser for REST: the stricter figure, whatever Polymarket's side allows.
MAX_SKEW_S = 30.0
SERIES = "KXSIM"


class Bucket:
    """A token bucket holding one second's worth (Kalshi's limits are per second)."""

    def __init__(self, per_s: int, now: float) -> None:
        self.per_s = per_s
        self.tokens = float(per_s)
        self.at = now

    def take(self, now: float) -> float:
        """0 when a request may go now (it is counted), else the seconds until one may."""
        self.tokens = min(self.per_s, self.tokens + max(0.0, now - self.at) * self.per_s)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.per_s


class KalshiSide:
    def __init__(self, seed: int, markets: int, starting_balance_cents: int, max_skew_s: float,
                 rate_limits: bool, end_after_s: float) -> None:
        self.keys = KeyRing(seed, min(max_skew_s, MAX_SKEW_S))
        self.exchange = Exchange(seed, starting_balance_cents)
        self.hub = KalshiHub(self.exchange, self.keys)  # the WebSocket's order book channel
        self.rate_limits = rate_limits
        self.clock: Callable[[], float] = time.monotonic  # the buckets' clock (a test may stop it)
        self.buckets: dict[tuple[str, str], Bucket] = {}
        self.events: dict[str, str] = {}  # event ticker -> title
        self._list(markets, random.Random(f"kalshi-markets:{seed}"), end_after_s)

    def _list(self, count: int, rng: random.Random, end_after_s: float) -> None:
        if count <= 0:
            return
        now_ms = int(time.time() * 1000)
        close_ms = now_ms + int(end_after_s * 1000)
        event = f"{SERIES}-{datetime.fromtimestamp(close_ms / 1000, UTC).strftime('%y%b%d').upper()}"
        self.events[event] = "Which simulated outcome happens?"
        for n in range(1, count + 1):
            ticker = f"{event}-T{n}"
            self.exchange.add_market(Market(
                ticker, event, f"Will simulated outcome {n} happen?", f"Outcome {n}",
                f"If simulated outcome {n} happens by the close, the market resolves to Yes.",
                "Settled by the simulator's admin API (POST /_sim/kalshi/markets/{ticker}/settle).",
                now_ms, close_ms, maker_fees=n % 2 == 0))
            self.exchange.seed_ladder(ticker, rng.randrange(20, 81), now_ms)

    def limited(self, who: str, write: bool) -> float:
        """0 when the request may go, else seconds to wait (the caller answers 429)."""
        if not self.rate_limits:
            return 0.0
        key = (who, "write" if write else "read")
        bucket = self.buckets.setdefault(key, Bucket(WRITES_PER_S if write else READS_PER_S, self.clock()))
        return bucket.take(self.clock())
