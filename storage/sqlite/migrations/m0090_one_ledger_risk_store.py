from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, now_ms

# The paper lane's memory as migration 0051 kept it on the engine_state row (column: venue_risk's).
_PAPER_LANE_COLUMNS = {"paper_lane_state": "trading_state", "paper_lane_reason": "reason",
                       "paper_lane_peak": "peak_equity", "paper_lane_day_start": "day_start_equity",
                       "paper_lane_day_at": "day_started_at"}


def up(db: UtilsDatabase) -> None:
    """One store for the risk memory of every ledger beside the desk's: `venue_risk`, by (venue, mode)
    (storage/engine_stores/ledger_risk_store.py). The paper lane's, kept on the engine_state row since
    0051, moves to its row (polymarket, paper) as it stands: a lane halted before the upgrade is still
    halted after it, with its reason, peak and day figures (its own columns win over any row there,
    since nothing wrote one before). Then the old columns go (no index, view, trigger or CHECK names them)."""
    old, new = ", ".join(_PAPER_LANE_COLUMNS), ", ".join(_PAPER_LANE_COLUMNS.values())
    db.execute(f"""INSERT INTO venue_risk (mode, venue, {new}, updated_at)
                   SELECT 'paper', 'polymarket', {old}, ? FROM engine_state WHERE id = 1
                   ON CONFLICT (mode, venue) DO UPDATE SET
                       {", ".join(f"{column} = excluded.{column}" for column in _PAPER_LANE_COLUMNS.values())},
                       updated_at = excluded.updated_at""", [now_ms()])
    for column in _PAPER_LANE_COLUMNS:
        db.execute(f"ALTER TABLE engine_state DROP COLUMN {column}")
