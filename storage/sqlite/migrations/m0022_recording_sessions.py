from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl


def up(db: UtilsDatabase) -> None:
    """Named recording sessions: a time span of the `ticks` table with its markets and notes
    (the ticks themselves stay where the recorder writes them). Imported sessions carry the
    exporting desk's ticks, inserted into `ticks` on import."""
    ddl(
        db,
        """
        CREATE TABLE recording_sessions (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            notes TEXT NOT NULL DEFAULT '',
            markets TEXT NOT NULL DEFAULT '[]',
            started_at INTEGER NOT NULL,
            stopped_at INTEGER,
            origin TEXT NOT NULL DEFAULT 'recorded' CHECK (origin IN ('recorded', 'imported')),
            created_by TEXT NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE INDEX ix_recording_sessions_span ON recording_sessions (started_at, stopped_at)
        """,
    )
