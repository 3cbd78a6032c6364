"""Reading recorded market data back, in the order the engine saw it.

Two sources: `recorded` ticks (book snapshots, grouped level changes, trades and the live
engine's decision markers, exactly as the recorder wrote them) and `history` (imported
/prices-history points, turned into a coarse synthetic book: see `history_events`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Protocol

from contracts.domain import Level, MarketInfo, Side, complement
from engine.feeds.books import BookCache
from engine.feeds.market_data_events import BookChanged, TickSizeChanged, TradePrint
from engine.venues.latency import LatencyModel
from storage.research.backtest_recording import (
    BOOK,
    CHANGE,
    DECIDE,
    RESOLVE,
    TICK,
    TRADE,
    Event,
    ReplayRows,
    Row,
    has_decision_markers,
    history_points,
    id_span,
    open_recording,
    recorded_events,  # noqa: F401  (the recording as the recorder wrote it: tests read it from here)
)

SYNTHETIC_SIZE = 1_000 * 1_000_000  # shares quoted on each side of a synthetic history book
NEVER = 2**62


class ReplayFeed:
    """The core's feed during a backtest: no network; the runner pushes events into the books."""

    def __init__(self) -> None:
        self.tokens: set[str] = set()

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    def subscribe(self, token_ids: object) -> None:
        self.tokens |= set(token_ids)  # type: ignore[call-overload]  # a frozenset grown and shrunk as a set

    def unsubscribe(self, token_ids: object) -> None:
        self.tokens -= set(token_ids)  # type: ignore[call-overload]  # a frozenset grown and shrunk as a set

    def subscribed(self) -> set[str]:
        return set(self.tokens)

    def frozen_since(self) -> int | None:
        return None  # a recording cannot freeze


@dataclass
class Replay:
    seed: int
    replay_feed: ReplayFeed
    latency: LatencyModel | None = None  # None: the desk's setting
    # Markets linked to a Kalshi market: condition id -> (ticker, inverted), priced from its replayed book.
    pairs: Mapping[str, tuple[str, bool]] = field(default_factory=dict)

    def feed(self, books: BookCache) -> ReplayFeed:
        return self.replay_feed




class Clock(Protocol):
    now: int


class Levels(Protocol):
    bids: dict[int, int]
    asks: dict[int, int]


class Triggers(Protocol):
    """What marks markets as rows are applied, with decisions on events (engine/backtest/event_replay.py)."""

    def watched(self) -> dict[str, tuple[str, int]]: ...

    def mark(self, condition_id: str) -> None: ...

    def reported(self) -> bool: ...

    def touch_moved(self, token: str, bids: dict[int, int], asks: dict[int, int], is_bid: bool, price: int
                    ) -> bool: ...

    def touch_changed(self, token: str, bids: dict[int, int], asks: dict[int, int]) -> bool: ...

    @staticmethod
    def within(bids: dict[int, int], asks: dict[int, int], is_bid: bool, price: int, reach: int) -> bool: ...

    @staticmethod
    def window(bids: dict[int, int], asks: dict[int, int], reach: int) -> object: ...

KINDS = {"book": BOOK, "change": CHANGE, "trade": TRADE, "decide": DECIDE}


MAX_BATCH_IDS = 20_000  # a batch's rows are held at once: bounded, however long the recording


class RecordedRows:
    """Ticks of `tokens` (and every decision marker) in [from, to], in recording order, as
    rows (token i = tokens[i]), read a window of ids at a time: the scan walks the id range
    the time range spans (storage order, no sort); the time filter still decides. Nothing is
    counted up front: `fraction` says how much of the id range has been read."""

    def __init__(self, db_path: Path, tokens: Sequence[str], from_ms: int, to_ms: int) -> None:
        self.db_path, self.tokens, self.from_ms, self.to_ms = db_path, list(tokens), from_ms, to_ms
        conn = open_recording(db_path)
        try:
            self.low, self.high = id_span(conn, from_ms, to_ms)
            self.markers = has_decision_markers(conn, from_ms, to_ms)
        finally:
            conn.close()
        self.read_to = self.low  # the first id not yet read

    @property
    def span(self) -> int:
        return 0 if self.low is None or self.high is None else self.high - self.low + 1

    @property
    def fraction(self) -> float:
        if self.read_to is None or self.span == 0:
            return 1.0
        return min(1.0, (self.read_to - self.low) / self.span)  # type: ignore[operator]  # low is set whenever read_to is

    def batches(self, ids: int) -> Iterator[list[Row]]:
        """The rows, `ids` ids of the table (at most MAX_BATCH_IDS) at a time. Read on the
        replay's own thread: a reader thread beside it was measured 1.3-1.4x slower (each
        row it steps through hands Python's lock back and forth with the replay)."""
        if self.low is None or self.high is None:
            return
        for rows, read_to in self._windows(max(1, min(ids, MAX_BATCH_IDS))):
            self.read_to = read_to
            yield rows

    def _windows(self, step: int) -> Iterator[tuple[list[Row], int]]:
        """(the rows of each window of `step` ids, the first id after it)."""
        assert self.low is not None and self.high is not None
        rows = ReplayRows(self.tokens)
        conn = open_recording(self.db_path)
        try:
            for first in range(self.low, self.high + 1, step):
                last = min(first + step - 1, self.high)
                yield rows.window(conn, first, last, self.from_ms, self.to_ms), last + 1
        finally:
            conn.close()


