"""The adapter paces itself by the signer's buckets: a burst of placements never meets a 429, a
cancel of many ids is split to fit the cancel bucket, the tier the venue names resizes the
buckets, and a refusal's Retry-After (an HTTP date included) is waited out; the bucket logic on
a fake clock."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from pathlib import Path
from typing import Any

import pytest

from contracts.domain import Side
from engine.ratelimit import MAX_HOLD_S, Aborted
from engine.trading.ledgers.venue_conditions import ConditionBoard, live_conditions
from engine.venues.base import VenueOrderStatus
from engine.venues.kalshi.http import Pacer
from engine.venues.polymarket.client import retry_after
from engine.venues.polymarket.limits import (
    CANCEL,
    CAPACITY_MARGIN,
    HELD_BACK_S,
    ORDER,
    RATE_MARGIN,
    SIGNER_HOLD_S,
    TIERS,
    SignerBucket,
    SignerLimits,
    tier_from,
)
from simulator.signer_limits import TIERS as SIM_TIERS
from simulator.testing import approved_simulator
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate
from tests.venues.conftest import FAST, QUIET, fresh_market, new_key, order, run, venue_for


def test_the_engine_and_the_simulator_agree_on_the_tiers() -> None:
    assert set(TIERS) == set(SIM_TIERS)
    for name, tier in TIERS.items():
        sim = SIM_TIERS[name]
        assert (tier.order_rate, tier.order_burst, tier.cancel_rate, tier.cancel_burst) == (
            *sim.buckets["order"], *sim.buckets["cancel"]), name


def test_a_bucket_on_a_fake_clock() -> None:
    now = [0.0]
    bucket = SignerBucket(40, 60, clock=lambda: now[0])
    full = int(60 * CAPACITY_MARGIN)  # 54: a little under the venue's burst
    assert bucket.wait_s(full) == 0 and bucket.wait_s(full + 1) > 0
    run(bucket.acquire(full))
    assert bucket.wait_s(1) == pytest.approx(1 / (40 * RATE_MARGIN))
    now[0] = 1.0
    assert bucket.wait_s(36) == 0 and bucket.wait_s(37) > 0  # refilled at 90 % of the venue's rate
    bucket.observe(10)  # the venue counts fewer: its count wins
    assert bucket.wait_s(10) == 0 and bucket.wait_s(11) > 0
    bucket.hold(2.5)  # a 429's Retry-After
    assert bucket.wait_s(1) == pytest.approx(2.5)
    bucket.debit(200)  # a cancel-all's post-hoc debit may leave a debt
    assert bucket.level < 0
    with pytest.raises(ValueError):
        run(bucket.acquire(full + 1))
    abort = asyncio.Event()
    abort.set()
    with pytest.raises(Aborted):
        run(bucket.acquire(1, abort))


def test_headers_update_the_tier_the_level_and_the_warning() -> None:
    now = [0.0]
    limits = SignerLimits(clock=lambda: now[0], wall=lambda: 100.0)
    assert limits.cancel_chunk == 108  # the standard tier's 120, with our margin
    limits.observe("place", {"Poly-RateLimit-Tier": "gold", "Poly-RateLimit-Remaining": "500"})
    assert limits.tier.name == "gold" and limits.cancel_chunk == 1080
    assert limits.buckets[ORDER].wait_s(55) > 0  # what we had (54), never more than our own estimate
    now[0] = 1.0  # then it refills at gold's rate (400 a second, 90 % of it)
    assert limits.buckets[ORDER].wait_s(54 + 360) == 0 and limits.buckets[ORDER].wait_s(54 + 361) > 0
    limits.observe("cancel", {"Poly-RateLimit-Remaining": "-30"})
    assert limits.buckets[CANCEL].level == -30
    assert limits.warning_since_ms is None
    limits.observe("batch", {"Poly-RateLimit-Remaining": "0", "Poly-RateLimit-Warning": "true"})
    assert limits.warning_since_ms == 100_000
    limits.observe("batch", {"Poly-RateLimit-Remaining": "3"})
    assert limits.warning_since_ms is None
    now[0] = 2.0
    before = limits.buckets[ORDER].wait_s(100)
    limits.observe("data", {"Poly-RateLimit-Remaining": "0"})  # reads draw on no signer bucket
    assert limits.buckets[ORDER].wait_s(100) == before == 0


async def _bids(venue, market: dict[str, object], count: int) -> list:
    """`count` signed 5-share bids at the lowest prices of the grid (they rest, never trade)."""
    return [await venue.prepare(order(market, Side.BUY, 10_000 * (1 + i % 20), 5_000_000)) for i in range(count)]


def test_a_burst_of_placements_is_paced_and_not_refused() -> None:
    with approved_simulator(seed=51, **QUIET) as sim:
        market = fresh_market(sim)
        # Retry-After honoured in place: should the venue still refuse one (a send delayed on a loaded
        # machine), it is placed after the wait, and counted below.
        venue = venue_for(sim, dataclasses.replace(FAST, retry=dataclasses.replace(FAST.retry, cap_s=3.0)))

        async def scenario() -> float:
            try:
                prepared = await _bids(venue, market, 100)
                began = time.monotonic()
                results = await asyncio.gather(*(venue.submit(p) for p in prepared[:40]),
                                               *(venue.submit_many(prepared[k:k + 15]) for k in range(40, 100, 15)))
                elapsed = time.monotonic() - began
                singles, batches = results[:40], results[40:]
                placed: list[Any] = [r for r in singles] + [r for batch in batches for r in batch]  # type: ignore[attr-defined]  # gather's results: singles then lists
                assert len(placed) == 100 and all(r.status is VenueOrderStatus.LIVE for r in placed)
                return elapsed
            finally:
                await venue.close()

        elapsed = run(scenario(), timeout=60)
        # Paced on our side: sent all at once, 40 of the 100 would have been refused.
        assert sim.state()["signer_rate_limited"] <= 1
        assert elapsed >= (100 - 60) / 40  # beyond the burst, no faster than the refill


def test_a_cancel_of_many_ids_is_split_to_fit_the_cancel_bucket() -> None:
    with approved_simulator(seed=52, **{**QUIET, "signer_tier": "silver"}) as sim:  # 300 orders fit a burst
        market = fresh_market(sim)
        venue = venue_for(sim)

        async def scenario() -> int:
            try:
                prepared = await _bids(venue, market, 150)
                ids = [r.venue_order_id for k in range(0, 150, 15) for r in await venue.submit_many(prepared[k:k + 15])]
                venue.calls.signer.observe("cancel", {"Poly-RateLimit-Tier": "standard"})  # as if the tier dropped
                assert venue.calls.signer.cancel_chunk == 108
                result = await venue.cancel(ids)
                return len(result.canceled)
            finally:
                await venue.close()

        assert run(scenario(), timeout=60) == 150
        assert sim.state()["signer_rate_limited"] == 0


def test_a_refusal_with_an_http_date_retry_after_is_waited_out() -> None:
    """Another process on the same signer leaves the cancel bucket in debt (a cancel-all of 200
    orders): this adapter's estimate is full, the venue refuses its cancel with Retry-After as an
    HTTP date, and the cancel goes through once that has passed."""
    with approved_simulator(seed=53, **{**QUIET, "retry_after_http_date": True}) as sim:
        market = fresh_market(sim)
        key = new_key()
        rival = venue_for(sim, key=key)
        ours = venue_for(sim, dataclasses.replace(FAST, retry=dataclasses.replace(FAST.retry, cap_s=3.0)), key=key)

        async def scenario() -> tuple[int, float]:
            try:
                prepared = await _bids(rival, market, 200)
                for k in range(0, 200, 15):
                    await rival.submit_many(prepared[k:k + 15])
                await ours.connect()
                assert len((await rival.cancel_all()).canceled) == 200  # the cancel bucket: 120 - 201
                began = time.monotonic()
                result = await ours.cancel(["0x" + "ab" * 32])
                return len(result.not_canceled), time.monotonic() - began
            finally:
                await rival.close()
                await ours.close()

        answered, waited = run(scenario(), timeout=60)
        assert answered == 1  # the venue's answer ("order not found"), after the wait
        assert sim.state()["signer_rate_limited"] >= 1 and waited >= 0.3


def test_a_cancel_of_many_ids_is_split_into_requests_of_at_most_1000() -> None:
    """An elite signer's cancel bucket holds 1620 ids with our margin, but the venue takes at most
    1000 in one DELETE /orders (its changelog of 2026-06-15; the reference still says 3000): 1100
    ids go as two requests, each answered."""
    with approved_simulator(seed=54, **{**QUIET, "signer_tier": "elite"}) as sim:
        venue = venue_for(sim)

        async def scenario() -> int:
            try:
                await venue.connect()
                venue.calls.signer.observe("cancel", {"Poly-RateLimit-Tier": "elite"})
                assert venue.calls.signer.cancel_chunk > 1000
                ids = ["0x" + f"{i:064x}" for i in range(1100)]
                return len((await venue.cancel(ids)).not_canceled)
            finally:
                await venue.close()

        assert run(scenario(), timeout=60) == 1100  # each id answered "order not found"


def test_the_tier_is_read_from_the_venue_before_the_first_order() -> None:
    """A gold signer is paced as gold from its first request: the adapter asks the venue's
    rate-limit-tier endpoint as it connects, not only the answers to orders it sends later."""
    with approved_simulator(seed=55, **{**QUIET, "signer_tier": "gold"}) as sim:
        venue = venue_for(sim)

        async def scenario() -> tuple[str, int | None, int]:
            try:
                await venue.connect()
                signer = venue.calls.signer
                return signer.tier.name, signer.tier_read_ms, signer.cancel_chunk
            finally:
                await venue.close()

        name, read_at, chunk = run(scenario())
        assert (name, chunk) == ("gold", 1080) and read_at is not None  # gold's cancel burst, with our margin


def test_an_answer_the_desk_cannot_read_leaves_the_tightest_tier() -> None:
    assert tier_from({"tier": "Platinum"}) == TIERS["platinum"] and tier_from("elite") == TIERS["elite"]
    assert tier_from({"rate_limit_tier": "silver"}) == TIERS["silver"]
    assert tier_from({"tier": "mythril"}) is None and tier_from({"tier": 3}) is None and tier_from(None) is None


def test_the_venues_warning_is_alerted_before_any_refusal(tmp_path: Path) -> None:
    """The venue in its warning mode: another program on the same wallet has emptied the order bucket,
    the desk's next order is processed but answered `Poly-RateLimit-Warning: true`, and the engine's
    condition board alerts it once (the condition stays shown while it holds), beside the tier."""
    migrate(tmp_path / "desk.db")
    db = Database(tmp_path / "desk.db")
    board = ConditionBoard(db)
    with approved_simulator(seed=56, **{**QUIET, "signer_limits_warn_only": True}) as sim:
        market = fresh_market(sim)
        key = new_key()
        rival, ours = venue_for(sim, key=key), venue_for(sim, key=key)

        sim.call(setattr, sim.sim.signer_limits, "clock", lambda: 1_000.0)  # no refill: no race with the clock

        async def scenario() -> None:
            try:
                prepared = await _bids(rival, market, 75)
                rival.calls.signer.set_tier(TIERS["elite"])  # the other program does not pace as we do
                for k in range(0, 75, 15):  # 75 orders at once: 15 past the standard burst
                    await rival.submit_many(prepared[k:k + 15])
                placed = await ours.submit(await ours.prepare(order(market, Side.BUY, 10_000, 5_000_000)))
                assert placed.status is VenueOrderStatus.LIVE  # processed: a warning, not a refusal
            finally:
                await rival.close()
                await ours.close()

        run(scenario(), timeout=60)
        assert sim.state()["signer_rate_warned"] >= 1 and sim.state()["signer_rate_limited"] == 0
    signer = ours.calls.signer
    assert signer.warning_since_ms is not None
    for _ in range(2):  # published every tick: alerted once
        board.publish(live_conditions(unreachable_since=None, alert_after_s=30, heartbeats=None, signer=signer,
                                      drift=None, drift_since=None, now=signer.warning_since_ms + 1_000),
                      tier=signer.shown())
    with db.read() as conn:
        alerts = conn.exec_driver_sql("SELECT code FROM alerts WHERE code = 'VENUE_RATE_LIMIT_WARNING'").all()
        stored = conn.exec_driver_sql("SELECT venue_conditions, venue_tier FROM engine_state").one()
    assert len(alerts) == 1
    assert [c["code"] for c in json.loads(stored[0])] == ["rate_limit_warning"]
    assert json.loads(stored[1])["tier"] == "standard"


def test_a_count_beyond_what_the_tier_can_hold_is_bounded_said_and_cleared_by_a_sane_one() -> None:
    """Issue 86 item 3: `Poly-RateLimit-Remaining: -1000000000` once emptied the order bucket for ~320
    days. The venue's bucket holds at most its burst and owes at most one more: read within that."""
    now = [0.0]
    limits = SignerLimits(clock=lambda: now[0], wall=lambda: 100.0)
    limits.observe("place", {"Poly-RateLimit-Remaining": "-1000000000"})
    order = limits.buckets[ORDER]
    assert order.level == -60 and limits.unbounded_since_ms == 100_000
    assert "-1000000000" in limits.unbounded_said and "read as -60" in limits.unbounded_said
    assert order.wait_s(1) == pytest.approx(61 / (40 * RATE_MARGIN))  # under two seconds, not 320 days
    limits.observe("place", {"Poly-RateLimit-Remaining": "1e300"})  # more than any bucket holds: no higher
    assert limits.unbounded_since_ms == 100_000
    limits.observe("place", {"Poly-RateLimit-Remaining": "12"})
    assert limits.unbounded_since_ms is None  # a count the venue can mean ends the condition


