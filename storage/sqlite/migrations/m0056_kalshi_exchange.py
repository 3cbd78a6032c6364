from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl


def up(db: UtilsDatabase) -> None:
    """Kalshi's exchange as the desk last read it (engine/trading/ledgers/kalshi_pauses.py): a JSON object with
    `trading_active`, `exchange_active`, `resume_at` and the next scheduled pause (`next_pause`: [start,
    end] epoch ms), read by `engine status`, the dashboard and the bot; '{}' until read."""
    ddl(db, "ALTER TABLE engine_state ADD COLUMN kalshi_exchange TEXT NOT NULL DEFAULT '{}';")
