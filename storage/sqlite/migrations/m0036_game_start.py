from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl


def up(db: UtilsDatabase) -> None:
    """A sports market's game start (Gamma `gameStartTime`) and whether the venue clears its book
    then (`clearBookOnStart`): the desk withdraws its quotes a little before (trading/exits/game_start.py)."""
    ddl(
        db,
        """
        ALTER TABLE markets ADD COLUMN game_start_at INTEGER;
        ALTER TABLE markets ADD COLUMN clear_book_on_start INTEGER NOT NULL DEFAULT 0;
        """,
    )
