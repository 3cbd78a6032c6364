"""Live, the desk's own resting orders are in the venue's books it reads, in both of the market's
books (a YES ask also shows as a NO bid): what its strategies see and what its positions are marked
at leave them out, as far as the market feed has shown them (engine/trading/ledgers/own_orders.py). The
mirror and the feed race: a cancelled order stays netted until the feed drops it, a new one is
netted once the feed shows it."""

from __future__ import annotations

from dataclasses import replace

from contracts.domain import Book, Level, MarketInfo, Outcome, Side, Tif
from contracts.order_status import OrderStatus
from contracts.venues import KALSHI
from contracts.venues.kalshi import ids as kalshi_ids
from engine.execution.bus import EventBus, OrderAdvanced
from engine.execution.state import ExecutionState
from engine.execution.store import OrderRow
from engine.feeds.books import BookCache
from engine.feeds.catalog import MarketCatalog
from engine.trading.ledgers.own_orders import LAG_MS, OwnBooks, OwnOrders, net_of

SH = 1_000_000
YES, NO = "yes-token", "no-token"
MARKET = MarketInfo("cid", "?", YES, NO, tick=10_000, min_size=SH)


class Desk:
    """A mirror, the books and the bus as the venue link wires them, on a clock the test moves."""

    def __init__(self, mode: str = "live") -> None:
        self.now = 1_000
        self.state = ExecutionState(mode)
        self.books = BookCache()
        self.bus = EventBus()
        self.own = OwnOrders(self.books, MarketCatalog([MARKET]), lambda: self.state, lambda: self.now)
        self.own.watch(self.bus)
        # Others: YES bid 0.30 x 500, YES ask 0.44 x 500 (the NO book mirrors it).
        self.books.apply_snapshot(YES, [(300_000, 500 * SH)], [(440_000, 500 * SH)], self.now)
        self.books.apply_snapshot(NO, [(560_000, 500 * SH)], [(700_000, 500 * SH)], self.now)

    def order(self, row: OrderRow) -> OrderRow:
        """The executor's write: the mirror first, then its announcement on the bus."""
        self.state.track(row)
        self.bus.publish(OrderAdvanced(row, self.now))
        return row

    def feed(self, yes_is_bid: bool, price: int, size: int) -> None:
        """One level of the venue's book as the feed sends it: the YES entry and its NO mirror."""
        self.now += 1
        self.books.apply_changes([(YES, yes_is_bid, price, size), (NO, not yes_is_bid, SH - price, size)], self.now)

    def seen(self, token: str = YES) -> Book:
        book = self.own.book(token)
        assert book is not None
        return book


def _ask(status: OrderStatus, size: int = 20 * SH, filled: int = 0) -> OrderRow:
    return OrderRow(1, "c1", "v1", "live", "mm", "cid", YES, Outcome.YES, Side.SELL, 390_000, size, filled,
                    Tif.GTC, True, status, "", 0, 0)


def test_a_market_makers_own_ask_at_the_touch_is_not_the_mid_it_prices_from() -> None:
    desk = Desk()
    ask = desk.order(_ask(OrderStatus.PENDING_SUBMIT))
    desk.order(replace(ask, status=OrderStatus.LIVE))
    desk.feed(False, 390_000, 20 * SH)  # the feed shows it: the touch
    venue = desk.books.book(YES)
    assert venue is not None and venue.mid == 345_000  # the venue's book as it is, untouched
    assert desk.seen().mid == 370_000  # (0.30 + 0.44) / 2, not (0.30 + 0.39) / 2
    assert desk.seen(NO).best_bid is not None and desk.seen(NO).best_bid.price == 560_000  # its mirror too
    assert desk.own.shown(YES) == {(False, 390_000): 20 * SH}


def test_a_new_order_is_netted_once_the_feed_shows_it_whichever_comes_first() -> None:
    # The acknowledgement first: nothing of it in the book yet, so nothing is taken out of the level.
    desk = Desk()
    desk.feed(False, 390_000, 100 * SH)  # someone else's 100 at 0.39
    ask = desk.order(_ask(OrderStatus.PENDING_SUBMIT))
    desk.order(replace(ask, status=OrderStatus.LIVE))
    assert desk.seen().asks[0].size == 100 * SH
    desk.feed(False, 390_000, 120 * SH)
    assert desk.seen().asks[0].size == 100 * SH
    # The feed first (the venue's book message before its answer to the placement).
    desk = Desk()
    ask = desk.order(_ask(OrderStatus.PENDING_SUBMIT))
    desk.feed(False, 390_000, 20 * SH)
    desk.order(replace(ask, status=OrderStatus.LIVE))
    assert desk.seen().asks[0].price == 440_000


