"""Portfolio panels shared by Overview, Risk and Markets: PnL today, usage bars, positions, alerts."""

from __future__ import annotations

from decimal import Decimal

import streamlit as st

from storage import queries
from storage.db import Database, now_ms

from pages.widgets.figures import CHART_CONFIG
from pages.widgets import figures
from pages.widgets.common import (
    money,
    pct,
    pct_column,
    prob_column,
    shares_column,
    time_column,
    usdc,
    usdc_column,
    utc,
)
from pages.widgets.usage import limit_values, usage_table

EQUITY_CHART, USAGE_CHART = "equity_chart", "usage_chart"
EQUITY_WINDOW_MS = 30 * 86_400_000


def pnl_today_metrics(db: Database, mode: str) -> None:
    pnl = queries.pnl_today(db, mode)
    cols = st.columns(4)
    if pnl is None:
        cols[0].metric("Today's PnL (USDC)", "—", help="No portfolio snapshots yet in this mode")
        return
    cols[0].metric(
        "Today's PnL (USDC)",
        usdc(pnl.total, signed=True),
        help=f"Equity now minus equity at 00:00 UTC ({money(pnl.day_start_equity)}); as of {utc(pnl.as_of)}",
    )
    cols[1].metric("Realized today (USDC)", usdc(pnl.realized, signed=True), help="Before fees")
    cols[2].metric(
        "Unrealized now (USDC)", usdc(pnl.unrealized, signed=True), help="Open positions at the mid vs cost"
    )
    cols[3].metric("Equity (USDC)", usdc(pnl.equity), help=f"Fees today {money(pnl.fees)}")


def equity_chart(db: Database, mode: str) -> None:
    # A bounded window keeps the SQL aggregation cheap however long the desk has run.
    curve = queries.equity_curve(db, mode, since_ms=now_ms() - EQUITY_WINDOW_MS)
    st.plotly_chart(figures.equity_figure(curve, f"{mode}, last 30 days"), key=EQUITY_CHART, width="stretch",
        config=CHART_CONFIG)


def usage_chart(db: Database, mode: str) -> queries.RiskUsage:
    usage = queries.risk_usage(db, mode)
    table = usage_table(usage, limit_values(queries.risk_limit_rows(db)))
    st.plotly_chart(figures.usage_figure(table), key=USAGE_CHART, width="stretch", config=CHART_CONFIG)
    return usage


def usage_metrics(usage: queries.RiskUsage) -> None:
    cols = st.columns(4)
    cols[0].metric("Total exposure (USDC)", usdc(usage.total_exposure))
    cols[1].metric("Open orders", f"{usage.open_orders:,}")
    cols[2].metric("Orders in the last minute", f"{usage.orders_last_minute:,}")
    cols[3].metric(
        "Drawdown from peak",
        pct(usage.drawdown_pct),
        help=f"Peak equity {money(usage.peak_equity)}, equity now {money(usage.equity)}",
    )


POSITION_COLUMNS = {
    "strategy": "strategy",
    "question": "market",
    "outcome": "outcome",
    "size": shares_column("size"),
    "pending": shares_column("pending"),
    "avg_price": prob_column("avg price"),
    "mark": prob_column("mark"),
    "cost": usdc_column("cost"),
    "value": usdc_column("value"),
    "unrealized": usdc_column("unrealized", pinned=True),
    "realized": usdc_column("realized"),
    "fees": usdc_column("fees"),
    "updated_at": time_column("updated"),
}


def positions_table(
    db: Database, mode: str, *, condition_id: str | None = None, key: str = "positions"
) -> None:
    frame = queries.positions(db, mode, condition_id=condition_id)
    if frame.empty:
        st.caption(f"No open {mode} positions.")
        return
    st.dataframe(frame[list(POSITION_COLUMNS)], hide_index=True, column_config=POSITION_COLUMNS, key=key)


ALERT_COLUMNS = {
    "id": "id",
    "created_at": time_column("raised"),
    "level": "level",
    "source": "source",
    "code": "code",
    "message": "message",
    "acked_at": time_column("acknowledged"),
    "acked_by": "by",
}


def alerts_table(db: Database, *, limit: int = 8, unacked_only: bool = False, key: str = "alerts") -> None:
    frame = queries.alerts(db, limit=limit, unacked_only=unacked_only)
    if frame.empty:
        st.caption("No alerts.")
        return
    st.dataframe(frame[list(ALERT_COLUMNS)], hide_index=True, column_config=ALERT_COLUMNS, key=key)


USAGE_COLUMNS = {"title": "limit", "label": "used / limit", "pct": pct_column("of limit"), "detail": "what"}


def usage_details(usage: queries.RiskUsage, limits: dict[str, Decimal]) -> None:
    """Usage against each limit; `limits` as `usage.limit_values` gives them (read once by the caller)."""
    table = usage_table(usage, limits)
    st.dataframe(table[list(USAGE_COLUMNS)], hide_index=True, column_config=USAGE_COLUMNS, key="usage_table")
