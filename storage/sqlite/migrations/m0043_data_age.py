from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl


def up(db: UtilsDatabase) -> None:
    """The age of the oldest book the engine trades on, written with each heartbeat (NULL: it
    follows no book), for `engine status` and the metrics endpoint."""
    ddl(db, "ALTER TABLE engine_state ADD COLUMN data_age_ms INTEGER;")
