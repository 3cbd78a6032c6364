"""The desk's trades drawn on the price (the Markets page and a backtest's results): the mid as
a line, each fill a buy or sell marker sized by its quantity, each resting order a horizontal
segment at its price from when it was placed to when it ended. Pure plotly.

Frames (human units, UTC times):
- mid: at, mid
- fills: at, side, price, size, fee, strategy (liquidity optional)
- orders: start, end (NaT: still working), side, price, size, status, strategy (filled optional)
"""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go

from charts import text
from charts.axes import padded
from charts.style import BLUE, GREEN, LAYOUT, RED, empty_figure

MARKER_PX = (7.0, 24.0)  # the smallest and the largest fill's marker
SIDES = {"BUY": ("triangle-up", GREEN, "buys"), "SELL": ("triangle-down", RED, "sells")}


def marker_sizes(sizes: pd.Series, largest: float) -> list[float]:
    """Marker diameters (px) growing with the square root of the quantity, so the marker's area
    is proportional to it; the largest fill of the chart gets the largest marker."""
    low, high = MARKER_PX
    if largest <= 0:
        return [low] * len(sizes)
    return [low + (high - low) * math.sqrt(max(0.0, float(s)) / largest) for s in sizes]


def _fill_trace(rows: pd.DataFrame, side: str, largest: float) -> go.Scatter:
    symbol, color, name = SIDES[side]
    liquidity = rows["liquidity"].astype(str).str.lower() if "liquidity" in rows else pd.Series("", index=rows.index)
    custom = pd.DataFrame({"size": rows["size"].astype(float), "fee": rows["fee"].astype(float),
                           "strategy": rows["strategy"].astype(str).map(text.plotly),
                           "liquidity": liquidity}).to_numpy(dtype=object)
    return go.Scatter(
        x=rows["at"], y=rows["price"], mode="markers", name=f"{name} (size ∝ sh)",
        marker=dict(symbol=symbol, color=color, size=marker_sizes(rows["size"], largest), opacity=0.85,
                    line=dict(width=0.8, color="white")),
        customdata=custom,
        hovertemplate=(f"<b>{side}</b> %{{customdata[0]:,.2f}} sh @ %{{y:.4f}}<br>fee %{{customdata[1]:,.4f}} pUSD"
                       " · %{customdata[3]}<br>strategy %{customdata[2]}<br>%{x|%Y-%m-%d %H:%M:%S} UTC"
                       "<extra></extra>"),
    )


def _order_trace(rows: pd.DataFrame, side: str, until: pd.Timestamp) -> go.Scatter:
    """One trace for all of a side's orders: segments joined by gaps (None), each point carrying
    its order's figures for the hover."""
    _, color, _ = SIDES[side]
    xs: list[object] = []
    ys: list[float | None] = []
    custom: list[list[object]] = []
    for order in rows.itertuples(index=False):
        end = until if pd.isna(order.end) else order.end
        facts = [float(order.size), str(order.status), text.plotly(order.strategy), order.start.strftime("%H:%M:%S"),
                 "still resting" if pd.isna(order.end) else f"until {end:%H:%M:%S}"]
        xs += [order.start, end, None]
        ys += [float(order.price), float(order.price), None]
        custom += [facts, facts, [None] * len(facts)]
    return go.Scatter(
        x=xs, y=ys, mode="lines", name=f"resting {side.lower()}s", line=dict(color=color, width=4),
        opacity=0.45, connectgaps=False, customdata=custom,
        hovertemplate=(f"<b>{side} order</b> %{{customdata[0]:,.2f}} sh @ %{{y:.4f}} · %{{customdata[1]}}"
                       "<br>from %{customdata[3]} %{customdata[4]}<br>strategy %{customdata[2]}<extra></extra>"),
    )


def trades_on_price_figure(mid: pd.DataFrame, fills: pd.DataFrame, orders: pd.DataFrame, title: str, *,
                           until: pd.Timestamp | None = None, height: int = 380) -> go.Figure:
    """The mid (probability) with the fills and resting orders on it. `until` ends the orders
    still working (default: the last time on the chart)."""
    if mid.empty and fills.empty and orders.empty:
        return empty_figure(title, "No recorded prices and no trades in this window")
    times = [*(mid["at"] if not mid.empty else []), *(fills["at"] if not fills.empty else [])]
    if not orders.empty:
        times += [*orders["start"], *orders["end"].dropna()]
    until = until if until is not None else max(times)
    fig = go.Figure()
    if not mid.empty:
        fig.add_trace(go.Scatter(x=mid["at"], y=mid["mid"], mode="lines", name="mid", line_color=BLUE,
                                 hovertemplate="%{x|%Y-%m-%d %H:%M:%S} UTC<br>mid %{y:.4f}<extra></extra>"))
    for side in SIDES:
        working = orders[orders["side"] == side] if not orders.empty else orders
        if not working.empty:
            fig.add_trace(_order_trace(working, side, until))
    largest = float(fills["size"].max()) if not fills.empty else 0.0
    for side in SIDES:
        rows = fills[fills["side"] == side] if not fills.empty else fills
        if not rows.empty:
            fig.add_trace(_fill_trace(rows, side, largest))
    prices = [*mid.get("mid", []), *fills.get("price", []), *orders.get("price", [])]
    span = padded(prices, least=0.01)
    fig.update_yaxes(title_text="price (probability)", tickformat=".3f",
                     range=[max(0.0, span[0]), min(1.0, span[1])] if span else [0, 1])
    fig.update_xaxes(title_text="time (UTC)")
    # Up to five legend entries: room for them to wrap onto a second line under the title.
    fig.update_layout(title=text.plotly(title), height=height, **{**LAYOUT, "hovermode": "closest",
                                                      "margin": {**LAYOUT["margin"], "t": 88}})
    return fig
