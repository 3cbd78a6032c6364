from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl


def up(db: UtilsDatabase) -> None:
    """Kalshi is armed on its own: `kalshi_mode` is paper until the operator arms it live with its
    own checklist (engine/process/control.py, `set_venue_mode`), whatever the desk's `mode` is. No
    CHECK (an upgrade must never stop on a row; the engine writes only 'paper' or 'live')."""
    ddl(db, "ALTER TABLE engine_state ADD COLUMN kalshi_mode TEXT NOT NULL DEFAULT 'paper';")