def _beside_others() -> tuple[Desk, OrderRow]:
    """The desk's 20 at 0.39 resting beside someone else's 100, shown by the feed."""
    desk = Desk()
    desk.feed(False, 390_000, 100 * SH)
    ask = desk.order(_ask(OrderStatus.PENDING_SUBMIT))
    desk.order(replace(ask, status=OrderStatus.LIVE))
    desk.feed(False, 390_000, 120 * SH)
    return desk, ask


def test_a_cancelled_order_stays_netted_until_the_feed_drops_it() -> None:
    desk, ask = _beside_others()
    desk.order(replace(ask, status=OrderStatus.CANCEL_PENDING))
    desk.order(replace(ask, status=OrderStatus.CANCELED))  # acknowledged; the feed still shows it
    assert desk.seen().asks[0].size == 100 * SH
    assert desk.seen(NO).bids[0].size == 100 * SH
    desk.feed(False, 390_000, 100 * SH)  # the feed drops it
    assert desk.seen().asks[0].size == 100 * SH
    assert desk.own.shown(YES) == {} and desk.own.shown(NO) == {}
    desk.feed(False, 390_000, 130 * SH)  # someone else's: not ours any more
    assert desk.seen().asks[0].size == 130 * SH


def test_the_feed_dropping_it_before_the_cancel_is_acknowledged_counts_as_gone() -> None:
    desk = Desk()
    ask = desk.order(_ask(OrderStatus.PENDING_SUBMIT))
    desk.order(replace(ask, status=OrderStatus.LIVE))
    desk.feed(False, 390_000, 50 * SH)  # ours and someone else's 30
    desk.order(replace(ask, status=OrderStatus.CANCEL_PENDING))
    desk.feed(False, 390_000, 30 * SH)  # the feed drops ours before the venue answers the cancel
    assert desk.seen().asks[0].size == 30 * SH
    desk.order(replace(ask, status=OrderStatus.CANCELED))
    assert desk.seen().asks[0].size == 30 * SH


def test_a_fill_leaves_the_rest_of_the_order_netted() -> None:
    desk = Desk()
    ask = desk.order(_ask(OrderStatus.PENDING_SUBMIT))
    desk.order(replace(ask, status=OrderStatus.LIVE))
    desk.feed(False, 390_000, 20 * SH)
    desk.order(replace(ask, status=OrderStatus.PARTIALLY_FILLED, filled=5 * SH))  # before the feed's trade
    assert desk.seen().best_ask is not None and desk.seen().best_ask.price == 440_000
    desk.feed(False, 390_000, 15 * SH)
    assert desk.seen().best_ask is not None and desk.seen().best_ask.price == 440_000
    desk.feed(False, 390_000, 40 * SH)  # someone joins the level: theirs is seen, our 15 is not
    assert desk.seen().asks[0].size == 25 * SH


def test_a_feed_that_never_shows_the_change_is_believed_after_the_lag() -> None:
    desk, ask = _beside_others()
    desk.order(replace(ask, status=OrderStatus.CANCELED))
    desk.feed(False, 390_000, 120 * SH + 1)  # our 20 left as someone's 20 came: the level hardly moved
    assert desk.seen().asks[0].size == 100 * SH + 1
    desk.now += LAG_MS
    assert desk.seen().asks[0].size == 120 * SH + 1  # then the mirror is the truth: none of it is ours


def test_orders_resting_at_a_start_are_taken_as_shown() -> None:
    desk = Desk()
    desk.feed(False, 390_000, 20 * SH)
    desk.state.track(_ask(OrderStatus.LIVE))  # loaded from the ledger: no announcement
    desk.own.adopt()
    assert desk.seen().asks[0].price == 440_000


def test_paper_orders_are_never_in_the_book_so_nothing_is_left_out() -> None:
    desk = Desk("paper")
    ask = desk.order(_ask(OrderStatus.PENDING_SUBMIT))
    desk.order(replace(ask, status=OrderStatus.LIVE))
    desk.feed(False, 390_000, 20 * SH)  # (someone else's, in paper)
    assert desk.seen() is desk.books.book(YES)
    assert desk.seen().asks[0].price == 390_000


