"""Portfolio panels shared by Overview, Risk and Markets: PnL today, usage bars, positions, alerts."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pandas as pd
import streamlit as st

from charts import text
from charts.profit import PERIODS, profit_bars_figure
from charts.tables import Col, promoted
from contracts.venues import CASH_UNIT, desk_venue
from pages.widgets import figures
from pages.widgets.common import flash, money, pct, usdc, utc
from pages.widgets.exit_panel import exit_control, exit_near
from pages.widgets.figures import CHART_CONFIG
from pages.widgets.tables import rows_height, show_table
from pages.widgets.usage import limit_values, usage_table
from storage.dashboard_queries import portfolio_queries, trading_queries
from storage.dashboard_queries import status_queries as queries
from storage.sqlite.db import Database, now_ms

EQUITY_CHART, USAGE_CHART, PROFIT_CHART, PROFIT_PERIOD = "equity_chart", "usage_chart", "profit_chart", "profit_by"
EQUITY_WINDOW_MS = 30 * 86_400_000


def pnl_today_metrics(db: Database, mode: str, venue: str | None = None) -> None:
    """Today's PnL of one ledger (the desk's own by default), in its venue's cash, after fees: its parts
    side by side and, under them, the sum they make with the fees in it (they add up on screen)."""
    venue = venue or desk_venue()
    pnl = portfolio_queries.pnl_today(db, mode, venue=venue)
    unit = CASH_UNIT[venue]
    cols = st.columns(4)
    if pnl is None:
        cols[0].metric(f"Today's PnL ({unit})", "—", help="No portfolio snapshots yet in this mode")
        return
    parts = pnl.parts()
    cols[0].metric(
        f"Today's PnL ({unit})",
        usdc(parts["total"], signed=True),
        help=f"Equity now minus equity at 00:00 UTC ({money(pnl.day_start_equity)}); as of {utc(pnl.as_of)}",
    )
    cols[1].metric(f"Realized today ({unit})", usdc(parts["realized_after_fees"], signed=True),
                   help=f"After fees: what today's sales realized less today's fees ({usdc(parts['fees'])} {unit})")
    cols[2].metric(f"Unrealized today ({unit})", usdc(parts["unrealized_change"], signed=True),
                   help=f"The change since 00:00 UTC of what open positions are worth at the mid above their cost: "
                        f"{usdc(pnl.unrealized, signed=True)} {unit} now")
    cols[3].metric(f"Equity ({unit})", usdc(pnl.equity), help=f"Fees today {usdc(parts['fees'])} {unit}")
    other = f" + {usdc(parts['other'], signed=True)} other (deposits, rewards, rebates)" if parts["other"] else ""
    st.caption(f"Today {usdc(parts['total'], signed=True)} = realized "
               f"{usdc(parts['realized_after_fees'], signed=True)} (after {usdc(parts['fees'])} of fees) + unrealized "
               f"change {usdc(parts['unrealized_change'], signed=True)}{other} {unit}. PnL is after fees on every "
               "page.")


def equity_chart(db: Database, mode: str) -> None:
    """The equity of the last 30 days, each kill, re-arm and switch of mode marked on it."""
    # A bounded window keeps the SQL aggregation cheap however long the desk has run.
    since = now_ms() - EQUITY_WINDOW_MS
    curve = portfolio_queries.equity_curve(db, mode, since_ms=since)
    events = portfolio_queries.desk_events(db, since_ms=since)
    st.plotly_chart(figures.equity_figure(curve, f"{mode}, last 30 days", events), key=EQUITY_CHART,
                    width="stretch", config=CHART_CONFIG)


STRATEGY_PNL_COLUMNS = {"strategy": Col("strategy"), "net": Col("PnL after fees", "usdc"),
                        "realized": Col("realized after fees", "usdc"), "unrealized": Col("unrealized", "usdc"),
                        "fees": Col("fees", "usdc"), "open_positions": Col("open positions", "int")}


def strategy_pnl_table(db: Database, mode: str) -> None:
    """Each strategy's PnL on the desk's ledger, after fees: realized less its fees, plus unrealized (they add
    up on the row; the fees column is what the realized figure already has taken off)."""
    frame = portfolio_queries.strategy_pnl(db, mode)
    if frame.empty:
        st.caption(f"No strategy has traded in {mode} yet.")
        return
    held = portfolio_queries.positions(db, mode)
    unrealized = held.groupby("strategy")["unrealized"].sum() if not held.empty else pd.Series(dtype=float)
    frame["unrealized"] = frame["strategy"].map(unrealized).fillna(0.0)
    frame["realized"] = frame["realized"] - frame["fees"]
    frame["net"] = frame["realized"] + frame["unrealized"]
    show_table(frame.sort_values("net", ascending=False), STRATEGY_PNL_COLUMNS, key="strategy_pnl")


def profit_bars(db: Database, mode: str) -> None:
    """Profit by day, week or month, measured on each day's closing equity."""
    period = st.segmented_control("Profit by", list(PERIODS), default="day", key=PROFIT_PERIOD) or "day"
    st.plotly_chart(profit_bars_figure(portfolio_queries.daily_closes(db, mode), period, f"{mode}: profit by {period}"),
                    key=PROFIT_CHART, width="stretch", config=CHART_CONFIG)


