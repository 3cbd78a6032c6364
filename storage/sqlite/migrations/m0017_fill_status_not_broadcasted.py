from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl
from storage.sqlite.migrations.m0014_notify_channels_and_events import EVENT_TRIGGERS


def up(db: UtilsDatabase) -> None:
    """The venue's REST trades also say MATCHED_NOT_BROADCASTED (matched, settlement not yet
    sent): a pending fill status like MATCHED. SQLite cannot change a CHECK in place, so the
    fills table is rebuilt with every row, id and index as it was, and the notifier's trigger on
    new fills (0014) is made again: dropping the table dropped it."""
    columns = ("id, trade_id, order_id, mode, strategy, condition_id, token_id, outcome, side, price, size, fee, "
               "liquidity, status, status_rank, matched_at, updated_at")
    ddl(
        db,
        f"""
        CREATE TABLE fills_new (
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
            status TEXT NOT NULL CHECK (status IN ('MATCHED_NOT_BROADCASTED', 'MATCHED', 'MINED', 'CONFIRMED',
                                                   'RETRYING', 'FAILED')),
            status_rank INTEGER NOT NULL,
            matched_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            UNIQUE (trade_id, order_id)
        );
        INSERT INTO fills_new ({columns}) SELECT {columns} FROM fills;
        DROP TABLE fills;
        ALTER TABLE fills_new RENAME TO fills;
        CREATE INDEX ix_fills_order ON fills (order_id);
        CREATE INDEX ix_fills_market ON fills (mode, condition_id);
        CREATE INDEX ix_fills_matched ON fills (matched_at);
        CREATE INDEX ix_fills_position ON fills (mode, strategy, token_id, matched_at, trade_id);
        UPDATE fills SET status_rank = 25 WHERE status = 'RETRYING'
        """,
    )
    db.execute(EVENT_TRIGGERS[0])
