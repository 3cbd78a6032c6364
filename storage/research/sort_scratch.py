"""A scratch SQLite file that puts rows in time order without holding them in memory: an import
whose source is sorted otherwise (the PMXT archive: by market, then token) writes its lines here
keyed by (time, arrival) and reads them back by time. The file is the caller's (a temporary folder
beside the desk's database) and its one table is its own, not the desk's schema: hence the table
name spelled once below and the statements written around it."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path

TABLE = "sorted_lines"  # this scratch file's own table
BATCH = 20_000


def add_lines(scratch: Path, lines: Iterable[tuple[int, str]]) -> tuple[int, int] | None:
    """Add (time ms, line) pairs in arrival order; returns the span of all the file holds, or
    None while it holds nothing."""
    conn = sqlite3.connect(scratch)
    try:
        conn.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (at INTEGER NOT NULL, seq INTEGER PRIMARY KEY, "
                     "line TEXT NOT NULL)")
        insert = f"INSERT INTO {TABLE} (at, line) VALUES (?, ?)"
        batch: list[tuple[int, str]] = []
        for pair in lines:
            batch.append(pair)
            if len(batch) >= BATCH:
                conn.executemany(insert, batch)
                batch = []
        conn.executemany(insert, batch)
        conn.execute(f"CREATE INDEX IF NOT EXISTS {TABLE}_at ON {TABLE} (at, seq)")
        conn.commit()
        low, high = conn.execute(f"SELECT MIN(at), MAX(at) FROM {TABLE}").fetchone()
        return None if low is None else (int(low), int(high))
    finally:
        conn.close()


def lines_by_time(scratch: Path) -> Iterator[str]:
    """Every line, by time and, within one millisecond, in the order it arrived."""
    conn = sqlite3.connect(scratch)
    try:
        yield from (line for (line,) in conn.execute(f"SELECT line FROM {TABLE} ORDER BY at, seq"))
    finally:
        conn.close()