def latched_reason(db: Database, mode: str) -> str | None:
    """Why the ledger of `mode` on the desk's venue is not ACTIVE now (the desk's own, or the paper ledger
    beside a live desk), for the usage chart's latched breakers."""
    status = queries.engine_status(db)
    if status.mode == mode:
        return status.trading_state_reason if status.trading_state != "ACTIVE" else None
    state, reason = trading_queries.ledger_state(db, desk_venue(), mode)
    return reason if state != "ACTIVE" else None


def usage_chart(db: Database, mode: str) -> portfolio_queries.RiskUsage:
    usage = portfolio_queries.risk_usage(db, mode)
    table = usage_table(usage, limit_values(queries.risk_limit_rows(db)), latched_reason(db, mode))
    st.plotly_chart(figures.usage_figure(table), key=USAGE_CHART, width="stretch", config=CHART_CONFIG)
    return usage


def usage_metrics(usage: portfolio_queries.RiskUsage) -> None:
    cols = st.columns(4)
    cols[0].metric("Total exposure (pUSD)", usdc(usage.total_exposure))
    cols[1].metric("Open orders", f"{usage.open_orders:,}")
    cols[2].metric("Orders in the last minute", f"{usage.orders_last_minute:,}")
    cols[3].metric(
        "Drawdown from peak",
        pct(usage.drawdown_pct),
        help=f"Peak equity {money(usage.peak_equity)}, equity now {money(usage.equity)}",
    )


# What a trader decides on first (fits 1366 px); realized, fees, pending and the time on demand.
POSITION_COLUMNS = {
    "question": Col("market", "name"),
    "strategy": Col("strategy"),
    "venue": Col("venue"),
    "outcome": Col("outcome"),
    "size": Col("size", "shares"),
    "avg_price": Col("avg price", "prob"),
    "mark": Col("mark", "prob"),
    "cost": Col("cost", "usdc"),
    "value": Col("value", "usdc"),
    "unrealized": Col("unrealized PnL", "usdc"),
    "note": Col("note", "long", more=True),  # dust, when a position is below its market's minimum order
    "resolution": Col("resolution", more=True),
    "realized": Col("realized PnL", "usdc", more=True),
    "fees": Col("fees", "usdc", more=True),
    "pending": Col("pending", "shares", more=True),
    "updated_at": Col("updated", "time", more=True),
}


def positions_table(db: Database, mode: str, *, condition_id: str | None = None, key: str = "all",
                    venue: str | None = None, strategies: Callable[[str], bool] | None = None,
                    empty: str = "") -> None:
    """The open positions (of one venue's ledger, or of every venue's; of the `strategies` it keeps,
    when given), and an Exit for any of them (pages/widgets/exit_panel.py; the engine sells each where
    it is held)."""
    frame = portfolio_queries.positions(db, mode, condition_id=condition_id, venue=venue)
    if strategies is not None:
        frame = frame[frame["strategy"].map(strategies)]
    if frame.empty:
        st.caption(empty or f"No open {mode} positions.")
        flash(near=exit_near(key))  # an exit that sold the last of them says so here
        return
    pending = int((frame["resolution"] != "").sum())
    # While a held market's resolution is under way, or a position is dust, that column is among the
    # first (otherwise it is an empty column the table has no room for at 1366 px).
    shown = [name for name, there in (("resolution", pending), ("note", (frame["note"] != "").any())) if there]
    show_table(frame, promoted(POSITION_COLUMNS, *shown), height=rows_height(len(frame)), key=f"positions_{key}")
    if pending:
        st.warning(f"{pending} position{'s are' if pending > 1 else ' is'} in a market whose resolution the venue "
                   "reports under way (the resolution column): the desk adds nothing there; exits still go "
                   "through, and what is held settles at the outcome UMA finally reports.")
    exit_control(db, mode, frame, key=key)


