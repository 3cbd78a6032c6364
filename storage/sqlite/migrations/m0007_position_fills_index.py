from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase


def up(db: UtilsDatabase) -> None:
    """One position's fills in match order, found by index: the executor checks whether a
    new fill is the latest of its position (to step the position rather than refold it)."""
    db.execute("CREATE INDEX ix_fills_position ON fills (mode, strategy, token_id, matched_at, trade_id)")
