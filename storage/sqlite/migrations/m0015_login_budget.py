from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl


def up(db: UtilsDatabase) -> None:
    """The dashboard's password-guess budget (storage/dashboard_queries/login_budget.py), one row shared by every
    session and dashboard process: a token bucket in thousandths of a guess, and the failed or
    refused attempts of the current window (for the one alert a burst raises)."""
    ddl(
        db,
        """
        CREATE TABLE login_budget (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            tokens_milli INTEGER NOT NULL,
            at_ms INTEGER NOT NULL,
            window_start_ms INTEGER NOT NULL,
            misses INTEGER NOT NULL DEFAULT 0,
            alerted_at_ms INTEGER
        )
        """,
    )
