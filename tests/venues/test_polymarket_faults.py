"""Injected faults (simulator fault flags): the adapter survives each one with no duplicate
order, and cancel-all stays a safety interrupt. Every check is against the simulator's
own view of orders."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Iterator
from typing import Any

import pytest

from contracts.domain import Side, Tif
from engine.feeds.pacing import PUBLISHED_LIMITS, RetryPolicy
from engine.venues.base import OrderRejected, VenueBusy, VenueOrderStatus, VenueUnavailable
from engine.venues.polymarket.venue import PlacementDropped, VenueConfig
from simulator.testing import SimHandle
from tests.venues.conftest import FAST, fresh_market, order, run, venue_for


@pytest.fixture
def faults(sim: SimHandle) -> Iterator[Any]:
    """Set faults for one test; always cleared afterwards."""
    yield sim.set_faults
    sim.clear_faults()


def fault_stats(sim: SimHandle) -> dict[str, int]:
    return sim.set_faults()["stats"]


def test_transient_errors_are_retried_and_never_duplicate(sim: SimHandle, faults: Any) -> None:
    market = fresh_market(sim)
    # Retry-After 0 on the injected 429s (the simulator's default is 1 s, longer than this policy's
    # longest delay, which hands a 429 back at once): here they are retried in place like a 5xx.
    faults(error_rate=0.5, error_codes=[425, 429, 500, 503], retry_after_s=0)
    config = dataclasses.replace(FAST, retry=RetryPolicy(attempts=8, base_s=0.005, cap_s=0.02))

    async def scenario() -> tuple[set[str], int, int, str]:
        venue = venue_for(sim, config)
        live, unknown, turned_away = set(), 0, 0
        try:
            for i in range(20):
                prepared = await venue.prepare(order(market, Side.BUY, 100_000 + i * 10_000, 5_000_000))
                try:
                    result = await venue.submit(prepared)
                except VenueBusy as exc:  # a 425 comes straight back: the venue took nothing
                    assert exc.maintenance
                    turned_away += 1
                    continue
                except VenueUnavailable:
                    unknown += 1
                    continue
                assert result.status is VenueOrderStatus.LIVE
                live.add(result.venue_order_id)
            return live, unknown, turned_away, venue.signer.funder
        finally:
            await venue.close()

    before = fault_stats(sim)["errors"]
    live, unknown, turned_away, address = run(scenario())
    assert fault_stats(sim)["errors"] - before >= 5  # the faults really fired
    assert turned_away > 0  # 425 is not retried in place (a restart lasts ~90 s)
    assert len(live) + unknown + turned_away == 20
    assert sim.open_order_count(address) == len(live)  # an injected error never placed a second copy


def test_other_4xx_fail_at_once_and_retryable_ones_give_up_after_the_policy(sim: SimHandle, faults: Any) -> None:
    market = fresh_market(sim)

    async def submit_once() -> None:
        venue = venue_for(sim)
        try:
            await venue.submit(await venue.prepare(order(market, Side.BUY, 100_000, 5_000_000)))
        finally:
            await venue.close()

    faults(error_rate=1.0, error_codes=[400])
    before = fault_stats(sim)["errors"]
    with pytest.raises(OrderRejected):
        run(submit_once())
    assert fault_stats(sim)["errors"] - before == 1
    faults(error_rate=1.0, error_codes=[429], retry_after_s=0)  # Retry-After 0: retried in place
    before = fault_stats(sim)["errors"]
    with pytest.raises(VenueBusy) as busy:  # rate-limited: retried, then handed back as "took nothing"
        run(submit_once())
    assert not busy.value.maintenance
    assert fault_stats(sim)["errors"] - before == FAST.retry.attempts
    faults(error_rate=1.0, error_codes=[503])
    before = fault_stats(sim)["errors"]
    with pytest.raises(VenueUnavailable):  # a 5xx may have acted: its outcome is unknown
        run(submit_once())
    assert fault_stats(sim)["errors"] - before == FAST.retry.attempts


def test_a_429s_retry_after_is_honoured(sim: SimHandle, faults: Any) -> None:
    """A Retry-After longer than the policy's longest delay is handed back at once with the
    venue's wait (the executor holds placements back that long); a shorter one is waited out
    before the call is tried again in place, never less."""
    market = fresh_market(sim)

    async def submit_timed(config: VenueConfig) -> tuple[BaseException | None, float]:
        venue = venue_for(sim, config)
        try:
            prepared = await venue.prepare(order(market, Side.BUY, 100_000, 5_000_000))
            began = time.monotonic()
            try:
                await venue.submit(prepared)
            except VenueBusy as exc:
                return exc, time.monotonic() - began
            return None, time.monotonic() - began
        finally:
            await venue.close()

    faults(error_rate=1.0, error_codes=[429], retry_after_s=2)
    before = fault_stats(sim)["errors"]
    busy, _ = run(submit_timed(FAST))  # FAST's longest delay is 0.05 s
    assert isinstance(busy, VenueBusy) and not busy.maintenance and busy.retry_after_s == 2.0
    assert fault_stats(sim)["errors"] - before == 1  # not slept through in place
    faults(error_rate=1.0, error_codes=[429], retry_after_s=1)
    before = fault_stats(sim)["errors"]
    patient = dataclasses.replace(FAST, retry=RetryPolicy(attempts=2, base_s=0.01, cap_s=2.0))
    busy, took = run(submit_timed(patient))
    assert isinstance(busy, VenueBusy) and busy.retry_after_s == 1.0
    assert fault_stats(sim)["errors"] - before == 2  # tried again in place...
    assert took >= 1.0  # ...once the venue's Retry-After had passed, not after the policy's 0.01 s


def test_a_post_that_times_out_but_succeeds_is_recovered_not_repeated(sim: SimHandle, faults: Any) -> None:
    market = fresh_market(sim)
    sim.place_liquidity(market["yes_token_id"], "SELL", "0.60", "10")
    faults(timeout_rate=1.0, timeout_hold_s=1.0)
    config = dataclasses.replace(FAST, request_timeout_s=0.3)

    async def scenario() -> None:
        venue = venue_for(sim, config)
        try:
            resting = await venue.prepare(order(market, Side.BUY, 300_000, 5_000_000))
            result = await venue.submit(resting)
            assert (result.venue_order_id, result.status) == (resting.venue_order_id, VenueOrderStatus.LIVE)
            taker = await venue.prepare(order(market, Side.BUY, 600_000, 10_000_000, Tif.FOK))
            matched = await venue.submit(taker)  # matched in full: found through its trade
            assert matched.status is VenueOrderStatus.MATCHED and len(matched.trade_ids) == 1
            batch = [await venue.prepare(order(market, Side.BUY, p, 5_000_000)) for p in (200_000, 210_000)]
            results = await venue.submit_many(batch)
            assert [r.status for r in results] == [VenueOrderStatus.LIVE, VenueOrderStatus.LIVE]
            assert sim.open_order_count(venue.signer.funder) == 3
            fills = [f for f in await venue.trades() if f.venue_order_id == taker.venue_order_id]
            assert len(fills) == 1 and fills[0].size == 10_000_000
            taken = sim.call(lambda: [t.id for t in sim.sim.trades.by_id.values()
                                      if t.taker.id == taker.venue_order_id])
            assert taken == list(matched.trade_ids)  # the simulator matched it exactly once
        finally:
            await venue.close()

    run(scenario(), timeout=60)
    assert fault_stats(sim)["timeouts"] >= 3


def test_latency_beyond_the_timeout_is_an_unknown_outcome_and_resending_is_safe(sim: SimHandle,
                                                                                faults: Any) -> None:
    market = fresh_market(sim)
    config = dataclasses.replace(FAST, request_timeout_s=0.2, retry=RetryPolicy(attempts=2, base_s=0.01, cap_s=0.01))

    async def scenario() -> None:
        venue = venue_for(sim, config)
        try:
            await venue.connect()
            faults(latency_ms=50)
            quick = await venue.submit(await venue.prepare(order(market, Side.BUY, 100_000, 5_000_000)))
            assert quick.status is VenueOrderStatus.LIVE
            faults(latency_ms=600)
            slow = await venue.prepare(order(market, Side.BUY, 110_000, 5_000_000))
            with pytest.raises(VenueUnavailable):
                await venue.submit(slow)  # sent, timed out, and the lookups timed out too
            faults(latency_ms=0)
            await asyncio.sleep(0.8)
            # The simulator drops a request whose client hung up, so this one never landed;
            # sending the same signed bytes again is safe either way: one order id, one order.
            assert await venue.get_order(slow.venue_order_id) is None
            again = await venue.submit(slow)
            assert (again.venue_order_id, again.status) == (slow.venue_order_id, VenueOrderStatus.LIVE)
            assert sim.open_order_count(venue.signer.funder) == 2
        finally:
            await venue.close()

    run(scenario())


def test_cancel_all_drops_queued_placements_and_skips_the_rate_limit(sim: SimHandle) -> None:
    market = fresh_market(sim)
    tight = dict(PUBLISHED_LIMITS, place=((2, 10.0),), cancel=((2, 10.0),))
    config = dataclasses.replace(FAST, limits=tight)

    async def scenario() -> None:
        venue = venue_for(sim, config)
        try:
            prepared = [await venue.prepare(order(market, Side.BUY, 100_000 + i * 10_000, 5_000_000))
                        for i in range(5)]
            first = await venue.submit(prepared[0])  # spends the only placement token
            assert first.status is VenueOrderStatus.LIVE
            await venue.cancel(["0x" + "cd" * 32])  # spends the only cancel token
            queued = [asyncio.create_task(venue.submit(p)) for p in prepared[1:]]
            await asyncio.sleep(0.2)
            assert not any(t.done() for t in queued)  # all waiting for the bucket
            began = asyncio.get_running_loop().time()
            result = await venue.cancel_all()
            assert asyncio.get_running_loop().time() - began < 1.0  # not rate-limited
            outcomes = await asyncio.gather(*queued, return_exceptions=True)
            assert all(isinstance(o, PlacementDropped) for o in outcomes)
            assert result.canceled == (first.venue_order_id,)
            await asyncio.sleep(0.3)
            assert sim.open_order_count(venue.signer.funder) == 0
        finally:
            await venue.close()

    run(scenario())


def test_cancel_all_sweeps_a_placement_already_in_flight(sim: SimHandle, faults: Any) -> None:
    market = fresh_market(sim)
    faults(latency_ms=300)

    async def scenario() -> None:
        venue = venue_for(sim)
        try:
            prepared = await venue.prepare(order(market, Side.BUY, 100_000, 5_000_000))
            in_flight = asyncio.create_task(venue.submit(prepared))
            await asyncio.sleep(0.05)  # the POST is on the wire
            await venue.cancel_all()
            placed = await in_flight
            assert placed.status is VenueOrderStatus.LIVE  # it landed...
            assert sim.open_order_count(venue.signer.funder) == 0  # ...and the second pass swept it
        finally:
            await venue.close()

    run(scenario())
