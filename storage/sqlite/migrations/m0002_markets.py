from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl


def up(db: UtilsDatabase) -> None:
    """Discovered markets (Gamma + CLOB metadata). Written by the engine's market refresh."""
    ddl(
        db,
        """
        CREATE TABLE markets (
            condition_id TEXT PRIMARY KEY,
            gamma_id TEXT,
            question TEXT NOT NULL,
            slug TEXT,
            yes_token TEXT NOT NULL,
            no_token TEXT NOT NULL,
            outcomes TEXT NOT NULL DEFAULT '["Yes", "No"]',
            tick INTEGER NOT NULL,
            min_size INTEGER NOT NULL,
            neg_risk INTEGER NOT NULL DEFAULT 0 CHECK (neg_risk IN (0, 1)),
            neg_risk_market_id TEXT,
            end_at INTEGER,
            active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
            closed INTEGER NOT NULL DEFAULT 0 CHECK (closed IN (0, 1)),
            accepting_orders INTEGER NOT NULL DEFAULT 1 CHECK (accepting_orders IN (0, 1)),
            volume INTEGER NOT NULL DEFAULT 0,
            volume_24h INTEGER NOT NULL DEFAULT 0,
            liquidity INTEGER NOT NULL DEFAULT 0,
            tags TEXT NOT NULL DEFAULT '[]',
            gamma_version TEXT,
            fee_rate_ppm INTEGER NOT NULL DEFAULT 0,
            fee_exponent INTEGER NOT NULL DEFAULT 1,
            tradable INTEGER NOT NULL DEFAULT 1 CHECK (tradable IN (0, 1)),
            untradable_reason TEXT,
            resolved_outcome TEXT CHECK (resolved_outcome IN ('YES', 'NO')),
            first_seen_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE INDEX ix_markets_yes_token ON markets (yes_token);
        CREATE INDEX ix_markets_no_token ON markets (no_token);
        CREATE INDEX ix_markets_group ON markets (neg_risk_market_id);
        CREATE INDEX ix_markets_end ON markets (end_at)
        """,
    )
