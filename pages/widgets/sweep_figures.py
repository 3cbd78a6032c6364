"""Pure plotly builders for a sweep (no streamlit): the objective by trial with the best so far,
the objective against each searched param, and Optuna's parameter importance."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from pages.widgets.figures import AMBER, BLUE, GREEN, GREY, LAYOUT, empty_figure

OBJECTIVE_LABELS = {"sharpe": "Sharpe per day", "return": "return per day", "calmar": "return per day / max drawdown"}


def _complete(trials: pd.DataFrame) -> pd.DataFrame:
    return trials[trials["state"] == "COMPLETE"].sort_values("number")


def history_figure(trials: pd.DataFrame, objective: str) -> go.Figure:
    """Each complete trial's score in trial order, the best so far as a step line."""
    title = "Objective by trial"
    done = _complete(trials)
    if done.empty:
        return empty_figure(title, "No complete trial yet")
    label = OBJECTIVE_LABELS.get(objective, objective)
    fig = go.Figure([
        go.Scatter(x=done["number"], y=done["value"], mode="markers", name="trial", marker_color=BLUE),
        go.Scatter(x=done["number"], y=done["value"].cummax(), mode="lines", name="best so far",
                   line_color=GREEN, line_shape="hv"),
    ])
    fig.update_xaxes(title_text="trial")
    fig.update_yaxes(title_text=label)
    fig.update_layout(title=title, height=300, **{**LAYOUT, "hovermode": "closest"})
    return fig


def param_figure(trials: pd.DataFrame, param: str, objective: str) -> go.Figure:
    """The score of each complete trial against one param's value (held-out scores beside them)."""
    title = f"Objective vs {param}"
    done = _complete(trials)
    if done.empty:
        return empty_figure(title, "No complete trial yet")
    traces = [go.Scatter(x=done[param], y=done["value"], mode="markers", name="training",
                         marker=dict(color=BLUE, size=8), text=[f"trial {n}" for n in done["number"]])]
    tested = done[done["test"].notna()]
    if not tested.empty:
        traces.append(go.Scatter(x=tested[param], y=tested["test"], mode="markers", name="held out",
                                 marker=dict(color=AMBER, size=10, symbol="diamond"),
                                 text=[f"trial {n}" for n in tested["number"]]))
    fig = go.Figure(traces)
    fig.update_xaxes(title_text=param)
    fig.update_yaxes(title_text=OBJECTIVE_LABELS.get(objective, objective))
    fig.update_layout(title=title, height=280, **{**LAYOUT, "hovermode": "closest"})
    return fig


def importance_figure(importance: dict[str, float]) -> go.Figure:
    """Optuna's parameter importance (shares of the objective's variance), largest on top."""
    title = "Parameter importance"
    if not importance:
        return empty_figure(title, "Needs at least two complete trials with different scores")
    ordered = sorted(importance.items(), key=lambda kv: kv[1])
    fig = go.Figure(go.Bar(x=[v for _, v in ordered], y=[k for k, _ in ordered], orientation="h",
                           marker_color=GREY, text=[f"{v:.0%}" for _, v in ordered], textposition="auto"))
    fig.update_xaxes(title_text="importance", tickformat=".0%", range=[0, 1])
    fig.update_layout(title=title, height=80 + 40 * len(ordered), **{**LAYOUT, "hovermode": "closest"})
    return fig
