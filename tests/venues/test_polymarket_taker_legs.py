"""A taker order that takes several price levels is booked leg by leg, as the venue settles
it: the ledger's cash moves by exactly what the wallet does (the size-weighted average price
of one fill drifted a few micro-units on every such order, which the live balance watch
would report as an unexplained drift)."""

from __future__ import annotations

from contracts.domain import Side, Tif
from engine.execution.ledger import FillFact, cash_effect
from engine.venues.base import VenueTrade
from engine.venues.polymarket.wire import Identity, our_fills
from simulator.testing import SimHandle
from tests.venues.conftest import fresh_market, order, run, venue_for

TAKER = Identity.of(["our-key"], ["0xours"])


def _as_fact(fill: VenueTrade) -> FillFact:
    return FillFact(side=fill.side, price=fill.price, size=fill.size, fee=fill.fee, status=fill.status)


def _trade(makers: list[dict[str, str]]) -> dict[str, object]:
    return {"id": "t-1", "taker_order_id": "0xtaker", "market": "0xcond", "asset_id": "yes", "side": "BUY",
            "size": "10.333333", "price": "0.52", "status": "TRADE_STATUS_MATCHED", "match_time": "1700000000",
            "owner": "our-key", "trader_side": "TAKER", "maker_orders": makers}


def test_a_trade_against_two_makers_is_two_fills_at_their_own_prices() -> None:
    makers = [{"order_id": "0xm1", "owner": "other", "matched_amount": "3.333333", "price": "0.5", "asset_id": "yes"},
              {"order_id": "0xm2", "owner": "other", "matched_amount": "7", "price": "0.49", "asset_id": "no"}]
    fills = our_fills(_trade(makers), TAKER)
    assert [(f.trade_id, f.price, f.size) for f in fills] == [
        ("t-1/0xm1", 500_000, 3_333_333), ("t-1/0xm2", 510_000, 7_000_000)]  # a mint: 1 − 0.49
    # Each leg's cash rounded down on its own, as the venue settles: 1.6666665 → 1.666666, plus 3.57.
    assert sum(cash_effect(_as_fact(f)) for f in fills) == -(1_666_666 + 3_570_000)


def test_a_trade_against_one_maker_keeps_the_venues_trade_id() -> None:
    maker = {"order_id": "0xm1", "owner": "other", "matched_amount": "10.333333", "price": "0.5", "asset_id": "yes"}
    [fill] = our_fills(_trade([maker]), TAKER)
    assert (fill.trade_id, fill.price, fill.size) == ("t-1", 500_000, 10_333_333)


def test_a_fak_across_three_levels_moves_the_ledger_as_the_wallet(sim: SimHandle) -> None:
    market = fresh_market(sim)
    yes = market["yes_token_id"]
    for price, size in (("0.5", "3.333333"), ("0.51", "2.777777"), ("0.52", "4.1")):
        sim.place_liquidity(yes, "SELL", price, size)

    async def scenario() -> None:
        venue = venue_for(sim)
        try:
            before = await venue.balances([yes])
            placed = await venue.submit(await venue.prepare(order(market, Side.BUY, 520_000, 10_000_000, Tif.FAK)))
            after = await venue.balances([yes])
            fills = [f for f in await venue.trades() if f.venue_order_id == placed.venue_order_id]
            assert len(fills) == 3 and len({f.trade_id for f in fills}) == 3
            # A market BUY spends its budget (0.52 × 10), so the cheaper levels buy more than 10 shares.
            assert sum(f.size for f in fills) == after.tokens[yes] - before.tokens[yes] > 10_000_000
            assert sum(cash_effect(_as_fact(f)) for f in fills) == after.collateral - before.collateral
        finally:
            await venue.close()

    run(scenario())
