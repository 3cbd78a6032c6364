"""BookCache: the in-memory L2 book of every subscribed token, and the market-event hub.

Each side is a dict price -> size (O(1) updates on the hot path) with a sorted view built
lazily and only after a level appears or disappears. Books are exactly what the venue
said: a crossed book stays crossed, an empty side stays empty, and nothing is filled in.

Two clocks matter. `at_ms` is when we received the data; it drives freshness
(`Book.updated_ms`, which `confirm` also bumps when the feed knows a book is current).
`ts_ms` is the venue's message timestamp; it orders data: a snapshot older than the
book's newest data is ignored, and a level update older than the snapshot, or older than
the last update of that same level, is ignored. Level sizes are absolute totals, so a
duplicated message changes nothing.

Everything runs on the event loop thread; there are no locks.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from contracts.domain import Book, Level
from engine.feeds.market_data_events import BookChanged, MarketEvent, MarketListener, TradePrint

log = logging.getLogger("engine.feeds.books")

NEVER = -1
# (token_id, is_bid, price, size): `size` is the new total at that level, 0 deletes it.
LevelChange = tuple[str, bool, int, int]
# A feed's connection vouches for all its books (`BookCache.confirm`) on book data, at most this often (a PONG
# vouches for none); a backtest replays an imported stream as the connection that received it kept them.
CONFIRM_EVERY_MS = 500


class _TokenBook:
    __slots__ = ("bids", "asks", "bid_stamps", "ask_stamps", "bid_keys", "ask_keys",
                 "snap_ts", "ts", "updated_ms", "version", "sides", "frozen", "bid_levels", "ask_levels")

    def __init__(self) -> None:
        self.bids: dict[int, int] = {}
        self.asks: dict[int, int] = {}
        self.bid_stamps: dict[int, int] = {}  # price -> venue ts of its last update
        self.ask_stamps: dict[int, int] = {}
        self.bid_keys: list[int] | None = []  # sorted best first; None = rebuild on read
        self.ask_keys: list[int] | None = []
        self.snap_ts = NEVER  # venue ts of the snapshot the levels started from
        self.ts = NEVER  # newest venue ts applied
        self.updated_ms = 0
        self.version = 0
        self.sides = [0, 0]  # each side's own version (bids, asks): a freeze rebuilds only the side that moved
        # depth -> (version, updated, Book, its sides' versions): the views' depth and the paper venue's
        # deeper one are both asked for between two changes, and must not evict each other.
        self.frozen: dict[int, tuple[int, int, Book, tuple[int, int]]] = {}
        # The Level last frozen at each price of each side: reused while its size holds, so a
        # freeze after a few changes builds only the changed levels (Levels are immutable).
        self.bid_levels: dict[int, Level] = {}
        self.ask_levels: dict[int, Level] = {}

    def replace(self, bids: Iterable[Sequence[int]], asks: Iterable[Sequence[int]], ts: int | None) -> None:
        self.bids = {p: s for p, s in bids if s > 0}
        self.asks = {p: s for p, s in asks if s > 0}
        self.bid_stamps, self.ask_stamps = {}, {}
        self.bid_keys = self.ask_keys = None
        if ts is not None:
            self.ts = max(self.ts, ts)
            self.snap_ts = ts
        else:
            self.snap_ts = self.ts  # unknown age: keep refusing what was already older
        self.version += 1
        self.sides = [self.sides[0] + 1, self.sides[1] + 1]

    def set_level(self, is_bid: bool, price: int, size: int, ts: int | None) -> bool:
        """Apply one absolute level total; False when it is stale or changes nothing."""
        if ts is not None:
            if ts < self.snap_ts:
                return False
            stamps = self.bid_stamps if is_bid else self.ask_stamps
            seen = stamps.get(price)
            if seen is not None and ts < seen:
                return False
            stamps[price] = ts
            if ts > self.ts:
                self.ts = ts
        levels = self.bids if is_bid else self.asks
        if size > 0:
            old = levels.get(price)
            if old == size:
                return False
            levels[price] = size
            if old is not None:  # same prices, same order: the sorted view stays valid
                self.version += 1
                self.sides[not is_bid] += 1
                return True
        elif levels.pop(price, None) is None:
            return False
        if is_bid:
            self.bid_keys = None
        else:
            self.ask_keys = None
        self.version += 1
        self.sides[not is_bid] += 1
        return True

    def sorted_bids(self) -> list[int]:
        if self.bid_keys is None:
            self.bid_keys = sorted(self.bids, reverse=True)
        return self.bid_keys

    def sorted_asks(self) -> list[int]:
        if self.ask_keys is None:
            self.ask_keys = sorted(self.asks)
        return self.ask_keys

    def freeze(self, token_id: str, depth: int) -> Book:
        cached = self.frozen.get(depth)
        if cached is not None and cached[0] == self.version and cached[1] == self.updated_ms:
            return cached[2]
        bid_version, ask_version = self.sides
        same_bids = cached is not None and cached[3][0] == bid_version  # a change of one side: the other's
        same_asks = cached is not None and cached[3][1] == ask_version  # levels are the last freeze's
        book = Book(
            token_id=token_id,
            bids=cached[2].bids if cached is not None and same_bids else
            _levels(self.bid_levels, self.bids, self.sorted_bids()[:depth]),
            asks=cached[2].asks if cached is not None and same_asks else
            _levels(self.ask_levels, self.asks, self.sorted_asks()[:depth]),
            updated_ms=self.updated_ms,
        )
        self.frozen[depth] = (self.version, self.updated_ms, book, (bid_version, ask_version))
        return book


_new_level = tuple.__new__  # Level(price, size) without the Python-level __new__ NamedTuple adds


def _levels(cache: dict[int, Level], sizes: dict[int, int], prices: list[int]) -> tuple[Level, ...]:
    out = []
    for price in prices:
        size = sizes[price]
        level = cache.get(price)
        if level is None or level.size != size:
            level = cache[price] = _new_level(Level, (price, size))
        out.append(level)
    return tuple(out)


class BookCache:
    """Live L2 books per token, last trade prints, and the listeners of market events."""

    def __init__(self) -> None:
        self._books: dict[str, _TokenBook] = {}
        self._last_trades: dict[str, TradePrint] = {}
        self._listeners: list[MarketListener] = []

    # -- writes (the feed) ---------------------------------------------------------------

    def apply_snapshot(self, token_id: str, bids: Iterable[Sequence[int]], asks: Iterable[Sequence[int]],
                       at_ms: int, ts_ms: int | None = None, *, notify: bool = True) -> bool:
        """Replace the whole book (levels as (price, size) pairs); ignored (False) when older
        than the data already held. `notify=False` leaves telling the listeners to the caller
        (a replay, which tells only those that care; see `apply_level`)."""
        book = self._books.get(token_id)
        if book is None:
            book = self._books[token_id] = _TokenBook()
        elif ts_ms is not None and ts_ms < book.ts:
            return False
        book.replace(bids, asks, ts_ms)
        book.updated_ms = max(book.updated_ms, at_ms)
        if notify:
            self._changed(token_id, at_ms)
        return True

    def apply_changes(self, changes: Iterable[LevelChange], at_ms: int,
                      ts_ms: int | None = None) -> list[str]:
        """The hot path: one message's level changes (absolute totals, 0 deletes); one
        BookChanged per touched token. A token without a snapshot is ignored: a book built
        from deltas alone would be partial, and a partial book invents a best price."""
        books = self._books
        touched: list[str] = []
        for token_id, is_bid, price, size in changes:
            book = books.get(token_id)
            if book is not None and book.set_level(is_bid, price, size, ts_ms):
                if book.updated_ms < at_ms:
                    book.updated_ms = at_ms
                if token_id not in touched:
                    touched.append(token_id)
        if self._listeners:
            for token_id in touched:
                self._emit(BookChanged(token_id, at_ms))
        return touched

    def apply_level(self, token_id: str, is_bid: bool, price: int, size: int, at_ms: int) -> bool:
        """One level change (no venue timestamp) without telling the listeners; True if the
        book changed. For a replay, which tells only the listeners that care (see
        engine/backtest/replay.py); the feed uses `apply_changes`."""
        book = self._books.get(token_id)
        if book is None or not book.set_level(is_bid, price, size, None):
            return False
        if book.updated_ms < at_ms:
            book.updated_ms = at_ms
        return True

    def token_books(self) -> dict[str, _TokenBook]:
        """The books by token, live (not copies): for a replay's inner loop, which applies a
        run of level changes through `_TokenBook.set_level` as `apply_level` does, without a
        call of its own per change (engine/backtest/replay.py)."""
        return self._books

    def confirm(self, token_ids: Iterable[str], at_ms: int) -> None:
        """The feed knows these books are current as of `at_ms` (healthy connection)."""
        books = self._books
        for token_id in token_ids:
            book = books.get(token_id)
            if book is not None and book.updated_ms < at_ms:
                book.updated_ms = at_ms

    def record_trade(self, trade: TradePrint, *, notify: bool = True) -> None:
        self._last_trades[trade.token_id] = trade
        if notify:
            self._emit(trade)

    def publish(self, event: MarketEvent) -> None:
        """Deliver a non-book market event (tick change, resolution) to the listeners."""
        self._emit(event)

    def drop(self, token_id: str) -> None:
        self._books.pop(token_id, None)
        self._last_trades.pop(token_id, None)

    # -- reads (the engine) --------------------------------------------------------------

    def book(self, token_id: str, depth: int = 10) -> Book | None:
        book = self._books.get(token_id)
        return None if book is None else book.freeze(token_id, depth)

    def best(self, token_id: str) -> tuple[Level | None, Level | None]:
        book = self._books.get(token_id)
        if book is None:
            return None, None
        bid_keys, ask_keys = book.sorted_bids(), book.sorted_asks()
        bid = Level(bid_keys[0], book.bids[bid_keys[0]]) if bid_keys else None
        ask = Level(ask_keys[0], book.asks[ask_keys[0]]) if ask_keys else None
        return bid, ask

    def best_prices(self, token_id: str) -> tuple[int | None, int | None]:
        """(best bid price, best ask price), None for an empty side or no book; no objects
        built, for the paper venue, which asks on every book update."""
        book = self._books.get(token_id)
        if book is None:
            return None, None
        bid_keys, ask_keys = book.sorted_bids(), book.sorted_asks()
        return (bid_keys[0] if bid_keys else None), (ask_keys[0] if ask_keys else None)

    def level_size(self, token_id: str, is_bid: bool, price: int) -> int:
        """Size resting at one price on one side now (0 if none); O(1), for the paper venue."""
        book = self._books.get(token_id)
        if book is None:
            return 0
        return (book.bids if is_bid else book.asks).get(price, 0)

    def venue_ts(self, token_id: str) -> int | None:
        """The newest venue timestamp applied to this book (None: no book)."""
        book = self._books.get(token_id)
        return None if book is None else book.ts

    def same_as(self, token_id: str, bids: Iterable[Sequence[int]], asks: Iterable[Sequence[int]]) -> bool | None:
        """Whether this book holds exactly these levels ((price, size) pairs, in any order);
        None when there is no book."""
        book = self._books.get(token_id)
        if book is None:
            return None
        return book.bids == {p: s for p, s in bids if s > 0} and book.asks == {p: s for p, s in asks if s > 0}

    def updated_ms(self, token_id: str) -> int | None:
        book = self._books.get(token_id)
        return None if book is None else book.updated_ms

    def all_current_since(self) -> int | None:
        """Since when every book held is known current: the oldest freshness among them (a book
        the feed has stopped vouching for holds it back), None with no book. The recorder keeps it
        at each decision marker, so a replay ages a quiet market's book as live did: live keeps a
        book fresh by its connection's other data (`confirm`), which writes no row of its own."""
        return min((book.updated_ms for book in self._books.values()), default=None)

    def next_stale(self, now: int, max_age_ms: int) -> int | None:
        """The earliest time after `now` a book held is older than `max_age_ms` with no new data
        (None: every one is older already, or none is held)."""
        return min((due for book in self._books.values() if (due := book.updated_ms + max_age_ms + 1) > now),
                   default=None)

    def last_trade(self, token_id: str) -> TradePrint | None:
        return self._last_trades.get(token_id)

    # -- listeners -----------------------------------------------------------------------

    def add_listener(self, fn: MarketListener) -> None:
        self._listeners.append(fn)

    def _changed(self, token_id: str, at_ms: int) -> None:
        if self._listeners:
            self._emit(BookChanged(token_id, at_ms))

    def _emit(self, event: MarketEvent) -> None:
        for fn in list(self._listeners):
            try:
                fn(event)
            except Exception:  # a faulty listener must not stop market data for the others
                log.exception("market listener failed", extra={"event": type(event).__name__})
