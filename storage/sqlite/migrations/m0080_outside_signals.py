from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl


def up(db: UtilsDatabase) -> None:
    """Fair values from outside (an HTTP post, the CLI, an assistant through MCP), kept with their
    provenance: each signal says how sure its source is (`confidence`, micros; NULL: not said), how
    it came (`via`) and when its source made it (`posted_at`). `signal_posts` keeps every accepted
    post, once per (source, nonce), so a replay is refused and a source's calibration can be scored
    against the markets' resolutions; `signal_sources` is the model-confidence breaker's verdict on
    each source (engine/risk/source_breaker.py, its one writer)."""
    ddl(
        db,
        """
        ALTER TABLE signals ADD COLUMN confidence INTEGER;
        ALTER TABLE signals ADD COLUMN via TEXT;
        ALTER TABLE signals ADD COLUMN posted_at INTEGER;
        CREATE TABLE signal_posts (
            id INTEGER PRIMARY KEY,
            source TEXT NOT NULL,
            condition_id TEXT NOT NULL,
            fair_value INTEGER NOT NULL,
            confidence INTEGER,
            nonce TEXT NOT NULL,
            posted_at INTEGER NOT NULL,
            received_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            via TEXT NOT NULL,
            actor TEXT NOT NULL,
            detail TEXT,
            UNIQUE (source, nonce)
        );
        CREATE INDEX ix_signal_posts_market ON signal_posts (source, condition_id);
        CREATE INDEX ix_signal_posts_received ON signal_posts (received_at);
        CREATE TABLE signal_sources (
            source TEXT PRIMARY KEY,
            state TEXT NOT NULL,
            brier INTEGER,
            markets INTEGER NOT NULL DEFAULT 0,
            judged_at INTEGER NOT NULL,
            changed_at INTEGER,
            reason TEXT
        )
        """,
    )
