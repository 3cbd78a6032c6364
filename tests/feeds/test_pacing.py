"""Token buckets, retry delays and reconnect backoff, on fake clocks and fixed jitter."""

from __future__ import annotations

import asyncio

import pytest

from engine.feeds.pacing import PUBLISHED_LIMITS, Backoff, RateLimits, RetryPolicy, bucket_for
from engine.ratelimit import Aborted, TokenBucket


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def admitted_in(bucket: TokenBucket, clock: FakeClock, seconds: float, step: float = 0.001) -> int:
    """Requests a greedy caller gets through in `seconds` of fake time."""
    count, end = 0, clock.now + seconds
    while clock.now < end:
        if bucket.try_take() == 0:
            count += 1
        else:
            clock.now += step
    return count


def test_bucket_refills_at_its_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate_per_s=10, capacity=5, clock=clock)
    assert [bucket.try_take() for _ in range(5)] == [0.0] * 5
    assert bucket.try_take() == pytest.approx(0.1)
    clock.now += 0.1
    assert bucket.try_take() == 0.0


@pytest.mark.parametrize("family", sorted(PUBLISHED_LIMITS))
def test_every_family_stays_under_every_published_window(family: str) -> None:
    for requests, window in PUBLISHED_LIMITS[family]:
        clock = FakeClock()
        bucket = bucket_for(PUBLISHED_LIMITS[family], clock=clock)
        assert admitted_in(bucket, clock, window, step=window / 20_000) <= 0.8 * requests + 1


def test_placement_bucket_allows_a_real_burst_and_the_sustained_rate() -> None:
    clock = FakeClock()
    bucket = bucket_for(PUBLISHED_LIMITS["place"], clock=clock)
    assert admitted_in(bucket, clock, 0.001) >= 1000  # a burst goes out at once
    assert bucket.rate * 600 + bucket.capacity <= 0.8 * 36_000


def test_retry_delays_grow_are_capped_and_use_the_injected_jitter() -> None:
    policy = RetryPolicy(attempts=5, base_s=0.1, cap_s=0.5)
    assert [policy.delay(n, lambda: 0.0) for n in range(4)] == [0.05, 0.1, 0.2, 0.25]
    assert [policy.delay(n, lambda: 1.0) for n in range(4)] == [0.1, 0.2, 0.4, 0.5]


def test_backoff_has_a_floor_and_resets_only_after_a_healthy_connection() -> None:
    backoff = Backoff(initial_s=0.1, max_s=1.0, floor_s=0.3, healthy_after_s=5, jitter=lambda: 1.0)
    assert backoff.after_connection(0) == 0.3  # 0.1, floored
    assert backoff.after_connection(0.01) == 0.3  # 0.2, floored: closed at once, no reset
    assert backoff.after_connection(0.01) == 0.4
    assert backoff.after_connection(0.01) == 0.8
    assert backoff.after_connection(0.01) == 1.0
    assert backoff.after_connection(10) == 0.3  # healthy: back to the start


def test_acquire_waits_and_abort_interrupts_the_wait() -> None:
    async def scenario() -> tuple[float, bool]:
        limits = RateLimits({"x": ((2, 1.0),)}, margin=1.0)  # capacity 1, one token per second
        loop = asyncio.get_running_loop()
        await limits.acquire("x")
        abort = asyncio.Event()
        loop.call_later(0.05, abort.set)
        began = loop.time()
        with pytest.raises(Aborted):
            await limits.acquire("x", abort)
        return loop.time() - began, abort.is_set()

    waited, aborted = asyncio.run(scenario())
    assert aborted and waited < 0.5
