"""One strategy's own capital, limits, exits and performance on the Strategies page.

The limits form is the global limits' form (same validation by the shared catalogue, versioned,
audited, then applied by a reload whose answer is shown). Performance comes from the engine's
per-strategy snapshots and the strategy's fills in the current mode, with the backtests' metrics
(contracts/metrics.py): honest on short spans, and returns only where an allocation gives
them a base.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from charts import text
from charts.backtest_format import metric_rows
from charts.tables import Col
from contracts import metrics
from contracts.strategy_limits import STRATEGY_LIMITS
from pages.widgets import figures
from pages.widgets.common import TRADING_COLORS, actor, usdc
from pages.widgets.kv_form import versioned_form
from pages.widgets.risk_panels import limit_field
from pages.widgets.tables import show_table
from storage.dashboard_queries import strategy_queries
from storage.desk import config
from storage.sqlite.db import Database


def strategy_state_badge(db: Database, mode: str, name: str) -> None:
    state = strategy_queries.trading_state(db, mode, name)
    label = state["trading_state"]
    st.badge(f"{text.markdown(name)}: {label}", color=TRADING_COLORS.get(label, "gray"),  # type: ignore[arg-type]  # the colours are Streamlit's literals, looked up by state
             help=text.markdown(state["reason"] or "none of its own limits is binding"))
    if label != "ACTIVE":
        reason = text.markdown(state["reason"] or "no reason recorded")
        st.warning(f"{text.markdown(name)} is {label} by its own limits: {reason}. "
                   "Other strategies keep trading.", icon=":material/warning:")


def strategy_limits_panel(db: Database, name: str) -> None:
    """Allocation, daily loss, drawdown and exits of one strategy, edited like the global limits."""
    stored = strategy_queries.limit_rows(db, name)
    fields = [limit_field(spec, stored.get(spec.name)) for spec in STRATEGY_LIMITS]

    def save(changes: dict[str, tuple[Any, int | None]], confirmed: Collection[str]) -> config.Saved:
        return config.save_strategy_limits(
            db, name, {k: config.Change(v, ver) for k, (v, ver) in changes.items()}, actor=actor(), confirmed=confirmed)

    versioned_form(prefix=f"sl_{name}_", fields=fields, save=save, what=f"limits of {text.markdown(name)}", columns=3)


def performance_panel(db: Database, mode: str, name: str) -> None:
    curve = strategy_queries.pnl_curve(db, mode, name)
    trading = strategy_queries.fills_summary(db, mode, name)
    last = curve.iloc[-1] if not curve.empty else None
    cols = st.columns(6)
    cols[0].metric("PnL (pUSD)", usdc(None if last is None else float(last["pnl"]), signed=True),
                   help="After fees: realized after fees plus unrealized, the figure every page shows for a strategy")
    cols[1].metric("Realized (pUSD)",
                   usdc(None if last is None else float(last["realized_after_fees"]), signed=True),
                   help="After fees: what its sales realized less every fee it paid, buying and selling (Round "
                        "trips' sum)")
    cols[2].metric("Unrealized (pUSD)", usdc(None if last is None else float(last["unrealized"]), signed=True))
    cols[3].metric("Fees paid (pUSD)", usdc(trading.fees), help="Already taken off the realized figure")
    cols[4].metric("Fills", f"{trading.fills:,}")
    wins = [c for c in trading.closes if c > 0]
    cols[5].metric("Win rate", f"{len(wins) / len(trading.closes):.0%}" if trading.closes else "—",
                   help=f"{len(trading.closes)} closing fills (a sell of held shares), on average cost, after fees")
    st.caption("PnL and realized are after fees (the fees paid, buying and selling, already taken off), as on every "
               "page: PnL = realized + unrealized.")
    st.plotly_chart(pnl_figure(curve, f"{name}: PnL after fees ({mode})"), key=f"strategy_pnl_{name}", width="stretch",
                    config=figures.CHART_CONFIG)
    allocation = _allocation(db, name)
    if curve.empty:
        return
    if allocation <= 0:
        st.caption("Returns, Sharpe and drawdown need a base: set this strategy's allocation below.")
        return
    equity = [(int(t), allocation + float(p)) for t, p in zip(curve["at_ms"], curve["pnl"], strict=True)]
    computed = metrics.compute(equity, list(curve["exposure"]), trading.closes, trading.fills, trading.fees)
    rows = metric_rows(computed.as_dict())
    st.dataframe(pd.DataFrame([(spec.label, shown) for spec, shown in rows], columns=["metric", "value"]),
                 hide_index=True, key=f"strategy_metrics_{name}",
                 column_config={"metric": st.column_config.TextColumn(width="medium"),
                                "value": st.column_config.TextColumn(width="medium")}, placeholder="—")


def _allocation(db: Database, name: str) -> float:
    stored = strategy_queries.limit_rows(db, name).get("allocation")
    try:
        value = float(stored["value"]) if stored else 0.0
    except (TypeError, ValueError):
        return 0.0
    return value if math.isfinite(value) else 0.0  # a stored 'nan' or '1e999999': no base (the engine disables it)


def pnl_figure(curve: pd.DataFrame, title: str) -> go.Figure:
    """Realized after fees, unrealized and their sum (pUSD) over time (UTC)."""
    if curve.empty:
        return figures.empty_figure(title, "No snapshots of this strategy yet in this mode")
    fig = go.Figure()
    for column, name, color in (("pnl", "PnL after fees", figures.BLUE),
                                ("realized_after_fees", "realized after fees", figures.GREEN),
                                ("unrealized", "unrealized", figures.AMBER)):
        fig.add_trace(go.Scatter(x=curve["at"], y=curve[column], name=f"{name} (pUSD)", line_color=color,
                                 hovertemplate="%{x|%Y-%m-%d %H:%M:%S} UTC<br>%{y:,.2f} pUSD<extra></extra>"))
    fig.update_yaxes(title_text="pUSD", tickformat=figures.MONEY)
    fig.update_xaxes(title_text="time (UTC)")
    fig.update_layout(title=text.plotly(title), height=320, **figures.LAYOUT)
    return fig


PAIR_COLUMNS = {
    "pair": Col("pair (this market)", "name"),
    "here": Col("held on Polymarket", "shares"),
    "on_kalshi": Col("held on Kalshi", "shares"),
    "cost": Col("cost held, both venues", "usdc"),
    "hedged": Col("hedged pairs", "shares"),
    "locked_in": Col("hedged pairs lock in", "usdc"),
    "realized": Col("realized", "usdc"),
    "fees": Col("fees, both venues", "usdc"),
}


def pair_panel(db: Database, mode: str, name: str) -> None:
    """A cross-venue strategy's PnL per pair: both venues' legs side by side (dollars, pUSD as dollars)."""
    st.subheader("Per pair: both venues' legs")
    frame = strategy_queries.pair_pnl(db, mode, name)
    if frame.empty:
        st.caption("No pair traded yet on this ledger.")
        return
    show_table(frame, PAIR_COLUMNS)
    st.caption("A hedged pair pays 1 at resolution whichever way it goes, if both markets resolve together; what "
               "one venue holds beyond the other is unwound by the engine.")
