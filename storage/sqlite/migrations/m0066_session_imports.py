from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl


def up(db: UtilsDatabase) -> None:
    """A session import in progress (storage/research/import_jobs.py): its ticks are written in short
    batches that let the engine's writes in between, so until its session row is written this row
    says whose ticks they are: retention keeps them, and an import that died is undone (its ticks
    and the markets it added removed) by the next import or retention run."""
    ddl(
        db,
        """
        CREATE TABLE session_imports (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            tokens TEXT NOT NULL,
            markets_added TEXT NOT NULL DEFAULT '[]',
            started_at INTEGER NOT NULL,
            stopped_at INTEGER NOT NULL,
            first_tick_id INTEGER NOT NULL,
            pid INTEGER NOT NULL,
            began_at INTEGER NOT NULL
        )
        """,
    )
