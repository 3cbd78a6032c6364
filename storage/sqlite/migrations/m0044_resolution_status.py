from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl


def up(db: UtilsDatabase) -> None:
    """Gamma's UMA resolution status of a market ("" none yet; proposed, disputed, resolved…): a
    market whose resolution is under way is not entered (engine/risk/gate.py RESOLUTION_PENDING)."""
    ddl(db, "ALTER TABLE markets ADD COLUMN resolution_status TEXT NOT NULL DEFAULT '';")
