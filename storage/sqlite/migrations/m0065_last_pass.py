from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl


def up(db: UtilsDatabase) -> None:
    """When the engine's last trading pass completed, written with each heartbeat (NULL: none yet):
    a desk whose heartbeat is fresh but whose passes fail shows as one that cannot decide."""
    ddl(db, "ALTER TABLE engine_state ADD COLUMN last_pass_at INTEGER;")
