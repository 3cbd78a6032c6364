"""The stateful rules an order must pass at the venue (balance, FOK/FAK, minimum
marketable BUY), as pure checks of an order against a book and the ledger.

Each check returns the venue's refusal text, or None when the order passes; the
exchange decides when to apply them (at arrival, or when a delayed order's turn comes).
"""

from __future__ import annotations

from .accounts import Ledger
from .book import Book
from .fees import market_fee
from .matching import best_crosses, fully_fillable, own_price, preview
from .orders import BUY, Order
from .units import MICRO, fmt, notional

FOK_ERROR = "order couldn't be fully filled. FOK orders are fully filled or killed."
FAK_ERROR = ("no orders found to match with FAK order. FAK orders are partially filled "
             "or killed if no match is found.")
POST_ONLY_ERROR = "invalid post-only order: order crosses book"
NOT_READY_ERROR = "the market is not yet ready to process new orders"


class OrderRejected(Exception):
    """A refused order. ``in_body``: the venue answers it inside an HTTP 200 (``success`` true,
    the reason in ``errorMsg``, an empty ``orderID``) rather than with a 4xx."""

    def __init__(self, message: str, status: int = 400, *, in_body: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.in_body = in_body


def taker_fee(order: Order, book: Book) -> int:
    """The fee ``order`` would pay if it traded against ``book`` as it is now."""
    if order.market.fee_rate <= 0 or order.post_only:
        return 0
    legs = [(f.size, own_price(order, f.yes_price)) for f in preview(book, order)]
    return market_fee(order.market, legs)


def shortfall(ledger: Ledger, order: Order, book: Book, held: int = 0) -> str | None:
    """Why the account cannot carry ``order`` (None when it can). ``held``: what the order
    itself already reserves. A BUY needs its notional plus the fee of what it would take."""
    balance, reserved = ledger.available_for(order)
    reserved -= held
    need = ledger.requirement(order) + (taker_fee(order, book) if order.side == BUY else 0)
    if balance - reserved >= need:
        return None
    return ("not enough balance / allowance: the balance is not enough -> "
            f"balance: {balance}, sum of active orders: {reserved}, order amount: {need}")


def fill_rule_failure(order: Order, book: Book) -> str | None:
    if order.order_type == "FOK" and not fully_fillable(book, order):
        return FOK_ERROR
    if order.order_type == "FAK" and not best_crosses(book, order):
        return FAK_ERROR
    return None


def below_min_marketable(order: Order, book: Book) -> str | None:
    """A marketable BUY must be worth at least $1."""
    marketable = best_crosses(book, order) or order.order_type in ("FOK", "FAK")
    if not marketable or order.side != BUY or order.internal:
        return None
    cost = order.budget if order.budget is not None else notional(order.size, order.price)
    if cost < MICRO:
        return f"invalid amount for a marketable BUY order (${fmt(cost)}), min size: $1"
    return None
