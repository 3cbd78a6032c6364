from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl


def up(db: UtilsDatabase) -> None:
    """What the paper lane's breakers remember (engine/risk/ledger_risk.py): paper-only strategies on
    a live desk trade on the paper ledger, whose trading state, peak and day start are not the
    desk's; kept here so they outlive a restart as the desk's do. No CHECK on the state: SQLite
    checks every constraint of the table against its existing rows when a column with one is added,
    and an upgrade must never stop on a row (the values are the engine's TradingState, read back
    through it)."""
    ddl(
        db,
        """
        ALTER TABLE engine_state ADD COLUMN paper_lane_state TEXT NOT NULL DEFAULT 'ACTIVE';
        ALTER TABLE engine_state ADD COLUMN paper_lane_reason TEXT;
        ALTER TABLE engine_state ADD COLUMN paper_lane_peak INTEGER;
        ALTER TABLE engine_state ADD COLUMN paper_lane_day_start INTEGER;
        ALTER TABLE engine_state ADD COLUMN paper_lane_day_at INTEGER;
        """,
    )
