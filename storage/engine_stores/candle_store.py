"""The `candles` table's writes: the recorder's partial candles merged into what the table holds.

A partial candle of a bucket already stored is merged in SQL as contracts/candles.py's `merged` merges
two (the open of the earlier first mid, the close of the later last mid, extremes and sums), so a
bucket written over several flushes, or across a restart, is the candle of everything recorded in it.
Runs on the recorder's raw sqlite3 connection, in its own short transaction (storage/sqlite/db.py).
Candles are never pruned (storage/engine_stores/retention.py prunes ticks only).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from contracts.candles import Candle
from storage.sqlite.db import immediate

# An incoming mid replaces the stored open only when seen earlier, the close when seen at or after
# (the later write wins a tie, as within one partial); a partial without a mid leaves them.
_MERGE = """INSERT INTO candles (token_key, width_ms, start_at, mid_open, mid_high, mid_low, mid_close, first_at,
                                 last_at, spread_sum, spreads, volume, trades)
            VALUES ((SELECT id FROM candle_tokens WHERE token_id = ?), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (token_key, width_ms, start_at) DO UPDATE SET
                mid_open = CASE WHEN excluded.first_at IS NOT NULL AND (first_at IS NULL
                                OR excluded.first_at < first_at) THEN excluded.mid_open ELSE mid_open END,
                first_at = CASE WHEN excluded.first_at IS NOT NULL AND (first_at IS NULL
                                OR excluded.first_at < first_at) THEN excluded.first_at ELSE first_at END,
                mid_close = CASE WHEN excluded.last_at IS NOT NULL AND (last_at IS NULL
                                 OR excluded.last_at >= last_at) THEN excluded.mid_close ELSE mid_close END,
                last_at = CASE WHEN excluded.last_at IS NOT NULL AND (last_at IS NULL
                               OR excluded.last_at >= last_at) THEN excluded.last_at ELSE last_at END,
                mid_high = COALESCE(MAX(mid_high, excluded.mid_high), mid_high, excluded.mid_high),
                mid_low = COALESCE(MIN(mid_low, excluded.mid_low), mid_low, excluded.mid_low),
                spread_sum = spread_sum + excluded.spread_sum,
                spreads = spreads + excluded.spreads,
                volume = volume + excluded.volume,
                trades = trades + excluded.trades"""


def merge_candles(conn: sqlite3.Connection, candles: Sequence[Candle], *, rolled_until: int | None = None) -> None:
    """Merge `candles` into the table, in one IMMEDIATE transaction (a token seen the first time given
    its key first); `rolled_until`: with them, how far the old ticks' backfill got (so a crash never
    rolls a tick twice)."""
    with immediate(conn):
        if rolled_until is not None:
            conn.execute("UPDATE candle_backfill SET rolled_until = ? WHERE id = 1", (rolled_until,))
        conn.executemany("INSERT INTO candle_tokens (token_id) VALUES (?) ON CONFLICT (token_id) DO NOTHING",
                         [(token,) for token in sorted({c.token_id for c in candles})])
        conn.executemany(_MERGE, [(c.token_id, c.width_ms, c.start_at, c.mid_open, c.mid_high, c.mid_low, c.mid_close,
                                   c.first_at, c.last_at, c.spread_sum, c.spreads, c.volume, c.trades)
                                  for c in candles])


def stored_candles(conn: sqlite3.Connection, token_id: str, width_ms: int) -> list[Candle]:
    """A token's candles of one width, oldest first, as stored (for the recorder's tests and benches)."""
    rows = conn.execute("""SELECT t.token_id, c.width_ms, c.start_at, c.mid_open, c.mid_high, c.mid_low, c.mid_close,
                                  c.first_at, c.last_at, c.spread_sum, c.spreads, c.volume, c.trades
                           FROM candles c JOIN candle_tokens t ON t.id = c.token_key
                           WHERE t.token_id = ? AND c.width_ms = ? ORDER BY c.start_at""",
                        (token_id, width_ms)).fetchall()
    return [Candle(*row) for row in rows]


# -- the ticks recorded before the candles existed ---------------------------------------------------


def backfill_left(conn: sqlite3.Connection) -> tuple[int, int | None] | None:
    """(the time before which ticks were never rolled by the recorder, how far the backfill got; None:
    not begun); None when there is nothing to backfill."""
    row = conn.execute("SELECT before_at, rolled_until FROM candle_backfill WHERE id = 1").fetchone()
    return None if row is None else (int(row[0]), None if row[1] is None else int(row[1]))


def first_tick_at(conn: sqlite3.Connection) -> int | None:
    row = conn.execute("SELECT at FROM ticks ORDER BY at LIMIT 1").fetchone()
    return None if row is None else int(row[0])


def tick_slice(conn: sqlite3.Connection, since: int, until: int) -> list[tuple]:
    """(at, token_id, kind, side, price, size, mid, data) of the book, change and trade ticks in
    [since, until), in the order recorded."""
    return conn.execute("""SELECT at, token_id, kind, side, price, size, mid, data FROM ticks
                           WHERE at >= ? AND at < ? AND kind IN ('book', 'change', 'trade') ORDER BY at, id""",
                        (since, until)).fetchall()
