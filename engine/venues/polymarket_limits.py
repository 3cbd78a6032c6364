"""Per-signer trading rate limits, paced on our side: an order bucket and a cancel bucket per
signer address, as the venue enforces them (beside the per-endpoint windows in
engine/feeds/pacing.py; both apply).

Costs: a placement 1 order token, a batch one per order; a cancel one cancel token per id; a
cancel-all 1 up front plus one per order it cancelled (known only from its answer, so debited
afterwards: the bucket may go into debt, as the venue's does). A request waits here until its
whole cost is in the bucket, so the venue never has to refuse it; a cost above the burst is
split by the caller (cancels are chunked to the burst).

The tier (by the maker wallet's 30-day volume, Standard to Elite; the venue refreshes it every
three hours) is read from the venue when the adapter connects (`GET /v1/user/rate-limit-tier`,
`tier_from`) and again from every answer's `Poly-RateLimit-Tier`; until one is read the buckets are
Standard's, the tightest. The venue reports the bucket on every answer it evaluated:
`Poly-RateLimit-Remaining` (our estimate is lowered to it: the venue's count is the one that
matters) and `Poly-RateLimit-Warning` (a request that would be refused under enforcement: said once
in the log, shown as a venue condition and alerted, engine/trading/ledgers/venue_conditions.py). A
429's Retry-After holds the bucket that long.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from engine.feeds.pacing import Aborted, sleep_unless_aborted

log = logging.getLogger("engine.venues.polymarket")
ORDER, CANCEL = "order", "cancel"
# Endpoint families (engine/feeds/pacing.py) that draw on a signer bucket.
FAMILY_BUCKET = {"place": ORDER, "batch": ORDER, "cancel": CANCEL, "priority": CANCEL}
# A little under the venue's figures: we count a request when we send it, the venue when it arrives,
# and arrivals are not evenly delayed (a slow first request starts the venue's refill late).
RATE_MARGIN = 0.9
CAPACITY_MARGIN = 0.9


@dataclass(frozen=True)
class Tier:
    name: str
    order_rate: float  # tokens per second
    order_burst: int
    cancel_rate: float
    cancel_burst: int


# The venue's tiers (by the maker wallet's 30-day volume); a test keeps them equal to the simulator's.
TIERS: dict[str, Tier] = {t.name: t for t in (
    Tier("standard", 40, 60, 80, 120),
    Tier("copper", 60, 90, 120, 180),
    Tier("bronze", 80, 120, 160, 240),
    Tier("silver", 200, 300, 400, 600),
    Tier("gold", 400, 600, 800, 1200),
    Tier("platinum", 450, 675, 900, 1350),
    Tier("diamond", 525, 787, 1050, 1575),
    Tier("elite", 600, 900, 1200, 1800),
)}
STANDARD = TIERS["standard"]
TIER_PATH = "/v1/user/rate-limit-tier"
TIER_KEYS = ("tier", "rate_limit_tier", "rateLimitTier", "name")


def tier_from(answer: object) -> Tier | None:
    """The tier `GET /v1/user/rate-limit-tier` names (its `tier`, or a bare name; the venue's
    reference shows no example answer, so its likely spellings are read), None for anything
    else: a tier the desk does not know never widens a bucket."""
    raw = answer
    if isinstance(answer, dict):
        raw = next((answer[key] for key in TIER_KEYS if isinstance(answer.get(key), str)), None)
    return TIERS.get(raw.strip().lower()) if isinstance(raw, str) else None


class SignerBucket:
    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic):
        self.rate, self.burst, self.clock = rate * RATE_MARGIN, _capacity(burst), clock
        self.level = float(self.burst)
        self.stamp = clock()
        self.held_until = 0.0

    def _refill(self, now: float) -> None:
        self.level = min(self.burst, self.level + (now - self.stamp) * self.rate)
        self.stamp = now

    def wait_s(self, cost: int) -> float:
        """Seconds until `cost` tokens are there and no Retry-After holds the bucket (0: now)."""
        now = self.clock()
        self._refill(now)
        return max(self.held_until - now, (cost - self.level) / self.rate, 0.0)

    async def acquire(self, cost: int, abort: asyncio.Event | None = None) -> None:
        """Wait for `cost` tokens and take them; raise Aborted as soon as `abort` is set."""
        if cost > self.burst:
            raise ValueError(f"a request costing {cost} tokens can never fit a bucket of {self.burst}")
        await self.ready(cost, abort)
        self.level -= cost

    async def ready(self, cost: int = 1, abort: asyncio.Event | None = None) -> None:
        """Wait until `cost` tokens are there, taking none (a cancel-all's cost is known after)."""
        while True:
            if abort is not None and abort.is_set():
                raise Aborted()
            wait = self.wait_s(cost)
            if wait <= 0:
                return
            await sleep_unless_aborted(wait, abort)

    def debit(self, count: int) -> None:
        self._refill(self.clock())
        self.level -= count

    def observe(self, remaining: float) -> None:
        self._refill(self.clock())
        self.level = min(self.level, remaining)

    def hold(self, seconds: float) -> None:
        self.held_until = max(self.held_until, self.clock() + seconds)

    def resize(self, rate: float, burst: int) -> None:
        self._refill(self.clock())
        self.rate, self.burst = rate * RATE_MARGIN, _capacity(burst)
        self.level = min(self.level, self.burst)


class SignerLimits:
    def __init__(self, tier: Tier = STANDARD, clock: Callable[[], float] = time.monotonic,
                 wall: Callable[[], float] = time.time):
        self.tier = tier
        self.wall = wall
        self.buckets = {ORDER: SignerBucket(tier.order_rate, tier.order_burst, clock),
                        CANCEL: SignerBucket(tier.cancel_rate, tier.cancel_burst, clock)}
        self.warning_since_ms: int | None = None  # the venue said a request would be refused when enforced
        self.tier_read_ms: int | None = None  # when the venue last named the tier (None: assumed Standard)

    def bucket_for(self, family: str) -> SignerBucket | None:
        kind = FAMILY_BUCKET.get(family)
        return None if kind is None else self.buckets[kind]

    @property
    def cancel_chunk(self) -> int:
        """The most ids one cancel request may carry: it must fit the cancel bucket whole (with
        our margin)."""
        return self.buckets[CANCEL].burst

    def observe(self, family: str, headers: Mapping[str, str] | None) -> None:
        """What the venue said of the bucket this request drew on."""
        bucket = self.bucket_for(family)
        if bucket is None or not headers:
            return
        tier = TIERS.get((headers.get("Poly-RateLimit-Tier") or "").strip().lower())
        if tier is not None:
            self.set_tier(tier)
        remaining = _number(headers.get("Poly-RateLimit-Remaining"))
        if remaining is not None:
            bucket.observe(remaining)
        if (headers.get("Poly-RateLimit-Warning") or "").strip().lower() == "true":
            if self.warning_since_ms is None:
                log.warning("the venue warns that requests at this pace will be refused once its per-signer "
                            "limits are enforced", extra={"family": family})
                self.warning_since_ms = int(self.wall() * 1000)
        elif remaining is not None:
            self.warning_since_ms = None

    def set_tier(self, tier: Tier) -> None:
        """The venue named the signer's tier: the buckets take its rate and burst."""
        self.tier_read_ms = int(self.wall() * 1000)
        if tier == self.tier:
            return
        log.info("venue rate-limit tier", extra={"tier": tier.name})
        self.tier = tier
        self.buckets[ORDER].resize(tier.order_rate, tier.order_burst)
        self.buckets[CANCEL].resize(tier.cancel_rate, tier.cancel_burst)

    def shown(self) -> dict[str, object]:
        """The tier as `engine status` and the dashboard show it (the venue's figures, before our margin)."""
        tier = self.tier
        return {"tier": tier.name, "read_at": self.tier_read_ms, "order_rate": tier.order_rate,
                "order_burst": tier.order_burst, "cancel_rate": tier.cancel_rate, "cancel_burst": tier.cancel_burst}

    def refused(self, family: str, retry_after_s: float | None) -> None:
        """A 429: nothing more from this bucket until the venue's Retry-After (1 s if it gave none)."""
        bucket = self.bucket_for(family)
        if bucket is not None:
            bucket.hold(1.0 if retry_after_s is None else retry_after_s)


def _capacity(burst: int) -> int:
    return max(1, int(burst * CAPACITY_MARGIN))


def _number(raw: str | None) -> float | None:
    try:
        value = float(raw) if raw is not None else None
    except ValueError:
        return None
    return value if value is not None and math.isfinite(value) else None
