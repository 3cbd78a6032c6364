from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl


def up(db: UtilsDatabase) -> None:
    """Streaming indicators' values (engine/trading/hosting/indicator_host.py), one row per market, variant
    and minute, in micro-units of their own unit (probability, probability per minute, a ratio)."""
    ddl(
        db,
        """
        CREATE TABLE indicator_values (
            id INTEGER PRIMARY KEY,
            condition_id TEXT NOT NULL,
            variant TEXT NOT NULL,
            at INTEGER NOT NULL,
            value INTEGER NOT NULL
        );
        CREATE INDEX indicator_values_by_market ON indicator_values (condition_id, variant, at);
        """,
    )
