"""Price-time matching of one incoming order against a canonical book.

Execution happens at the resting (maker) price; any price improvement goes to the
taker, as on the venue. Cash per fill is split into the YES leg (size * p) and the
NO leg (size * (1 - p)) so transfers, mints and merges all conserve pUSD exactly.
Rounding dust (only possible with budget-denominated market BUYs) favours the taker.
"""

from __future__ import annotations

from dataclasses import dataclass

from .book import Book
from .orders import BID, BUY, Order
from .units import ONE, ceil_div


@dataclass(slots=True)
class Fill:
    maker: Order
    size: int  # micro-shares
    yes_price: int  # execution price in YES space (the maker's level)
    yes_cash: int  # micro-pUSD on the YES leg
    no_cash: int  # micro-pUSD on the NO leg; yes_cash + no_cash == size

    def cash_for(self, order: Order) -> int:
        return self.yes_cash if order.token.is_yes else self.no_cash


def own_price(order: Order, yes_price: int) -> int:
    """A YES-space price seen from ``order``'s token."""
    return yes_price if order.token.is_yes else ONE - yes_price


def crosses(order: Order, level_price: int) -> bool:
    if order.yes_side == BID:
        return level_price <= order.yes_price
    return level_price >= order.yes_price


def cash_split(size: int, yes_price: int, taker: Order) -> tuple[int, int]:
    """(yes_cash, no_cash) for a fill, rounding the taker's own leg in its favour."""
    taker_price = own_price(taker, yes_price)
    exact = size * taker_price
    taker_cash = exact // ONE if taker.side == BUY else ceil_div(exact, ONE)
    other = size - taker_cash
    return (taker_cash, other) if taker.token.is_yes else (other, taker_cash)


def _wanted(taker: Order, yes_price: int, spent: int, matched: int) -> int:
    """Shares the taker still wants at this level (budget orders convert pUSD to shares)."""
    if taker.budget is not None:
        return (taker.budget - spent) * ONE // own_price(taker, yes_price)
    return taker.size - matched


def best_crosses(book: Book, order: Order) -> bool:
    """Would ``order`` take liquidity right now? (post-only and FAK checks)."""
    best = book.best_ask() if order.yes_side == BID else book.best_bid()
    return best is not None and crosses(order, best)


def fully_fillable(book: Book, taker: Order) -> bool:
    """Dry run for FOK: can the whole order (or whole budget) fill at its limit?"""
    spent = matched = 0
    for price, level in book.opposite_levels(taker.yes_side):
        if not crosses(taker, price):
            break
        want = _wanted(taker, price, spent, matched)
        if want <= 0:
            return True
        take = min(want, level.total)
        matched += take
        spent += take * own_price(taker, price) // ONE
        if take == want:
            return True
    if taker.budget is not None:
        return spent > 0 and _wanted(taker, taker.yes_price, spent, matched) == 0
    return matched >= taker.size


def preview(book: Book, taker: Order) -> list[Fill]:
    """The fills ``taker`` would get right now, without touching the book or the orders."""
    fills: list[Fill] = []
    spent, matched = taker.spent, taker.matched
    for price, level in book.opposite_levels(taker.yes_side):
        if not crosses(taker, price):
            break
        for maker in list(level.orders.values()):
            want = _wanted(taker, price, spent, matched)
            if want <= 0:
                return fills
            size = min(want, maker.remaining)
            yes_cash, no_cash = cash_split(size, price, taker)
            fill = Fill(maker, size, price, yes_cash, no_cash)
            matched += size
            spent += fill.cash_for(taker)
            fills.append(fill)
    return fills


def match(book: Book, taker: Order) -> list[Fill]:
    """Fill ``taker`` against the book, mutating both; returns the fills in order."""
    fills = preview(book, taker)
    for fill in fills:
        maker = fill.maker
        maker.matched += fill.size
        maker.spent += fill.cash_for(maker)
        book.reduce(maker, fill.size)
        taker.matched += fill.size
        taker.spent += fill.cash_for(taker)
    return fills
