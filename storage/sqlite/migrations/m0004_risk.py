from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl


def up(db: UtilsDatabase) -> None:
    """Trading state (ACTIVE/REDUCING/HALTED), the risk gate's decisions log, operator and
    external fair-value signals, and the engine's per-strategy error status."""
    ddl(
        db,
        """
        ALTER TABLE engine_state ADD COLUMN trading_state TEXT NOT NULL DEFAULT 'ACTIVE'
            CHECK (trading_state IN ('ACTIVE', 'REDUCING', 'HALTED'));
        ALTER TABLE engine_state ADD COLUMN trading_state_reason TEXT;
        ALTER TABLE engine_state ADD COLUMN trading_state_at INTEGER;
        ALTER TABLE engine_state ADD COLUMN peak_equity INTEGER;
        ALTER TABLE engine_state ADD COLUMN day_start_equity INTEGER;
        ALTER TABLE engine_state ADD COLUMN day_started_at INTEGER;
        ALTER TABLE strategies ADD COLUMN status TEXT NOT NULL DEFAULT 'ok'
            CHECK (status IN ('ok', 'error'));
        ALTER TABLE strategies ADD COLUMN last_error TEXT;
        ALTER TABLE strategies ADD COLUMN error_at INTEGER;
        CREATE TABLE decisions (
            id INTEGER PRIMARY KEY,
            at INTEGER NOT NULL,
            mode TEXT NOT NULL CHECK (mode IN ('paper', 'live')),
            strategy TEXT NOT NULL,
            condition_id TEXT NOT NULL,
            side TEXT NOT NULL,
            price INTEGER NOT NULL,
            requested INTEGER NOT NULL,
            approved INTEGER NOT NULL,
            action TEXT NOT NULL CHECK (action IN ('resize', 'deny')),
            reason TEXT NOT NULL,
            detail TEXT
        );
        CREATE INDEX ix_decisions_at ON decisions (at);
        CREATE INDEX ix_decisions_reason ON decisions (reason);
        CREATE TABLE signals (
            condition_id TEXT NOT NULL,
            source TEXT NOT NULL,
            fair_value INTEGER NOT NULL CHECK (fair_value BETWEEN 0 AND 1000000),
            version INTEGER NOT NULL DEFAULT 1,
            updated_at INTEGER NOT NULL,
            updated_by TEXT NOT NULL,
            PRIMARY KEY (condition_id, source)
        )
        """,
    )
