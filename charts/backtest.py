"""Pure plotly builders for backtest results (no streamlit; the Backtest page and the saved
report draw them): equity with its drawdown, exposure over time, fills over time, and two runs'
equity on one normalized chart. Frames come from
storage.research.backtest_queries (curve_frame, trades_frame); times are UTC."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from charts import text
from charts.style import AMBER, BLUE, GREEN, GREY, LAYOUT, MONEY, PERCENT, RED, empty_figure, equity_drawdown_figure

_UNITS = ((120_000, "s", 1_000), (2 * 3_600_000, "min", 60_000), (3 * 86_400_000, "h", 3_600_000))


def equity_figure(curve: pd.DataFrame, title: str) -> go.Figure:
    """Equity and its running peak (pUSD) above, drawdown from the peak (%) below."""
    return equity_drawdown_figure(curve, title, "No equity recorded for this run")


def exposure_figure(curve: pd.DataFrame, title: str) -> go.Figure:
    """Exposure (pUSD: cost of what is held + open BUY notional) at each decision."""
    if curve.empty:
        return empty_figure(title, "No exposure recorded for this run")
    fig = go.Figure(
        go.Scatter(
            x=curve["at"],
            y=curve["exposure"],
            name="exposure (pUSD)",
            fill="tozeroy",
            line_color=AMBER,
            line_shape="hv",
        )
    )
    fig.update_yaxes(title_text="exposure (pUSD)", rangemode="tozero", tickformat=MONEY)
    fig.update_xaxes(title_text="time (UTC)")
    fig.update_layout(title=text.plotly(title), height=280, **LAYOUT)
    return fig


def trades_figure(
    trades: pd.DataFrame, title: str, *, x_range: tuple[pd.Timestamp, pd.Timestamp] | None = None
) -> go.Figure:
    """Each fill at its time and price (probability of the token traded): buys as green
    triangles up, sells as red triangles down; hover gives market, outcome and size. `x_range`
    (the run's first and last decision) lines it up with the equity chart."""
    if trades.empty:
        return empty_figure(title, "No fills in this run")
    fig = go.Figure()
    for side, symbol, color in (("BUY", "triangle-up", GREEN), ("SELL", "triangle-down", RED)):
        rows = trades[trades["side"] == side]
        if rows.empty:
            continue
        fig.add_trace(
            go.Scatter(
                x=rows["at"],
                y=rows["price"],
                mode="markers",
                name=f"{side.lower()}s",
                marker=dict(symbol=symbol, color=color, size=9, line=dict(width=0.5, color="white")),
                customdata=rows[["outcome", "size", "question"]].astype(str).map(text.plotly).to_numpy(),
                hovertemplate=(
                    f"{side} %{{customdata[0]}} %{{customdata[1]}} sh @ %{{y:.4f}}"
                    "<br>%{customdata[2]}<extra></extra>"
                ),
            )
        )
    fig.update_yaxes(title_text="fill price (probability)", tickformat=".3f")
    fig.update_xaxes(title_text="time (UTC)", range=list(x_range) if x_range else None)
    fig.update_layout(title=text.plotly(title), height=320, **{**LAYOUT, "hovermode": "closest"})
    return fig


def elapsed_unit(span_ms: float) -> tuple[str, int]:
    """A readable unit for a duration axis: (label, ms per unit)."""
    for limit, label, per in _UNITS:
        if span_ms < limit:
            return label, per
    return "days", 86_400_000


def _since(curve: pd.DataFrame, start_ms: int) -> pd.Series:
    """Milliseconds from `start_ms` to each point (whatever the frame's datetime resolution)."""
    return (curve["at"] - pd.Timestamp(start_ms, unit="ms", tz="UTC")).dt.total_seconds() * 1000


def compare_figure(runs: list[tuple[str, pd.DataFrame, int]]) -> go.Figure:
    """Equity of each run (label, curve, run start ms) as % change from its first point, against
    time since the run's start, so runs over different ranges overlay."""
    title = "Equity, normalized to each run's start"
    shown = [(label, curve, start) for label, curve, start in runs if not curve.empty]
    if not shown:
        return empty_figure(title, "No equity recorded for these runs")
    elapsed_ms = [_since(curve, start) for _, curve, start in shown]
    unit, per = elapsed_unit(max(float(ms.max()) for ms in elapsed_ms))
    fig = go.Figure()
    for (label, curve, _), ms, color in zip(shown, elapsed_ms, (BLUE, AMBER, GREEN, RED), strict=False):
        base = curve["equity"].iloc[0]
        change = (curve["equity"] / base - 1) * 100 if base else curve["equity"] * 0
        fig.add_trace(
            go.Scatter(
                x=ms / per,
                y=change,
                name=text.plotly(label),  # a run's name: the operator's text
                line_color=color,
                hovertemplate=f"%{{x:.2f}} {unit}: %{{y:+.3f}} %<extra>%{{fullData.name}}</extra>",
            )
        )
    fig.add_hline(y=0, line_dash="dot", line_color=GREY)
    fig.update_xaxes(title_text=f"time since the run's start ({unit})")
    fig.update_yaxes(title_text="equity change from start (%)", tickformat=PERCENT, ticksuffix=" %")
    fig.update_layout(title=title, height=380, **{**LAYOUT, "hovermode": "closest"})
    return fig
