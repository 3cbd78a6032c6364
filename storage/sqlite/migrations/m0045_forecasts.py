from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl


def up(db: UtilsDatabase) -> None:
    """The probabilities of YES strategies state for markets (value betting's fair value), each
    written when it moves: scored against resolutions for calibration (Brier)."""
    ddl(
        db,
        """
        CREATE TABLE forecasts (
            id INTEGER PRIMARY KEY,
            at INTEGER NOT NULL,
            mode TEXT NOT NULL CHECK (mode IN ('paper', 'live')),
            strategy TEXT NOT NULL,
            condition_id TEXT NOT NULL,
            probability INTEGER NOT NULL CHECK (probability BETWEEN 0 AND 1000000)
        );
        CREATE INDEX forecasts_by_strategy ON forecasts (mode, strategy, condition_id, at);
        """,
    )
