from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl


def up(db: UtilsDatabase) -> None:
    """Pairs suggested across venues (engine/cli/pair_suggest.py): for a market the desk watches, the market
    of the other venue likely to ask the same question, `watched` naming the side the desk watched, with
    its score (0-100) and how it was made (`parts`, JSON: each part's score and words). A suggestion is
    never a link: the trader confirms it through `pairs add`'s path (venue_pairs) or rejects it
    (`status` 'rejected', kept so it is never offered again; who and when in `decided_*`).
    `kalshi_listing`: Kalshi's open binary markets as last read (title, close), so a refresh within the
    hour reads none again; `pair_suggestion_runs`: each refresh, what it compared and found, or why it
    failed."""
    ddl(
        db,
        """
        CREATE TABLE pair_suggestions (
            id INTEGER PRIMARY KEY,
            condition_id TEXT NOT NULL,
            kalshi_ticker TEXT NOT NULL,
            watched TEXT NOT NULL CHECK (watched IN ('polymarket', 'kalshi')),
            polymarket_question TEXT NOT NULL,
            kalshi_title TEXT NOT NULL,
            polymarket_end_at INTEGER,
            kalshi_close_at INTEGER,
            score INTEGER NOT NULL,
            parts TEXT NOT NULL DEFAULT '{}',
            status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'rejected')),
            found_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            decided_at INTEGER,
            decided_by TEXT,
            UNIQUE (condition_id, kalshi_ticker)
        );
        CREATE INDEX pair_suggestions_by_status ON pair_suggestions (status, score);
        CREATE TABLE kalshi_listing (
            ticker TEXT PRIMARY KEY,
            title TEXT NOT NULL,
            close_at INTEGER,
            read_at INTEGER NOT NULL
        );
        CREATE TABLE pair_suggestion_runs (
            id INTEGER PRIMARY KEY,
            started_at INTEGER NOT NULL,
            started_by TEXT NOT NULL,
            finished_at INTEGER,
            status TEXT NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done', 'failed')),
            watched INTEGER NOT NULL DEFAULT 0,
            listed INTEGER NOT NULL DEFAULT 0,
            listing_read_at INTEGER,
            pages INTEGER NOT NULL DEFAULT 0,
            found INTEGER NOT NULL DEFAULT 0,
            detail TEXT
        );
        """,
    )
