"""Live, the desk's own resting orders are in the venue's book it reads: what its strategies see
and what its positions are marked at leave them out (engine/trading/own_orders.py). A market
maker whose ask was the touch otherwise priced off its own ask, withdrew it, priced off the book
without it, placed it again: live, the same ask cancelled and re-placed on every decision."""

from __future__ import annotations

from contracts.domain import Book, Level, Outcome, Side, Tif
from contracts.order_status import OrderStatus
from engine.execution.state import ExecutionState
from engine.execution.store import OrderRow
from engine.trading.own_orders import net_of_own, resting_own

SH = 1_000_000
TOKEN = "yes-token"


def _order(order_id: int, side: Side, price: int, size: int, status: OrderStatus, filled: int = 0) -> OrderRow:
    return OrderRow(order_id, f"c{order_id}", f"v{order_id}", "live", "mm", "cid", TOKEN, Outcome.YES, side, price,
                    size, filled, Tif.GTC, True, status, "", 0, 0)


def _state(mode: str, *orders: OrderRow) -> ExecutionState:
    state = ExecutionState(mode)
    for order in orders:
        state.track(order)
    return state


BOOK = Book(TOKEN, bids=(Level(300_000, 500 * SH),), asks=(Level(390_000, 20 * SH), Level(440_000, 500 * SH)),
            updated_ms=1)


def test_a_market_makers_own_ask_at_the_touch_is_not_the_mid_it_prices_from() -> None:
    state = _state("live", _order(1, Side.SELL, 390_000, 20 * SH, OrderStatus.LIVE))
    seen = net_of_own(BOOK, (resting_own("live", state) or {}).get(TOKEN))
    assert seen is not None and seen.mid == 370_000  # (0.30 + 0.44) / 2, not (0.30 + 0.39) / 2
    assert BOOK.mid == 345_000  # the venue's book as it is, untouched


def test_only_what_rests_of_the_desks_orders_is_left_out() -> None:
    state = _state("live",
                   _order(1, Side.BUY, 300_000, 100 * SH, OrderStatus.PARTIALLY_FILLED, filled=40 * SH),  # 60 rest
                   _order(2, Side.SELL, 440_000, 10 * SH, OrderStatus.CANCEL_PENDING),  # rests until the ack
                   _order(3, Side.SELL, 390_000, 20 * SH, OrderStatus.PENDING_SUBMIT))  # not in the book yet
    seen = net_of_own(BOOK, (resting_own("live", state) or {}).get(TOKEN))
    assert seen is not None
    assert seen.bids == (Level(300_000, 440 * SH),)
    assert seen.asks == (Level(390_000, 20 * SH), Level(440_000, 490 * SH))


def test_paper_orders_are_never_in_the_book_so_nothing_is_left_out() -> None:
    state = _state("paper", _order(1, Side.SELL, 390_000, 20 * SH, OrderStatus.LIVE))
    assert resting_own("paper", state) is None
    assert net_of_own(BOOK, None) is BOOK
