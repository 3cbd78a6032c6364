"""A taker fill on a market whose fee schedule the trading core does not know is never booked
with a fee of 0 for want of one: the adapter reads the schedule from the venue first (on the
user channel, in order, and on every REST read of trades); only when the venue cannot tell it
either does the fill go out marked fee_known=False, which the executor alerts on."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from py_clob_client_v2.exceptions import PolyException

from contracts.domain import Side, Tif
from engine.venues.base import TradeEvent, VenueEvent
from engine.venues.polymarket.venue import PolymarketVenue
from simulator.testing import SimHandle, approved_simulator
from tests.venues.conftest import QUIET, collect, eventually, fresh_market, order, run, venue_for

SHARE = 1_000_000


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    # Every market charges the venue's crypto-style taker fee: r = 0.05, e = 1.
    with approved_simulator(seed=67, fee_rate="0.05", **QUIET) as handle:
        yield handle


def _taker_fills(events: list[VenueEvent], order_id: str) -> list[tuple[int, bool]]:
    return [(e.trade.fee, e.trade.fee_known) for e in events
            if isinstance(e, TradeEvent) and e.trade.venue_order_id == order_id]


async def _take(sim: SimHandle, venue: PolymarketVenue, events: list[VenueEvent]) -> str:
    """A FOK BUY of 10 shares at 0.50 against a resting ask: a taker fill, fee r·p(1−p) a share."""
    market = fresh_market(sim, index=1)
    sim.place_liquidity(market["yes_token_id"], "SELL", "0.50", "10")
    await venue.start()
    collect(venue, events)
    await eventually(lambda: venue._user is not None and venue._user.stats.connected)
    buy = await venue.prepare(order(market, Side.BUY, 500_000, 10 * SHARE, Tif.FOK))
    await venue.submit(buy)
    return buy.venue_order_id


def test_an_unknown_schedule_is_read_from_the_venue_before_the_fill_is_priced(sim: SimHandle) -> None:
    async def scenario() -> None:
        events: list[VenueEvent] = []
        venue = venue_for(sim)  # no schedules from a catalog: every market is unknown to it
        try:
            order_id = await _take(sim, venue, events)
            await eventually(lambda: _taker_fills(events, order_id), timeout=10)
            charged = 10 * 12_500  # 0.05 × 0.50 × 0.50 = 0.0125 pUSD a share
            assert set(_taker_fills(events, order_id)) == {(charged, True)}
            (fill,) = {t.trade_id: t for t in await venue.trades() if t.venue_order_id == order_id}.values()
            assert (fill.fee, fill.fee_known) == (charged, True)  # and over REST alike
        finally:
            await venue.close()

    run(scenario())


def test_a_schedule_the_venue_cannot_give_marks_the_fill_instead_of_a_silent_zero(sim: SimHandle) -> None:
    async def scenario() -> None:
        events: list[VenueEvent] = []
        venue = venue_for(sim)
        await venue.connect()
        assert venue.client is not None

        def unreadable(condition_id: str) -> dict[str, object]:
            raise PolyException(f"failed to fetch market info for condition id {condition_id}")

        venue.client.get_clob_market_info = unreadable
        try:
            order_id = await _take(sim, venue, events)
            await eventually(lambda: _taker_fills(events, order_id), timeout=10)
            assert set(_taker_fills(events, order_id)) == {(0, False)}
        finally:
            await venue.close()

    run(scenario())
