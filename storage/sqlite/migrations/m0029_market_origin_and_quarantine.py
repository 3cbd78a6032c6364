from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl


def up(db: UtilsDatabase) -> None:
    """Where a market's row came from: 'venue' (the desk's discovery) or 'imported' (a session
    file's, for a market this desk's venue does not list: never in the live desk's catalog,
    engine/feeds/catalog.py); and what the engine set aside because it could not be read (a
    market row moved out of the catalog with its content; a configuration row it runs without),
    each with the repair (storage/engine_stores/quarantine_store.py; `python -m engine status` lists them)."""
    ddl(
        db,
        """
        ALTER TABLE markets ADD COLUMN origin TEXT NOT NULL DEFAULT 'venue' CHECK (origin IN ('venue', 'imported'));
        CREATE TABLE quarantine (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('market', 'configuration')),
            subject TEXT NOT NULL,
            problem TEXT NOT NULL,
            repair TEXT NOT NULL,
            row TEXT,
            at INTEGER NOT NULL,
            UNIQUE (kind, subject)
        )
        """,
    )
