from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl


def up(db: UtilsDatabase) -> None:
    """Recorded ticks gain 'decide' markers (the moments the live engine decided), so a
    backtest decides at exactly the same points of the event stream. A change row now holds
    all the level changes of one book update in `data` ([[is_bid, price, size], ...])."""
    ddl(
        db,
        """
        CREATE TABLE ticks_new (
            id INTEGER PRIMARY KEY,
            at INTEGER NOT NULL,
            token_id TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('book', 'change', 'trade', 'decide')),
            side TEXT CHECK (side IN ('BUY', 'SELL')),
            price INTEGER,
            size INTEGER,
            mid INTEGER,
            data TEXT
        );
        INSERT INTO ticks_new (id, at, token_id, kind, side, price, size, mid, data)
            SELECT id, at, token_id, kind, side, price, size, mid, data FROM ticks;
        DROP TABLE ticks;
        ALTER TABLE ticks_new RENAME TO ticks;
        CREATE INDEX ix_ticks_token_at ON ticks (token_id, at);
        CREATE INDEX ix_ticks_at ON ticks (at)
        """,
    )
