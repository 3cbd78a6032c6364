from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl


def up(db: UtilsDatabase) -> None:
    """The database's upkeep, each run (engine/process/upkeep.py, storage/engine_stores/db_upkeep.py):
    when it ran and why (the schedule, an operator's command, the CLI, the engine's start), whether it
    optimized, the free pages it found and gave back, the audit rows it moved to the archive beside
    the database, the file's size before and after, and what went wrong. The dashboard's Settings page
    and `engine status` show the last one. Sizes in bytes."""
    ddl(
        db,
        """
        CREATE TABLE db_upkeep (
            id INTEGER PRIMARY KEY,
            started_at INTEGER NOT NULL,
            finished_at INTEGER,
            trigger TEXT NOT NULL,
            optimized INTEGER NOT NULL DEFAULT 0 CHECK (optimized IN (0, 1)),
            size_before INTEGER NOT NULL,
            free_pages_before INTEGER NOT NULL,
            freed_pages INTEGER NOT NULL DEFAULT 0,
            archived_rows INTEGER NOT NULL DEFAULT 0,
            size_after INTEGER,
            note TEXT NOT NULL DEFAULT '',
            error TEXT
        )
        """,
    )
