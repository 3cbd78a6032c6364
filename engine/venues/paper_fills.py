"""The paper fill model, as pure functions over a visible book. It is built not to flatter:

- a marketable order walks the visible book level by level (slippage), limited by each
  level's size minus what earlier paper orders already took from it;
- a resting order joins the back of its price level: everything visible at that price is
  ahead of it. Size leaving the level is assumed to leave from behind it (the queue ahead
  only shrinks to the level's size); trades at its price consume the queue ahead first;
- a resting order fills only from trades at or through its price, or when the visible book
  crosses it (an ask appears at or below a resting bid), and never for more than the
  trade printed or the crossing size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from engine.domain import Book, Level, Side


@dataclass
class Consumed:
    """Liquidity earlier paper fills took from visible levels, until those levels change."""

    taken: dict[tuple[str, Side, int], tuple[int, int]] = field(default_factory=dict)

    def available(self, token: str, side: Side, level: Level) -> int:
        seen = self.taken.get((token, side, level.price))
        if seen is None or seen[0] != level.size:  # the level changed since: start afresh
            return level.size
        return max(0, level.size - seen[1])

    def take(self, token: str, side: Side, level: Level, amount: int) -> None:
        key = (token, side, level.price)
        seen = self.taken.get(key)
        already = seen[1] if seen is not None and seen[0] == level.size else 0
        self.taken[key] = (level.size, already + amount)


@dataclass(frozen=True, slots=True)
class Execution:
    price: int
    size: int


def _opposite_levels(book: Book, side: Side) -> tuple[Level, ...]:
    return book.asks if side is Side.BUY else book.bids


def _crosses(side: Side, limit: int, level_price: int) -> bool:
    return level_price <= limit if side is Side.BUY else level_price >= limit


def fillable(book: Book, side: Side, limit: int, consumed: Consumed) -> int:
    """How much a marketable order at `limit` could take from the visible book now."""
    book_side = Side.SELL if side is Side.BUY else Side.BUY
    return sum(consumed.available(book.token_id, book_side, lv)
               for lv in _opposite_levels(book, side) if _crosses(side, limit, lv.price))


def walk(book: Book, side: Side, limit: int, size: int, consumed: Consumed) -> list[Execution]:
    """Take liquidity level by level up to `limit` for at most `size`; records what it took."""
    book_side = Side.SELL if side is Side.BUY else Side.BUY
    executions: list[Execution] = []
    remaining = size
    for level in _opposite_levels(book, side):
        if remaining <= 0 or not _crosses(side, limit, level.price):
            break
        take = min(remaining, consumed.available(book.token_id, book_side, level))
        if take > 0:
            consumed.take(book.token_id, book_side, level, take)
            executions.append(Execution(level.price, take))
            remaining -= take
    return executions


def queue_at(book: Book | None, side: Side, price: int) -> int:
    """Visible size already resting at `price` on our side: all of it is ahead of us."""
    if book is None:
        return 0
    levels: Sequence[Level] = book.bids if side is Side.BUY else book.asks
    return next((lv.size for lv in levels if lv.price == price), 0)


@dataclass(frozen=True, slots=True)
class RestingFill:
    size: int
    queue_ahead: int


def on_trade(side: Side, price: int, remaining: int, queue_ahead: int,
             trade_price: int, trade_size: int, taker_side: Side) -> RestingFill:
    """A trade printed on our token: does it reach our resting order?

    A taker SELL hits bids (our BUYs); a taker BUY lifts asks (our SELLs). At our price it
    first eats the queue ahead of us; through our price it would have reached us first.
    """
    hits_us = (side is Side.BUY and taker_side is Side.SELL and trade_price <= price) or \
              (side is Side.SELL and taker_side is Side.BUY and trade_price >= price)
    if not hits_us or remaining <= 0:
        return RestingFill(0, queue_ahead)
    if trade_price == price:
        left = trade_size - queue_ahead
        if left <= 0:
            return RestingFill(0, queue_ahead - trade_size)
        return RestingFill(min(remaining, left), 0)
    return RestingFill(min(remaining, trade_size), 0)  # traded through us


def on_book(side: Side, price: int, remaining: int, queue_ahead: int, book: Book,
            consumed: Consumed) -> tuple[list[Execution], int]:
    """The visible book changed: shrink the queue ahead, and fill if the book now crosses us."""
    queue_ahead = min(queue_ahead, queue_at(book, side, price))
    if remaining <= 0:
        return [], queue_ahead
    crossing = walk(book, side, price, remaining, consumed)
    # A crossing fill is a maker fill at our own price, whatever the crossing level was.
    return [Execution(price, e.size) for e in crossing], queue_ahead
