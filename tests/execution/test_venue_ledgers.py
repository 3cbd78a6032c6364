"""One file, two venues' ledgers: a Kalshi paper venue and executor beside the Polymarket paper
desk, on one SQLite file and one book cache. Each venue's orders, fills, positions and cash are its
own (the `venue` column, migration 0052), the Kalshi paper venue charges Kalshi's fees (to $0.0001,
with its rounding) on fractions of a contract at sub-penny prices and refuses what Kalshi refuses,
and a restart reads each venue's rows back to that venue only."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

import pytest

from contracts.domain import Intent, MarketInfo, Quote, Side, Tif
from contracts.venues import KALSHI, POLYMARKET
from contracts.venues.kalshi.grid import WHOLE_CENTS, Band
from contracts.venues.kalshi.ids import CENT, CONTRACT, LOT, market_id, token_id
from engine.execution.cash_book import paper_starting_cash
from engine.execution.executor import Executor
from engine.feeds.catalog import MarketCatalog
from engine.feeds.market_data_events import TradePrint
from engine.venues.base import OrderRejected, OrderRequest
from engine.venues.paper import PaperConfig, PaperVenue
from tests.desk import Desk, make_desk
from tests.execution.fakes import SH, p

TICKER = "KXTEST-26"
CID, YES, NO = market_id(TICKER), token_id(TICKER, "yes"), token_id(TICKER, "no")
START = 1_000 * SH


@dataclass
class KalshiSide:
    venue: PaperVenue
    executor: Executor


def kalshi_side(desk: Desk, *, fee_type: str = "quadratic", grid: tuple[Band, ...] = WHOLE_CENTS,
                market: MarketInfo | None = None) -> KalshiSide:
    """A Kalshi paper venue and executor on the desk's file and books, on one market (`market`, or a
    test market of `fee_type` on `grid`)."""
    catalog = MarketCatalog([market or MarketInfo(condition_id=CID, question="Kalshi: test?", yes_token=YES,
                                                  no_token=NO, tick=CENT, min_size=LOT, kalshi_fee_type=fee_type,
                                                  kalshi_fee_multiplier_ppm=1_000_000, price_grid=grid)])
    config = PaperConfig(starting_cash=START, latency=desk.venue.config.latency)
    venue = PaperVenue(desk.db, desk.books, catalog, config=config, clock=desk.clock, venue_name=KALSHI)
    counter = iter(range(1, 10**9))
    executor = Executor(desk.db, venue, catalog, mode="paper", clock=desk.clock, venue_name=KALSHI,
                        new_client_id=lambda: f"k-{next(counter)}", gate=desk.executor.gate)
    with desk.db.write() as conn:
        paper_starting_cash(conn, START, desk.clock(), venue=KALSHI)
    desk.run(venue.start())
    executor.load()
    return KalshiSide(venue, executor)


def step(desk: Desk, executor: Executor, *intents: Intent) -> None:
    executor.set_intents(intents)
    desk.run(executor.reconcile())
    executor.drain()


@pytest.fixture
def desk(tmp_path: Path) -> Desk:
    desk = make_desk(tmp_path / "d.db", config=PaperConfig(starting_cash=START))
    with desk.db.write() as conn:
        paper_starting_cash(conn, START, desk.clock(), POLYMARKET)
    desk.executor.load()
    return desk


def test_kalshi_fills_pay_kalshis_fee_and_stay_in_kalshis_ledger(desk: Desk) -> None:
    kalshi = kalshi_side(desk)
    desk.books.set(YES, bids=[(0.38, 50)], asks=[(0.40, 50)])
    step(desk, kalshi.executor, Intent("arb", CID, (Quote(Side.BUY, p(0.40), 10 * SH, Tif.FAK),)))
    # 0.07 x 10 x 0.40 x 0.60 = $0.1680, rounded up to $0.0001 (no longer to the cent)
    assert desk.rows("SELECT venue, token_id, price, size, fee, liquidity FROM fills") == [
        (KALSHI, YES, p(0.40), 10 * SH, 168_000, "TAKER")]
    assert kalshi.executor.state.cash == START - 4 * SH - 168_000
    assert kalshi.executor.state.totals("arb", YES).size == 10 * SH
    assert desk.rows("SELECT venue, mode FROM orders") == [(KALSHI, "paper")]
    assert desk.rows("SELECT venue FROM positions") == [(KALSHI,)]
    # Polymarket's paper ledger is untouched: its cash, its positions, its orders.
    desk.executor.load()
    assert desk.executor.state.cash == START
    assert desk.executor.state.positions == {}
    # The deposits are one per venue, kept apart although both are `paper`'s `initial`.
    assert sorted(desk.rows("SELECT venue, ref FROM cash_ledger")) == [(KALSHI, "kalshi:initial"),
                                                                       (POLYMARKET, "initial")]


def test_each_venue_reloads_only_its_own_orders_and_resting_book(desk: Desk) -> None:
    kalshi = kalshi_side(desk)
    desk.books.set("Y1", bids=[(0.48, 100)], asks=[(0.52, 100)])
    desk.books.set(YES, bids=[(0.38, 50)], asks=[(0.42, 50)])
    step(desk, desk.executor, Intent("mm", "c1", (Quote(Side.BUY, p(0.49), 10 * SH),)))
    step(desk, kalshi.executor, Intent("mm", CID, (Quote(Side.BUY, p(0.39), 5 * SH),)))
    assert sorted(desk.rows("SELECT venue, status FROM orders")) == [(KALSHI, "LIVE"), (POLYMARKET, "LIVE")]
    # A restart: each executor and each paper venue reads back its own venue's rows.
    desk.executor.load()
    kalshi.executor.load()
    assert [o.token_id for o in desk.executor.state.orders.values()] == ["Y1"]
    assert [o.token_id for o in kalshi.executor.state.orders.values()] == [YES]
    polymarket_again = PaperVenue(desk.db, desk.books, desk.catalog, clock=desk.clock)
    kalshi_again = PaperVenue(desk.db, desk.books, kalshi.venue.catalog, clock=desk.clock, venue_name=KALSHI)
    desk.run(polymarket_again.start())
    desk.run(kalshi_again.start())
    assert {o.token_id for o in polymarket_again.resting.values()} == {"Y1"}
    assert {o.token_id for o in kalshi_again.resting.values()} == {YES}


def test_a_kalshi_maker_pays_the_maker_fee_only_where_the_market_charges_it(desk: Desk) -> None:
    kalshi = kalshi_side(desk, fee_type="quadratic_with_maker_fees")
    desk.books.set(YES, bids=[(0.38, 50)], asks=[(0.45, 50)])
    step(desk, kalshi.executor, Intent("mm", CID, (Quote(Side.BUY, p(0.40), 10 * SH),)))
    desk.books.set(YES, bids=[(0.38, 50)], asks=[(0.40, 50)])  # the ask comes down to us: our bid is ahead
    kalshi.venue.on_market_event(TradePrint(YES, p(0.40), 10 * SH, Side.SELL, desk.clock()))
    kalshi.executor.drain()
    fills = desk.rows("SELECT liquidity, size, fee FROM fills WHERE venue = 'kalshi'")
    assert fills and all(liquidity == "MAKER" for liquidity, _, _ in fills)
    # 0.0175 x C x 0.40 x 0.60 = $0.0042 a contract on each maker fill, rounded up to $0.0001
    assert all(fee == -(-size * 4_200 // (CONTRACT * 100)) * 100 for _, size, fee in fills)
    assert sum(fee for _, _, fee in fills) > 0


@pytest.mark.parametrize(("price", "size", "tif", "why"), [
    (p(0.405), 10 * SH, Tif.GTC, "not on the market's price grid"),
    (p(0.40), 15 * SH // 1000, Tif.GTC, "steps of 0.01"),
    (p(0.40), 10 * SH, Tif.GTD, "not sent to Kalshi"),
])
def test_the_kalshi_paper_venue_refuses_what_kalshi_refuses(desk: Desk, price: int, size: int, tif: Tif,
                                                            why: str) -> None:
    kalshi = kalshi_side(desk)
    desk.books.set(YES, bids=[(0.38, 50)], asks=[(0.45, 50)])
    request = OrderRequest("c-1", CID, YES, Side.BUY, price, size, tif, expires_at_s=desk.clock() // 1000 + 3600)
    with pytest.raises(OrderRejected, match=why):
        desk.run(kalshi.venue.submit(desk.run(kalshi.venue.prepare(request))))
    assert desk.rows("SELECT COUNT(*) FROM paper_orders") == [(0,)]


def test_kalshi_paper_fills_fractions_of_a_contract_at_sub_penny_prices(desk: Desk) -> None:
    """A market on Kalshi's tapered deci-cent grid: a buy of 2.5 contracts at up to $0.05 takes the
    $0.045 ask and is booked as such, its fee 0.07 x 2.5 x 0.045 x 0.955 = $0.00752 rounded up to
    $0.0076, nothing in cents."""
    tapered = ((0, 100_000, 1_000), (100_000, 900_000, 10_000), (900_000, 1_000_000, 1_000))
    kalshi = kalshi_side(desk, grid=tapered)
    desk.books.set(YES, bids=[(0.044, 50)], asks=[(0.045, 50)])
    step(desk, kalshi.executor, Intent("arb", CID, (Quote(Side.BUY, p(0.05), 5 * SH // 2, Tif.FAK),)))
    assert desk.rows("SELECT price, size, fee FROM fills") == [(45_000, 2_500_000, 7_600)]
    assert kalshi.executor.state.cash == START - 112_500 - 7_600
    assert kalshi.executor.state.totals("arb", YES).size == 5 * SH // 2


def test_cancel_all_with_the_engine_down_cancels_every_venues_resting_orders(desk: Desk) -> None:
    from engine.venues.paper import cancel_all_resting

    kalshi = kalshi_side(desk)
    desk.books.set("Y1", bids=[(0.48, 100)], asks=[(0.52, 100)])
    desk.books.set(YES, bids=[(0.38, 50)], asks=[(0.42, 50)])
    step(desk, desk.executor, Intent("mm", "c1", (Quote(Side.BUY, p(0.49), 10 * SH),)))
    step(desk, kalshi.executor, Intent("mm", CID, (Quote(Side.BUY, p(0.39), 5 * SH),)))
    result = asyncio.new_event_loop().run_until_complete(cancel_all_resting(desk.db))
    assert len(result.canceled) == 2
    assert desk.rows("SELECT COUNT(*) FROM paper_orders WHERE status = 'LIVE'") == [(0,)]
