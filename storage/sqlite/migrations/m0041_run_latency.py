from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl


def up(db: UtilsDatabase) -> None:
    """The latency model a backtest run was asked for (contracts/latency_spec.py); empty: the desk's
    `paper_latency` setting when it ran (the run's metrics say which model it used)."""
    ddl(db, "ALTER TABLE strategy_runs ADD COLUMN latency TEXT;")
