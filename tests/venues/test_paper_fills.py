"""The paper fill model does not flatter: queue position, partial fills, no phantom fills."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from contracts.domain import Intent, Quote, Side, Tif
from engine.feeds.books import BookCache
from engine.feeds.catalog import MarketCatalog
from engine.feeds.market_data_events import BookChanged, MarketResolved, TradePrint
from engine.venues import paper_fills as fills
from engine.venues.base import OrderRejected, OrderRequest
from engine.venues.latency import ZERO
from engine.venues.paper import PaperConfig, PaperVenue
from engine.venues.paper_rules import FOK_NOT_FILLED, POST_ONLY_CROSSES
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate
from tests.desk import Desk, make_desk
from tests.execution.fakes import SH, Clock, market, p

ZERO_LATENCY = PaperConfig(latency=ZERO)  # these tests pin the fill model itself


def request(desk: Desk, side: Side, price: float, size: float, tif: Tif = Tif.GTC, post_only: bool = False,
            token: str = "Y1", cid: str = "c1") -> OrderRequest:
    return OrderRequest(f"r{len(desk.venue.resting)}-{price}-{size}-{tif}", cid, token, side, p(price),
                        round(size * SH), tif, post_only)


def place(desk: Desk, *args, **kw):
    prepared = desk.run(desk.venue.prepare(request(desk, *args, **kw)))
    return desk.run(desk.venue.submit(prepared))


def paper_trades(desk: Desk) -> list[tuple]:
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
    # The liquidity taken is gone until the book changes: a second order cannot reuse it, and a
    # FAK that matches nothing is refused, as the venue refuses it.
    with pytest.raises(OrderRejected, match="no orders found to match with FAK order"):
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
    # 100 shares * 0.02 * 0.5 * (1 - 0.5) = 0.5 pUSD
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
    quotes = (Quote(Side.BUY, p(0.49), 10 * SH), Quote(Side.SELL, p(0.51), 10 * SH))
    desk.executor.set_intents([Intent("mm", "c1", quotes)])
    report = desk.run(desk.executor.reconcile())
    desk.settle()
    assert report.placed == 2
    assert desk.rows("SELECT token_id, side, price, size, status FROM orders ORDER BY id") == [
        ("Y1", "BUY", p(0.49), 10 * SH, "LIVE"), ("N1", "BUY", p(0.49), 10 * SH, "LIVE")]


# -- one trade, reported twice: as a level shrink and as a trade print ---------------------

T0 = 1_700_000_000_000


def test_a_shrink_then_its_print_count_the_trade_once() -> None:
    """The venue sends the level change (100 -> 70) before the print of the 30 traded."""
    queue, credit = fills.shrink_queue(100 * SH, 70 * SH, fills.NO_CREDIT, T0)
    assert (queue, credit.live(T0)) == (70 * SH, 30 * SH)
    hit = fills.on_trade(Side.BUY, p(0.50), 20 * SH, queue, p(0.50), 30 * SH, Side.SELL, credit.live(T0 + 5))
    assert hit == fills.RestingFill(0, 70 * SH, 0)


def test_a_print_then_its_shrink_count_the_trade_once() -> None:
    hit = fills.on_trade(Side.BUY, p(0.50), 20 * SH, 100 * SH, p(0.50), 30 * SH, Side.SELL)
    assert hit == fills.RestingFill(0, 70 * SH, 0)
    queue, credit = fills.shrink_queue(hit.queue_ahead, 70 * SH, fills.NO_CREDIT, T0)
    assert (queue, credit) == (70 * SH, fills.NO_CREDIT)


@pytest.mark.parametrize("shrink_first", [True, False])
def test_a_print_larger_than_the_queue_fills_the_same_in_either_order(shrink_first: bool) -> None:
    """10 ahead, 30 sold at our price: 20 reach us, whichever message comes first."""
    if shrink_first:
        queue, credit = fills.shrink_queue(10 * SH, 0, fills.NO_CREDIT, T0)
        hit = fills.on_trade(Side.BUY, p(0.50), 50 * SH, queue, p(0.50), 30 * SH, Side.SELL, credit.live(T0))
    else:
        hit = fills.on_trade(Side.BUY, p(0.50), 50 * SH, 10 * SH, p(0.50), 30 * SH, Side.SELL)
    assert (hit.size, hit.queue_ahead, hit.credit) == (20 * SH, 0, 0)


def test_a_shrink_no_print_follows_stops_counting_after_the_window() -> None:
    """A shrink with no print after it was a cancellation: its credit lapses, and a later
    print eats the queue again (paper must not stay pessimistic forever)."""
    queue, credit = fills.shrink_queue(100 * SH, 70 * SH, fills.NO_CREDIT, T0)
    later = T0 + fills.SHRINK_CREDIT_MS + 1
    assert credit.live(T0 + fills.SHRINK_CREDIT_MS) == 30 * SH and credit.live(later) == 0
    hit = fills.on_trade(Side.BUY, p(0.50), 20 * SH, queue, p(0.50), 30 * SH, Side.SELL, credit.live(later))
    assert hit.queue_ahead == 40 * SH
    # A lapsed credit is not carried into the next shrink either.
    queue, credit = fills.shrink_queue(queue, 60 * SH, credit, later)
    assert credit == fills.ShrinkCredit(10 * SH, later)


# -- the same through PaperVenue on a real BookCache ---------------------------------------


@dataclass
class CacheDesk:
    books: BookCache
    venue: PaperVenue
    clock: Clock
    loop: asyncio.AbstractEventLoop

    def rest_buy(self, price: float, size: float) -> None:
        req = OrderRequest(f"q-{price}-{size}", "c1", "Y1", Side.BUY, p(price), round(size * SH), Tif.GTC)
        self.loop.run_until_complete(self.venue.submit(self.loop.run_until_complete(self.venue.prepare(req))))

    def level(self, price: float, size: float) -> None:
        self.books.apply_changes([("Y1", True, p(price), round(size * SH))], self.clock())

    def sold(self, price: float, size: float) -> None:
        self.books.record_trade(TradePrint("Y1", p(price), round(size * SH), Side.SELL, self.clock()))

    def order(self):
        return next(iter(self.venue.resting.values()))


@pytest.fixture
def cache_desk(tmp_path: Path) -> Iterator[CacheDesk]:
    """PaperVenue listening to a real BookCache, as the engine wires it."""
    migrate(tmp_path / "cache.db")
    db = Database(tmp_path / "cache.db", writer_sync="NORMAL")
    clock, books, loop = Clock(), BookCache(), asyncio.new_event_loop()
    venue = PaperVenue(db, books, MarketCatalog([market()]), clock=clock, config=ZERO_LATENCY)
    books.add_listener(venue.on_market_event)
    loop.run_until_complete(venue.start())
    books.apply_snapshot("Y1", [(p(0.50), 100 * SH)], [(p(0.52), 50 * SH)], clock())
    try:
        yield CacheDesk(books, venue, clock, loop)
    finally:
        loop.close()
        db.dispose()


@pytest.mark.parametrize("shrink_first", [True, False])
def test_one_trade_moves_the_queue_once_whichever_message_comes_first(cache_desk: CacheDesk,
                                                                      shrink_first: bool) -> None:
    cache_desk.rest_buy(0.50, 20)
    assert cache_desk.order().queue_ahead == 100 * SH
    if shrink_first:  # the order the simulator and Polymarket send them in
        cache_desk.level(0.50, 70)
        cache_desk.clock.advance(3)
        cache_desk.sold(0.50, 30)
    else:
        cache_desk.sold(0.50, 30)
        cache_desk.clock.advance(3)
        cache_desk.level(0.50, 70)
    assert cache_desk.order().queue_ahead == 70 * SH and cache_desk.order().filled == 0


@pytest.mark.parametrize(("wait_ms", "filled"), [(fills.SHRINK_CREDIT_MS, 0), (fills.SHRINK_CREDIT_MS + 1, 20)])
def test_a_cancellation_holds_back_prints_only_briefly(cache_desk: CacheDesk, wait_ms: int, filled: int) -> None:
    """A shrink may be the print about to arrive, so a print soon after it is assumed to be
    that trade (pessimistic); once the window has passed it was a cancellation."""
    cache_desk.books.apply_snapshot("Y1", [(p(0.50), 40 * SH)], [(p(0.52), 50 * SH)], cache_desk.clock())
    cache_desk.rest_buy(0.50, 50)
    cache_desk.level(0.50, 10)  # 30 leave the level ahead of us
    cache_desk.clock.advance(wait_ms)
    cache_desk.sold(0.50, 30)
    order = cache_desk.order()
    assert (order.filled, order.queue_ahead) == (filled * SH, 0 if filled else 10 * SH)


def test_an_order_beyond_the_book_depth_still_queues_behind_its_level(cache_desk: CacheDesk) -> None:
    deep = [(p(0.50) - i * 1_000, 10 * SH) for i in range(150)]
    cache_desk.books.apply_snapshot("Y1", deep, [(p(0.52), 50 * SH)], cache_desk.clock())
    cache_desk.rest_buy(0.37, 20)  # the 131st bid level: outside any 100-level view of the book
    assert cache_desk.order().queue_ahead == 10 * SH


def test_a_gtd_order_leaves_the_book_a_minute_before_its_expiry(desk: Desk) -> None:
    from dataclasses import replace

    desk.books.set("Y1", bids=[(0.48, 100)], asks=[(0.52, 100)])
    expiry_s = desk.clock() // 1000 + 300
    gtd = replace(request(desk, Side.BUY, 0.45, 10, Tif.GTD), expires_at_s=expiry_s)
    desk.run(desk.venue.submit(desk.run(desk.venue.prepare(gtd))))
    place(desk, Side.BUY, 0.44, 10)  # a GTC beside it stays
    desk.clock.advance(300_000 - 60_000 - 1)
    desk.venue.advance()
    assert len(desk.venue.resting) == 2
    desk.clock.advance(1)
    desk.venue.advance()
    assert [o.tif for o in desk.venue.resting.values()] == ["GTC"]
    assert desk.rows("SELECT tif, status FROM paper_orders ORDER BY price DESC") == [("GTD", "CANCELED_EXPIRED_ORDER"),
                                                                                     ("GTC", "LIVE")]


def _twin(tmp_path: Path, name: str, clock: Clock) -> tuple[BookCache, PaperVenue, asyncio.AbstractEventLoop]:
    migrate(tmp_path / f"{name}.db")
    books, loop = BookCache(), asyncio.new_event_loop()
    venue = PaperVenue(Database(tmp_path / f"{name}.db", writer_sync="NORMAL"), books, MarketCatalog([market()]),
                       clock=clock, config=ZERO_LATENCY)
    loop.run_until_complete(venue.start())
    venue.wallet.shares["Y1"] = 10**15  # the random SELLs below sell shares the wallet is given here
    return books, venue, loop


@pytest.mark.parametrize("seed", range(4))
def test_a_level_change_checks_only_the_orders_it_reaches_with_the_same_result(tmp_path: Path, seed: int) -> None:
    """`on_level_changed` (a replay names the level) against `on_book_changed` on every
    change: random books, level changes, prints and resting orders on both sides, some of
    them crossing; the same fills, queues and credits throughout."""
    import random

    rng, clock = random.Random(seed), Clock()
    twins = [_twin(tmp_path, "all", clock), _twin(tmp_path, "level", clock)]
    mid = 50

    def levels(side: int) -> list[tuple[int, int]]:
        return [(p((mid + side * (k + 1)) / 100), rng.randrange(1, 60) * SH) for k in range(6)]

    for step in range(1000):
        clock.advance(rng.randrange(0, 800))
        roll = rng.random()
        if roll < 0.03:
            mid = min(80, max(20, mid + rng.choice((-1, 1))))
            bids, asks = levels(-1), levels(1)
            for books, _, _ in twins:
                books.apply_snapshot("Y1", bids, asks, clock())  # not listened to: checked below
            for _, venue, _ in twins:
                venue.on_book_changed("Y1")
        elif roll < 0.08:
            side = rng.choice((Side.BUY, Side.SELL))
            price = p((mid + rng.randrange(-3, 4)) / 100)
            req = OrderRequest(f"o{step}", "c1", "Y1", side, price, rng.randrange(5, 40) * SH, Tif.GTC)
            for _, venue, loop in twins:
                loop.run_until_complete(venue.submit(loop.run_until_complete(venue.prepare(req))))
        elif roll < 0.2:
            print_ = TradePrint("Y1", p((mid + rng.randrange(-3, 4)) / 100), rng.randrange(1, 50) * SH,
                                rng.choice((Side.BUY, Side.SELL)), clock())
            for _, venue, _ in twins:
                venue.on_market_event(print_)
        else:
            is_bid = rng.random() < 0.5
            price = p((mid + rng.randrange(-4, 5)) / 100)  # either side of the mid: some cross
            size = rng.randrange(0, 80) * SH
            (all_books, every, _), (level_books, by_level, _) = twins
            if all_books.apply_level("Y1", is_bid, price, size, clock()):
                every.on_book_changed("Y1")
            if level_books.apply_level("Y1", is_bid, price, size, clock()):
                by_level.on_level_changed("Y1", is_bid, price)
        if step == 0:
            bids, asks = levels(-1), levels(1)
            for books, _, _ in twins:
                books.apply_snapshot("Y1", bids, asks, clock())
        states = [sorted((o.venue_order_id, o.filled, o.queue_ahead, o.credit.live(clock()))
                         for o in venue.resting.values()) for _, venue, _ in twins]
        assert states[0] == states[1], step
    trades = []
    for _, venue, _ in twins:
        with venue.db.read() as conn:
            trades.append(conn.exec_driver_sql("SELECT trade_id, price, size, liquidity FROM paper_trades "
                                               "ORDER BY trade_id").all())
    assert trades[0] == trades[1]
    assert sum(1 for t in trades[0] if t[3] == "MAKER") >= 3  # resting orders did fill
    for _, venue, loop in twins:
        loop.close()
        venue.db.dispose()


def test_a_sell_needs_the_shares_its_resting_asks_do_not_already_reserve(desk: Desk) -> None:
    """As at the venue: a resting ask reserves its shares, so a second SELL of them (an exit's
    fill-and-kill) is refused until the ask is cancelled; the shares a ghost fill took back
    are gone too. Paper used to sell them twice, hiding that live exits never sold."""
    desk.books.set("Y1", bids=[(0.48, 100)], asks=[(0.52, 100)])
    place(desk, Side.BUY, 0.52, 20, Tif.FAK)  # the wallet now holds 20 (moved at match time)
    place(desk, Side.SELL, 0.55, 20)  # a resting ask on all of them
    with pytest.raises(OrderRejected, match="not enough balance / allowance.*balance: 20000000, sum of active "
                                            "orders: 20000000, order amount: 20000000"):
        place(desk, Side.SELL, 0.45, 20, Tif.FAK)
    with pytest.raises(OrderRejected, match="not enough balance"):
        place(desk, Side.SELL, 0.45, 10, Tif.FAK, token="N1")  # no NO held at all
    ask = next(iter(desk.venue.resting))
    desk.run(desk.venue.cancel([ask]))
    assert place(desk, Side.SELL, 0.45, 20, Tif.FAK).filled == 20 * SH
    assert desk.venue.wallet.shares["Y1"] == 0


def test_the_wallet_balance_survives_a_restart_and_a_ghost_fill_gives_the_shares_back(tmp_path: Path) -> None:
    desk = make_desk(tmp_path / "d.db", config=PaperConfig(mined_after_ms=0, confirmed_after_ms=0, fail_rate=1.0))
    try:
        desk.books.set("Y1", bids=[(0.48, 100)], asks=[(0.52, 100)])
        place(desk, Side.BUY, 0.52, 20, Tif.FAK)
        assert desk.venue.wallet.shares["Y1"] == 20 * SH
        restarted = PaperVenue(desk.db, desk.books, desk.catalog, clock=desk.clock,
                               config=PaperConfig(mined_after_ms=0, confirmed_after_ms=0, fail_rate=1.0,
                                                  latency=ZERO))
        desk.run(restarted.start())
        assert restarted.wallet.shares["Y1"] == 20 * SH  # read back from its trades
        restarted.advance()  # the trade settles FAILED: a ghost fill
        assert restarted.wallet.shares["Y1"] == 0
        with pytest.raises(OrderRejected, match="not enough balance"):
            desk.run(restarted.submit(desk.run(restarted.prepare(request(desk, Side.SELL, 0.45, 20, Tif.FAK)))))
    finally:
        desk.loop.close()
        desk.db.dispose()


def test_a_gtd_closer_than_the_venues_minimum_lead_is_refused(desk: Desk) -> None:
    from dataclasses import replace

    desk.books.set("Y1", bids=[(0.48, 100)], asks=[(0.52, 100)])
    now_s = desk.clock() // 1000
    too_soon = replace(request(desk, Side.BUY, 0.45, 10, Tif.GTD), expires_at_s=now_s + 150)
    with pytest.raises(OrderRejected, match="invalid expiration"):
        desk.run(desk.venue.submit(desk.run(desk.venue.prepare(too_soon))))
    assert desk.rows("SELECT COUNT(*) FROM paper_orders") == [(0,)]
    forever = replace(request(desk, Side.BUY, 0.45, 10, Tif.GTD), expires_at_s=2**63)  # the venue sets no maximum
    desk.run(desk.venue.submit(desk.run(desk.venue.prepare(forever))))
    assert desk.rows("SELECT expires_at FROM paper_orders") == [(2**63 - 1,)]  # stored, never an overflow


def test_an_order_that_leaves_the_book_leaves_the_queue_marks_to_save(desk: Desk) -> None:
    """A backtest saves moved queue positions only when the venue closes: an order gone from
    the book (its row written as it left) must not stay marked, or the marks grow with the run."""
    desk.books.set("Y1", bids=[(0.50, 100)], asks=[(0.52, 50)])
    place(desk, Side.BUY, 0.50, 20)
    place(desk, Side.BUY, 0.50, 5)
    first, second = desk.venue.resting.values()
    desk.books.set("Y1", bids=[(0.50, 60)], asks=[(0.52, 50)])
    desk.venue.on_market_event(BookChanged("Y1", desk.clock()))
    assert desk.venue.dirty == {first.venue_order_id, second.venue_order_id}  # both queues moved
    desk.run(desk.venue.cancel([first.venue_order_id]))
    desk.books.set("Y1", bids=[(0.50, 60)], asks=[(0.49, 50)])  # the book crosses the other: it fills
    desk.venue.on_market_event(BookChanged("Y1", desk.clock()))
    assert desk.venue.resting == {} and desk.venue.dirty == set()
    # Each row was written with its last queue position as the order left.
    assert sorted(desk.rows("SELECT queue_ahead, status FROM paper_orders")) == [(60 * SH, "CANCELED"),
                                                                               (60 * SH, "MATCHED")]


def test_the_cash_a_buy_is_checked_against_is_the_wallets_through_fills_failures_and_a_restart(
        tmp_path: Path) -> None:
    """The venue checks a BUY against the wallet's cash less what resting BUYs hold; the paper venue
    keeps that cash as fills move it (a ghost fill moves it back) and reads it afresh at start."""
    desk = make_desk(tmp_path / "cash.db")
    desk.venue.config = PaperConfig(mined_after_ms=0, confirmed_after_ms=0, fail_rate=1.0,  # every trade FAILS
                                    latency=ZERO)
    desk.books.set("Y1", bids=[(0.48, 100)], asks=[(0.52, 100)])
    place(desk, Side.BUY, 0.52, 10, Tif.FAK)
    venue, wallet = desk.venue, desk.venue.wallet
    assert wallet.trade_cash + wallet.credited == desk.run(venue.balances([])).collateral < wallet.starting_cash
    venue.advance()  # the trade fails on chain: shares and cash move back
    assert wallet.trade_cash == desk.run(venue.balances([])).collateral == wallet.starting_cash
    place(desk, Side.BUY, 0.40, 10)  # rests, holding 4 pUSD
    venue.config = ZERO_LATENCY
    place(desk, Side.BUY, 0.52, 10, Tif.FAK)
    restarted = make_desk(tmp_path / "cash.db")
    assert restarted.venue.wallet.trade_cash == desk.run(venue.balances([])).collateral == wallet.trade_cash
    short = wallet.trade_cash - 4 * SH  # what the resting bid leaves free
    with pytest.raises(OrderRejected, match="not enough balance"):
        place(desk, Side.BUY, 0.50, short * 2 // SH + 2)  # a resting bid worth more than that


@pytest.mark.parametrize("token", ["71321045679252212594626385532706912750332728571942532289631379312455583992563",
                                   "kalshi:KXFED-26DEC:yes", 'odd"token\\with\u00e9'])
@pytest.mark.parametrize(("tif", "post_only", "expires"), [(Tif.GTC, True, 0), (Tif.GTD, False, 1_900_000_000),
                                                          (Tif.FAK, False, None)])
def test_a_paper_orders_record_is_its_terms_as_sorted_json(token: str, tif: Tif, post_only: bool,
                                                           expires: int | None) -> None:
    """The ledger's record of a paper order, written out by hand on the hot path, is exactly what
    `json.dumps(..., sort_keys=True)` of its terms gives (what the Orders page and the audit read)."""
    import json

    from engine.venues.base import OrderRequest
    from engine.venues.paper import order_record

    request = OrderRequest("c1", "0xc", token, Side.SELL, 410_000, 20_000_000, tif, post_only,
                           expires)  # type: ignore[arg-type]  # None: a request made without an expiry
    terms = {"token_id": token, "side": "SELL", "price": 410_000, "size": 20_000_000, "tif": tif.value,
             "post_only": post_only, "expires_at_s": expires}
    assert order_record(request) == json.dumps(terms, sort_keys=True)
    assert json.loads(order_record(request)) == terms
