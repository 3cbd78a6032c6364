from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl


def up(db: UtilsDatabase) -> None:
    """Markets linked by hand to a race of the poll feed (engine/outside/polls.py): the race's name in
    the feed and the option whose lead in the vote is this market's YES. Written by the operator's
    command (audited), read by the poll source that posts their fair values."""
    ddl(
        db,
        """
        CREATE TABLE poll_links (
            condition_id TEXT PRIMARY KEY,
            race TEXT NOT NULL,
            option TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            created_by TEXT NOT NULL
        )
        """,
    )
