from __future__ import annotations

from storage.sqlite.migrations.common import UtilsDatabase, ddl


def up(db: UtilsDatabase) -> None:
    """What the dashboard's live panels ask before they redraw (storage/dashboard_queries/change_probes.py):
    the newest change to an order, a fill or a position, and the backtests still running, each answered
    by one index seek, however long the desk has traded, instead of a scan of the table every few
    seconds. The backtest's scratch ledger drops the first three (engine/backtest/runner.py)."""
    ddl(
        db,
        """
        CREATE INDEX ix_orders_updated ON orders (updated_at);
        CREATE INDEX ix_fills_updated ON fills (updated_at);
        CREATE INDEX ix_positions_updated ON positions (updated_at);
        CREATE INDEX ix_strategy_runs_running ON strategy_runs (id) WHERE status = 'running'
        """,
    )
