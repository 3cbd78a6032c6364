"""Per-signer trading rate limits: an order bucket and a cancel bucket for each signer address
(the address the API key was created with), as the venue's CLOB enforces them.

Costs: ``POST /order`` 1 order token; ``POST /orders`` one per order in the batch;
``DELETE /order`` 1 cancel token; ``DELETE /orders`` one per id; ``DELETE /cancel-all`` and
``/cancel-market-orders`` 1 up front, then one more per order actually cancelled (the bucket
may go negative in tiers that allow it, floored at 0 in the others). A request is admitted
only when the bucket holds its whole cost (all-or-nothing: a refused batch places nothing); a
cost above the burst can never be admitted (the answer says to split it). Tokens refill
continuously at the tier's rate up to its burst.

Every evaluated answer carries ``Poly-RateLimit-Remaining`` (the bucket after the request),
``Poly-RateLimit-Reset`` (unix seconds when enough tokens are back: now when admitted) and
``Poly-RateLimit-Tier``; a refusal is 429 with ``Retry-After`` (seconds, or an HTTP date when
configured so: clients must read both forms). ``GET /v1/user/rate-limit-tier`` names the
signer's tier. These limits sit beside the per-endpoint Cloudflare windows in ``ratelimit.py``;
both apply.

``warn_only`` is the venue's warning mode (its first two weeks, from 2026-07-24; a leniency here):
a request that would be refused is processed, its answer saying ``Poly-RateLimit-Warning: true``
(the bucket floored at 0).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path
from typing import NamedTuple

from aiohttp import web

ORDER, CANCEL = "order", "cancel"


class Refill(NamedTuple):
    per_second: float
    burst: int


class Tier(NamedTuple):
    name: str
    buckets: dict[str, Refill]  # ORDER and CANCEL
    cancel_debt: bool  # the cancel bucket may go below zero after a cancel-all


def _published_tiers() -> dict[str, Tier]:
    """The venue's tiers as its documentation tabulates them (data/signer_tiers.json)."""
    table = json.loads((Path(__file__).parent / "data" / "signer_tiers.json").read_text())
    tiers = {}
    for name, orders_s, orders_burst, cancels_s, cancels_burst, debt in table["rows"]:
        tiers[name] = Tier(name, {ORDER: Refill(orders_s, orders_burst), CANCEL: Refill(cancels_s, cancels_burst)},
                           bool(debt))
    return tiers


TIERS = _published_tiers()


class _Bucket:
    __slots__ = ("rate", "burst", "level", "stamp")

    def __init__(self, rate: float, burst: int, now: float) -> None:
        self.rate, self.burst, self.level, self.stamp = rate, burst, float(burst), now

    def refill(self, now: float) -> None:
        self.level = min(self.burst, self.level + (now - self.stamp) * self.rate)
        self.stamp = now

    def wait_for(self, cost: int) -> float:
        """Seconds until `cost` tokens are there (0: now)."""
        return max(0.0, (cost - self.level) / self.rate)


@dataclass(frozen=True)
class Verdict:
    admitted: bool
    headers: dict[str, str]
    message: str = ""


class SignerLimits:
    def __init__(self, tier: str = "standard", enabled: bool = True, retry_after_http_date: bool = False,
                 clock: Callable[[], float] = time.monotonic, wall: Callable[[], float] = time.time,
                 warn_only: bool = False) -> None:
        if tier not in TIERS:
            raise ValueError(f"signer_tier must be one of {', '.join(TIERS)}, not {tier!r}")
        self.tier = TIERS[tier]
        self.enabled = enabled
        self.retry_after_http_date = retry_after_http_date
        self.clock = clock
        self.wall = wall
        self.buckets: dict[tuple[str, str], _Bucket] = {}
        self.refused = 0
        self.warn_only = warn_only
        self.warned = 0  # requests admitted with a warning (warn_only) that enforcement would refuse

    def _bucket(self, signer: str, kind: str) -> _Bucket:
        key = (signer.lower(), kind)
        bucket = self.buckets.get(key)
        now = self.clock()
        if bucket is None:
            rate, burst = self.tier.buckets[kind]
            bucket = self.buckets[key] = _Bucket(rate, burst, now)
        bucket.refill(now)
        return bucket

    def charge(self, signer: str, kind: str, cost: int) -> Verdict:
        """Admit and debit `cost` tokens, or refuse without debiting anything."""
        if not self.enabled:
            return Verdict(True, {})
        bucket = self._bucket(signer, kind)
        if self.warn_only and (cost > bucket.burst or bucket.wait_for(cost) > 0):
            self.warned += 1
            bucket.level = max(0.0, bucket.level - cost)
            return Verdict(True, {**self._headers(bucket, 0.0), "Poly-RateLimit-Warning": "true"})
        if cost > bucket.burst:
            self.refused += 1
            return Verdict(False, self._headers(bucket, 0.0), f"Too Many Requests: this request costs {cost} {kind} "
                           f"tokens, more than the {bucket.burst} the {self.tier.name} tier can ever hold; split it")
        wait = bucket.wait_for(cost)
        if wait > 0:
            self.refused += 1
            headers = self._headers(bucket, wait)
            headers["Retry-After"] = self._retry_after(wait)
            return Verdict(False, headers, f"Too Many Requests: {kind} rate limit of the {self.tier.name} tier "
                                           f"({bucket.burst} burst, {bucket.rate:g}/s)")
        bucket.level -= cost
        return Verdict(True, self._headers(bucket, 0.0))

    def debit(self, signer: str, kind: str, count: int) -> dict[str, str]:
        """The post-hoc part of a cancel-all: one token per order it cancelled."""
        if not self.enabled:
            return {}
        bucket = self._bucket(signer, kind)
        bucket.level -= count
        if not self.tier.cancel_debt:
            bucket.level = max(0.0, bucket.level)
        return self._headers(bucket, 0.0)

    def _headers(self, bucket: _Bucket, wait_s: float) -> dict[str, str]:
        return {"Poly-RateLimit-Remaining": f"{math.floor(bucket.level)}",
                "Poly-RateLimit-Reset": f"{math.ceil(self.wall() + wait_s)}",
                "Poly-RateLimit-Tier": self.tier.name}

    def _retry_after(self, wait_s: float) -> str:
        if self.retry_after_http_date:
            # Whole seconds on the wire: the next second at or after the tokens are back.
            return formatdate(math.ceil(self.wall() + wait_s), usegmt=True)
        return str(max(1, math.ceil(wait_s)))


def refused(verdict: Verdict) -> web.Response:
    return web.Response(status=429, text=json.dumps({"error": verdict.message}), content_type="application/json",
                        headers=verdict.headers)
