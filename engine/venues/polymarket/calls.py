"""How venue calls run: paced, retried, and interruptible; on worker threads or the event loop.

The client is synchronous, so calls run on worker threads, except the decision path's
cancels and the heartbeats, which the client signs and aiohttp sends from the event loop
(`call_on_loop`, engine/venues/polymarket/loop_http.py: a move's cancel reaches the venue
~1 ms sooner at the median). Normal calls wait for a token
from their endpoint family's bucket and, for placements and cancels, for their whole cost in
the signer's order or cancel bucket (engine/venues/polymarket/limits.py), and retry retryable
failures (429/5xx/timeouts) after jittered delays, never sooner than the venue's Retry-After;
a 425 (the matching engine is restarting, for ~90 s) and other 4xx fail at once. Every answer's
Poly-RateLimit-* headers update the signer's buckets. The priority lane (cancel-all) has its
own threads and skips the endpoint buckets and every queue; it waits only until the signer's
cancel bucket holds a token (the venue would refuse it before). `drop_placements()` makes every
placement that has not been sent yet fail with PlacementDropped, wherever it is waiting (a
bucket, a retry delay, or the thread pool's queue).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from engine.feeds.pacing import Jitter, RateLimits, RetryPolicy
from engine.ratelimit import Aborted
from engine.venues.base import OrderRejected
from engine.venues.polymarket.client import CallFailure, SignedRequest, classify, take_response_headers
from engine.venues.polymarket.limits import SignerLimits
from engine.venues.polymarket.loop_http import LoopHttp

log = logging.getLogger("engine.venues.polymarket.venue")
T = TypeVar("T")
PRIORITY_WORKERS = 2


class PlacementDropped(OrderRejected):
    """A placement was dropped by cancel-all before it was sent: it was never placed.

    `maybe_sent` is set when an earlier try of the same order may have reached the venue
    (a timeout), in which case the caller must look the order up instead."""

    def __init__(self, message: str = "dropped by cancel-all before it was sent", *,
                 maybe_sent: bool = False):
        super().__init__(message)
        self.maybe_sent = maybe_sent


class ClobCaller:
    def __init__(self, limits: RateLimits, retry: RetryPolicy, jitter: Jitter, workers: int = 8,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep, signer: SignerLimits | None = None,
                 timeout_s: float = 5.0):
        self.limits = limits
        self.signer = signer or SignerLimits()
        self.retry = retry
        self.jitter = jitter
        self.sleep = sleep
        self.generation = 0
        self.inflight_placements: set[asyncio.Future[Any]] = set()
        self._abort = asyncio.Event()
        self._normal = ThreadPoolExecutor(workers, thread_name_prefix="clob")
        self._priority = ThreadPoolExecutor(PRIORITY_WORKERS, thread_name_prefix="clob-priority")
        self.http = LoopHttp(timeout_s)

    async def call(self, family: str, fn: Callable[..., T], *args: Any, retry: bool = True, cost: int = 1) -> T:
        """A normal-lane call; raises CallFailure when it finally fails. `cost`: the tokens it
        takes from the signer's bucket (a cancel of n ids costs n)."""
        return await self._paced(family, lambda: self._run(self._normal, fn, args, family), retry, cost)

    async def call_on_loop(self, family: str, request: Callable[[], SignedRequest], *, retry: bool = True,
                           cost: int = 1, written: asyncio.Future[None] | None = None) -> Any:
        """A normal-lane call sent from the event loop, with no worker thread (the decision
        path's cancels, the heartbeats): paced, retried and classified as `call`. `request()`
        signs it afresh for every try. `written`: set once a try's request is handed to the socket."""
        return await self._paced(family, lambda: self._send_on_loop(family, request(), written), retry, cost)

    async def _paced(self, family: str, attempt_once: Callable[[], Awaitable[T]], retry: bool, cost: int) -> T:
        attempt = 0
        signer = self.signer.bucket_for(family)
        while True:
            await self.limits.acquire(family)
            if signer is not None:
                await signer.acquire(cost)
            try:
                return await attempt_once()
            except Exception as exc:
                failure = classify(exc)
                if not (retry and self._retries(failure, attempt)):
                    raise failure from None
                await self._pause(attempt, family, failure)
                attempt += 1

    async def place(self, family: str, fn: Callable[..., T], *args: Any, cost: int = 1) -> T:
        """A placement: like `call`, but dropped by cancel-all until the moment it is sent."""
        generation, abort = self.generation, self._abort
        attempt, maybe_sent = 0, False
        signer = self.signer.bucket_for(family)
        while True:
            try:
                await self.limits.acquire(family, abort)
                if signer is not None:
                    await signer.acquire(cost, abort)
            except Aborted:
                raise PlacementDropped(maybe_sent=maybe_sent) from None
            if generation != self.generation:
                raise PlacementDropped(maybe_sent=maybe_sent)
            try:
                return await self._run(self._normal, fn, args, family, generation, track=True)
            except PlacementDropped:
                raise PlacementDropped(maybe_sent=maybe_sent) from None
            except Exception as exc:
                failure = classify(exc)
                maybe_sent = maybe_sent or failure.maybe_sent
                if not self._retries(failure, attempt):
                    failure.maybe_sent = maybe_sent
                    raise failure from None
                await self._pause(attempt, family, failure)
                attempt += 1

    async def priority(self, fn: Callable[..., T], *args: Any, cost: Callable[[T], int] | None = None) -> T:
        """The safety lane: own threads, no queue, retried (cancels are idempotent). It waits only
        for one cancel token (what the venue takes up front); `cost(answer)` is what the answer
        says it cost (1 + the orders a cancel-all cancelled), debited once it is known."""
        attempt = 0
        while True:
            await self.signer.buckets["cancel"].ready(1)
            try:
                return await self._run(self._priority, fn, args, "priority", debit=cost)
            except Exception as exc:
                failure = classify(exc)
                if not self._retries(failure, attempt):
                    raise failure from None
                await self._pause(attempt, "priority", failure)
                attempt += 1

    def drop_placements(self) -> None:
        """Every placement not yet sent fails with PlacementDropped."""
        self.generation += 1
        self._abort.set()
        self._abort = asyncio.Event()

    async def close(self) -> None:
        self._normal.shutdown(wait=False, cancel_futures=True)
        self._priority.shutdown(wait=False, cancel_futures=True)
        await self.http.close()

    def _retries(self, failure: CallFailure, attempt: int) -> bool:
        """Whether to try again in place: retryable, tries left, and no Retry-After longer
        than the policy's longest delay (a long wait is the caller's to schedule, not ours
        to sleep through while it waits)."""
        if not failure.retryable or attempt + 1 >= self.retry.attempts:
            return False
        return failure.retry_after_s is None or failure.retry_after_s <= self.retry.cap_s

    def _answered(self, family: str, headers: Any, failure: CallFailure | None = None) -> None:
        """What the venue said of the signer's buckets, on an answer or a refusal."""
        self.signer.observe(family, headers)
        if failure is not None and failure.busy and not failure.maintenance:
            self.signer.refused(family, failure.retry_after_s)

    async def _pause(self, attempt: int, family: str, failure: CallFailure) -> None:
        delay = max(self.retry.delay(attempt, self.jitter), failure.retry_after_s or 0.0)
        log.info("retrying venue call", extra={"family": family, "attempt": attempt + 1,
                                               "delay_s": round(delay, 3), "error": str(failure)})
        await self.sleep(delay)

    async def _run(self, pool: ThreadPoolExecutor, fn: Callable[..., T], args: tuple[Any, ...], family: str,
                   generation: int | None = None, track: bool = False,
                   debit: Callable[[T], int] | None = None) -> T:
        def guarded() -> tuple[T, Any]:
            # Checked on the worker thread too: a placement queued behind others in the
            # pool must not go out after a cancel-all.
            if generation is not None and generation != self.generation:
                raise PlacementDropped()
            take_response_headers()
            try:
                value = fn(*args)
            except Exception as exc:
                exc.response_headers = take_response_headers()  # type: ignore[attr-defined]  # the venue's answer headers, carried on the exception for the caller
                raise
            return value, take_response_headers()

        future = asyncio.get_running_loop().run_in_executor(pool, guarded)
        if track:
            self.inflight_placements.add(future)
            future.add_done_callback(self.inflight_placements.discard)
        try:
            value, headers = await future
        except PlacementDropped:
            raise
        except Exception as exc:
            self._answered(family, getattr(exc, "response_headers", None), classify(exc))
            raise
        bucket = self.signer.bucket_for(family)
        if debit is not None and bucket is not None:
            bucket.debit(debit(value))  # before the venue's own count, which then wins if lower
        self._answered(family, headers)
        return value

    async def _send_on_loop(self, family: str, request: SignedRequest,
                            written: asyncio.Future[None] | None = None) -> Any:
        try:
            value, headers = await self.http.send(request, written)
        except Exception as exc:
            self._answered(family, getattr(exc, "response_headers", None), classify(exc))
            raise
        self._answered(family, headers)
        return value
