from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl


def up(db: UtilsDatabase) -> None:
    """What a live venue whose account is split into sections (Kalshi's exchange shards) last said of
    them (engine/trading/ledgers/venue_funds.py): a JSON object per venue, with each section's money,
    the transfers on their way, the shortfalls that hold quotes and the moves that would cover them; read
    by `engine status` and the dashboard. '{}' until a live ledger wrote it."""
    ddl(db, "ALTER TABLE engine_state ADD COLUMN venue_funds TEXT NOT NULL DEFAULT '{}';")
