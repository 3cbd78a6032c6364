from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl


def up(db: UtilsDatabase) -> None:
    """Sports markets linked by hand to a bookmakers' odds event (engine/feeds/odds_reference.py):
    the event's id in the odds feed and the outcome whose win is this market's YES. Written by the
    operator's command (audited), read by the engine."""
    ddl(
        db,
        """
        CREATE TABLE odds_links (
            condition_id TEXT PRIMARY KEY,
            event_id TEXT NOT NULL,
            outcome TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            created_by TEXT NOT NULL
        )
        """,
    )
