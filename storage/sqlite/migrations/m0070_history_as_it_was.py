from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl


def up(db: UtilsDatabase) -> None:
    """What a recording's history is, so a backtest replays it as it was and says what it replayed:
    a session's `history` (JSON: source, archive layouts, where its prints came from, the hours
    missing) and `tick_sizes`, each tick size change of a token at its time (micro-units; the old
    tick when known), which the replay applies when it reaches it."""
    ddl(
        db,
        """
        ALTER TABLE recording_sessions ADD COLUMN history TEXT;
        CREATE TABLE tick_sizes (
            token_id TEXT NOT NULL,
            at INTEGER NOT NULL,
            tick INTEGER NOT NULL,
            old_tick INTEGER,
            PRIMARY KEY (token_id, at)
        )
        """,
    )
