"""SQLite engines and transaction helpers shared by the engine, the dashboard and the CLI.

The discipline (measured in shared/notes/engineering.md):
- WAL, so the dashboard's reads never block the engine's writes;
- every transaction that may write starts with BEGIN IMMEDIATE (a deferred BEGIN that
  later writes fails instantly with "database is locked" instead of waiting);
- the engine's writer syncs every commit (synchronous=FULL): orders and fills survive
  power loss; other writers use NORMAL. One exception, asked for per transaction
  (`write(synced=False)`): a commit that only records what the venue will be asked next and
  that the venue's own answer can rebuild (a cancel's CANCEL_PENDING mark) goes to the WAL
  without waiting for the disk; it survives a crash of the process, and the writer's next
  synced commit makes it durable with its own; a backtest's scratch ledger, whose crash loses
  nothing worth keeping, never waits for the disk (OFF: engine/backtest/runner.py);
- the dashboard reads through a `query_only` connection, so a bug there cannot write;
- no transaction is held across an `await` or a network call (callers keep them short).

Representation, for every table: prices, sizes and money are INTEGER micro-units
(1e-6: 0.52 pUSD -> 520000, 10 shares -> 10000000), the venue's own base unit; every
`*_at` column is INTEGER milliseconds since the Unix epoch, UTC.
"""

from __future__ import annotations

import copy
import sqlite3
import threading
from collections.abc import Callable, Collection, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import NoReturn

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import OperationalError

from contracts.roles import Access, AccessRefused, Scope, refusal

# The sqlite3-only helpers live in storage.sqlite.lite (the CLI's quick subcommands use them without
# importing SQLAlchemy); they are re-exported here for everything else.
from storage.sqlite.lite import BUSY_TIMEOUT_MS as BUSY_TIMEOUT_MS
from storage.sqlite.lite import DatabaseBusy as DatabaseBusy
from storage.sqlite.lite import Synchronous as Synchronous
from storage.sqlite.lite import apply_pragmas as apply_pragmas
from storage.sqlite.lite import file_heartbeat_ms as file_heartbeat_ms
from storage.sqlite.lite import heartbeat_path as heartbeat_path
from storage.sqlite.lite import immediate as immediate
from storage.sqlite.lite import now_ms as now_ms
from storage.sqlite.lite import raw_connection as raw_connection
from storage.sqlite.lite import touch_heartbeat as touch_heartbeat
from storage.sqlite.lite import utc_day_start as utc_day_start
from storage.sqlite.write_behind import WriteBehind, flush_before

# The engine's own writes wait at most this long for another process's write lock: its event
# loop must never freeze behind a held lock (a failed write is retried on a later pass).
ENGINE_BUSY_TIMEOUT_MS = 100
# A long write (an import, retention, a prune) commits every LONG_WRITE_BATCH rows (tens of ms of
# the lock) and pauses LONG_WRITE_PAUSE_S between: longer than the gaps between SQLite's retries of
# a waiting writer (at most 25 ms within the engine's 100 ms), so the engine's writes, a kill's
# among them, get the lock between two batches (storage/research/import_jobs.py).
LONG_WRITE_BATCH = 2_000
LONG_WRITE_PAUSE_S = 0.03


def is_locked(exc: BaseException) -> bool:
    """Whether an error is SQLite's "database is locked" (another writer holds the lock),
    which passes, as opposed to an error in what we tried to write."""
    text = str(getattr(exc, "orig", exc)).lower()
    return isinstance(exc, (sqlite3.OperationalError, OperationalError)) and (
        "database is locked" in text or "database table is locked" in text)


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


class Joined(AbstractContextManager[Connection]):
    """A transaction already open, joined: nothing to begin or end (and no generator, which
    costs several times more on paths that join thousands of times)."""

    __slots__ = ("conn",)

    def __init__(self, conn: Connection):
        self.conn = conn

    def __enter__(self) -> Connection:
        return self.conn

    def __exit__(self, *exc: object) -> None:
        return None


