"""Live orders on a Protocol V2 market: the desk's venue signs them for ExchangeV3 (domain "3")
through py-clob-client-v2's own builder, the simulator verifies them and refuses the same order
signed for the V2 exchange, and the position's balance is read as `CONDITIONAL-V2`."""

from __future__ import annotations

import json
from typing import Any

import pytest
from py_clob_client_v2.config import get_contract_config

from contracts.domain import Side, Tif
from engine.venues.base import OrderRejected, VenueOrderStatus
from engine.venues.polymarket.venue import PolymarketVenue
from simulator.testing import SimHandle
from tests.venues.conftest import FAST, order, run, settings_for


def _v2_market(sim: SimHandle) -> dict[str, Any]:
    market = next(m for m in sim.markets() if m["protocol_v2"])
    sim.clear_book(market["condition_id"])
    return market


def test_a_v2_market_order_is_signed_for_exchange_v3_and_accepted(sim: SimHandle) -> None:
    market = _v2_market(sim)
    position = market["yes_token_id"]
    sim.place_liquidity(position, "SELL", "0.50", "20")
    size = round(float(market["min_size"]) * 1_000_000)

    async def scenario() -> None:
        venue = PolymarketVenue(settings_for(sim), FAST, is_v2_position=lambda token: token == position)
        try:
            resting = await venue.prepare(order(market, Side.BUY, 300_000, size, protocol_v2=True))
            assert json.loads(resting.payload)["order"]["tokenId"] == position
            assert venue.signer is not None
            assert venue.signer.exchange_for(resting.request).contract_address == \
                get_contract_config(137).exchange_v3
            placed = await venue.submit(resting)
            assert placed.status is VenueOrderStatus.LIVE and placed.venue_order_id == resting.venue_order_id
            taken = await venue.submit(await venue.prepare(order(market, Side.BUY, 500_000, size, Tif.FOK,
                                                                 protocol_v2=True)))
            assert taken.status is VenueOrderStatus.MATCHED
            held = await venue.balances([position])  # asked as CONDITIONAL-V2: the simulator refuses CONDITIONAL
            assert held.tokens[position] == size
        finally:
            await venue.close()

    run(scenario())


def test_a_v1_signed_order_on_a_v2_market_is_refused(sim: SimHandle) -> None:
    market = _v2_market(sim)
    size = round(float(market["min_size"]) * 1_000_000)

    async def scenario() -> None:
        venue = PolymarketVenue(settings_for(sim), FAST)
        try:
            with pytest.raises(OrderRejected, match="invalid signature"):
                await venue.submit(await venue.prepare(order(market, Side.BUY, 300_000, size)))
            with pytest.raises(OrderRejected, match="neg-risk Protocol V2"):
                await venue.prepare(order(market, Side.BUY, 300_000, size, protocol_v2=True, neg_risk=True))
        finally:
            await venue.close()

    run(scenario())
