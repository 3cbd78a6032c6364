"""Profit by day, week or month (pure plotly): each period's change in equity, green when it made
money and red when it lost, from an equity curve (the desk's portfolio snapshots, or a backtest's
curve). A period's profit is its last equity less the last equity before it (its first, for the
curve's first period), so fees, marks and payouts are all in it."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from charts import text
from charts.style import GREEN, LAYOUT, MONEY, RED, empty_figure

PERIODS = {"day": "D", "week": "W-SUN", "month": "M"}  # weeks run Monday to Sunday, UTC
FEW = 7  # fewer periods than this are drawn as narrow bars, each a seventh of the width


def period_profit(curve: pd.DataFrame, period: str) -> pd.DataFrame:
    """`curve` (columns at: UTC timestamps, equity: pUSD) -> one row per period: start, profit."""
    if curve.empty:
        return pd.DataFrame(columns=["start", "profit"])
    ordered = curve.sort_values("at")
    utc = ordered["at"].dt.tz_convert("UTC").dt.tz_localize(None)
    closes = ordered.groupby(utc.dt.to_period(PERIODS[period]))["equity"].last()
    before = closes.shift(1)
    before.iloc[0] = ordered["equity"].iloc[0]
    return pd.DataFrame({"start": closes.index.to_timestamp(), "profit": (closes - before).to_numpy()})


def period_returns(curve: pd.DataFrame, period: str) -> pd.DataFrame:
    """One row per period: its label, the equity it started from (the last before it), the
    equity it ended at, the profit and the return on the starting equity (%)."""
    profit = period_profit(curve, period)
    if profit.empty:
        return pd.DataFrame(columns=["period", "from_equity", "to_equity", "profit", "return_pct"])
    ordered = curve.sort_values("at")
    end = profit["profit"].cumsum() + float(ordered["equity"].iloc[0])
    start = end - profit["profit"]
    return pd.DataFrame({"period": [_label(s, period) for s in profit["start"]], "from_equity": start.to_numpy(),
                         "to_equity": end.to_numpy(), "profit": profit["profit"].to_numpy(),
                         "return_pct": (profit["profit"] / start.where(start != 0) * 100).to_numpy()})


def _label(start: pd.Timestamp, period: str) -> str:
    if period == "month":
        return f"{start:%b %Y}"
    return f"week of {start:%b %d}" if period == "week" else f"{start:%a %b %d}"


def profit_bars_figure(curve: pd.DataFrame, period: str, title: str) -> go.Figure:
    profit = period_profit(curve, period)
    if profit.empty:
        return empty_figure(title, "No equity recorded yet")
    labels = [_label(start, period) for start in profit["start"]]  # one category a period: no clock ticks
    fig = go.Figure(go.Bar(x=labels, y=profit["profit"],
                           marker_color=[GREEN if p >= 0 else RED for p in profit["profit"]],
                           hovertemplate=f"%{{x}}: %{{y:+{MONEY}}} pUSD<extra></extra>"))
    fig.update_yaxes(title_text="profit (pUSD)", tickformat=MONEY, zeroline=True)
    fig.update_xaxes(title_text=f"{period} (UTC)", type="category")
    if len(labels) < FEW:  # a bar as wide as FEW periods' would be, centred, not one full-width block
        spare = (FEW - len(labels)) / 2
        fig.update_xaxes(range=[-0.5 - spare, len(labels) - 0.5 + spare])
    fig.update_layout(title=text.plotly(title), height=300, showlegend=False, **LAYOUT)
    return fig
