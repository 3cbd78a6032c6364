from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl


def up(db: UtilsDatabase) -> None:
    """A strategy's warm state kept across restarts (engine/trading/hosting/strategy_memory.py): what it
    handed out last (`memory`, JSON), for which kind and params (`params_hash`), when; and what the
    last start did with it (`outcome`: restored, or why not, at `restored_at`)."""
    ddl(
        db,
        """
        CREATE TABLE strategy_memory (
            strategy TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            params_hash TEXT NOT NULL,
            memory TEXT NOT NULL,
            saved_at INTEGER NOT NULL,
            restored_at INTEGER,
            outcome TEXT
        )
        """,
    )
