from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase


def up(db: UtilsDatabase) -> None:
    """A finished backtest keeps its orders beside its fills (JSON, at most 5,000): its results
    and its report draw the resting orders on the price, each over its lifetime."""
    db.execute("ALTER TABLE strategy_runs ADD COLUMN orders TEXT")
