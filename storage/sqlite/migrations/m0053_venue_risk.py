from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl


def up(db: UtilsDatabase) -> None:
    """What the breakers of another venue's ledger remember (engine/risk/ledger_risk.py): a Kalshi
    paper ledger trades beside the desk with its own drawdown, daily loss and halts, kept here so
    they outlive a restart as the desk's (engine_state) and the Polymarket paper lane's do."""
    ddl(
        db,
        """
        CREATE TABLE venue_risk (
            mode TEXT NOT NULL CHECK (mode IN ('paper', 'live')),
            venue TEXT NOT NULL,
            trading_state TEXT NOT NULL DEFAULT 'ACTIVE',
            reason TEXT,
            peak_equity INTEGER,
            day_start_equity INTEGER,
            day_started_at INTEGER,
            updated_at INTEGER NOT NULL,
            PRIMARY KEY (mode, venue)
        )
        """,
    )
