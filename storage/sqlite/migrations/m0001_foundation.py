from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl, now_ms


def up(db: UtilsDatabase) -> None:
    ddl(
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
