"""Numbered migrations: the schema's single source of truth.

Rules: an applied migration is never edited; a change is a new function at the end.
`storage/models.py` mirrors the result, and tests/storage/test_migrations.py proves the
two agree. Column conventions are in storage/db.py (micro-units, epoch milliseconds).
Migrations run only at engine start-up, under the engine's single-instance lock.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlite_utils import Database as UtilsDatabase
from sqlite_utils import Migrations

from storage.db import immediate, now_ms, raw_connection

MIGRATION_SET = "trader"
m = Migrations(MIGRATION_SET)


class SchemaTooNew(RuntimeError):
    """The database was migrated by newer code than this checkout."""


def _ddl(db: UtilsDatabase, script: str) -> None:
    # executescript() would COMMIT the surrounding transaction; run statements one by one.
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


@m(name="0001_foundation")
def _0001_foundation(db: UtilsDatabase) -> None:
    _ddl(
        db,
        """
        CREATE TABLE engine_state (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            state TEXT NOT NULL DEFAULT 'IDLE',
            desired_state TEXT NOT NULL DEFAULT 'STOPPED'
                CHECK (desired_state IN ('RUNNING', 'PAUSED', 'STOPPED')),
            mode TEXT NOT NULL DEFAULT 'paper' CHECK (mode IN ('paper', 'live')),
            pid INTEGER,
            started_at INTEGER,
            heartbeat_at INTEGER,
            kill_latched INTEGER NOT NULL DEFAULT 0 CHECK (kill_latched IN (0, 1)),
            killed_at INTEGER,
            kill_reason TEXT,
            crash_count INTEGER NOT NULL DEFAULT 0,
            recent_crashes TEXT NOT NULL DEFAULT '[]',
            clean_exit INTEGER NOT NULL DEFAULT 1 CHECK (clean_exit IN (0, 1)),
            last_error TEXT,
            updated_at INTEGER NOT NULL
        );
        CREATE TABLE commands (
            id INTEGER PRIMARY KEY,
            idempotency_key TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL,
            payload TEXT NOT NULL DEFAULT '{}',
            priority INTEGER NOT NULL DEFAULT 0,
            status TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'claimed', 'done', 'failed', 'expired')),
            actor TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            expires_at INTEGER,
            claimed_at INTEGER,
            finished_at INTEGER,
            result TEXT,
            error TEXT
        );
        CREATE INDEX ix_commands_queue ON commands (status, priority, id);
        CREATE INDEX ix_commands_created ON commands (created_at);
        CREATE TABLE settings (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL,
            version INTEGER NOT NULL DEFAULT 1,
            updated_at INTEGER NOT NULL,
            updated_by TEXT NOT NULL
        );
        CREATE TABLE risk_limits (
            name TEXT PRIMARY KEY,
            value TEXT NOT NULL,
            version INTEGER NOT NULL DEFAULT 1,
            updated_at INTEGER NOT NULL,
            updated_by TEXT NOT NULL
        );
        CREATE TABLE strategies (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL,
            params TEXT NOT NULL DEFAULT '{}',
            markets TEXT NOT NULL DEFAULT '[]',
            enabled INTEGER NOT NULL DEFAULT 0 CHECK (enabled IN (0, 1)),
            version INTEGER NOT NULL DEFAULT 1,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            updated_by TEXT NOT NULL
        );
        CREATE TABLE alerts (
            id INTEGER PRIMARY KEY,
            created_at INTEGER NOT NULL,
            level TEXT NOT NULL CHECK (level IN ('info', 'warning', 'critical')),
            source TEXT NOT NULL,
            code TEXT NOT NULL,
            message TEXT NOT NULL,
            acked_at INTEGER,
            acked_by TEXT
        );
        CREATE INDEX ix_alerts_created ON alerts (created_at);
        CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY,
            at INTEGER NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            entity TEXT NOT NULL,
            before TEXT,
            after TEXT
        );
        CREATE INDEX ix_audit_log_at ON audit_log (at)
        """,
    )
    db.execute("INSERT INTO engine_state (id, updated_at) VALUES (1, ?)", [now_ms()])


def known_names() -> list[str]:
    return [migration.name for migration in m._migrations]


def applied_names(conn: sqlite3.Connection) -> list[str]:
    return [applied.name for applied in m.applied(UtilsDatabase(conn))]


def pending_names(conn: sqlite3.Connection) -> list[str]:
    return [migration.name for migration in m.pending(UtilsDatabase(conn))]


def check_not_newer(conn: sqlite3.Connection) -> None:
    """Refuse a database that has migrations this code does not know."""
    unknown = sorted(set(applied_names(conn)) - set(known_names()))
    if unknown:
        raise SchemaTooNew(
            "the database schema is newer than this code "
            f"(unknown migrations: {', '.join(unknown)}). "
            "Update the code (git pull) or point TRADER_DB at a database made by this version."
        )


def migrate(path: Path) -> list[str]:
    """Apply every pending migration in one IMMEDIATE transaction; return their names."""
    conn = raw_connection(path, synchronous="FULL")
    try:
        check_not_newer(conn)
        before = set(applied_names(conn))
        with immediate(conn):
            # Inside our transaction, sqlite-utils nests each migration in a SAVEPOINT.
            m.apply(UtilsDatabase(conn))
        return [name for name in applied_names(conn) if name not in before]
    finally:
        conn.close()


def is_migrated(path: Path) -> bool:
    """True when the file exists and has every migration this code knows."""
    if not path.exists():
        return False
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return not pending_names(conn)
    except sqlite3.Error:
        return False
    finally:
        conn.close()
