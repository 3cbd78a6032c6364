"""The recorder: every subscribed token's book (top N levels) and its changes, the mid, and
the trades, plus a marker at each moment the engine decided, into the `ticks` table.

Off the hot path: the feed listener only diffs the new top of book against the last
recorded one and appends a tuple to a buffer; a background task writes the buffer each second
(storage/engine_stores/tick_store.py: sqlite-utils insert_all) from a worker thread with its own
connection, in transactions of at most TRANSACTION_ROWS rows with a pause between. The pause is
for the engine's own writes: each holds the database's one write lock, and a write on the event
loop (a cancel's mark, the heartbeat, a decision's orders) that meets it held waits, and the
loop with it. A second's buffer in one transaction held the lock 20-90 ms under a flood of book
changes (a thousand a second), which is what a move landing then waited; a transaction of 100
rows holds it ~3 ms, and SQLite's retries of a waiting writer (1, 3, 8 ms...) find it free in
the pause. A buffer the pauses would not let through in a second is written without them: a
recorder that falls behind would hold ever more rows in memory. Rows keep the order in which
the engine saw the events, which is what lets a backtest replay them exactly (engine/backtest/).
Retention's pruning is storage/engine_stores/tick_store.py's too (prune_ticks).

Beside the ticks, the recorder rolls each token's book and prints into candles (1 minute, 5 minutes,
1 hour, 1 day: contracts/candles.py), kept for good after the ticks' retention ends: on the hot path
only the minute's candle is updated; each flush rolls the minutes it takes into every width and merges
them into the table (storage/engine_stores/candle_store.py), after the ticks, in transactions of a few
tokens each; a token's candles not written go back to be written with the next flush.

A market's end the feed tells (Polymarket's `market_resolved`, Kalshi's settlement or void as its reference
read it) is kept in `market_resolutions` (storage/research/market_resolutions.py) at the feed's time, so a
backtest of the recording settles its positions there as the desk did (engine/backtest/resolutions.py).

Row shapes: `book` data = {"b": [[price, size], ...], "a": [...]} best first; `change`: the
changes of one book update, a single level in side/price/size (BUY = bid side, size 0
removes the level) or several as data = [[is_bid, price, size], ...]; `trade` side/price/
size (the taker's side); `decide` its time and, in size, since when every book was known current
(`BookCache.all_current_since`: the feed vouches for a quiet book without a row of its own, and a
replay must not find it stale where live did not).
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from contracts.candles import Candle, CandleRoll, rolled_up
from contracts.domain import Book
from engine.feeds.books import BookCache
from engine.feeds.catalog import MarketCatalog
from engine.feeds.market_data_events import (
    BookChanged,
    MarketEvent,
    MarketResolved,
    MarketVoided,
    TickSizeChanged,
    TradePrint,
)
from storage.engine_stores.candle_store import merge_candles
from storage.engine_stores.tick_store import append_resolutions, append_tick_sizes, append_ticks
from storage.sqlite.db import raw_connection

log = logging.getLogger("engine.marketdata.recorder")
FLUSH_S = 1.0
BATCH = 1000
TRANSACTION_ROWS = 100  # ~3 ms of the write lock (1,000 rows in one took 17-23 ms on a 2-core host)
TRANSACTION_PAUSE_S = 0.005  # between two: longer than SQLite's first retries of a waiting writer
RESNAPSHOT_MS = 60_000  # a full snapshot now and then bounds what a reader must replay
# at, token_id, kind, side, price, size, mid, data (storage/engine_stores/tick_store.py: TICK_COLUMNS)
Row = tuple[int, str, str, str | None, int | None, int | None, int | None, str | None]


def book_json(book: Book) -> str:
    return json.dumps({"b": [[lv.price, lv.size] for lv in book.bids], "a": [[lv.price, lv.size] for lv in book.asks]},
                      separators=(",", ":"))


def level_diff(before: Book, after: Book) -> list[list[int]]:
    """[[is_bid, price, new size], ...] turning `before`'s top levels into `after`'s."""
    changes: list[list[int]] = []
    for is_bid, old, new in ((1, before.bids, after.bids), (0, before.asks, after.asks)):
        was = {lv.price: lv.size for lv in old}
        now = {lv.price: lv.size for lv in new}
        changes += [[is_bid, price, size] for price, size in now.items() if was.get(price) != size]
        changes += [[is_bid, price, 0] for price in was if price not in now]
    return changes


TICK_SIZE = "tick_size"  # a buffered tick size change (at, token, TICK_SIZE, None, new, old, None, None)
# A buffered market ending (at, condition id, RESOLUTION, None, what a YES share paid or None, None, None, outcome).
RESOLUTION = "resolution"


class Recorder:
    def __init__(self, db_path: Path, books: BookCache, catalog: MarketCatalog | None = None, *, depth: int = 10):
        """`catalog`: the markets, which say which outcome a market's winning token is."""
        self.db_path = db_path
        self.books = books
        self.catalog = catalog
        self.depth = depth
        self.buffer: list[Row] = []
        self.candles = CandleRoll()
        self._candles_written: set[str] = set()  # tokens of the running flush whose candles committed
        self.recorded: dict[str, tuple[Book, int]] = {}
        self.written = 0
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="recorder")
        self._committed = 0  # rows of the running flush committed so far (set on the worker thread)
        self._conn: sqlite3.Connection | None = None
        self._task: asyncio.Task[None] | None = None

    # -- listening (the hot path: no I/O) ----------------------------------------------

    def on_market_event(self, event: MarketEvent) -> None:
        if isinstance(event, BookChanged):
            self._on_book(event.token_id, event.at_ms)
        elif isinstance(event, TradePrint):
            self.buffer.append((event.at_ms, event.token_id, "trade", event.side.value, event.price, event.size,
                                self._mid(event.token_id), None))
            self.candles.trade(event.token_id, event.at_ms, event.size)
        elif isinstance(event, TickSizeChanged):  # kept in `tick_sizes` (_write), for replays to trade on it
            self.buffer.append((event.at_ms, event.token_id, TICK_SIZE, None, event.new_tick, event.old_tick, None,
                                None))
        elif isinstance(event, MarketResolved | MarketVoided):  # kept in `market_resolutions` (_write)
            self._ended(event)

    def _ended(self, event: MarketResolved | MarketVoided) -> None:
        """A market's end as the feed told it: a winner, a void (paid back at cost), or a value (a YES share
        paid `yes_value`; a resolution naming no winner, a 50/50, whose value the venue is asked later)."""
        if isinstance(event, MarketVoided):
            outcome, value = ("void", None) if event.yes_value is None else ("value", event.yes_value)
        elif event.winning_token is None:
            outcome, value = "value", None
        else:
            market = None if self.catalog is None else self.catalog.get(event.condition_id)
            if market is None or event.winning_token not in (market.yes_token, market.no_token):
                return
            outcome, value = market.outcome_of(event.winning_token).value.lower(), None
        self.buffer.append((event.at_ms, event.condition_id, RESOLUTION, None, value, None, None, outcome))

    def mark_decision(self, now_ms: int) -> None:
        since = self.books.all_current_since()
        self.buffer.append((now_ms, "", "decide", None, None, None if since is None else min(since, now_ms), None,
                            None))

    def _on_book(self, token_id: str, at_ms: int) -> None:
        book = self.books.book(token_id, self.depth)
        if book is None:
            return
        last = self.recorded.get(token_id)
        if last is None or at_ms - last[1] >= RESNAPSHOT_MS:
            self.buffer.append((at_ms, token_id, "book", None, None, None, book.mid, book_json(book)))
            self.recorded[token_id] = (book, at_ms)
            self.candles.book(token_id, at_ms, book.mid, book.spread)
            return
        changes = level_diff(last[0], book)
        if len(changes) == 1:  # the common case, kept in columns: no JSON to parse on replay
            is_bid, price, size = changes[0]
            self.buffer.append((at_ms, token_id, "change", "BUY" if is_bid else "SELL", price, size, book.mid, None))
        elif changes:
            self.buffer.append((at_ms, token_id, "change", None, None, None, book.mid,
                                json.dumps(changes, separators=(",", ":"))))
        if changes:
            self.recorded[token_id] = (book, last[1])
            self.candles.book(token_id, at_ms, book.mid, book.spread)

    def _mid(self, token_id: str) -> int | None:
        book = self.books.book(token_id, 1)
        return None if book is None else book.mid

    # -- writing (a worker thread) -----------------------------------------------------

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="recorder")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await self.flush()
        self._worker.submit(self._close_conn).result()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_S)
            try:
                await self.flush()
            except Exception:
                log.exception("recorder flush failed; rows kept for the next attempt")

    async def flush(self) -> int:
        """Write the buffer, then the candles; on a failure the rows not yet committed go back to its
        front (those committed stay written, once), the candles of tokens not yet written go back to
        the roll, and the error is raised."""
        rows, self.buffer = self.buffer, []
        minutes = self.candles.take()
        self._committed = 0
        self._candles_written = set()
        loop = asyncio.get_running_loop()
        try:
            if rows:
                await loop.run_in_executor(self._worker, self._write, rows)
            if minutes:
                await loop.run_in_executor(self._worker, self._write_candles, minutes, bool(rows))
        except Exception:
            self.buffer[:0] = rows[self._committed:]
            self.written += self._committed
            self.candles.give_back(m for m in minutes if m.token_id not in self._candles_written)
            raise
        self.written += len(rows)
        return len(rows)

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = raw_connection(self.db_path, synchronous="NORMAL")
        return self._conn

    def _write(self, rows: list[Row]) -> None:
        self._committed = 0  # here too: a write a cancelled flush left running may have set it
        conn = self._connection()
        began = time.monotonic()
        for start in range(0, len(rows), TRANSACTION_ROWS):
            if start and time.monotonic() - began < FLUSH_S:  # (behind: no pauses, see the docstring)
                time.sleep(TRANSACTION_PAUSE_S)
            part = rows[start:start + TRANSACTION_ROWS]
            self._write_part(conn, part)
            self._committed = start + len(part)

    def _write_candles(self, minutes: list[Candle], after_rows: bool) -> None:
        """The minutes rolled into every width and merged into the table, a few tokens a transaction
        (a pause before each that follows another write, as between the ticks' transactions)."""
        self._candles_written = set()
        conn = self._connection()
        began = time.monotonic()
        for tokens, candles in _by_tokens(rolled_up(minutes)):
            if (after_rows or self._candles_written) and time.monotonic() - began < FLUSH_S:
                time.sleep(TRANSACTION_PAUSE_S)
            merge_candles(conn, candles)
            self._candles_written |= tokens

    @staticmethod
    def _write_part(conn: sqlite3.Connection, rows: list[Row]) -> None:
        """Tick sizes and endings first: written again after a failed tick insert, a repeat is kept once."""
        ticks = [r for r in rows if r[2] != TICK_SIZE and r[2] != RESOLUTION]
        if len(ticks) < len(rows):
            append_tick_sizes(conn, [(token, at, old, new) for at, token, kind, _, new, old, _, _ in rows
                                     if kind == TICK_SIZE and new is not None])
            ended = [(cid, at, str(outcome), value) for at, cid, kind, _, value, _, _, outcome in rows
                     if kind == RESOLUTION]
            if ended:
                append_resolutions(conn, ended, int(time.time() * 1000))
        if ticks:
            append_ticks(conn, ticks, batch_size=BATCH)

    def _close_conn(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _by_tokens(candles: list[Candle]) -> list[tuple[set[str], list[Candle]]]:
    """Candles (sorted by token) in transactions of about TRANSACTION_ROWS rows, a token's never split:
    each with the tokens it writes whole."""
    parts: list[tuple[set[str], list[Candle]]] = []
    for candle in candles:
        if not parts or (len(parts[-1][1]) >= TRANSACTION_ROWS and candle.token_id not in parts[-1][0]):
            parts.append((set(), []))
        parts[-1][0].add(candle.token_id)
        parts[-1][1].append(candle)
    return parts

