"""The user channel through the venue: our side of every fill, status changes re-delivered,
and reconnects (with dropped, duplicated and reordered frames) that lose no fill."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from contracts.domain import Side, Tif
from engine.venues.base import OrderEvent, TradeEvent, TradeStatus, VenueEvent, VenueOrderStatus
from engine.venues.polymarket.venue import PolymarketVenue
from simulator.testing import SimHandle
from tests.venues.conftest import collect, eventually, fresh_market, order, run, venue_for

SETTLED = (TradeStatus.CONFIRMED, TradeStatus.FAILED)


@pytest.fixture
def faults(sim: SimHandle) -> Iterator[Any]:
    yield sim.set_faults
    sim.clear_faults()


def fills(events: list[VenueEvent]) -> list[Any]:
    return [e.trade for e in events if isinstance(e, TradeEvent)]


def _trade_statuses(sim: SimHandle, venue: PolymarketVenue) -> list[str]:
    """The simulator's own ledger: the status of each of the venue's trades."""
    api_key = venue._auth["apiKey"]
    return sim.call(lambda: [t.status for t in sim.sim.trades.for_owner(api_key)])


def statuses_of(events: list[VenueEvent], order_id: str) -> list[TradeStatus]:
    return [t.status for t in fills(events) if t.venue_order_id == order_id]


async def started(venue: PolymarketVenue, events: list[VenueEvent]) -> PolymarketVenue:
    await venue.start()
    collect(venue, events)
    await eventually(lambda: venue._user is not None and venue._user.stats.connected)
    return venue


def test_maker_and_taker_each_get_their_own_side_and_every_status(sim: SimHandle) -> None:
    market = fresh_market(sim)
    yes, no = market["yes_token_id"], market["no_token_id"]

    async def scenario() -> None:
        maker_events: list[VenueEvent] = []
        taker_events: list[VenueEvent] = []
        maker = await started(venue_for(sim), maker_events)
        taker = await started(venue_for(sim), taker_events)
        try:
            sim.fund(taker.signer.funder, token_id=yes, tokens="10")
            bid = await maker.prepare(order(market, Side.BUY, 400_000, 15_000_000))
            await maker.submit(bid)
            sell = await taker.prepare(order(market, Side.SELL, 400_000, 10_000_000, Tif.FOK))
            await taker.submit(sell)
            # The rest of the bid meets a buyer of NO at 0.60: a mint, both sides buying.
            mint = await taker.prepare(order(market, Side.BUY, 600_000, 5_000_000, Tif.FOK, outcome="no"))
            await taker.submit(mint)
            await eventually(lambda: len([s for s in statuses_of(maker_events, bid.venue_order_id)
                                          if s is TradeStatus.CONFIRMED]) == 2, timeout=10)
            await eventually(lambda: TradeStatus.CONFIRMED in statuses_of(taker_events, mint.venue_order_id))
            maker_fills = {(t.trade_id, t.status): t for t in fills(maker_events)}
            for trade in maker_fills.values():
                assert (trade.venue_order_id, trade.side, trade.price, trade.liquidity, trade.token_id) == (
                    bid.venue_order_id, Side.BUY, 400_000, "MAKER", yes)
            assert sorted({t.size for t in maker_fills.values()}) == [5_000_000, 10_000_000]
            assert statuses_of(maker_events, bid.venue_order_id)[:1] == [TradeStatus.MATCHED]
            assert {TradeStatus.MATCHED, TradeStatus.MINED, TradeStatus.CONFIRMED} <= set(
                statuses_of(maker_events, bid.venue_order_id))
            [sold] = {(t.side, t.price, t.size, t.liquidity, t.token_id)
                      for t in fills(taker_events) if t.venue_order_id == sell.venue_order_id}
            assert sold == (Side.SELL, 400_000, 10_000_000, "TAKER", yes)
            [minted] = {(t.side, t.price, t.liquidity, t.token_id)
                        for t in fills(taker_events) if t.venue_order_id == mint.venue_order_id}
            assert minted == (Side.BUY, 600_000, "TAKER", no)
            final = [e.order for e in maker_events if isinstance(e, OrderEvent)][-1]
            assert (final.venue_order_id, final.status, final.filled) == (
                bid.venue_order_id, VenueOrderStatus.MATCHED, 15_000_000)
        finally:
            await maker.close()
            await taker.close()

    run(scenario())


def test_reconcile_recovers_what_happened_while_disconnected(sim: SimHandle) -> None:
    market = fresh_market(sim)

    async def scenario() -> None:
        events: list[VenueEvent] = []
        venue = venue_for(sim)
        venue._sink = events.append  # connected to nothing: every event must come from the reconcile
        try:
            resting = await venue.prepare(order(market, Side.BUY, 300_000, 5_000_000))
            await venue.submit(resting)
            filled = await venue.prepare(order(market, Side.BUY, 310_000, 5_000_000))
            await venue.submit(filled)
            sim.place_liquidity(market["yes_token_id"], "SELL", "0.31", "5")
            await eventually(lambda: _trade_statuses(sim, venue) == ["CONFIRMED"], 10)  # all while "away"
            await venue._on_user_connected()
            orders = {e.order.venue_order_id: e.order.status for e in events if isinstance(e, OrderEvent)}
            assert orders == {resting.venue_order_id: VenueOrderStatus.LIVE,
                              filled.venue_order_id: VenueOrderStatus.MATCHED}
            assert statuses_of(events, filled.venue_order_id) == [TradeStatus.CONFIRMED]
        finally:
            await venue.close()

    run(scenario())


def test_dropped_duplicated_and_reordered_frames_lose_no_fill(sim: SimHandle, faults: Any) -> None:
    market = fresh_market(sim)
    yes = market["yes_token_id"]
    faults(ws_drop_every=5, ws_dup_rate=0.3, ws_reorder_rate=0.3)

    async def scenario() -> None:
        events: list[VenueEvent] = []
        venue = await started(venue_for(sim), events)
        try:
            bids = []
            for i in range(6):
                prepared = await venue.prepare(order(market, Side.BUY, 300_000 + i * 10_000, 5_000_000))
                await venue.submit(prepared)
                bids.append(prepared.venue_order_id)
            for i in range(6):
                sim.place_liquidity(yes, "SELL", f"{0.35 - i * 0.01:.2f}", "5")
                await asyncio.sleep(0.15)
            api_key = venue._auth["apiKey"]
            await eventually(lambda: len(_trade_statuses(sim, venue)) == 6, 10)
            truth = set(sim.call(lambda: [(t.id, leg.order.id) for t in sim.sim.trades.for_owner(api_key)
                                          for leg in t.makers if leg.order.owner == api_key]))
            assert len(truth) == 6 and {oid for _, oid in truth} == set(bids)  # the simulator's own ledger

            def all_confirmed() -> bool:
                seen: dict[tuple[str, str], set[TradeStatus]] = {}
                for t in fills(events):
                    seen.setdefault((t.trade_id, t.venue_order_id), set()).add(t.status)
                return set(seen) == truth and all(TradeStatus.CONFIRMED in s for s in seen.values())

            await eventually(all_confirmed, timeout=15)
            assert venue._user.stats.connects >= 2  # the drops really happened
        finally:
            await venue.close()

    run(scenario(), timeout=60)
