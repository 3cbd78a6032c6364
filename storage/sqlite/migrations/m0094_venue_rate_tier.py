from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl


def up(db: UtilsDatabase) -> None:
    """The live venue's per-signer rate-limit tier as the engine last read it (Polymarket's, by the
    maker wallet's 30-day volume: JSON {tier, read_at, order_rate, order_burst, cancel_rate,
    cancel_burst}; '{}' while no live venue is connected), for `engine status` and the dashboard."""
    ddl(db, "ALTER TABLE engine_state ADD COLUMN venue_tier TEXT NOT NULL DEFAULT '{}';")
