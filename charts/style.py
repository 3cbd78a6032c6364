"""The look every chart shares (dashboard pages and saved reports alike) and the equity chart
both draw: layout, colours, axis formats, the empty-chart placeholder. Pure plotly."""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from charts import text
from charts.axes import nice_ticks

# uirevision keeps the operator's zoom across fragment refreshes.
# The legend sits in the top margin, between the title and the plot, growing upwards when it
# wraps onto a second line in a narrow column (it used to spill over the plot's top).
LAYOUT: dict[str, Any] = dict(
    margin=dict(l=10, r=10, t=64, b=10),
    uirevision="keep",
    hovermode="x unified",
    legend=dict(orientation="h", x=0, xanchor="left", y=1.0, yanchor="bottom"),
)
# The mode bar floats over a figure's top right, where titles and legends sit: hidden (zoom and
# pan still work with the mouse; double-click resets).
CHART_CONFIG = {"displayModeBar": False, "displaylogo": False}
# Axis formats (d3): money with thousands separators and cents, never SI ("10.0015k", "−400μ").
MONEY = ",.2f"
PERCENT = ",.2f"
GREEN, RED, AMBER, BLUE, GREY = "#2e7d32", "#c62828", "#ef6c00", "#1565c0", "#9e9e9e"


def empty_figure(title: str, message: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=text.plotly(message), showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    fig.update_layout(title=text.plotly(title), xaxis_visible=False, yaxis_visible=False, height=220, **LAYOUT)
    return fig


# The moments marked on the desk's equity (storage/dashboard_queries/portfolio_queries.py, desk_events).
EVENT_COLORS = {"kill": RED, "re-arm": GREEN, "live": AMBER, "paper": GREY}


def equity_drawdown_figure(curve: pd.DataFrame, title: str, empty: str,
                           events: pd.DataFrame | None = None) -> go.Figure:
    """Equity and its running peak (pUSD) above, drawdown from the peak (%) below; `curve` has
    columns at, equity, peak, drawdown_pct; `events` (at, event), each a dotted line across both
    with its word on top (a kill, a re-arm, armed live, back to paper)."""
    if curve.empty:
        return empty_figure(title, empty)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.7, 0.3], vertical_spacing=0.05)
    fig.add_trace(
        go.Scatter(x=curve["at"], y=curve["equity"], name="equity", line_color=BLUE,
                   hovertemplate="%{y:,.2f} pUSD<extra>equity</extra>"), row=1, col=1
    )
    fig.add_trace(
        go.Scatter(x=curve["at"], y=curve["peak"], name="peak", line=dict(color=GREY, dash="dot"),
                   hovertemplate="%{y:,.2f} pUSD<extra>peak</extra>"),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Scatter(
            x=curve["at"], y=-curve["drawdown_pct"], name="drawdown", fill="tozeroy", line_color=RED,
            hovertemplate="%{y:,.4~f} %<extra>drawdown</extra>",
        ),
        row=2,
        col=1,
    )
    # Explicit ticks: on a quiet curve plotly's own steps fall below the format's precision and
    # repeat one label ("0.00 %" three times).
    money_ticks = nice_ticks(float(curve[["equity", "peak"]].min().min()), float(curve[["equity", "peak"]].max().max()),
                             min_places=2)
    deepest = max(float(curve["drawdown_pct"].max()), 0.01)  # no drawdown yet: a 0.01 % scale
    down_ticks = nice_ticks(-deepest, 0.0, 3)
    fig.update_yaxes(title_text="pUSD", tickvals=money_ticks[0], ticktext=money_ticks[1], row=1, col=1)
    fig.update_yaxes(title_text="% from peak", tickvals=down_ticks[0], ticktext=[f"{t} %" for t in down_ticks[1]],
                     range=[down_ticks[0][0], 0], row=2, col=1)
    fig.update_xaxes(title_text="time (UTC)", row=2, col=1)
    fig.update_layout(title=text.plotly(title), height=420, **LAYOUT)
    for at, event in ([] if events is None else zip(events["at"], events["event"], strict=True)):
        color = EVENT_COLORS.get(event, GREY)
        fig.add_shape(type="line", x0=at, x1=at, y0=0, y1=1, xref="x", yref="paper",
                      line=dict(color=color, dash="dot", width=1.5))
        fig.add_annotation(x=at, y=1, xref="x", yref="paper", yanchor="bottom", showarrow=False,
                           text=text.plotly(event), font=dict(color=color, size=11))
    return fig
