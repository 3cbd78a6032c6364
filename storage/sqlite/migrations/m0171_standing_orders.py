from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl


def up(db: UtilsDatabase) -> None:
    """Standing orders, kept so that a restart or a crash goes on where it was (their one writer is the
    engine: engine/trading/exits/trailing.py and engine/trading/operator/icebergs.py, over
    storage/engine_stores/standing_orders.py).

    `trailing_stops`: one per (ledger, book, token) while it guards a position: a strategy's (its
    `trailing_stop` limit) or the manual ticket's. `high_water` is the highest best bid seen since it
    started (micro-probability; it only rises), `distance` how far below it the stop is, `floor` the lowest
    price its sale accepts (the operator's; NULL: the mid less the max slippage), `shares` what a manual one
    sells (NULL: all held), `leave` the shares it leaves held once it fired (a manual one selling part).

    `icebergs`: a limit order of `total` shares at `price` (its token's) shown `slice` at a time. What it has
    done is read from its slices, the ledger's own `orders` rows whose `reason` names it (`iceberg #<id>`,
    written with each slice's intent before it is sent): nothing of its progress lives anywhere a crash
    could lose.

    `strategy_runs.limits`: a backtest's strategy limits (contracts/strategy_limits.py: its exits among
    them), JSON; NULL: none (every limit at its default)."""
    ddl(
        db,
        """
        CREATE TABLE trailing_stops (
            id INTEGER PRIMARY KEY,
            venue TEXT NOT NULL,
            mode TEXT NOT NULL CHECK (mode IN ('paper', 'live')),
            strategy TEXT NOT NULL,
            condition_id TEXT NOT NULL,
            token_id TEXT NOT NULL,
            outcome TEXT NOT NULL CHECK (outcome IN ('YES', 'NO')),
            distance INTEGER NOT NULL,
            floor INTEGER,
            shares INTEGER,
            high_water INTEGER NOT NULL,
            high_water_at INTEGER NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('ACTIVE', 'TRIGGERED', 'DONE', 'CANCELLED')),
            triggered_at INTEGER,
            trigger_bid INTEGER,
            leave INTEGER,
            detail TEXT,
            created_at INTEGER NOT NULL,
            created_by TEXT NOT NULL,
            updated_at INTEGER NOT NULL,
            ended_at INTEGER
        );
        CREATE UNIQUE INDEX ux_trailing_stops_open ON trailing_stops (venue, mode, strategy, token_id)
            WHERE status IN ('ACTIVE', 'TRIGGERED');
        CREATE TABLE icebergs (
            id INTEGER PRIMARY KEY,
            venue TEXT NOT NULL,
            mode TEXT NOT NULL CHECK (mode IN ('paper', 'live')),
            strategy TEXT NOT NULL,
            condition_id TEXT NOT NULL,
            token_id TEXT NOT NULL,
            outcome TEXT NOT NULL CHECK (outcome IN ('YES', 'NO')),
            side TEXT NOT NULL CHECK (side IN ('BUY', 'SELL')),
            price INTEGER NOT NULL,
            total INTEGER NOT NULL,
            slice INTEGER NOT NULL,
            post_only INTEGER NOT NULL DEFAULT 0 CHECK (post_only IN (0, 1)),
            status TEXT NOT NULL CHECK (status IN ('ACTIVE', 'DONE', 'CANCELLED', 'ENDED')),
            detail TEXT,
            created_at INTEGER NOT NULL,
            created_by TEXT NOT NULL,
            updated_at INTEGER NOT NULL,
            ended_at INTEGER
        );
        CREATE INDEX ix_icebergs_active ON icebergs (venue, mode, status);
        ALTER TABLE strategy_runs ADD COLUMN limits TEXT
        """,
    )
