from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl


def up(db: UtilsDatabase) -> None:
    """Liquidity rewards (issue 23): the venue's reward programs, each resting order's scoring,
    the estimated and paid rewards per market, strategy and UTC day, and 'reward' cash."""
    ddl(
        db,
        """
        CREATE TABLE reward_programs (
            condition_id TEXT PRIMARY KEY,
            daily_pool INTEGER NOT NULL,
            max_spread INTEGER NOT NULL,
            min_size INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE TABLE reward_scores (
            mode TEXT NOT NULL CHECK (mode IN ('paper', 'live')),
            order_id INTEGER NOT NULL,
            strategy TEXT NOT NULL,
            condition_id TEXT NOT NULL,
            samples INTEGER NOT NULL DEFAULT 0,
            scoring_samples INTEGER NOT NULL DEFAULT 0,
            scoring INTEGER NOT NULL DEFAULT 0 CHECK (scoring IN (0, 1)),
            venue_scoring INTEGER CHECK (venue_scoring IN (0, 1)),
            checked_at INTEGER NOT NULL,
            PRIMARY KEY (mode, order_id)
        );
        CREATE INDEX ix_reward_scores_strategy ON reward_scores (mode, strategy);
        CREATE TABLE reward_days (
            mode TEXT NOT NULL CHECK (mode IN ('paper', 'live')),
            day TEXT NOT NULL,
            condition_id TEXT NOT NULL,
            strategy TEXT NOT NULL,
            samples INTEGER NOT NULL DEFAULT 0,
            share INTEGER NOT NULL DEFAULT 0,
            estimated INTEGER NOT NULL DEFAULT 0,
            paid INTEGER,
            updated_at INTEGER NOT NULL,
            PRIMARY KEY (mode, day, condition_id, strategy)
        );
        CREATE TABLE cash_ledger_new (
            id INTEGER PRIMARY KEY,
            mode TEXT NOT NULL CHECK (mode IN ('paper', 'live')),
            at INTEGER NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('deposit', 'settlement', 'adjustment', 'redemption', 'merge',
                                               'rebate', 'reward')),
            amount INTEGER NOT NULL,
            ref TEXT NOT NULL,
            note TEXT,
            UNIQUE (mode, kind, ref)
        );
        INSERT INTO cash_ledger_new (id, mode, at, kind, amount, ref, note)
            SELECT id, mode, at, kind, amount, ref, note FROM cash_ledger;
        DROP TABLE cash_ledger;
        ALTER TABLE cash_ledger_new RENAME TO cash_ledger
        """,
    )
