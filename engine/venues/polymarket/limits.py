"""Per-signer trading rate limits, paced on our side: an order bucket and a cancel bucket per
signer address, as the venue enforces them (beside the per-endpoint windows in
engine/feeds/pacing.py; both apply), each a bucket of the desk's one rate limiter (engine/ratelimit.py).

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
429's Retry-After holds the bucket that long, at most SIGNER_HOLD_S (a cancel, an exit's sell, must
not wait out a long hold: past it the venue's own answer decides again).

What a header can mean is bounded (issue 86 item 3: one answer of `Poly-RateLimit-Remaining:
-1000000000` once emptied the order bucket for ~320 days): the venue's bucket holds at most its tier's
burst, and owes at most one burst more (a debt comes from a cancel-all, which the desk bills itself), so
a count outside [-burst, burst] is read as that bound, said once in the log and shown as a condition
(alerted as it begins) until the venue answers a count it can mean. A wait of the desk's own that holds
a request back past HELD_BACK_S is shown and alerted the same way (`held_back`).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from engine.ratelimit import TokenBucket, bounded

log = logging.getLogger("engine.venues.polymarket.venue")
ORDER, CANCEL = "order", "cancel"
# Endpoint families (engine/feeds/pacing.py) that draw on a signer bucket.
FAMILY_BUCKET = {"place": ORDER, "batch": ORDER, "cancel": CANCEL, "priority": CANCEL}
# A little under the venue's figures: we count a request when we send it, the venue when it arrives,
# and arrivals are not evenly delayed (a slow first request starts the venue's refill late).
RATE_MARGIN = 0.9
CAPACITY_MARGIN = 0.9
SIGNER_HOLD_S = 10.0  # the longest a Retry-After holds a signer bucket (the venue's own refills in 1.5 s)
HELD_BACK_S = 2.0  # a request waiting this long for the desk's own pacing is shown and alerted


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


class SignerBucket(TokenBucket):
    """One of the signer's buckets, a little smaller and slower than the venue's (the margins)."""

    __slots__ = ()

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic):
        super().__init__(rate * RATE_MARGIN, _capacity(burst), clock, max_hold_s=SIGNER_HOLD_S)

    @property
    def burst(self) -> int:
        return int(self.capacity)

    def resize(self, rate: float, burst: int) -> None:  # type: ignore[override]  # the venue's figures, margins applied here
        super().resize(rate * RATE_MARGIN, _capacity(burst))


class SignerLimits:
    def __init__(self, tier: Tier = STANDARD, clock: Callable[[], float] = time.monotonic,
                 wall: Callable[[], float] = time.time):
        self.tier = tier
        self.wall = wall
        self.buckets = {ORDER: SignerBucket(tier.order_rate, tier.order_burst, clock),
                        CANCEL: SignerBucket(tier.cancel_rate, tier.cancel_burst, clock)}
        self.clock = clock
        self.warning_since_ms: int | None = None  # the venue said a request would be refused when enforced
        self.tier_read_ms: int | None = None  # when the venue last named the tier (None: assumed Standard)
        # Since when the venue's count has been outside what its bucket can mean, and what it said (None: sane).
        self.unbounded_since_ms: int | None = None
        self.unbounded_said = ""

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
        raw = headers.get("Poly-RateLimit-Remaining")
        remaining = _number(raw)
        if remaining is not None:
            bucket.observe(self._meant(family, bucket, remaining, str(raw).strip()[:40]))
        if (headers.get("Poly-RateLimit-Warning") or "").strip().lower() == "true":
            if self.warning_since_ms is None:
                log.warning("the venue warns that requests at this pace will be refused once its per-signer "
                            "limits are enforced", extra={"family": family})
                self.warning_since_ms = int(self.wall() * 1000)
        elif remaining is not None:
            self.warning_since_ms = None

    def _meant(self, family: str, bucket: SignerBucket, remaining: float, said: str) -> float:
        """The venue's count within what its bucket can mean: [-burst, burst] of the tier it applies."""
        burst = self.tier.order_burst if bucket is self.buckets[ORDER] else self.tier.cancel_burst
        read = bounded(remaining, -burst, burst)
        if read == remaining:
            self.unbounded_since_ms = None
            return read
        self.unbounded_said = (f"Poly-RateLimit-Remaining: {said} on a {family} answer, outside what the "
                               f"{self.tier.name} tier's bucket can mean ({-burst} to {burst}): read as {read:g}")
        if self.unbounded_since_ms is None:
            log.warning("the venue's rate-limit header is outside what it can mean: bounded",
                        extra={"family": family, "said": remaining, "read_as": read})
            self.unbounded_since_ms = int(self.wall() * 1000)
        return read

    def held_back(self) -> tuple[int, str] | None:
        """(since when, what) while a request has waited past HELD_BACK_S for the desk's own pacing
        of a signer bucket; None otherwise."""
        now = self.clock()
        waits = [(since, kind) for kind, bucket in self.buckets.items()
                 if (since := bucket.waiting_since) is not None and now - since >= HELD_BACK_S]
        if not waits:
            return None
        since, kind = min(waits)
        bucket = self.buckets[kind]
        return (int((self.wall() - (now - since)) * 1000),
                f"requests have waited {now - since:.1f} s for the {kind} bucket the desk keeps of the venue's "
                f"per-signer limits (it frees in {bucket.wait_s(1):.1f} s; a hold lasts at most "
                f"{SIGNER_HOLD_S:g} s)")

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
        """A 429: nothing more from this bucket until the venue's Retry-After (1 s if it gave none), at
        most SIGNER_HOLD_S."""
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
