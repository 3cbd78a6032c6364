"""SQLite engines and transaction helpers shared by the engine, the dashboard and the CLI.

The discipline (measured in shared/notes/engineering.md):
- WAL, so the dashboard's reads never block the engine's writes;
- every transaction that may write starts with BEGIN IMMEDIATE (a deferred BEGIN that
  later writes fails instantly with "database is locked" instead of waiting);
- the engine's writer syncs every commit (synchronous=FULL): orders and fills survive
  power loss; other writers use NORMAL;
- the dashboard reads through a `query_only` connection, so a bug there cannot write;
- no transaction is held across an `await` or a network call (callers keep them short).

Representation, for every table: prices, sizes and money are INTEGER micro-units
(1e-6: 0.52 USDC -> 520000, 10 shares -> 10000000), the venue's own base unit; every
`*_at` column is INTEGER milliseconds since the Unix epoch, UTC.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import OperationalError

BUSY_TIMEOUT_MS = 5000
# The engine's own writes wait at most this long for another process's write lock: its event
# loop must never freeze behind a held lock (a failed write is retried on a later pass).
ENGINE_BUSY_TIMEOUT_MS = 100
Synchronous = Literal["FULL", "NORMAL"]


class DatabaseBusy(RuntimeError):
    """Another process held the database's write lock for longer than we could wait."""


def is_locked(exc: BaseException) -> bool:
    """Whether an error is SQLite's "database is locked" (another writer holds the lock),
    which passes, as opposed to an error in what we tried to write."""
    text = str(getattr(exc, "orig", exc)).lower()
    return isinstance(exc, (sqlite3.OperationalError, OperationalError)) and (
        "database is locked" in text or "database table is locked" in text)


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


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def utc_day_start(at_ms: int) -> int:
    """00:00 UTC of the day `at_ms` falls in, in epoch ms. The engine's daily-loss reference
    and the dashboard's "today" both use this one definition, so they cannot drift apart."""
    day = datetime.fromtimestamp(at_ms / 1000, tz=UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return int(day.timestamp() * 1000)


def make_engine(path: Path, *, write: bool, synchronous: Synchronous = "NORMAL",
                busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> Engine:
    """An engine whose connections carry the PRAGMAs above and begin the right way."""
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        f"sqlite:///{path}",
        connect_args={"timeout": busy_timeout_ms / 1000, "check_same_thread": False},
    )

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: sqlite3.Connection, _record: object) -> None:
        dbapi_conn.isolation_level = None  # SQLAlchemy's "begin" event emits BEGIN itself
        apply_pragmas(dbapi_conn, synchronous=synchronous, query_only=not write, busy_timeout_ms=busy_timeout_ms)

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


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


def raw_connection(path: Path, *, synchronous: Synchronous = "NORMAL") -> sqlite3.Connection:
    """A configured sqlite3 connection in autocommit mode, for sqlite-utils and migrations."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    apply_pragmas(conn, synchronous=synchronous, query_only=False)
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


class Database:
    """The pair of engines one process uses: a writer and a reader on the same file."""

    def __init__(self, path: Path, *, writer_sync: Synchronous = "NORMAL", read_only: bool = False,
                 busy_timeout_ms: int = BUSY_TIMEOUT_MS):
        self.path = path
        self.read_only = read_only
        self.reader = make_engine(path, write=False)
        self.writer = None if read_only else make_engine(path, write=True, synchronous=writer_sync,
                                                         busy_timeout_ms=busy_timeout_ms)
        self._batch: tuple[int, Connection] | None = None

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One BEGIN IMMEDIATE transaction; commits on success, rolls back on error.

        Inside `batch()` (same thread), it joins the batch's transaction instead."""
        if self.writer is None:
            raise PermissionError("this Database was opened read-only")
        if self._batch is not None and self._batch[0] == threading.get_ident():
            yield self._batch[1]
            return
        with self.writer.begin() as conn:
            yield conn

    @contextmanager
    def batch(self) -> Iterator[Connection]:
        """Every write of this thread until the block ends, in one transaction.

        For replays only (a backtest's scratch ledger), where a crash loses nothing worth
        keeping: live trading commits each step on its own (an order is committed before it
        is sent), and must never run inside a batch."""
        if self._batch is not None:
            raise RuntimeError("batches do not nest")
        with self.write() as conn:
            self._batch = (threading.get_ident(), conn)
            try:
                yield conn
            finally:
                self._batch = None

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """One consistent read snapshot (deferred BEGIN on a query_only connection)."""
        with self.reader.begin() as conn:
            yield conn

    def exists(self) -> bool:
        return self.path.exists()

    def dispose(self) -> None:
        self.reader.dispose()
        if self.writer is not None:
            self.writer.dispose()
