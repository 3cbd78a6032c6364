"""The ticks recorded before the recorder kept candles (before migration 0092), rolled into candles
before retention prunes them, so a desk that upgraded keeps its price history too.

Retention calls it with the cutoff it is about to prune at (engine/trading/passes/jobs.py): the old
ticks up to there are read in slices of SLICE_MS, in the order recorded, each slice's candles merged
into the table in one transaction with how far the backfill got (a crash never rolls a tick twice,
and the next run goes on from there). The mid is each book row's, as recorded; the spread is the
replayed book's (a snapshot, then its changes: until a token's first snapshot it has no spread);
a print adds its size to the volume. Ticks from the recorder's own era are never read here: the
recorder rolled them as they came.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from contracts.candles import CandleRoll, rolled_up
from storage.engine_stores import candle_store
from storage.sqlite.db import LONG_WRITE_PAUSE_S, raw_connection

SLICE_MS = 600_000  # ten minutes of ticks a transaction


class _Books:
    """Each token's top levels as the recorded rows leave them: enough for the touch's spread."""

    def __init__(self) -> None:
        self.bids: dict[str, dict[int, int]] = {}
        self.asks: dict[str, dict[int, int]] = {}

    def snapshot(self, token: str, data: str | None) -> None:
        try:
            levels = json.loads(data or "{}")
            self.bids[token] = {int(p): int(s) for p, s in levels.get("b", []) if int(s) > 0}
            self.asks[token] = {int(p): int(s) for p, s in levels.get("a", []) if int(s) > 0}
        except (ValueError, TypeError, AttributeError):
            self.bids.pop(token, None)  # unreadable: no spread until the next snapshot
            self.asks.pop(token, None)

    def change(self, token: str, side: str | None, price: int | None, size: int | None, data: str | None) -> None:
        if token not in self.bids:
            return
        try:
            changes: list[list[Any]] = json.loads(data) if data else [[side == "BUY", price, size or 0]]
            for is_bid, level, left in changes:
                book = self.bids[token] if is_bid else self.asks[token]
                if int(left) > 0:
                    book[int(level)] = int(left)
                else:
                    book.pop(int(level), None)
        except (ValueError, TypeError):
            self.bids.pop(token, None)
            self.asks.pop(token, None)

    def spread(self, token: str) -> int | None:
        bids, asks = self.bids.get(token), self.asks.get(token)
        return min(asks) - max(bids) if bids and asks else None


def roll_old_ticks(db_path: Path, *, before_ms: int, pause_s: float = LONG_WRITE_PAUSE_S) -> int:
    """Roll the old ticks before `before_ms` not rolled yet into candles; returns how many were read."""
    conn = raw_connection(db_path, synchronous="NORMAL")
    try:
        left = candle_store.backfill_left(conn)
        if left is None:
            return 0
        era, done = left
        end = min(before_ms, era)
        since = done if done is not None else candle_store.first_tick_at(conn)
        read, books = 0, _Books()
        while since is not None and since < end:
            until = min(end, since + SLICE_MS)
            rows = candle_store.tick_slice(conn, since, until)
            candle_store.merge_candles(conn, rolled_up(_rolled(rows, books).take()), rolled_until=until)
            read += len(rows)
            since = until
            time.sleep(pause_s)  # (the engine keeps writing: a kill never waits behind this)
        return read
    finally:
        conn.close()


def _rolled(rows: list[tuple], books: _Books) -> CandleRoll:
    roll = CandleRoll()
    for at, token, kind, side, price, size, mid, data in rows:
        if kind == "trade":
            roll.trade(token, at, size or 0)
            continue
        if kind == "book":
            books.snapshot(token, data)
        else:
            books.change(token, side, price, size, data)
        roll.book(token, at, mid, books.spread(token))
    return roll
