"""The database's upkeep, in SQL: what the file holds, `PRAGMA optimize`, giving free pages back to
the disk, moving old audit rows to the archive beside it, and the record of each upkeep run.

The engine runs these (engine/process/upkeep.py), never the dashboard, on a connection of their own in
its process. Each step holds the write lock briefly: optimize bounds its ANALYZE (`analysis_limit`), a
reclaim gives back RECLAIM_PAGES at a time (incremental vacuum), an archive moves LONG_WRITE_BATCH
rows at a time; each commits and pauses before the next, so a kill's write waits for one step, never
for the whole. Readers (the dashboard) read on through all of it: WAL gives each its snapshot.

The archive is a SQLite file beside the database (`trader-audit-archive.db` for `trader.db`) with
the same `audit_log` table: readable with any SQLite tool, and on the Audit page. A row is copied
there and committed before it leaves the database, so a crash between the two leaves it in both (the
next run deletes it), never in neither.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storage.sqlite.db import LONG_WRITE_BATCH, LONG_WRITE_PAUSE_S, Database, now_ms
from storage.sqlite.lite import immediate, raw_connection

YEAR_MS = 365 * 86_400_000  # audit rows older than this go to the archive
log = logging.getLogger("storage.db_upkeep")
RECLAIM_PAGES = 256  # pages given back a step (1 MiB at SQLite's 4 KiB pages): a few ms of the write lock
ANALYSIS_LIMIT = 1000  # rows ANALYZE reads of each index (SQLite's advice for `analysis_limit`: a few hundred+)
INCREMENTAL = 2  # PRAGMA auto_vacuum's value for incremental
ARCHIVE_TABLE = """CREATE TABLE IF NOT EXISTS audit_log (
    id INTEGER PRIMARY KEY, at INTEGER NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, entity TEXT NOT NULL,
    before TEXT, after TEXT);
CREATE INDEX IF NOT EXISTS ix_audit_log_at ON audit_log (at)"""


@dataclass(frozen=True)
class Facts:
    """What the database file holds now: its size on disk (with its WAL), its pages, its free ones."""

    size_bytes: int
    wal_bytes: int
    page_size: int
    pages: int
    free_pages: int
    auto_vacuum: int  # 0 none, 1 full, 2 incremental

    @property
    def free_share(self) -> float:
        return self.free_pages / self.pages if self.pages else 0.0

    @property
    def incremental(self) -> bool:
        return self.auto_vacuum == INCREMENTAL


def archive_path(db_path: Path) -> Path:
    """Where a database's old audit rows go: beside it, `<name>-audit-archive<suffix>`."""
    return db_path.with_name(f"{db_path.stem}-audit-archive{db_path.suffix or '.db'}")


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def facts(conn: sqlite3.Connection, db_path: Path) -> Facts:
    pages, free, page_size, mode = (conn.execute(f"PRAGMA {name}").fetchone()[0]
                                    for name in ("page_count", "freelist_count", "page_size", "auto_vacuum"))
    wal = _file_size(db_path.with_name(db_path.name + "-wal"))
    return Facts(_file_size(db_path) + wal, wal, page_size, pages, free, mode)


def read_facts(db: Database) -> Facts:
    """The file's facts through a reader (the dashboard's, the CLI's)."""
    with db.read() as conn:
        raw = conn.connection.driver_connection
        return facts(raw, db.path)  # type: ignore[arg-type]  # SQLAlchemy types the DBAPI connection loosely


def read_last_runs(db: Database, limit: int = 5) -> list[dict[str, Any]]:
    """The newest upkeep runs through a reader (the dashboard's), newest first."""
    with db.read() as conn:
        return last_runs(conn.connection.driver_connection, limit)  # type: ignore[arg-type]  # sqlite3's, typed loosely


def connect(db_path: Path) -> sqlite3.Connection:
    """The upkeep's own connection (it waits for the write lock as long as any writer does)."""
    return raw_connection(db_path, synchronous="NORMAL")


