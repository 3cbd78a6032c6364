"""The `ticks` table's writes: the recorder's batched inserts and retention's pruning.

Both run on a raw sqlite3 connection: the recorder writes a whole buffer per transaction through
sqlite-utils' `insert_all` (multi-row INSERTs sized to SQLite's variable limit), which is what
keeps recording off the trading loop's budget (`bench/recorder.py` measures it). Pruning runs
in short transactions because the engine keeps writing; ticks a recording session covers are
kept (storage/research/recording_sessions.py: KEPT_BY_A_SESSION).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from storage.research.recording_sessions import KEPT_BY_A_SESSION
from storage.sqlite.db import LONG_WRITE_PAUSE_S, immediate, raw_connection
from storage.sqlite.utils_lib import Database as UtilsDatabase

TICK_COLUMNS = ("at", "token_id", "kind", "side", "price", "size", "mid", "data")
INSERT_BATCH = 1000


def append_ticks(conn: sqlite3.Connection, rows: Sequence[Sequence[Any]], *, batch_size: int = INSERT_BATCH) -> None:
    """Insert `rows` (values in TICK_COLUMNS order) in one IMMEDIATE transaction, in batches."""
    table = UtilsDatabase(conn)["ticks"]
    # A manual IMMEDIATE transaction: sqlite-utils' own would read the schema inside a
    # deferred one and fail under the engine's concurrent writes (engineering.md §2).
    with immediate(conn):
        table.insert_all((dict(zip(TICK_COLUMNS, row, strict=True)) for row in rows),  # type: ignore[union-attr]  # sqlite-utils' table (ticks is a table, not a view)
                         batch_size=batch_size)


def append_tick_sizes(conn: sqlite3.Connection, rows: Sequence[tuple[str, int, int | None, int]]) -> None:
    """The venue's tick size changes (token, at, old tick or None, new tick) into `tick_sizes`, so a
    replay of the recording trades on the tick in force then (a repeat is kept once)."""
    with immediate(conn):
        conn.executemany("INSERT OR IGNORE INTO tick_sizes (token_id, at, old_tick, tick) VALUES (?, ?, ?, ?)", rows)


def append_resolutions(conn: sqlite3.Connection, rows: Sequence[tuple[str, int, str, int | None]], now: int) -> None:
    """The markets' endings the feed told (condition id, at, outcome, what a YES share paid or None) into
    `market_resolutions` (storage/research/market_resolutions.py), for a replay of the recording to settle
    at them; what the desk holds for a market already is kept."""
    with immediate(conn):
        conn.executemany("""INSERT OR IGNORE INTO market_resolutions (condition_id, at, outcome, yes_pays, source,
                                                                      recorded_at, recorded_by)
                            VALUES (?, ?, ?, ?, 'feed', ?, 'recorder')""",
                         [(cid, at, outcome, yes_pays, now) for cid, at, outcome, yes_pays in rows])


def prune_ticks(db_path: Path, *, before_ms: int, chunk: int = 5_000) -> int:
    """Delete ticks older than `before_ms` in short transactions with a pause between (the engine
    keeps writing, and a kill must never wait behind a prune: storage/sqlite/db.py); ticks a
    recording session covers are kept until the session is deleted. Returns how many."""
    conn = raw_connection(db_path)
    removed = 0
    try:
        while True:
            with immediate(conn):
                count = conn.execute(
                    f"""DELETE FROM ticks WHERE id IN (SELECT id FROM ticks WHERE at < ? AND NOT {KEPT_BY_A_SESSION}
                        ORDER BY at LIMIT ?)""",
                    (before_ms, chunk)).rowcount
            removed += count
            if count < chunk:
                return removed
            time.sleep(LONG_WRITE_PAUSE_S)
    finally:
        conn.close()
