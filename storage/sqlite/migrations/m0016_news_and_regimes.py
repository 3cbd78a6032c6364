from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl


def up(db: UtilsDatabase) -> None:
    """News in and regimes noted. A signal may expire (`expires_at`, NULL: never) and say what
    raised it (`detail`, e.g. the headline); `news_feeds` keeps each configured feed's polling
    status for the Markets page, and `news_seen` the entries already acted on, so a restart or
    the next poll never raises the same signal again. The decisions log takes `note` rows (the
    market maker's regime changes) beside trims and refusals: SQLite cannot change a CHECK, so
    the table is rebuilt with its rows and indexes."""
    ddl(
        db,
        """
        ALTER TABLE signals ADD COLUMN expires_at INTEGER;
        ALTER TABLE signals ADD COLUMN detail TEXT;
        CREATE TABLE news_feeds (
            name TEXT PRIMARY KEY,
            url TEXT NOT NULL,
            polled_at INTEGER,
            ok_at INTEGER,
            error TEXT,
            entries INTEGER NOT NULL DEFAULT 0,
            matched INTEGER NOT NULL DEFAULT 0,
            updated_at INTEGER NOT NULL
        );
        CREATE TABLE news_seen (
            feed TEXT NOT NULL,
            entry_key TEXT NOT NULL,
            title TEXT NOT NULL,
            link TEXT,
            published_at INTEGER,
            seen_at INTEGER NOT NULL,
            signals INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (feed, entry_key)
        );
        CREATE INDEX ix_news_seen_at ON news_seen (seen_at);
        CREATE TABLE decisions_new (
            id INTEGER PRIMARY KEY,
            at INTEGER NOT NULL,
            mode TEXT NOT NULL CHECK (mode IN ('paper', 'live')),
            strategy TEXT NOT NULL,
            condition_id TEXT NOT NULL,
            side TEXT NOT NULL,
            price INTEGER NOT NULL,
            requested INTEGER NOT NULL,
            approved INTEGER NOT NULL,
            action TEXT NOT NULL CHECK (action IN ('resize', 'deny', 'note')),
            reason TEXT NOT NULL,
            detail TEXT
        );
        INSERT INTO decisions_new SELECT id, at, mode, strategy, condition_id, side, price, requested, approved,
            action, reason, detail FROM decisions;
        DROP TABLE decisions;
        ALTER TABLE decisions_new RENAME TO decisions;
        CREATE INDEX ix_decisions_at ON decisions (at);
        CREATE INDEX ix_decisions_reason ON decisions (reason)
        """,
    )
