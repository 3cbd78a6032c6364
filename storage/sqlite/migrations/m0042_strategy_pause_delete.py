from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl


def up(db: UtilsDatabase) -> None:
    """A strategy paused on its own (it stays hosted, decides nothing, its orders withdrawn) and a
    deleted one (kept for its history, hidden from the lists, never hosted again)."""
    ddl(
        db,
        """
        ALTER TABLE strategies ADD COLUMN paused INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE strategies ADD COLUMN deleted_at INTEGER;
        """,
    )