class Database:
    """The pair of engines one process uses: a writer and a reader on the same file.

    `access`: who writes through this handle (contracts/roles.py). None, as the engine, the CLI and
    scripts open it, is the machine's own user, an administrator; a dashboard session or a Telegram chat
    writes through a view of the process's handle `acting_as` its login, and every writer a front end
    reaches calls `require` with what it touches before it writes. A dashboard login's every write, in
    its own transaction, is made only while the login exists with the password, role and venue its
    page was drawn for (storage/desk/dashboard_logins.py), whichever writer it goes through."""

    access: Access | None = None
    _on_refused: Callable[[str], object] | None = None

    def __init__(self, path: Path, *, writer_sync: Synchronous = "NORMAL", read_only: bool = False,
                 busy_timeout_ms: int = BUSY_TIMEOUT_MS, write_behind: bool = False):
        """`write_behind`: a replay's scratch ledger, whose batches hold the executor's and the paper
        venue's rows in memory and write them once at the batch's end (storage/sqlite/write_behind.py)."""
        self.path = path
        self.read_only = read_only
        self.writer_sync = writer_sync
        self.reader = make_engine(path, write=False)
        self.writer = None if read_only else make_engine(path, write=True, synchronous=writer_sync,
                                                         busy_timeout_ms=busy_timeout_ms)
        self._batch: tuple[int, Connection] | None = None
        self.write_behind = write_behind and self.writer is not None
        self._held: WriteBehind | None = None
        self._held_offset = 0  # what earlier batches' held writes counted, less what their flushes did
        if self.write_behind:  # any SQLAlchemy statement in a batch runs on the rows as a live writer leaves them
            event.listen(self.writer, "before_cursor_execute",
                         lambda conn, _cursor, statement, *_: flush_before(conn, statement))

    def acting_as(self, access: Access, *, on_refused: Callable[[str], object] | None = None) -> Database:
        """This handle's engines (shared, never disposed through the view), writing as `access`.
        `on_refused(reason)`: what a refusal does first (the dashboard says it on the page and stops
        the run); a refusal raises AccessRefused whatever it does."""
        view = copy.copy(self)
        view.access, view._on_refused = access, on_refused
        return view

    def require(self, what: str, scope: Scope, venues: Collection[str] = ()) -> None:
        """Refuse (`refuse`) unless this handle's access may do `what`, reaching `scope` (and `venues`),
        as its login is now (its write checks that again, in its transaction)."""
        if self.access is not None and self.access.credential is not None:
            with self.read() as conn:
                why = self._login_gone(conn)
            if why is not None:
                self.refuse(f"{what[:1].upper()}{what[1:]} was refused: {why}, so nothing was changed")
        reason = refusal(self.access, what, scope=scope, venues=venues)
        if reason is not None:
            self.refuse(reason)

    def _login_gone(self, conn: Connection) -> str | None:
        from storage.desk.dashboard_logins import why_not_now  # (it reads the users through this module)

        assert self.access is not None
        return why_not_now(conn, self.access)

    def refuse(self, reason: str) -> NoReturn:
        if self._on_refused is not None:
            self._on_refused(reason)
        raise AccessRefused(reason)

    def write(self, *, synced: bool = True) -> AbstractContextManager[Connection]:
        """One BEGIN IMMEDIATE transaction; commits on success, rolls back on error.

        `synced=False`: a FULL writer commits this one transaction as NORMAL (written to the WAL,
        not waited on the disk for; see the module's docstring for when that is allowed).
        Inside `batch()` (same thread), it joins the batch's transaction instead."""
        if self.writer is None:
            raise PermissionError("this Database was opened read-only")
        if self._batch is not None and self._batch[0] == threading.get_ident():
            return Joined(self._batch[1])
        if self.access is not None and self.access.credential is not None:
            return self._as_login(synced)
        return self._transaction(synced)

    def _transaction(self, synced: bool) -> AbstractContextManager[Connection]:
        assert self.writer is not None
        if not synced and self.writer_sync == "FULL":
            return self._unsynced(self.writer)
        return self.writer.begin()

    @contextmanager
    def _as_login(self, synced: bool) -> Iterator[Connection]:
        """A dashboard login's write: its transaction, once the login is found as it was (else nothing is
        written and the refusal is said, after the transaction ends, so that it may be audited)."""
        with self._transaction(synced) as conn:
            why = self._login_gone(conn)
            if why is None:
                yield conn
                return
        self.refuse(f"Refused: {why}, so nothing was changed")

    @staticmethod
    @contextmanager
    def _unsynced(writer: Engine) -> Iterator[Connection]:
        """One transaction at synchronous=NORMAL on the FULL writer's connection, then FULL again
        before the connection goes back to the pool (SQLite refuses the change inside a transaction)."""
        with writer.connect() as conn:
            raw = conn.connection.dbapi_connection
            assert raw is not None  # (a connection checked out of the pool is open)
            raw.execute("PRAGMA synchronous=NORMAL")
            try:
                with conn.begin():
                    yield conn
            finally:
                try:
                    raw.execute("PRAGMA synchronous=FULL")
                except BaseException:
                    conn.invalidate()  # never back to the pool unsynced: the pool opens a fresh one
                    raise

    def batch_changes(self) -> int | None:
        """The rows this thread's batch's connection has changed so far (SQLite's running count over
        every table, triggers' changes included), None outside a batch: a replay tells a pass that wrote
        nothing from one that did."""
        if self._batch is None or self._batch[0] != threading.get_ident():
            return None
        raw = self._batch[1].connection.dbapi_connection
        if raw is None:
            return None
        held = self._held  # held writes count as they would have, and their flushes not again
        return int(raw.total_changes) + self._held_offset + (0 if held is None else held.changes - held.flushed)

    def read_own(self) -> AbstractContextManager[Connection]:
        """A read that sees this thread's batch, uncommitted (a replay reading what it just wrote);
        outside a batch, `read()`."""
        if self._batch is not None and self._batch[0] == threading.get_ident():
            return Joined(self._batch[1])
        return self.read()

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
                if self.write_behind:
                    with WriteBehind(conn) as self._held:  # written before the batch commits
                        yield conn
                else:
                    yield conn
            finally:
                if self._held is not None:
                    self._held_offset += self._held.changes - self._held.flushed
                self._batch, self._held = None, None

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
