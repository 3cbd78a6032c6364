from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl


def up(db: UtilsDatabase) -> None:
    """Recorded market data (for charts and backtests), imported price history with its
    resumable progress, and backtest runs with their results."""
    ddl(
        db,
        """
        CREATE TABLE ticks (
            id INTEGER PRIMARY KEY,
            at INTEGER NOT NULL,
            token_id TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('book', 'change', 'trade')),
            side TEXT CHECK (side IN ('BUY', 'SELL')),
            price INTEGER,
            size INTEGER,
            mid INTEGER,
            data TEXT
        );
        CREATE INDEX ix_ticks_token_at ON ticks (token_id, at);
        CREATE INDEX ix_ticks_at ON ticks (at);
        CREATE TABLE price_history (
            token_id TEXT NOT NULL,
            at INTEGER NOT NULL,
            price INTEGER NOT NULL,
            PRIMARY KEY (token_id, at)
        );
        CREATE TABLE import_progress (
            token_id TEXT NOT NULL,
            from_at INTEGER NOT NULL,
            to_at INTEGER NOT NULL,
            done_until INTEGER NOT NULL,
            points INTEGER NOT NULL DEFAULT 0,
            updated_at INTEGER NOT NULL,
            PRIMARY KEY (token_id, from_at, to_at)
        );
        CREATE TABLE strategy_runs (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            finished_at INTEGER,
            status TEXT NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done', 'failed')),
            strategy_kind TEXT NOT NULL,
            params TEXT NOT NULL,
            markets TEXT NOT NULL,
            from_at INTEGER NOT NULL,
            to_at INTEGER NOT NULL,
            seed INTEGER NOT NULL,
            source TEXT NOT NULL CHECK (source IN ('recorded', 'history')),
            progress INTEGER NOT NULL DEFAULT 0,
            events INTEGER NOT NULL DEFAULT 0,
            metrics TEXT,
            equity_curve TEXT,
            trades TEXT,
            error TEXT,
            pid INTEGER
        );
        CREATE INDEX ix_strategy_runs_created ON strategy_runs (created_at)
        """,
    )
