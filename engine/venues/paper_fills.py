"""The paper fill model, as pure functions over a visible book. It is built not to flatter:

- a marketable order walks the visible book level by level (slippage), limited by each
  level's size minus what earlier paper orders already took from it;
- a resting order joins the back of its price level: everything visible at that price is
  ahead of it. Size leaving the level is assumed to leave from behind it (the queue ahead
  only shrinks to the level's size); trades at its price consume the queue ahead first;
- one trade is reported twice, as a level shrink and as a trade print (the venue sends
  the level change first). What a shrink took off the queue is kept as a credit that the
  next print uses up before it eats the queue, so the trade is counted once whichever
  message comes first. The credit lapses after SHRINK_CREDIT_MS: a shrink that no print
  follows was a cancellation, and must not keep later prints from reaching us;
- a resting order fills only from trades at or through its price, or when the visible book
  crosses it (an ask appears at or below a resting bid), and never for more than the
  trade printed or the crossing size.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from contracts.domain import Book, Level, Side

# How long a level shrink may wait for the trade print that reports the same trade. The
# venue sends both within milliseconds; a couple of seconds covers delivery jitter, and a
# longer wait would let cancellations hold back real fills.
SHRINK_CREDIT_MS = 2_000


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


@dataclass(frozen=True, slots=True)
class ShrinkCredit:
    """Queue a level shrink cut from ahead of a resting order that no trade print has
    accounted for yet, and when (the paper venue's clock, ms) the last such cut happened."""

    size: int = 0
    at_ms: int = 0

    def live(self, now_ms: int) -> int:
        """What is left of the credit at `now_ms` (0 once it has lapsed)."""
        return self.size if now_ms - self.at_ms <= SHRINK_CREDIT_MS else 0


NO_CREDIT = ShrinkCredit()


def shrink_queue(queue_ahead: int, level_size: int, credit: ShrinkCredit,
                 now_ms: int) -> tuple[int, ShrinkCredit]:
    """Our price level now holds `level_size`: at most that is still ahead of us. What the
    cut removed joins the credit, for the trade print that may be reporting it."""
    if level_size >= queue_ahead:
        return queue_ahead, credit
    return level_size, ShrinkCredit(credit.live(now_ms) + queue_ahead - level_size, now_ms)


@dataclass(frozen=True, slots=True)
class RestingFill:
    size: int
    queue_ahead: int
    credit: int  # shrink credit left after this trade


def on_trade(side: Side, price: int, remaining: int, queue_ahead: int,
             trade_price: int, trade_size: int, taker_side: Side, credit: int = 0) -> RestingFill:
    """A trade printed on our token: does it reach our resting order?

    A taker SELL hits bids (our BUYs); a taker BUY lifts asks (our SELLs). It first uses up
    `credit` (the part of it a level shrink already took off our queue); at our price the
    rest eats the queue ahead of us; through our price it would have reached us first.
    """
    hits_us = (side is Side.BUY and taker_side is Side.SELL and trade_price <= price) or \
              (side is Side.SELL and taker_side is Side.BUY and trade_price >= price)
    if not hits_us or remaining <= 0:
        return RestingFill(0, queue_ahead, credit)
    seen = min(credit, trade_size)
    credit -= seen
    if trade_price != price:
        # Through our price it reached us first; the shrink it caused is used up all the same.
        return RestingFill(min(remaining, trade_size), 0, credit)
    unseen = trade_size - seen
    if unseen <= queue_ahead:
        return RestingFill(0, queue_ahead - unseen, credit)
    return RestingFill(min(remaining, unseen - queue_ahead), 0, credit)


def crossing_fills(side: Side, price: int, remaining: int, book: Book, consumed: Consumed) -> list[Execution]:
    """The visible book crosses our resting order: fill from the crossing liquidity."""
    if remaining <= 0:
        return []
    crossing = walk(book, side, price, remaining, consumed)
    # A crossing fill is a maker fill at our own price, whatever the crossing level was.
    return [Execution(price, e.size) for e in crossing]