def paper_ledger_positions(db: Database, mode: str, *, condition_id: str | None = None, key: str) -> None:
    """On a live desk: the paper ledger's positions, apart from live's, each with its own Exit (sold on
    the paper venue): the paper-only strategies' (the paper ledger's own), then the leftovers of
    strategies promoted since, labelled as such."""
    if mode != "live":
        return
    paper_only = set(trading_queries.paper_only(db))
    if paper_only:
        st.markdown("**Paper ledger positions** (paper-only strategies, on paper beside live)")
        positions_table(db, "paper", condition_id=condition_id, key=f"{key}_paper_ledger", venue=desk_venue(),
                        strategies=lambda name: name in paper_only)
    leftovers_table(db, paper_only, condition_id=condition_id, key=key)


def paper_ledger_panel(db: Database) -> None:
    """On a live desk, the paper ledger apart from live's: the paper-only strategies' own figures and
    positions (the paper ledger), and apart from them the leftovers of strategies promoted since."""
    names = trading_queries.paper_only(db)
    if names:
        st.subheader("Paper ledger: paper-only strategies beside live")
        st.caption(f"{', '.join(text.markdown(n) for n in names)} trade on paper (their own ledger, limits and "
                   "PnL; never an order at the venue) until promoted on the Strategies page. Figures below are "
                   "theirs alone, on paper.")
        state, reason = trading_queries.ledger_state(db, desk_venue(), "paper")
        if state != "ACTIVE":
            st.warning(f"Paper ledger {state}: {text.markdown(reason or 'no reason recorded')} (live trading is not "
                       "affected; the operator's Start ends it)", icon=":material/warning:")
        ledger_pnl_metrics(db, names)
        positions_table(db, "paper", key="paper_ledger", venue=desk_venue(), strategies=lambda name: name in names,
                        empty="The paper-only strategies hold nothing.")
    leftovers_table(db, set(names), key="overview")


LEFTOVERS = ("**Leftovers on paper** of strategies promoted (or deleted) since: their old paper positions, not "
             "the paper-only strategies' and not live's. Nothing trades them any more; they are valued on the paper "
             "ledger until you exit them here (sold on the paper venue).")


def leftovers_table(db: Database, paper_only: set[str], *, condition_id: str | None = None, key: str) -> None:
    """A live desk's paper positions no paper-only strategy owns, labelled and exitable (shown only when any)."""
    frame = portfolio_queries.positions(db, "paper", condition_id=condition_id, venue=desk_venue())
    if frame.empty or frame["strategy"].isin(paper_only).all():
        return
    st.markdown(LEFTOVERS)
    positions_table(db, "paper", condition_id=condition_id, key=f"{key}_paper_leftovers", venue=desk_venue(),
                    strategies=lambda name: name not in paper_only)


def ledger_pnl_metrics(db: Database, names: list[str]) -> None:
    """The paper-only strategies' own figures: their PnL on the paper ledger, never the whole ledger's
    (which also holds promoted strategies' leftovers)."""
    figures_ = portfolio_queries.strategies_pnl(db, "paper", names, venue=desk_venue())
    cols = st.columns(4)
    cols[0].metric("Paper ledger PnL (pUSD)", usdc(figures_.total, signed=True),
                   help="After fees: its strategies' realized after fees plus unrealized (at the last recorded mid)")
    cols[1].metric("Realized (pUSD)", usdc(figures_.realized - figures_.fees, signed=True),
                   help="After fees: its strategies' only, what their sales realized less every fee they paid")
    cols[2].metric("Unrealized now (pUSD)", usdc(figures_.unrealized, signed=True),
                   help="Its strategies' open paper positions at the last recorded mid vs cost")
    cols[3].metric("Fees paid (pUSD)", usdc(figures_.fees), help="Already taken off the realized figure")
    st.caption("PnL and realized are after fees (the fees paid already taken off): PnL = realized + unrealized.")


ALERT_COLUMNS = {
    "created_at": Col("raised", "time"),
    "level": Col("level"),
    "code": Col("code"),
    "message": Col("message", "long"),
    "acked_at": Col("acknowledged", "time"),
    "acked_by": Col("by"),
    "source": Col("source"),
    "id": Col("id"),
}


def alerts_table(db: Database, *, limit: int = 8, unacked_only: bool = False) -> None:
    frame = queries.alerts(db, limit=limit, unacked_only=unacked_only)
    if frame.empty:
        st.caption("No alerts.")
        return
    show_table(frame, ALERT_COLUMNS, height=rows_height(len(frame)))


USAGE_COLUMNS = {"title": Col("limit"), "label": Col("used / limit"), "pct": Col("of limit", "pct"),
                 "detail": Col("what", "long")}


def usage_details(usage: portfolio_queries.RiskUsage, limits: dict[str, Decimal], reason: str | None = None) -> None:
    """Usage against each limit; `limits` as `usage.limit_values` gives them (read once by the caller); `reason`:
    why the ledger is not ACTIVE (a latched breaker's row says so)."""
    table = usage_table(usage, limits, reason)
    show_table(table, USAGE_COLUMNS)
