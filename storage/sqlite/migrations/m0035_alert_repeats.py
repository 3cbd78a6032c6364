from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl


def up(db: UtilsDatabase) -> None:
    """Alerts from one cause are folded, never a flood (storage/desk/audit.py, raise_alert): past a burst
    of one code (and subject) within a window, the newest such alert counts the rest (`repeats`,
    the last one's time in `last_at`) instead of a row each."""
    ddl(
        db,
        """
        ALTER TABLE alerts ADD COLUMN repeats INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE alerts ADD COLUMN last_at INTEGER;
        CREATE INDEX ix_alerts_code_created ON alerts (code, created_at);
        """,
    )
