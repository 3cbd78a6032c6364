from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl


def up(db: UtilsDatabase) -> None:
    """A resolved position is redeemable, not cash, until the venue pays (issue 20): claims on
    the venue (what it owes: a resolved winning position, a merge sent), the transactions
    that collect them, the share sets a merge takes out of positions, and the cash the venue
    paid (redemption, merge, maker rebate) as its own ledger kinds. The paper venue keeps its
    own redemptions and merges. Snapshots carry the redeemable value (part of equity)."""
    ddl(
        db,
        """
        CREATE TABLE settlement_txs (
            id INTEGER PRIMARY KEY,
            mode TEXT NOT NULL CHECK (mode IN ('paper', 'live')),
            kind TEXT NOT NULL CHECK (kind IN ('redeem', 'merge', 'approve')),
            condition_id TEXT,
            amount INTEGER NOT NULL DEFAULT 0,
            ref TEXT,
            tx_hash TEXT,
            via TEXT,
            state TEXT NOT NULL CHECK (state IN ('sending', 'pending', 'confirmed', 'failed')),
            error TEXT,
            actor TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE INDEX ix_settlement_txs_open ON settlement_txs (mode, state);
        CREATE TABLE claims (
            id INTEGER PRIMARY KEY,
            mode TEXT NOT NULL CHECK (mode IN ('paper', 'live')),
            kind TEXT NOT NULL CHECK (kind IN ('redeem', 'merge')),
            condition_id TEXT NOT NULL,
            strategy TEXT NOT NULL,
            token_id TEXT,
            amount INTEGER NOT NULL,
            status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'paid', 'failed')),
            ref TEXT NOT NULL,
            tx_id INTEGER REFERENCES settlement_txs (id),
            paid_by TEXT,
            created_at INTEGER NOT NULL,
            settled_at INTEGER,
            UNIQUE (mode, ref)
        );
        CREATE INDEX ix_claims_open ON claims (mode, status, condition_id);
        CREATE TABLE position_conversions (
            id INTEGER PRIMARY KEY,
            mode TEXT NOT NULL CHECK (mode IN ('paper', 'live')),
            strategy TEXT NOT NULL,
            condition_id TEXT NOT NULL,
            token_id TEXT NOT NULL,
            outcome TEXT NOT NULL CHECK (outcome IN ('YES', 'NO')),
            shares INTEGER NOT NULL,
            price INTEGER NOT NULL,
            at INTEGER NOT NULL,
            tx_id INTEGER NOT NULL REFERENCES settlement_txs (id),
            status TEXT NOT NULL CHECK (status IN ('pending', 'done', 'failed'))
        );
        CREATE INDEX ix_conversions_position ON position_conversions (mode, strategy, token_id);
        CREATE TABLE cash_ledger_new (
            id INTEGER PRIMARY KEY,
            mode TEXT NOT NULL CHECK (mode IN ('paper', 'live')),
            at INTEGER NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('deposit', 'settlement', 'adjustment', 'redemption', 'merge',
                                               'rebate')),
            amount INTEGER NOT NULL,
            ref TEXT NOT NULL,
            note TEXT,
            UNIQUE (mode, kind, ref)
        );
        INSERT INTO cash_ledger_new (id, mode, at, kind, amount, ref, note)
            SELECT id, mode, at, kind, amount, ref, note FROM cash_ledger;
        DROP TABLE cash_ledger;
        ALTER TABLE cash_ledger_new RENAME TO cash_ledger;
        ALTER TABLE portfolio_snapshots ADD COLUMN redeemable INTEGER NOT NULL DEFAULT 0;
        CREATE TABLE paper_settlements (
            ref TEXT PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('redeem', 'merge')),
            condition_id TEXT NOT NULL,
            yes_token TEXT NOT NULL,
            no_token TEXT NOT NULL,
            requested INTEGER NOT NULL DEFAULT 0,
            state TEXT NOT NULL CHECK (state IN ('pending', 'confirmed', 'failed')),
            error TEXT,
            paid INTEGER NOT NULL DEFAULT 0,
            yes_burned INTEGER NOT NULL DEFAULT 0,
            no_burned INTEGER NOT NULL DEFAULT 0,
            tx_hash TEXT NOT NULL,
            due_at INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            settled_at INTEGER
        );
        CREATE INDEX ix_paper_settlements_market ON paper_settlements (condition_id, state)
        """,
    )
