"""One canonical order book per market, in the YES token's price space.

A BUY YES at p and a SELL NO at 1-p are both bids at p here; a SELL YES at p and a
BUY NO at 1-p are both asks at p. Complementary orders therefore meet in one book
(BUY YES + BUY NO = mint, SELL + SELL = merge) and the NO book is a mirrored view.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator

from sortedcontainers import SortedDict

from .orders import BID, Order
from .units import ONE, fmt


class Level:
    """Orders at one price in arrival order (dicts keep insertion order)."""

    __slots__ = ("orders", "total")

    def __init__(self) -> None:
        self.orders: dict[str, Order] = {}
        self.total = 0


class Book:
    def __init__(self) -> None:
        self.bids: SortedDict = SortedDict()  # price -> Level
        self.asks: SortedDict = SortedDict()

    def side(self, yes_side: str) -> SortedDict:
        return self.bids if yes_side == BID else self.asks

    def add(self, order: Order) -> None:
        levels = self.side(order.yes_side)
        level = levels.get(order.yes_price)
        if level is None:
            level = levels[order.yes_price] = Level()
        level.orders[order.id] = order
        level.total += order.remaining

    def remove(self, order: Order) -> None:
        """Take an order off the book (cancel); its unfilled size leaves the level."""
        levels = self.side(order.yes_side)
        level = levels.get(order.yes_price)
        if level is None or order.id not in level.orders:
            return
        del level.orders[order.id]
        level.total -= order.remaining
        if not level.orders:
            del levels[order.yes_price]

    def reduce(self, order: Order, size: int) -> None:
        """Account for a fill of a resting order (call after ``order.matched`` grew); one used up
        leaves the book, with whatever rounding dust it had left."""
        levels = self.side(order.yes_side)
        level = levels[order.yes_price]
        level.total -= size
        if order.used_up:
            level.total -= order.remaining
            del level.orders[order.id]
            if not level.orders:
                del levels[order.yes_price]

    def best_bid(self) -> int | None:
        return self.bids.peekitem(-1)[0] if self.bids else None

    def best_ask(self) -> int | None:
        return self.asks.peekitem(0)[0] if self.asks else None

    def level_total(self, yes_side: str, price: int) -> int:
        level = self.side(yes_side).get(price)
        return level.total if level else 0

    def opposite_levels(self, yes_side: str) -> Iterator[tuple[int, Level]]:
        """Levels a taker on ``yes_side`` meets, best first."""
        if yes_side == BID:
            return iter(list(self.asks.items()))
        return iter(list(reversed(self.bids.items())))

    def orders(self) -> Iterator[Order]:
        for levels in (self.bids, self.asks):
            for level in list(levels.values()):
                yield from list(level.orders.values())

    def token_levels(self, is_yes: bool) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """(bids, asks) for one token, best level LAST, as the venue sends them."""
        if is_yes:
            bids = [(p, lv.total) for p, lv in self.bids.items()]
            asks = [(p, lv.total) for p, lv in reversed(self.asks.items())]
        else:
            bids = [(ONE - p, lv.total) for p, lv in reversed(self.asks.items())]
            asks = [(ONE - p, lv.total) for p, lv in self.bids.items()]
        return bids, asks

    def token_best(self, is_yes: bool) -> tuple[int | None, int | None]:
        """(best bid, best ask) in a token's own price space."""
        bid, ask = self.best_bid(), self.best_ask()
        if is_yes:
            return bid, ask
        return (ONE - ask if ask is not None else None, ONE - bid if bid is not None else None)


def levels_json(levels: list[tuple[int, int]]) -> list[dict[str, str]]:
    return [{"price": fmt(p), "size": fmt(s)} for p, s in levels]


def summary_hash(summary: dict) -> str:
    """SHA-1 over the compact summary with ``hash`` blanked, as py-clob-client recomputes it."""
    payload = {
        "market": summary["market"],
        "asset_id": summary["asset_id"],
        "timestamp": summary["timestamp"],
        "hash": "",
        "bids": summary["bids"],
        "asks": summary["asks"],
        "min_order_size": summary["min_order_size"],
        "tick_size": summary["tick_size"],
        "neg_risk": summary["neg_risk"],
        "last_trade_price": summary["last_trade_price"],
    }
    raw = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha1(raw.encode("utf-8")).hexdigest()
