"""Read functions for the dashboard and the CLI (pages never write SQL themselves).

Each function takes a `Database` (read through its query_only connection) and returns plain
values or DataFrames with human units already applied: money in USDC, sizes in shares,
prices as probabilities (floats, for display only; the ledger stays integer micro-units)
and times as timezone-aware UTC timestamps. Every list is bounded (LIMIT, SQL aggregation
or SQL downsampling), so pages stay fast on a database with millions of rows.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import text

from storage.backtest_queries import (
    DataSource as DataSource,
)
from storage.backtest_queries import (
    BacktestRun as BacktestRun,
)
from storage.backtest_queries import (
    RunProgress as RunProgress,
)
from storage.backtest_queries import (
    backtest_data_bounds as backtest_data_bounds,
)
from storage.backtest_queries import (
    backtest_event_counts as backtest_event_counts,
)
from storage.backtest_queries import (
    backtest_market_choices as backtest_market_choices,
)
from storage.backtest_queries import (
    backtest_run as backtest_run,
)
from storage.backtest_queries import (
    backtest_runs as backtest_runs,
)
from storage.backtest_queries import (
    market_min_sizes as market_min_sizes,
)
from storage.backtest_queries import (
    market_questions as market_questions,
)
from storage.backtest_queries import (
    running_backtests as running_backtests,
)
from storage import desk_status
from storage.db import Database
from storage.desk_status import HEARTBEAT_STALE_S as HEARTBEAT_STALE_S
from storage.desk_status import EngineStatus as EngineStatus
from storage.frames import to_utc
from storage.frames import frame as _frame
from storage.frames import scalar as _scalar
from storage.market_queries import (
    BookView as BookView,
)
from storage.market_queries import (
    MarketFilter as MarketFilter,
)
from storage.market_queries import (
    count_markets as count_markets,
)
from storage.market_queries import (
    latest_book as latest_book,
)
from storage.market_queries import (
    market as market,
)
from storage.market_queries import (
    market_choices as market_choices,
)
from storage.market_queries import (
    market_strategies as market_strategies,
)
from storage.market_queries import (
    market_tags as market_tags,
)
from storage.market_queries import (
    price_series as price_series,
)
from storage.market_queries import (
    search_markets as search_markets,
)
from storage.market_queries import (
    tick_bounds as tick_bounds,
)

from storage.notify_queries import (
    alert_codes_seen as alert_codes_seen,
)
from storage.notify_queries import (
    notification_health as notification_health,
)
from storage.notify_queries import (
    notifications as notifications,
)

# The rest of the read API lives in smaller modules; pages import all of it from here.
from storage.portfolio_queries import (
    PnlToday as PnlToday,
)
from storage.portfolio_queries import (
    RiskUsage as RiskUsage,
)
from storage.portfolio_queries import (
    decision_facets as decision_facets,
)
from storage.portfolio_queries import (
    decisions as decisions,
)
from storage.portfolio_queries import (
    equity_curve as equity_curve,
)
from storage.portfolio_queries import (
    open_order_count as open_order_count,
)
from storage.portfolio_queries import (
    pnl_today as pnl_today,
)
from storage.portfolio_queries import (
    positions as positions,
)
from storage.portfolio_queries import (
    risk_usage as risk_usage,
)
from storage.portfolio_queries import (
    strategy_pnl as strategy_pnl,
)
from storage.trading_queries import (
    CSV_MAX_ROWS as CSV_MAX_ROWS,
)
from storage.trading_queries import (
    StrategyRow as StrategyRow,
)
from storage.trading_queries import (
    TradeFilter as TradeFilter,
)
from storage.trading_queries import (
    audit_actions as audit_actions,
)
from storage.trading_queries import (
    audit_log as audit_log,
)
from storage.trading_queries import (
    count_audit as count_audit,
)
from engine.contracts.jsonsafe import preview, read_stored
from storage.trading_queries import (
    count_fills as count_fills,
)
from storage.trading_queries import (
    count_orders as count_orders,
)
from storage.trading_queries import (
    fair_values as fair_values,
)
from storage.trading_queries import (
    fills as fills,
)
from storage.trading_queries import (
    fills_csv as fills_csv,
)
from storage.trading_queries import (
    orders as orders,
)
from storage.trading_queries import (
    orders_csv as orders_csv,
)
from storage.trading_queries import (
    strategies as strategies,
)
from storage.trading_queries import (
    strategy_row as strategy_row,
)
from storage.trading_queries import (
    strategy_rows as strategy_rows,
)
from storage.trading_queries import (
    trade_strategies as trade_strategies,
)


def _raw(conn: Any) -> Any:
    """The sqlite3 connection under a SQLAlchemy one (storage.desk_status reads with sqlite3)."""
    return conn.connection.driver_connection


def engine_status(db: Database, *, now: int | None = None) -> EngineStatus:
    with db.read() as conn:
        return desk_status.engine_status(_raw(conn), db.path, now=now)


# -- commands, alerts, CLI summary ------------------------------------------------------------


def recent_commands(db: Database, limit: int = 20) -> pd.DataFrame:
    frame = _frame(
        db,
        """SELECT id, kind, status, actor, created_at, finished_at,
                  finished_at - created_at AS latency_ms, result, error
           FROM commands ORDER BY id DESC LIMIT :limit""",
        {"limit": limit},
    )
    return to_utc(frame, "created_at", "finished_at")


def command_status(db: Database, command_id: int) -> dict[str, Any] | None:
    with db.read() as conn:
        return desk_status.command_status(_raw(conn), command_id)


def alerts(
    db: Database, *, unacked_only: bool = False, level: str | None = None, limit: int = 50
) -> pd.DataFrame:
    where = ["1 = 1"]
    if unacked_only:
        where.append("acked_at IS NULL")
    if level:
        where.append("level = :level")
    frame = _frame(
        db,
        f"SELECT id, created_at, level, source, code, message, acked_at, acked_by "
        f"FROM alerts WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT :limit",
        {"limit": limit, "level": level},
    )
    return to_utc(frame, "created_at", "acked_at")


def unacked_alert_count(db: Database) -> int:
    return int(_scalar(db, "SELECT COUNT(*) FROM alerts WHERE acked_at IS NULL"))


def status_summary(db: Database) -> dict[str, Any]:
    """What `python -m engine status` prints: the operator's one-glance health check."""
    with db.read() as conn:
        return desk_status.status_report(_raw(conn), db.path)


# -- configuration reads --------------------------------------------------------------------------


def risk_limit_rows(db: Database) -> pd.DataFrame:
    """Stored limits: name, value (decimal string, human unit), version, updated_at, updated_by."""
    return to_utc(
        _frame(db, "SELECT name, value, version, updated_at, updated_by FROM risk_limits"), "updated_at"
    )


def engine_settings(db: Database) -> dict[str, dict[str, Any]]:
    """key -> {"value": decoded JSON, "problem", "version", "updated_at", "updated_by"}. A stored
    value that cannot be read (malformed, too big or too deep) is its text, shortened, with the
    reason in "problem"."""
    with db.read() as conn:
        rows = (
            conn.execute(text("SELECT key, value, version, updated_at, updated_by FROM settings"))
            .mappings()
            .all()
        )
    out = {}
    for row in rows:
        value, problem = read_stored(row["value"])
        out[row["key"]] = {
            "value": preview(row["value"]) if problem else value,
            "problem": problem,
            "version": row["version"],
            "updated_at": row["updated_at"],
            "updated_by": row["updated_by"],
        }
    return out