def test_a_live_ledgers_orders_are_left_out_of_its_venues_books_and_only_those() -> None:
    """Kalshi armed live: the ledger's orders rest in Kalshi's books (one per market, mirrored too), which the
    desk keeps in the same cache; read through `OwnBooks`, a Kalshi token's book is netted of the ledger's
    orders (its bus, its mirror), fed by the one listener the desk's books call."""
    ticker = "KX-1"
    yes, no = kalshi_ids.token_id(ticker, "yes"), kalshi_ids.token_id(ticker, "no")
    kalshi = MarketInfo(kalshi_ids.market_id(ticker), "?", yes, no, tick=10_000, min_size=SH)
    desk, ledger_state, ledger_bus = Desk(), ExecutionState("live"), EventBus()
    books = BookCache()
    own = OwnBooks(OwnOrders(books, MarketCatalog([MARKET, kalshi]), lambda: desk.state, lambda: desk.now))
    own.watch(desk.bus)
    books.apply_snapshot(yes, [(300_000, 500 * SH)], [(440_000, 500 * SH)], desk.now)
    books.apply_snapshot(no, [(560_000, 500 * SH)], [(700_000, 500 * SH)], desk.now)
    ledgers = own.follow(KALSHI, ledger_bus, lambda: ledger_state)
    ask = replace(_ask(OrderStatus.LIVE), condition_id=kalshi.condition_id, token_id=yes)
    ledger_state.track(ask)
    ledger_bus.publish(OrderAdvanced(ask, desk.now))
    books.apply_changes([(yes, False, 390_000, 20 * SH), (no, True, 610_000, 20 * SH)], desk.now + 1)
    netted_yes, netted_no = own.book(yes), own.book(no)
    assert netted_yes is not None and netted_yes.mid == 370_000  # not 0.345: its own ask left out
    assert netted_no is not None and netted_no.bids[0].price == 560_000  # and its mirror, a NO bid at 0.61
    assert ledgers.shown(yes) == {(False, 390_000): 20 * SH} and own.desk.shown(yes) == {}
    own.forget(KALSHI, ledgers)  # the ledger closed: Kalshi's book read as it is
    as_is = own.book(yes)
    assert as_is is not None and as_is.best_ask is not None and as_is.best_ask.price == 390_000


def test_netting_takes_ours_out_level_by_level_and_leaves_the_rest_as_the_book_has_it() -> None:
    """Part of a level ours: the rest stays; all of it: the level is gone and the next one shows;
    a level with none of ours is the book's own; at most `depth` levels a side."""
    bids = (Level(500_000, 30), Level(490_000, 10), Level(480_000, 7), Level(470_000, 5))
    asks = (Level(510_000, 20), Level(520_000, 8))
    book = Book("Y", bids, asks, 42)
    netted = net_of(book, {(True, 500_000): 10, (True, 490_000): 10, (False, 520_000): 9}, depth=3)
    assert netted.bids == (Level(500_000, 20), Level(480_000, 7), Level(470_000, 5))
    assert netted.asks == (Level(510_000, 20),)
    assert netted.bids[1] is bids[2] and netted.asks[0] is asks[0]  # (untouched: not built again)
    assert (netted.token_id, netted.updated_ms) == ("Y", 42)
    assert net_of(book, {}, depth=2).bids == bids[:2]


def test_an_amended_order_leaves_its_old_level_and_is_netted_at_its_new_one() -> None:
    """Kalshi moves an order in place (engine/execution/amends.py): the same order, a new price. The feed drops
    it at the old level and shows it at the new one: neither level counts it where it no longer rests."""
    desk, ask = _beside_others()  # ours 20 beside someone else's 100 at 0.39
    moved = desk.order(replace(ask, price=380_000))  # amended down to 0.38 (its row's new terms)
    desk.feed(False, 390_000, 100 * SH)  # the feed drops it at 0.39 ...
    desk.feed(False, 380_000, 20 * SH)  # ... and shows it at 0.38
    assert desk.seen().asks[0].price == 390_000 and desk.seen().asks[0].size == 100 * SH
    assert desk.own.shown(YES) == {(False, 380_000): 20 * SH}
    desk.feed(False, 390_000, 130 * SH)  # someone else joins 0.39: all theirs
    assert desk.seen().asks[0].size == 130 * SH
    desk.order(replace(moved, size=5 * SH))  # then decreased in place: 5 rest
    desk.feed(False, 380_000, 5 * SH)
    assert desk.own.shown(YES) == {(False, 380_000): 5 * SH}
