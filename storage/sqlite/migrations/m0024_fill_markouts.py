from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl


def up(db: UtilsDatabase) -> None:
    """Each fill's markout at each horizon (1s, 10s, 60s, resolution), one row per horizon once
    it is known (engine/analytics/markout_job.py): the later mid (micro-units; NULL when the desk
    had none for the token) and the markout in micro-pUSD, positive when the fill earned. A row
    written is final; a missing row is a horizon still to compute, so a restart loses nothing.
    The fill's mode, strategy, market and notional are copied in, so the Strategies page sums a
    covering index instead of joining every fill; a fill that turns FAILED loses its rows (the
    partial index finds those fills without scanning the others)."""
    ddl(
        db,
        """
        CREATE TABLE fill_markouts (
            fill_id INTEGER NOT NULL REFERENCES fills (id),
            horizon TEXT NOT NULL CHECK (horizon IN ('1s', '10s', '60s', 'resolution')),
            mode TEXT NOT NULL CHECK (mode IN ('paper', 'live')),
            strategy TEXT NOT NULL,
            condition_id TEXT NOT NULL,
            notional INTEGER NOT NULL,
            mid INTEGER,
            markout INTEGER,
            computed_at INTEGER NOT NULL,
            PRIMARY KEY (fill_id, horizon)
        );
        CREATE INDEX ix_fill_markouts_sums ON fill_markouts (mode, strategy, condition_id, horizon, markout, notional);
        CREATE INDEX ix_fills_failed ON fills (id) WHERE status = 'FAILED'
        """,
    )