def test_a_wait_of_the_desks_own_is_bounded_shown_when_it_holds_requests_back_and_gone_after() -> None:
    async def scenario() -> tuple[tuple[int, str] | None, tuple[int, str] | None, float]:
        clock = asyncio.get_running_loop().time
        limits = SignerLimits(clock=clock, wall=time.time)
        limits.refused("place", 86_400.0)  # a Retry-After of a day holds the bucket at most SIGNER_HOLD_S
        bucket = limits.buckets[ORDER]
        held = bucket.wait_s(1)
        bucket.held_until = clock() + HELD_BACK_S + 0.3  # a shorter hold, to watch the condition come and go
        waiting = asyncio.ensure_future(bucket.acquire(1))
        await asyncio.sleep(HELD_BACK_S + 0.1)
        during = limits.held_back()
        await waiting
        return during, limits.held_back(), held

    during, after, held = asyncio.run(scenario())
    assert held == pytest.approx(SIGNER_HOLD_S, abs=0.05)
    assert during is not None and "waited" in during[1] and "order bucket" in during[1]
    assert after is None


def test_retry_after_is_read_within_the_venues_longest_window() -> None:
    assert retry_after("2") == 2.0 and retry_after("86400000") == MAX_HOLD_S and retry_after("inf") == MAX_HOLD_S
    assert retry_after("Sun, 06 Nov 2994 08:49:37 GMT", now=lambda: 0.0) == MAX_HOLD_S
    assert retry_after("-5") is None and retry_after("nan") is None and retry_after("soon") is None


def test_kalshis_account_limits_are_read_within_what_its_tiers_can_mean() -> None:
    pacer, said = Pacer.meant((200, 400), (100, 100))  # Basic, as answered
    assert said == "" and (pacer.write.rate, pacer.write.capacity) == (90.0, 50)
    pacer, said = Pacer.meant((0, 10**12), (10**9, -5))
    assert (pacer.read.rate, pacer.read.capacity) == (180.0, 200)  # Basic's refill, two seconds of it (half spent)
    assert (pacer.write.rate, pacer.write.capacity) == (3600.0, 2000)  # Prime's at most
    assert "read 0/s" in said and "write 1000000000/s" in said
