"""The books as the desk's decisions and marks read them: live, without the desk's own resting orders.

Live, the desk's quotes are in the venue's book it reads. A market maker whose ask is the touch
lowers the mid it prices from, so it wants a lower ask; withdrawn, the mid rises and it wants the
first again: a cancel and a re-place at the same price on every decision (every ~35 ms with
decisions on events). A position marked at a mid made of its own ask is valued, and stop-lossed,
at a price no one else offers. Paper's own orders are never in the book, so netting them out live
also keeps live deciding as paper does.
"""

from __future__ import annotations

from collections.abc import Mapping

from contracts.domain import Book, Level, Side
from contracts.order_status import OrderStatus
from engine.execution.state import ExecutionState

# Acknowledged by the venue and not yet closed: resting in its book (a cancel sent still rests).
RESTING = frozenset({OrderStatus.LIVE, OrderStatus.PARTIALLY_FILLED, OrderStatus.CANCEL_PENDING})
Own = dict[str, dict[tuple[Side, int], int]]  # token -> (side, price) -> the desk's size resting there


def resting_own(mode: str, state: ExecutionState, token_id: str | None = None) -> Own | None:
    """Live, the desk's orders resting in the venue's books (of `token_id` alone if given); None
    in paper (the paper venue's orders are never in the book)."""
    if mode != "live":
        return None
    own: Own = {}
    for order in state.orders.values():
        if order.status in RESTING and order.remaining > 0 and token_id in (None, order.token_id):
            at = own.setdefault(order.token_id, {})
            at[(order.side, order.price)] = at.get((order.side, order.price), 0) + order.remaining
    return own


def net_of_own(book: Book | None, own: Mapping[tuple[Side, int], int] | None) -> Book | None:
    """`book` without the desk's own resting size (a level left empty is gone)."""
    if book is None or not own:
        return book

    def levels(side: Side, found: tuple[Level, ...]) -> tuple[Level, ...]:
        kept = (Level(lv.price, lv.size - own.get((side, lv.price), 0)) for lv in found)
        return tuple(lv for lv in kept if lv.size > 0)

    return Book(book.token_id, levels(Side.BUY, book.bids), levels(Side.SELL, book.asks), book.updated_ms)