def recorded_batches(db_path: Path, tokens: Sequence[str], from_ms: int, to_ms: int,
                     size: int) -> Iterator[list[Row]]:
    """RecordedRows' rows, `size` ids of the table at a time (empty windows left out)."""
    for batch in RecordedRows(db_path, tokens, from_ms, to_ms).batches(size):
        if batch:
            yield batch


def as_rows(events: Iterator[Event], tokens: Sequence[str], size: int) -> Iterator[list[Row]]:
    """Events (as `recorded_events` or `history_events` give them) as replay rows, in batches."""
    index = {token: i for i, token in enumerate(tokens)}
    while batch := list(islice(events, size)):
        yield [(at, index.get(token), KINDS[kind], None if side is None else int(side == "BUY"), price, amount, data)
               for at, token, kind, side, price, amount, data in batch]


def apply(books: BookCache, event: Event) -> None:
    """Push one recorded event into the books, which tell their listeners (the paper venue)."""
    at, token, kind, side, price, size, data = event
    if kind == "book":
        levels = json.loads(data or "{}")
        books.apply_snapshot(token, [tuple(x) for x in levels.get("b", [])],
                             [tuple(x) for x in levels.get("a", [])], at)
    elif kind == "change":
        if data is None:
            books.apply_changes(((token, side == "BUY", price, size),), at)  # type: ignore[arg-type]  # price and size are set on a change row
        else:
            books.apply_changes([(token, bool(is_bid), p, s) for is_bid, p, s in json.loads(data)], at)
    elif kind == "trade" and price is not None and size is not None and side is not None:
        books.record_trade(TradePrint(token, price, size, Side(side), at))
    elif kind == "decide" and size is not None:  # every book was current then (the recorder's marker)
        books.confirm(books.token_books(), size)


