"""The paper fill model does not flatter: queue position, partial fills, no phantom fills."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.domain import Intent, Quote, Side, Tif
from engine.feeds.events import BookChanged, MarketResolved, TradePrint
from engine.venues.base import OrderRejected, OrderRequest
from engine.venues.paper import FOK_NOT_FILLED, POST_ONLY_CROSSES, PaperConfig
from tests.desk import Desk, make_desk
from tests.execution.fakes import SH, p


def request(desk: Desk, side: Side, price: float, size: float, tif: Tif = Tif.GTC, post_only: bool = False,
            token: str = "Y1", cid: str = "c1") -> OrderRequest:
    return OrderRequest(f"r{len(desk.venue.resting)}-{price}-{size}-{tif}", cid, token, side, p(price),
                        round(size * SH), tif, post_only)


def place(desk: Desk, *args, **kw):  # type: ignore[no-untyped-def]
    prepared = desk.run(desk.venue.prepare(request(desk, *args, **kw)))
    return desk.run(desk.venue.submit(prepared))


def paper_trades(desk: Desk) -> list[tuple]:  # type: ignore[type-arg]
    return desk.rows("SELECT price, size, liquidity, status FROM paper_trades ORDER BY matched_at, trade_id")


def test_resting_order_waits_for_the_queue_ahead(desk: Desk) -> None:
    desk.books.set("Y1", bids=[(0.50, 100)], asks=[(0.52, 50)])
    place(desk, Side.BUY, 0.50, 20)
    order = next(iter(desk.venue.resting.values()))
    assert order.queue_ahead == 100 * SH
    desk.venue.on_market_event(TradePrint("Y1", p(0.50), 60 * SH, Side.SELL, desk.clock()))
    assert paper_trades(desk) == [] and order.queue_ahead == 40 * SH
    desk.venue.on_market_event(TradePrint("Y1", p(0.50), 50 * SH, Side.SELL, desk.clock()))
    assert paper_trades(desk) == [(p(0.50), 10 * SH, "MAKER", "MATCHED")]  # partial: 10 of 20
    assert order.filled == 10 * SH and order.queue_ahead == 0


def test_no_fill_without_a_trade_at_or_through_the_price(desk: Desk) -> None:
    desk.books.set("Y1", bids=[(0.50, 10)], asks=[(0.52, 50)])
    place(desk, Side.BUY, 0.50, 20)
    # Trades above our bid, buyer-initiated trades, and book moves that do not cross: nothing.
    desk.venue.on_market_event(TradePrint("Y1", p(0.51), 500 * SH, Side.SELL, desk.clock()))
    desk.venue.on_market_event(TradePrint("Y1", p(0.50), 500 * SH, Side.BUY, desk.clock()))
    desk.books.set("Y1", bids=[(0.50, 5), (0.49, 100)], asks=[(0.51, 50)])
    desk.venue.on_market_event(BookChanged("Y1", desk.clock()))
    assert paper_trades(desk) == []
    # The level shrank to 5: at most 5 can still be ahead of us.
    assert next(iter(desk.venue.resting.values())).queue_ahead == 5 * SH


def test_trade_through_fills_at_most_the_printed_size(desk: Desk) -> None:
    desk.books.set("Y1", bids=[(0.50, 100)], asks=[(0.52, 50)])
    place(desk, Side.BUY, 0.50, 20)
    desk.venue.on_market_event(TradePrint("Y1", p(0.49), 7 * SH, Side.SELL, desk.clock()))
    assert paper_trades(desk) == [(p(0.50), 7 * SH, "MAKER", "MATCHED")]


def test_book_crossing_a_resting_order_fills_it_at_its_price(desk: Desk) -> None:
    desk.books.set("Y1", bids=[(0.48, 100)], asks=[(0.52, 50)])
    place(desk, Side.BUY, 0.50, 20)
    desk.books.set("Y1", bids=[(0.48, 100)], asks=[(0.49, 8), (0.50, 30)])
    desk.venue.on_market_event(BookChanged("Y1", desk.clock()))
    assert paper_trades(desk) == [(p(0.50), 8 * SH, "MAKER", "MATCHED"), (p(0.50), 12 * SH, "MAKER", "MATCHED")]
    assert desk.venue.resting == {}


def test_marketable_order_walks_the_book_with_slippage(desk: Desk) -> None:
    desk.books.set("Y1", bids=[(0.48, 100)], asks=[(0.50, 10), (0.51, 10), (0.53, 100)])
    result = place(desk, Side.BUY, 0.51, 25, Tif.FAK)
    assert paper_trades(desk) == [(p(0.50), 10 * SH, "TAKER", "MATCHED"), (p(0.51), 10 * SH, "TAKER", "MATCHED")]
    assert result.status.value == "MATCHED" and desk.venue.resting == {}
    # The liquidity taken is gone until the book changes: a second order cannot reuse it.
    place(desk, Side.BUY, 0.51, 5, Tif.FAK)
    assert len(paper_trades(desk)) == 2


def test_fok_is_all_or_nothing_and_post_only_never_crosses(desk: Desk) -> None:
    desk.books.set("Y1", bids=[(0.48, 100)], asks=[(0.50, 10)])
    with pytest.raises(OrderRejected, match="FOK orders are fully filled or killed"):
        place(desk, Side.BUY, 0.50, 11, Tif.FOK)
    with pytest.raises(OrderRejected) as crossed:
        place(desk, Side.BUY, 0.50, 5, Tif.GTC, post_only=True)
    assert str(crossed.value) == POST_ONLY_CROSSES and FOK_NOT_FILLED.startswith("order couldn't")
    assert paper_trades(desk) == []


def test_gtc_takes_what_crosses_and_rests_the_rest(desk: Desk) -> None:
    desk.books.set("Y1", bids=[(0.48, 100)], asks=[(0.50, 10), (0.55, 10)])
    place(desk, Side.BUY, 0.52, 30)
    assert paper_trades(desk) == [(p(0.50), 10 * SH, "TAKER", "MATCHED")]
    resting = next(iter(desk.venue.resting.values()))
    assert (resting.price, resting.remaining) == (p(0.52), 20 * SH)


def test_venue_rules_are_enforced_with_venue_messages(desk: Desk) -> None:
    desk.books.set("Y1", bids=[(0.48, 100)], asks=[(0.52, 10)])
    with pytest.raises(OrderRejected, match="minimum tick size"):
        place(desk, Side.BUY, 0.505, 10)
    with pytest.raises(OrderRejected, match="lower than the minimum"):
        place(desk, Side.BUY, 0.50, 1)


def test_taker_fees_follow_the_polymarket_formula(tmp_path: Path) -> None:
    desk = make_desk(tmp_path / "fees.db", fee_rate_ppm=20_000)
    desk.books.set("Y1", bids=[(0.48, 100)], asks=[(0.50, 100)])
    place(desk, Side.BUY, 0.50, 100, Tif.FAK)
    # 100 shares * 0.02 * 0.5 * (1 - 0.5) = 0.5 USDC
    assert desk.rows("SELECT fee FROM paper_trades") == [(500_000,)]
    desk.books.set("Y1", bids=[(0.48, 100)], asks=[(0.60, 100)])
    place(desk, Side.BUY, 0.45, 10)  # resting: makers pay nothing
    desk.clock.advance(1)
    desk.venue.on_market_event(TradePrint("Y1", p(0.44), 10 * SH, Side.SELL, desk.clock()))
    assert desk.rows("SELECT liquidity, fee FROM paper_trades ORDER BY matched_at, trade_id")[-1] == ("MAKER", 0)


def test_settlement_progresses_on_the_clock_and_can_fail(tmp_path: Path) -> None:
    desk = make_desk(tmp_path / "settle.db", config=PaperConfig(mined_after_ms=1000, confirmed_after_ms=3000,
                                                                fail_rate=1.0, seed=7))
    desk.books.set("Y1", bids=[(0.48, 100)], asks=[(0.50, 100)])
    place(desk, Side.BUY, 0.50, 10, Tif.FAK)
    assert desk.venue.advance() == 0
    desk.clock.advance(1000)
    assert desk.venue.advance() == 1
    assert desk.rows("SELECT status FROM paper_trades") == [("FAILED",)]


def test_resolution_cancels_resting_orders(desk: Desk) -> None:
    desk.books.set("Y1", bids=[(0.48, 100)], asks=[(0.60, 100)])
    place(desk, Side.BUY, 0.50, 10)
    desk.venue.on_market_event(MarketResolved("c1", "Y1", desk.clock()))
    assert desk.venue.resting == {}
    assert desk.rows("SELECT status FROM paper_orders") == [("CANCELED_MARKET_RESOLVED",)]


def test_state_survives_a_restart(tmp_path: Path) -> None:
    first = make_desk(tmp_path / "restart.db")
    first.books.set("Y1", bids=[(0.50, 30)], asks=[(0.60, 100)])
    place(first, Side.BUY, 0.50, 10)
    first.venue.on_market_event(TradePrint("Y1", p(0.50), 10 * SH, Side.SELL, first.clock()))
    first.run(first.venue.close())  # a clean shutdown persists the queue progress
    second = make_desk(tmp_path / "restart.db")
    order = next(iter(second.venue.resting.values()))
    assert (order.remaining, order.queue_ahead) == (10 * SH, 20 * SH)


def test_intents_trade_through_the_executor_and_paper_venue(desk: Desk) -> None:
    desk.books.set("Y1", bids=[(0.48, 100)], asks=[(0.52, 100)])
    desk.executor.set_intents([Intent("mm", "c1", (Quote(Side.BUY, p(0.49), 10 * SH), Quote(Side.SELL, p(0.51), 10 * SH)))])
    report = desk.run(desk.executor.reconcile())
    desk.settle()
    assert report.placed == 2
    assert desk.rows("SELECT token_id, side, price, size, status FROM orders ORDER BY id") == [
        ("Y1", "BUY", p(0.49), 10 * SH, "LIVE"), ("N1", "BUY", p(0.49), 10 * SH, "LIVE")]
