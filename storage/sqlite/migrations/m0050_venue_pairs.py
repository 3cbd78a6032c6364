from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl


def up(db: UtilsDatabase) -> None:
    """Markets linked by hand across venues (engine/cli/pairs.py): a Polymarket market and the Kalshi
    market the operator judged to be the same question, `inverted` when Polymarket's YES is Kalshi's
    NO; the warnings the desk showed when they were linked (JSON list). The desk never links by itself."""
    ddl(
        db,
        """
        CREATE TABLE venue_pairs (
            id INTEGER PRIMARY KEY,
            condition_id TEXT NOT NULL UNIQUE,
            kalshi_ticker TEXT NOT NULL UNIQUE,
            inverted INTEGER NOT NULL DEFAULT 0 CHECK (inverted IN (0, 1)),
            polymarket_question TEXT NOT NULL,
            kalshi_title TEXT NOT NULL,
            warnings TEXT NOT NULL DEFAULT '[]',
            created_at INTEGER NOT NULL,
            created_by TEXT NOT NULL
        );
        """,
    )
