from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl


def up(db: UtilsDatabase) -> None:
    """Orders, fills, positions, cash ledger and portfolio snapshots (executor-owned), and the
    paper venue's own book of resting orders and trades (paper-venue-owned)."""
    ddl(
        db,
        """
        CREATE TABLE orders (
            id INTEGER PRIMARY KEY,
            client_id TEXT NOT NULL UNIQUE,
            venue_order_id TEXT,
            mode TEXT NOT NULL CHECK (mode IN ('paper', 'live')),
            strategy TEXT NOT NULL,
            condition_id TEXT NOT NULL,
            token_id TEXT NOT NULL,
            outcome TEXT NOT NULL CHECK (outcome IN ('YES', 'NO')),
            side TEXT NOT NULL CHECK (side IN ('BUY', 'SELL')),
            price INTEGER NOT NULL,
            size INTEGER NOT NULL,
            filled INTEGER NOT NULL DEFAULT 0,
            tif TEXT NOT NULL CHECK (tif IN ('GTC', 'GTD', 'FOK', 'FAK')),
            post_only INTEGER NOT NULL DEFAULT 0 CHECK (post_only IN (0, 1)),
            expires_at INTEGER,
            status TEXT NOT NULL,
            status_rank INTEGER NOT NULL,
            signed_payload TEXT,
            error TEXT,
            flags TEXT NOT NULL DEFAULT '',
            reason TEXT,
            created_at INTEGER NOT NULL,
            submitted_at INTEGER,
            acked_at INTEGER,
            updated_at INTEGER NOT NULL,
            closed_at INTEGER
        );
        CREATE UNIQUE INDEX ux_orders_venue_id ON orders (mode, venue_order_id);
        CREATE INDEX ix_orders_open ON orders (mode, status_rank);
        CREATE INDEX ix_orders_market ON orders (condition_id);
        CREATE INDEX ix_orders_strategy ON orders (strategy);
        CREATE INDEX ix_orders_created ON orders (created_at);
        CREATE TABLE fills (
            id INTEGER PRIMARY KEY,
            trade_id TEXT NOT NULL,
            order_id INTEGER NOT NULL REFERENCES orders (id),
            mode TEXT NOT NULL CHECK (mode IN ('paper', 'live')),
            strategy TEXT NOT NULL,
            condition_id TEXT NOT NULL,
            token_id TEXT NOT NULL,
            outcome TEXT NOT NULL CHECK (outcome IN ('YES', 'NO')),
            side TEXT NOT NULL CHECK (side IN ('BUY', 'SELL')),
            price INTEGER NOT NULL,
            size INTEGER NOT NULL,
            fee INTEGER NOT NULL DEFAULT 0,
            liquidity TEXT NOT NULL CHECK (liquidity IN ('MAKER', 'TAKER')),
            status TEXT NOT NULL CHECK (status IN ('MATCHED', 'MINED', 'CONFIRMED', 'RETRYING', 'FAILED')),
            status_rank INTEGER NOT NULL,
            matched_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            UNIQUE (trade_id, order_id)
        );
        CREATE INDEX ix_fills_order ON fills (order_id);
        CREATE INDEX ix_fills_market ON fills (mode, condition_id);
        CREATE INDEX ix_fills_matched ON fills (matched_at);
        CREATE TABLE positions (
            mode TEXT NOT NULL CHECK (mode IN ('paper', 'live')),
            strategy TEXT NOT NULL,
            token_id TEXT NOT NULL,
            condition_id TEXT NOT NULL,
            outcome TEXT NOT NULL CHECK (outcome IN ('YES', 'NO')),
            settled INTEGER NOT NULL DEFAULT 0,
            pending INTEGER NOT NULL DEFAULT 0,
            cost INTEGER NOT NULL DEFAULT 0,
            realized INTEGER NOT NULL DEFAULT 0,
            fees INTEGER NOT NULL DEFAULT 0,
            updated_at INTEGER NOT NULL,
            PRIMARY KEY (mode, strategy, token_id)
        );
        CREATE INDEX ix_positions_market ON positions (mode, condition_id);
        CREATE TABLE cash_ledger (
            id INTEGER PRIMARY KEY,
            mode TEXT NOT NULL CHECK (mode IN ('paper', 'live')),
            at INTEGER NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('deposit', 'settlement', 'adjustment')),
            amount INTEGER NOT NULL,
            ref TEXT NOT NULL,
            note TEXT,
            UNIQUE (mode, kind, ref)
        );
        CREATE TABLE portfolio_snapshots (
            id INTEGER PRIMARY KEY,
            mode TEXT NOT NULL CHECK (mode IN ('paper', 'live')),
            at INTEGER NOT NULL,
            kind TEXT NOT NULL DEFAULT 'scheduled' CHECK (kind IN ('scheduled', 'daily')),
            cash INTEGER NOT NULL,
            positions_value INTEGER NOT NULL,
            liquidation_value INTEGER NOT NULL,
            equity INTEGER NOT NULL,
            realized INTEGER NOT NULL,
            unrealized INTEGER NOT NULL,
            fees INTEGER NOT NULL,
            exposure INTEGER NOT NULL
        );
        CREATE INDEX ix_snapshots_mode_at ON portfolio_snapshots (mode, at);
        CREATE TABLE paper_orders (
            venue_order_id TEXT PRIMARY KEY,
            token_id TEXT NOT NULL,
            condition_id TEXT NOT NULL,
            side TEXT NOT NULL CHECK (side IN ('BUY', 'SELL')),
            price INTEGER NOT NULL,
            size INTEGER NOT NULL,
            filled INTEGER NOT NULL DEFAULT 0,
            queue_ahead INTEGER NOT NULL DEFAULT 0,
            tif TEXT NOT NULL,
            status TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE INDEX ix_paper_orders_status ON paper_orders (status);
        CREATE TABLE paper_trades (
            trade_id TEXT PRIMARY KEY,
            venue_order_id TEXT NOT NULL,
            token_id TEXT NOT NULL,
            side TEXT NOT NULL CHECK (side IN ('BUY', 'SELL')),
            price INTEGER NOT NULL,
            size INTEGER NOT NULL,
            fee INTEGER NOT NULL DEFAULT 0,
            liquidity TEXT NOT NULL CHECK (liquidity IN ('MAKER', 'TAKER')),
            status TEXT NOT NULL,
            matched_at INTEGER NOT NULL,
            settle_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE INDEX ix_paper_trades_order ON paper_trades (venue_order_id);
        CREATE INDEX ix_paper_trades_status ON paper_trades (status)
        """,
    )
