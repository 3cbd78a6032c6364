from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl


def up(db: UtilsDatabase) -> None:
    """Capital, loss limits and exits per strategy (edited like the global limits: versioned,
    audited), each strategy's own trading state and equity memory (written by the engine), and
    per-strategy snapshots for its performance curve."""
    ddl(
        db,
        """
        CREATE TABLE strategy_limits (
            strategy TEXT NOT NULL,
            name TEXT NOT NULL,
            value TEXT NOT NULL,
            version INTEGER NOT NULL DEFAULT 1,
            updated_at INTEGER NOT NULL,
            updated_by TEXT NOT NULL,
            PRIMARY KEY (strategy, name)
        );
        CREATE TABLE strategy_risk (
            mode TEXT NOT NULL CHECK (mode IN ('paper', 'live')),
            strategy TEXT NOT NULL,
            trading_state TEXT NOT NULL DEFAULT 'ACTIVE' CHECK (trading_state IN ('ACTIVE', 'REDUCING', 'HALTED')),
            reason TEXT,
            state_at INTEGER,
            peak_equity INTEGER,
            day_start_pnl INTEGER,
            day_started_at INTEGER,
            updated_at INTEGER NOT NULL,
            PRIMARY KEY (mode, strategy)
        );
        CREATE TABLE strategy_snapshots (
            id INTEGER PRIMARY KEY,
            mode TEXT NOT NULL CHECK (mode IN ('paper', 'live')),
            strategy TEXT NOT NULL,
            at INTEGER NOT NULL,
            realized INTEGER NOT NULL,
            unrealized INTEGER NOT NULL,
            fees INTEGER NOT NULL,
            exposure INTEGER NOT NULL
        );
        CREATE INDEX ix_strategy_snapshots ON strategy_snapshots (mode, strategy, at)
        """,
    )
