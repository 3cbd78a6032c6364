from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl


def up(db: UtilsDatabase) -> None:
    """A backtest's starting cash is the run's own input (micro-pUSD; NULL: the desk's paper starting
    cash, as runs before this one used)."""
    ddl(db, "ALTER TABLE strategy_runs ADD COLUMN capital INTEGER;")