class RowApplier:
    """`apply` for a backtest's core, on replay rows, without per-event cost where nothing
    listens.

    Level changes are most of a recording. In a backtest the books' only listener is the
    core, whose only work for a book change is the paper venue's queue and crossing check
    (`PaperVenue.on_book_changed`), which does nothing on a token where no order rests. So a
    level change updates the book and, on a token where an order rests, calls `book_changed`
    (the runner passes the paper venue's check itself; by default the change is announced to
    the listeners as the feed announces it, one BookChanged after all of the row's changes).
    A row of one level change calls `level_changed` with that level instead, when given (the
    paper venue's check of the orders that level can reach). A snapshot is announced the same
    way, through `book_changed`, on a token where an order rests; a trade print is recorded
    (the last trade) and, when `trade_printed` is given, handed to it only on such a token
    (otherwise announced to the listeners as usual). Same results, which the parity test
    checks (tests/backtest/test_parity.py).
    """

    def __init__(self, books: BookCache, tokens: Sequence[str], rests_on: Callable[[str], object],
                 book_changed: Callable[[str, int], None] | None = None,
                 level_changed: Callable[[str, bool, int], None] | None = None,
                 trade_printed: Callable[[TradePrint], None] | None = None,
                 print_data: Callable[[str, str], None] | None = None):
        self.books = books
        self.tokens = list(tokens)
        self.rests_on = rests_on
        self.book_changed = book_changed or (lambda token, at: books.publish(BookChanged(token, at)))
        self.level_changed = level_changed
        self.trade_printed = trade_printed
        self.print_data = print_data  # a print's own data (its fee, engine/backtest/as_it_was.py)
        self.triggers: Triggers | None = None  # decisions on events: what a row marks
        self.resolved: Callable[[Row], None] | None = None  # a market's end (engine/backtest/resolutions.py)
        self.marked = False  # a row marked a market (`until_decision` stopped after its instant)
        # A recording without the live engine's freshness markers (an imported archive): a row of book
        # data vouches for every book, at most each `connection_ms`, as a live connection's data does
        # (engine/venues/polymarket/market_ws.py); None: the markers say since when the books were current.
        self.connection_ms: int | None = None
        self.confirmed_at = -NEVER

    def until_decision(self, rows: Sequence[Row], start: int, clock: Clock, *, limit: int = NEVER,
                       passing: bool = False) -> int:
        """Apply `rows` from `start` up to the next decision marker, each at its own time
        (`clock.now`, which the paper venue reads); returns that marker's index (or the end).
        With `limit`, also stop before the first row later than it; with `passing`, markers are
        stepped over (the engine was busy: a venue call on its way, engine/backtest/cursor.py).
        The runner's loop for recordings with markers: one call per run of market events,
        and the single-level change (most rows) inline, not a call per row. With `triggers`
        (decisions on events), a row that marks a market sets `marked` and, unless `passing`,
        the rows of its instant are applied and the call stops there."""
        tokens, by_token, rests_on = self.tokens, self.books.token_books(), self.rests_on
        level_changed, triggers = self.level_changed, self.triggers
        watched = None if triggers is None else triggers.watched()
        for i in range(start, len(rows)):
            row = rows[i]
            at, index, kind, buy, price, size, data = row
            if at > limit:
                if i > start:
                    clock.now = max(clock.now, rows[i - 1][0])
                return i
            if kind == DECIDE:
                if size is not None:  # every book was current then, as the live feed knew it
                    self.books.confirm(by_token, size)
                if passing:
                    continue
                return i
            if self.connection_ms is not None and at - self.confirmed_at >= self.connection_ms and index is not None:
                self.confirmed_at = at
                self.books.confirm(by_token, at)
            if kind == CHANGE and data is None and level_changed is not None and index is not None:
                # BookCache.apply_level, inline (most rows): the book, then its listener if it
                # changed on a token where an order rests. The clock is set only for a call
                # that may read it.
                token = tokens[index]
                book = by_token.get(token)
                if book is not None and book.set_level(buy == 1, price, size, None):  # type: ignore[arg-type]  # price and size are set on a level row (None only on other kinds)
                    if book.updated_ms < at:
                        book.updated_ms = at
                    rests = rests_on(token)
                    if rests:
                        clock.now = at
                        level_changed(token, buy == 1, price)  # type: ignore[arg-type]  # price and size are set on a level row (None only on other kinds)
                    if watched is not None and self._marks_level(token, book, buy == 1, price, watched, rests):  # type: ignore[arg-type]  # (as above)
                        self.marked = True
                        limit = limit if passing else at
            else:
                clock.now = at
                if watched is None or index is None:
                    self(row)
                elif self._apply_watched(row, tokens[index], watched):  # (it applies the row, once)
                    self.marked = True
                    limit = limit if passing else at
        if len(rows) > start:
            clock.now = rows[-1][0]
        return len(rows)

    def _marks_level(self, token: str, book: Levels, is_bid: bool, price: int,
                     watched: dict[str, tuple[str, int]], rests: object) -> bool:
        """A level change just applied: whether it marks its market (within reach of the touch, or
        moving the touch's prices of a market watched for them alone), or made the paper venue report
        (a fill of an order resting there)."""
        triggers = self.triggers
        assert triggers is not None
        hit = watched.get(token)
        if hit is not None and (triggers.touch_moved(token, book.bids, book.asks, is_bid, price) if hit[1] < 0
                                else triggers.within(book.bids, book.asks, is_bid, price, hit[1])):
            triggers.mark(hit[0])
            return True
        return bool(rests) and triggers.reported()

    def _apply_watched(self, row: Row, token: str, watched: dict[str, tuple[str, int]]) -> bool:
        """Apply a row other than one level change; whether it marked a market: a snapshot or a
        message of changes that moved the levels within reach of the touch, a print, a report. A market
        watched for its touch's prices alone: a row that moved them (not a print: its deciders read none)."""
        assert self.triggers is not None
        hit, kind = watched.get(token), row[2]
        if hit is None or kind not in (BOOK, CHANGE, TRADE) or (hit[1] < 0 and kind == TRADE):
            self(row)
            return self.triggers.reported()
        if hit[1] < 0:
            self(row)
            book = self.books.token_books().get(token)
            if book is not None and self.triggers.touch_changed(token, book.bids, book.asks):
                self.triggers.mark(hit[0])
                return True
            return self.triggers.reported()
        if kind == TRADE:
            self(row)
            self.triggers.mark(hit[0])
            return True
        book = self.books.token_books().get(token)
        before = None if book is None else self.triggers.window(book.bids, book.asks, hit[1])
        self(row)
        book = self.books.token_books().get(token)
        if book is not None and self.triggers.window(book.bids, book.asks, hit[1]) != before:
            self.triggers.mark(hit[0])
            return True
        return self.triggers.reported()

    def __call__(self, row: Row) -> None:
        at, index, kind, buy, price, size, data = row
        if index is None:
            return
        token, books = self.tokens[index], self.books
        if kind == CHANGE:
            if data is None:
                if books.apply_level(token, buy == 1, price, size, at) and self.rests_on(token):  # type: ignore[arg-type]  # price and size are set on a level row (None only on other kinds)
                    if self.level_changed is not None:
                        self.level_changed(token, buy == 1, price)  # type: ignore[arg-type]  # price and size are set on a level row (None only on other kinds)
                    else:
                        self.book_changed(token, at)
                return
            changed = False
            for is_bid, p, s in json.loads(data):
                changed = books.apply_level(token, bool(is_bid), p, s, at) or changed
            if changed and self.rests_on(token):
                self.book_changed(token, at)
        elif kind == BOOK:
            levels = json.loads(data or "{}")
            if books.apply_snapshot(token, levels.get("b", ()), levels.get("a", ()), at, notify=False) \
                    and self.rests_on(token):
                self.book_changed(token, at)
        elif kind == RESOLVE:
            if self.resolved is not None:
                self.resolved(row)
        elif kind == TICK and price is not None:
            # A tick size change, as the feed hands one to the core: plans and the paper venue take it.
            books.publish(TickSizeChanged(token, size, price, at))
        elif kind == TRADE and price is not None and size is not None and buy is not None:
            trade = TradePrint(token, price, size, Side.BUY if buy else Side.SELL, at)
            if data is not None and self.print_data is not None:
                self.print_data(token, data)
            if self.trade_printed is None:
                books.record_trade(trade)
            else:
                books.record_trade(trade, notify=False)
                if self.rests_on(token):
                    self.trade_printed(trade)


