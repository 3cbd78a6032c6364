"""The live adapter's heartbeat chain against the strict simulator: rotating ids, answers lost on
the way, and a restarted process joining the chain that still lives, all without the dead-man
switch cancelling anything."""

from __future__ import annotations

import dataclasses

from contracts.domain import Side
from engine.venues.polymarket.venue import PolymarketVenue
from simulator.testing import SimHandle, approved_simulator
from tests.venues.conftest import FAST, QUIET, eventually, fresh_market, new_key, order, run, venue_for

# The venue's 5 s interval against a 10 s deadline, scaled down (the same ratio, with room for a
# loaded machine).
BEAT = dataclasses.replace(FAST, heartbeat_s=0.5)


def _beats(sim: SimHandle, api_key: str) -> dict[str, int]:
    """The simulator's heartbeat counters for one API key (zeros before its first send)."""
    return sim.heartbeats().get(api_key, {"accepted": 0, "refused_stale": 0, "answers_dropped": 0,
                                          "chains_lapsed": 0, "dead_man_cancelled": 0, "chain_alive": False})


async def _rest_one(venue: PolymarketVenue, market: dict[str, object]) -> str:
    prepared = await venue.prepare(order(market, Side.BUY, 10_000, 10_000_000))
    result = await venue.submit(prepared)
    assert result.error is None
    return result.venue_order_id


def test_lost_heartbeat_answers_are_recovered_from_the_venues_400_and_nothing_is_cancelled() -> None:
    with approved_simulator(seed=31, heartbeat_timeout_s=2.0, heartbeat_drop_rate=0.4, **QUIET) as sim:
        market = fresh_market(sim)
        venue = venue_for(sim, BEAT)

        async def scenario() -> None:
            await venue.start()
            try:
                order_id = await _rest_one(venue, market)
                stats = lambda: _beats(sim, venue._api_key)  # noqa: E731
                # Enough lost answers (each one processed by the venue) to have tested the recovery.
                await eventually(lambda: stats()["answers_dropped"] >= 4 and stats()["accepted"] >= 12, timeout=30)
                assert stats()["dead_man_cancelled"] == 0 and stats()["chain_alive"]
                assert venue.heartbeats is not None and venue.heartbeats.stats.recovered >= 1
                assert venue.heartbeats.stats.restarted == 0  # never "" while the chain lived
                found = await venue.get_order(order_id)
                assert found is not None and found.status.value == "LIVE"
            finally:
                await venue.close()

        run(scenario(), timeout=60)


def test_a_restarted_process_joins_the_chain_that_still_lives() -> None:
    """A second adapter on the same key (the engine restarted within the deadline) starts with
    "": the venue refuses it and names the live chain's id, which the adapter carries on with."""
    with approved_simulator(seed=32, heartbeat_timeout_s=2.0, **QUIET) as sim:
        market = fresh_market(sim)
        key = new_key()
        first = venue_for(sim, BEAT, key=key)

        async def scenario() -> None:
            await first.start()
            order_id = await _rest_one(first, market)
            await eventually(lambda: _beats(sim, first._api_key)["accepted"] >= 2)
            await first.close()
            second = venue_for(sim, BEAT, key=key)
            await second.start()
            try:
                assert second.heartbeats is not None
                await eventually(lambda: second.heartbeats.stats.accepted >= 6, timeout=15)
                stats = sim.heartbeats()[second._api_key]
                assert second.heartbeats.stats.recovered == 1 and second.heartbeats.stats.restarted == 0
                assert stats["dead_man_cancelled"] == 0 and stats["chains_lapsed"] == 0
                found = await second.get_order(order_id)
                assert found is not None and found.status.value == "LIVE"
            finally:
                await second.close()

        run(scenario(), timeout=60)


def test_a_lapsed_chain_is_restarted_once_the_venue_says_it_is_gone() -> None:
    with approved_simulator(seed=33, heartbeat_timeout_s=0.6, **QUIET) as sim:
        market = fresh_market(sim)
        venue = venue_for(sim, dataclasses.replace(FAST, heartbeat_s=0.2))

        async def scenario() -> None:
            await venue.start()
            try:
                chain = venue.heartbeats
                assert chain is not None
                order_id = await _rest_one(venue, market)
                await eventually(lambda: chain.stats.accepted >= 2)
                chain.interval_s = 1.5  # the engine froze past the deadline
                await eventually(lambda: _beats(sim, venue._api_key)["chains_lapsed"] == 1, timeout=10)
                chain.interval_s = 0.2
                await eventually(lambda: chain.stats.restarted == 1, timeout=10)
                accepted = chain.stats.accepted
                await eventually(lambda: chain.stats.accepted >= accepted + 2)
                assert sim.heartbeats()[venue._api_key]["chain_alive"]
                assert sim.open_order_count(venue.signer.funder) == 0  # the switch did fire
                assert await venue.get_order(order_id) is None  # and the venue forgot the cancelled order
            finally:
                await venue.close()

        run(scenario(), timeout=60)

