"""The sqlite3-only half of the storage layer: connections, PRAGMAs, transactions, clocks.

No SQLAlchemy, no pandas: the CLI's quick subcommands (`status`, `command`, `alerts`) run on
this alone, because importing SQLAlchemy costs ~0.3 s and pandas ~0.5 s on a small VPS, more
than the whole answer may take. `storage.sqlite.db` builds its SQLAlchemy engines on the same PRAGMAs
and re-exports everything here, so both paths follow one discipline (see storage/sqlite/db.py).
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

DAY_MS = 86_400_000

BUSY_TIMEOUT_MS = 5000
# OFF: nothing waits for the disk; only for a replay's scratch ledger, which a crash loses nothing of
# worth keeping (the run is started again): engine/backtest/runner.py.
Synchronous = Literal["FULL", "NORMAL", "OFF"]


class DatabaseBusy(RuntimeError):
    """Another process held the database's write lock for longer than we could wait."""


def sqlite_locked(exc: BaseException) -> bool:
    """Whether a sqlite3 error is "database is locked" (another writer holds the lock)."""
    text = str(exc).lower()
    return isinstance(exc, sqlite3.OperationalError) and (
        "database is locked" in text or "database table is locked" in text)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def utc_day_start(at_ms: int) -> int:
    """00:00 UTC of the day `at_ms` falls in, in epoch ms. The engine's daily-loss reference
    and the dashboard's "today" both use this one definition, so they cannot drift apart."""
    return at_ms - at_ms % DAY_MS  # Unix time has no leap seconds: every UTC day is DAY_MS long


def next_day(at_ms: int) -> int:
    """00:00 UTC of the day after the one `at_ms` falls in (the first instant of the next day)."""
    return utc_day_start(at_ms) + DAY_MS


def heartbeat_path(db_path: Path) -> Path:
    """The engine touches this file beside the database every heartbeat, so liveness shows even
    while another process holds the database's write lock."""
    return db_path.with_name(db_path.name + ".heartbeat")


def touch_heartbeat(db_path: Path) -> None:
    path = heartbeat_path(db_path)
    try:
        os.utime(path)
    except FileNotFoundError:
        path.touch()


def file_heartbeat_ms(db_path: Path) -> int | None:
    try:
        return int(heartbeat_path(db_path).stat().st_mtime * 1000)
    except OSError:
        return None


def apply_pragmas(conn: sqlite3.Connection, *, synchronous: Synchronous, query_only: bool,
                  busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> None:
    conn.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
    if not query_only:
        # Switching to WAL needs a write lock; a reader must never try.
        conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute("PRAGMA foreign_keys=ON")
    if query_only:
        conn.execute("PRAGMA query_only=ON")


def raw_connection(path: Path, *, synchronous: Synchronous = "NORMAL",
                   busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> sqlite3.Connection:
    """A configured sqlite3 connection in autocommit mode, for sqlite-utils, migrations and
    the CLI's writes (each in an `immediate` block)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=busy_timeout_ms / 1000, isolation_level=None)
    apply_pragmas(conn, synchronous=synchronous, query_only=False, busy_timeout_ms=busy_timeout_ms)
    return conn


def read_connection(path: Path) -> sqlite3.Connection:
    """A query_only autocommit connection with rows by column name; the file must exist (a
    reader never creates a database)."""
    conn = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=BUSY_TIMEOUT_MS / 1000,
                           isolation_level=None)
    conn.row_factory = sqlite3.Row
    apply_pragmas(conn, synchronous="NORMAL", query_only=True)
    return conn


@contextmanager
def immediate(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A BEGIN IMMEDIATE ... COMMIT block on a raw autocommit connection."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


@contextmanager
def snapshot(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One consistent read across several statements (a deferred BEGIN ... COMMIT)."""
    conn.execute("BEGIN")
    try:
        yield conn
    finally:
        conn.execute("COMMIT")