# -- imported price history: the coarser model ----------------------------------------


def synthetic_levels(price: int, tick: int) -> tuple[Level, Level]:
    """A one-level book around a history price: the grid prices on either side of it (two
    ticks wide when the price sits on the grid), SYNTHETIC_SIZE deep on each side."""
    below = price - price % tick
    bid = below - tick if below == price else below
    ask = bid + 2 * tick if below == price else below + tick
    bid, ask = max(tick, bid), min(1_000_000 - tick, ask)
    return Level(bid, SYNTHETIC_SIZE), Level(ask, SYNTHETIC_SIZE)


def history_events(db_path: Path, markets: Sequence[MarketInfo], from_ms: int, to_ms: int) -> Iterator[Event]:
    """History points as events: for each point a synthetic YES book (and its NO mirror), trade
    prints at the price, and a decision after each point (once per history point)."""
    by_token = {m.yes_token: m for m in markets}
    for at, token, price in history_points(db_path, list(by_token), from_ms, to_ms):
        market = by_token[token]
        bid, ask = synthetic_levels(price, market.tick)
        levels = {"b": [[bid.price, bid.size]], "a": [[ask.price, ask.size]]}
        yield (at, token, "book", None, None, None, json.dumps(levels))
        yield (at, market.no_token, "book", None, None, None, json.dumps(
            {"b": [[complement(ask.price), ask.size]], "a": [[complement(bid.price), bid.size]]}))
        # Prints both ways at the price: resting orders it moved through can fill either side.
        yield (at, token, "trade", Side.BUY.value, price, SYNTHETIC_SIZE, None)
        yield (at, token, "trade", Side.SELL.value, price, SYNTHETIC_SIZE, None)
        yield (at, "", "decide", None, None, None, None)

