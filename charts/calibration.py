"""The calibration chart (pure plotly) and its caption: a strategy's stated probabilities of YES
against how often the markets resolved YES (contracts/calibration.py), binned by probability; a
calibrated strategy's points lie on the diagonal, each point's size its number of forecasts."""

from __future__ import annotations

import plotly.graph_objects as go

from charts import text
from charts.style import BLUE, GREY, LAYOUT, empty_figure
from contracts.calibration import COIN, Calibration


def calibration_figure(calibration: Calibration | None, title: str) -> go.Figure:
    if calibration is None or not calibration.bins:
        return empty_figure(title, "No forecast in a resolved market yet: the chart fills in as markets resolve")
    bins = calibration.bins
    biggest = max(b.forecasts for b in bins)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", line={"color": GREY, "dash": "dot"},
                             name="calibrated", hoverinfo="skip"))
    fig.add_trace(go.Scatter(
        x=[b.mean_probability for b in bins], y=[b.observed for b in bins], mode="markers+lines",
        name="stated vs resolved", line={"color": BLUE},
        marker={"size": [10 + 20 * b.forecasts / biggest for b in bins], "color": BLUE},
        customdata=[[f"{b.low:.1f}–{b.high:.1f}", b.forecasts] for b in bins],
        hovertemplate="stated %{x:.2f} (bin %{customdata[0]}): resolved YES %{y:.0%} of "
                      "%{customdata[1]:,} forecasts<extra></extra>"))
    fig.update_xaxes(title_text="stated probability of YES", range=[0, 1], tickformat=".1f")
    fig.update_yaxes(title_text="share resolved YES", range=[0, 1], tickformat=".0%")
    fig.update_layout(title=text.plotly(title), height=340, **LAYOUT)
    return fig


def calibration_note(calibration: Calibration | None, stated: int) -> str:
    """What the score covers, in words ("" when the strategy states no probability)."""
    if not stated:
        return ""
    if calibration is None or calibration.brier is None:
        return (f"{stated:,} forecasts stated, none yet in a market that has resolved: the Brier score and "
                "the calibration chart appear once one resolves.")
    markets = len(calibration.markets)
    return (f"Brier score {calibration.brier:.3f} over {markets:,} resolved market{'s' if markets != 1 else ''} "
            f"({calibration.forecasts:,} of {stated:,} forecasts; each market counts once). 0 is perfect; "
            f"always stating 0.5 scores {COIN:.2f}: above that, the stated probabilities did worse than a coin.")
