from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl


def up(db: UtilsDatabase) -> None:
    """Strategy templates (storage/desk/strategy_templates.py): a named kind and params, validated as a
    strategy's are, to create strategies from. A template never trades: the engine reads no row of it
    (it hosts, promotes and arms `strategies` only). Versioned as strategies are (a rename or a delete
    names the version it saw)."""
    ddl(
        db,
        """
        CREATE TABLE strategy_templates (
            name TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            params TEXT NOT NULL,
            version INTEGER NOT NULL DEFAULT 1,
            created_at INTEGER NOT NULL,
            created_by TEXT NOT NULL,
            updated_at INTEGER NOT NULL,
            updated_by TEXT NOT NULL
        )
        """,
    )
