"""The markout chart (pure plotly): each strategy's markout curve, the mid's move against its
fills at 1 s, 10 s, 60 s and at resolution, in bps of the fills' notional. Above zero the
fills earned (spread kept); below, adverse selection (picked off). Frames come from
storage.research.markout_queries.markout_table."""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go

from charts import text
from charts.style import GREY, LAYOUT, empty_figure

HORIZON_LABELS = {"1s": "1 s", "10s": "10 s", "60s": "60 s", "resolution": "resolution"}


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None


def markout_curve_figure(per_strategy: pd.DataFrame, title: str) -> go.Figure:
    """One line per strategy across the horizons (bps); hover gives USDC and the fills counted."""
    if per_strategy.empty or not any(per_strategy[f"fills_{h}"].sum() for h in HORIZON_LABELS):
        return empty_figure(title, "No markouts yet: each fill's appear 1 s, 10 s and 60 s after it")
    fig = go.Figure()
    labels = list(HORIZON_LABELS.values())
    for _, row in per_strategy.iterrows():
        points = [_number(row[f"bps_{h}"]) for h in HORIZON_LABELS]
        hover = [f"{_number(row[f'usdc_{h}']) or 0:+,.2f} USDC over {int(row[f'fills_{h}'])} fills"
                 for h in HORIZON_LABELS]
        fig.add_trace(go.Scatter(x=labels, y=points, name=text.plotly(row["strategy"]), mode="lines+markers",
                                 customdata=hover, hovertemplate="%{y:+,.0f} bps (%{customdata})<extra>%{fullData.name}</extra>",
                                 connectgaps=False))
    fig.add_hline(y=0, line_color=GREY, line_dash="dot")
    fig.update_yaxes(title_text="markout (bps of notional)", tickformat="+,.0f", zeroline=False)
    fig.update_xaxes(title_text="after the fill", type="category", categoryorder="array", categoryarray=labels)
    fig.update_layout(title=text.plotly(title), height=320, **LAYOUT)
    return fig
