"""Test doubles for pure-logic tests: a scripted book source and a controllable clock."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from contracts.domain import Book, Level, MarketInfo

SH = 1_000_000


def p(x: float) -> int:
    return round(x * 1_000_000)


def count_trips(trips: Any) -> Counter[str]:
    """The paper venue's requests (engine/venues/paper_latency.py `Trips`), counted as they are made:
    "place" (a placement, a batch of them, or an amend) and "cancel" (a batch of cancels)."""
    counted: Counter[str] = Counter()
    place, cancelling = trips.place, trips.cancelling_orders

    async def counted_place() -> bool:
        counted["place"] += 1
        return bool(await place())

    @asynccontextmanager
    async def counted_cancel(ids: set[str]) -> AsyncIterator[None]:
        counted["cancel"] += 1
        async with cancelling(ids):
            yield

    trips.place = counted_place  # counts the real call, then makes it
    trips.cancelling_orders = counted_cancel  # the same, for cancels
    return counted


@dataclass
class Clock:
    now: int = 1_700_000_000_000

    def __call__(self) -> int:
        return self.now

    def advance(self, ms: int) -> None:
        self.now += ms


@dataclass
class ScriptedBooks:
    """A BookSource whose books tests set by hand (best level first)."""

    clock: Clock
    books: dict[str, Book] = field(default_factory=dict)

    def set(self, token: str, bids: list[tuple[float, float]], asks: list[tuple[float, float]]) -> None:
        self.books[token] = Book(
            token,
            tuple(Level(p(pr), round(sz * SH)) for pr, sz in bids),
            tuple(Level(p(pr), round(sz * SH)) for pr, sz in asks),
            self.clock(),
        )

    def book(self, token_id: str, depth: int = 10) -> Book | None:
        return self.books.get(token_id)

    def best_prices(self, token_id: str) -> tuple[int | None, int | None]:
        book = self.books.get(token_id)
        bid, ask = (None, None) if book is None else (book.best_bid, book.best_ask)
        return (None if bid is None else bid.price), (None if ask is None else ask.price)

    def level_size(self, token_id: str, is_bid: bool, price: int) -> int:
        book = self.books.get(token_id)
        levels = () if book is None else (book.bids if is_bid else book.asks)
        return next((lv.size for lv in levels if lv.price == price), 0)


def market(cid: str = "c1", yes: str = "Y1", no: str = "N1", *, tick: int = 10_000, min_size: int = 5 * SH,
           fee_rate_ppm: int = 0, rebate_share_ppm: int | None = None) -> MarketInfo:
    return MarketInfo(condition_id=cid, question=f"{cid}?", yes_token=yes, no_token=no, tick=tick,
                      min_size=min_size, fee_rate_ppm=fee_rate_ppm, rebate_share_ppm=rebate_share_ppm)
