"""A market's streaming indicators over time (pure plotly): one row per variant, since their
units differ (a probability, a probability per minute, a ratio); frames come from
storage.dashboard_queries.chart_queries.indicator_series."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from charts import text
from charts.style import LAYOUT, empty_figure

UNITS = {"twap": "probability", "velocity": "prob. / min", "volume_surge": "× usual"}


def indicators_figure(frame: pd.DataFrame, title: str) -> go.Figure:
    if frame.empty:
        return empty_figure(title, "No indicator recorded for this market yet: set some on the Settings page "
                                   "(Indicators), or run a strategy that asks for them")
    names = sorted(frame["variant"].unique())
    fig = make_subplots(rows=len(names), cols=1, shared_xaxes=True, vertical_spacing=0.06,
                        subplot_titles=[text.plotly(n) for n in names])
    for row, name in enumerate(names, 1):
        part = frame[frame["variant"] == name]
        fig.add_trace(go.Scatter(x=part["at"], y=part["value"], mode="lines", name=text.plotly(name),
                                 hovertemplate="%{y:.4f}<extra>%{fullData.name}</extra>"), row=row, col=1)
        fig.update_yaxes(title_text=UNITS.get(name.split(":")[0], ""), row=row, col=1)
    fig.update_layout(title=text.plotly(title), height=160 + 140 * len(names), showlegend=False, **LAYOUT)
    return fig
