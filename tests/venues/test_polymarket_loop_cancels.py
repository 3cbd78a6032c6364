"""A decision's cancel is sent from the event loop (engine/venues/polymarket/loop_http.py), not
by a worker thread, and is still paced, retried and classified as every other venue call. Every
check is against the simulator: its order book, its fault counters and its answers."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from contracts.domain import Side
from engine.feeds.pacing import RetryPolicy
from engine.venues.base import VenueBusy, VenueUnavailable
from engine.venues.polymarket.loop_http import LoopHttp
from simulator.testing import SimHandle
from tests.venues.conftest import FAST, fresh_market, new_key, order, run, venue_for


@pytest.fixture
def faults(sim: SimHandle) -> Iterator[Any]:
    yield sim.set_faults
    sim.clear_faults()


def errors(sim: SimHandle) -> int:
    return int(sim.set_faults()["stats"]["errors"])


def test_a_cancel_goes_out_while_every_worker_thread_is_held(sim: SimHandle) -> None:
    """Slow reads hold every thread of the venue's normal lane; a decision's cancel does not
    queue behind them (sent by a thread, it would wait here until the reads are let go)."""
    market = fresh_market(sim)
    let_go = threading.Event()

    async def scenario() -> tuple[bool, int]:
        venue = venue_for(sim)
        held: list[asyncio.Task[Any]] = []
        try:
            placed = await venue.submit(await venue.prepare(order(market, Side.BUY, 100_000, 5_000_000)))
            held = [asyncio.create_task(venue.calls.call("data", let_go.wait, 30)) for _ in range(FAST.workers)]
            await asyncio.sleep(0)
            result = await asyncio.wait_for(venue.cancel([placed.venue_order_id]), 10)
            reads_still_held = not any(task.done() for task in held)
            return reads_still_held and result.canceled == (placed.venue_order_id,), \
                sim.open_order_count(venue.signer.funder)
        finally:
            let_go.set()
            await asyncio.gather(*held, return_exceptions=True)
            await venue.close()

    cancelled_first, resting = run(scenario())
    assert cancelled_first
    assert resting == 0


def test_a_cancels_429_is_waited_out_and_a_5xx_retried_then_given_up(sim: SimHandle, faults: Any) -> None:
    market = fresh_market(sim)
    patient = dataclasses.replace(FAST, retry=RetryPolicy(attempts=2, base_s=0.01, cap_s=2.0))

    async def cancel_one() -> tuple[BaseException | None, float, int]:
        venue = venue_for(sim, patient)
        try:
            placed = await venue.submit(await venue.prepare(order(market, Side.BUY, 100_000, 5_000_000)))
            faults(error_rate=1.0, error_codes=list(codes), retry_after_s=1)
            began = time.monotonic()
            try:
                await venue.cancel([placed.venue_order_id])
                outcome: BaseException | None = None
            except (VenueBusy, VenueUnavailable) as exc:
                outcome = exc
            took = time.monotonic() - began
            sim.clear_faults()
            return outcome, took, sim.open_order_count(venue.signer.funder)
        finally:
            await venue.cancel_all()
            await venue.close()

    codes = (429,)
    before = errors(sim)
    busy, took, resting = run(cancel_one())
    assert isinstance(busy, VenueBusy) and not busy.maintenance and busy.retry_after_s == 1.0
    assert errors(sim) - before == 2 and took >= 1.0  # tried again once the venue's Retry-After had passed
    assert resting == 1  # refused both times: the order still rests
    codes = (503,)
    before = errors(sim)
    unavailable, _, _ = run(cancel_one())
    assert isinstance(unavailable, VenueUnavailable)
    assert errors(sim) - before == patient.retry.attempts


def test_a_cancel_with_no_answer_in_time_is_an_unknown_outcome(sim: SimHandle, faults: Any) -> None:
    market = fresh_market(sim)
    hasty = dataclasses.replace(FAST, request_timeout_s=0.3, retry=RetryPolicy(attempts=1, base_s=0.01, cap_s=0.05))

    async def scenario() -> BaseException:
        venue = venue_for(sim, hasty)
        try:
            placed = await venue.submit(await venue.prepare(order(market, Side.BUY, 100_000, 5_000_000)))
            faults(latency_ms=800)
            with pytest.raises(VenueUnavailable) as timed_out:
                await venue.cancel([placed.venue_order_id])
            sim.clear_faults()
            return timed_out.value
        finally:
            await venue.cancel_all()
            await venue.close()

    assert "timed out" in str(run(scenario()))


def test_a_cancels_answer_tells_the_signers_cancel_bucket_what_the_venue_counts(sim: SimHandle) -> None:
    """Another process on the same signer spent cancel tokens this one never saw: the venue's
    Poly-RateLimit-Remaining on our cancel's answer brings our estimate down to its count."""
    market = fresh_market(sim)
    key = new_key()

    async def scenario() -> tuple[float, float]:
        rival, ours = venue_for(sim, key=key), venue_for(sim, key=key)
        try:
            placed = await ours.submit(await ours.prepare(order(market, Side.BUY, 100_000, 5_000_000)))
            await rival.cancel([f"0x{n:064x}" for n in range(2, 82)])  # 80 of the venue's 120, unknown to `ours`
            bucket = ours.calls.signer.buckets["cancel"]
            before = bucket.level
            await ours.cancel([placed.venue_order_id])
            return before, bucket.level
        finally:
            await rival.close()
            await ours.close()

    before, after = run(scenario())
    assert after <= before - 30  # our own count alone would have taken one token


def test_the_loop_sender_takes_its_proxy_from_the_environment_as_httpx_does(monkeypatch: pytest.MonkeyPatch) -> None:
    """Read once per host: HTTPS_PROXY for an https venue, none for a host NO_PROXY names."""
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:3128")
    monkeypatch.setenv("NO_PROXY", "internal.example")
    sender = LoopHttp(timeout_s=1.0)
    assert sender._proxy("https://clob.example/order") == "http://127.0.0.1:3128"
    assert sender._proxy("https://internal.example/order") is None
    monkeypatch.delenv("HTTPS_PROXY")
    assert sender._proxy("https://clob.example/orders") == "http://127.0.0.1:3128"  # read once per host
    assert LoopHttp(timeout_s=1.0)._proxy("https://clob.example/order") is None