def optimize(conn: sqlite3.Connection) -> None:
    """The planner's statistics: ANALYZE, each index read `ANALYSIS_LIMIT` rows deep (approximate, bounded),
    then `PRAGMA optimize`. ANALYZE itself, because SQLite before 3.46 (3.40 here) has `PRAGMA optimize`
    analyze only what queries made on its own connection used: on the fresh connection an upkeep run
    opens it analyzed nothing, and the planner never had statistics."""
    conn.execute(f"PRAGMA analysis_limit = {ANALYSIS_LIMIT}")
    conn.executescript("ANALYZE; PRAGMA optimize;")  # executescript: run to its end (execute() stops a pragma early)


def reclaim(conn: sqlite3.Connection, *, pause_s: float = LONG_WRITE_PAUSE_S) -> int:
    """Give every free page back to the disk, RECLAIM_PAGES a step (an incremental database only);
    returns the pages given back."""
    given = 0
    while (free := conn.execute("PRAGMA freelist_count").fetchone()[0]) > 0:
        conn.executescript(f"PRAGMA incremental_vacuum({RECLAIM_PAGES});")  # its own transaction
        after = conn.execute("PRAGMA freelist_count").fetchone()[0]
        given += free - after
        if after >= free:  # nothing moved (a reader's snapshot holds them): the next run goes on
            break
        time.sleep(pause_s)
    checkpoint(conn)
    return given


def convert_to_incremental(conn: sqlite3.Connection) -> None:
    """One full VACUUM that makes a database made before incremental vacuum reclaim in steps from then
    on (and gives back every free page now). It holds the write lock while it copies the whole file:
    only where nothing else writes (the engine's start, before trading; `engine upkeep`, engine stopped)."""
    conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
    conn.execute("VACUUM")
    checkpoint(conn, truncate=True)


def checkpoint(conn: sqlite3.Connection, *, truncate: bool = False) -> None:
    """Copy the WAL into the file, so the file shrinks to what the reclaim left. PASSIVE while the engine
    trades: it never waits (a reader on an older snapshot holds back what it reads, and a later
    checkpoint finishes it); `truncate` only where nothing else writes (after a full VACUUM, whose WAL
    is the size of the file): it waits for readers, and so would every writer meanwhile."""
    conn.execute(f"PRAGMA wal_checkpoint({'TRUNCATE' if truncate else 'PASSIVE'})").fetchall()


def archive_audit(conn: sqlite3.Connection, archive: Path, before_ms: int, *,
                  pause_s: float = LONG_WRITE_PAUSE_S) -> int:
    """Move the audit rows older than `before_ms` to the archive file; returns how many moved."""
    moved = 0
    if conn.execute("SELECT 1 FROM audit_log WHERE at < ? LIMIT 1", (before_ms,)).fetchone() is None:
        return 0
    kept = raw_connection(archive, synchronous="FULL")
    try:
        kept.executescript(ARCHIVE_TABLE)
        while rows := conn.execute("SELECT id, at, actor, action, entity, before, after FROM audit_log WHERE at < ? "
                                   "ORDER BY id LIMIT ?", (before_ms, LONG_WRITE_BATCH)).fetchall():
            with immediate(kept):  # in the archive first, committed: then out of the database
                kept.executemany("INSERT OR IGNORE INTO audit_log VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
            with immediate(conn):
                conn.executemany("DELETE FROM audit_log WHERE id = ?", [(row[0],) for row in rows])
            moved += len(rows)
            time.sleep(pause_s)
    finally:
        kept.close()
    return moved


# -- the record of each run (table db_upkeep, migration 0122) ------------------------------------------


def begin_run(conn: sqlite3.Connection, trigger: str, before: Facts) -> int:
    with immediate(conn):
        cur = conn.execute("INSERT INTO db_upkeep (started_at, trigger, size_before, free_pages_before) "
                           "VALUES (?, ?, ?, ?)", (now_ms(), trigger, before.size_bytes, before.free_pages))
    return int(cur.lastrowid or 0)


def end_run(conn: sqlite3.Connection, run_id: int, *, optimized: bool, freed_pages: int, archived: int,
            after: Facts, note: str = "", error: str | None = None) -> None:
    with immediate(conn):
        conn.execute("""UPDATE db_upkeep SET finished_at = ?, optimized = ?, freed_pages = ?, archived_rows = ?,
                        size_after = ?, note = ?, error = ? WHERE id = ?""",
                     (now_ms(), int(optimized), freed_pages, archived, after.size_bytes, note, error, run_id))


def last_runs(conn: sqlite3.Connection, limit: int = 5) -> list[dict[str, Any]]:
    """The newest upkeep runs, newest first."""
    conn.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in conn.execute("SELECT * FROM db_upkeep ORDER BY id DESC LIMIT ?", (limit,))]
    finally:
        conn.row_factory = None


def run_after(conn: sqlite3.Connection, since_ms: int) -> dict[str, Any] | None:
    """The first finished run started at or after `since_ms` (what `engine upkeep` waits for)."""
    conn.row_factory = sqlite3.Row
    try:
        row = conn.execute("SELECT * FROM db_upkeep WHERE started_at >= ? AND finished_at IS NOT NULL "
                           "ORDER BY id LIMIT 1", (since_ms,)).fetchone()
        return None if row is None else dict(row)
    finally:
        conn.row_factory = None


# -- one run, every step --------------------------------------------------------------------------------


def run(db_path: Path, trigger: str, reclaim_pct: float, *, full_vacuum: bool = False,
        now: int | None = None) -> dict[str, Any]:
    """One upkeep of the database at `db_path`: optimize, move the audit rows older than a year to the
    archive, and give the free pages back once they are `reclaim_pct` % of the file or more (in steps on
    an incremental file; on one made before that, a full VACUUM converts it where `full_vacuum`, nothing
    else writing, or the run says what it needs). Recorded in `db_upkeep`, whose row it returns; a step
    that fails is recorded with its error, and the steps after it are not taken."""
    conn = connect(db_path)
    try:
        before = facts(conn, db_path)
        run_id = begin_run(conn, trigger, before)
        optimized, freed, archived, notes, error = False, 0, 0, [], None
        try:
            optimize(conn)
            optimized = True
            archived = archive_audit(conn, archive_path(db_path), (now_ms() if now is None else now) - YEAR_MS)
            found = facts(conn, db_path)
            if found.free_share * 100 < reclaim_pct:
                notes.append(f"{found.free_share:.0%} free, under {reclaim_pct:g} %: nothing to give back")
            elif found.incremental:
                freed = reclaim(conn)
            elif full_vacuum:
                convert_to_incremental(conn)
                freed = found.free_pages
                notes.append("converted to incremental vacuum (one full VACUUM); later runs give space back in steps")
            else:
                notes.append(f"{found.free_share:.0%} free, but this file was made before space could be given back "
                             "in steps: stop the engine and run `python -m engine upkeep` once (one full VACUUM)")
        except sqlite3.Error as exc:
            error = str(exc)[:500]
            log.warning("database upkeep step failed", extra={"error": error, "trigger": trigger})
        end_run(conn, run_id, optimized=optimized, freed_pages=freed, archived=archived, after=facts(conn, db_path),
                note="; ".join(notes), error=error)
        conn.row_factory = sqlite3.Row
        return dict(conn.execute("SELECT * FROM db_upkeep WHERE id = ?", (run_id,)).fetchone())
    finally:
        conn.close()


def due(conn: sqlite3.Connection, interval_ms: int, *, now: int | None = None) -> bool:
    """Whether the schedule's next run is due: none yet, or the last began `interval_ms` ago or more."""
    last = conn.execute("SELECT MAX(started_at) FROM db_upkeep").fetchone()[0]
    return last is None or (now_ms() if now is None else now) - last >= interval_ms
