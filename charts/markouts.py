"""The markout chart (pure plotly): each strategy's markout curve, the mid's move against its
fills at 1 s, 10 s, 60 s and at resolution, in bps of the fills' notional. Above zero the
fills earned (spread kept); below, adverse selection (picked off). Frames come from
storage.research.markout_queries.markout_table."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from charts import text
from charts.style import GREEN, GREY, LAYOUT, RED, empty_figure

HORIZON_LABELS = {"1s": "1 s", "10s": "10 s", "60s": "60 s", "resolution": "resolution"}


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None


def run_markout_figure(metrics: Mapping[str, Any] | None, title: str) -> go.Figure:
    """A run's markout per horizon in bps of the fills it measured, each bar labelled with how
    many fills that is (a fill too near the run's end has no 60 s markout, so counts differ)."""
    found = metrics or {}
    rows = [(label, _number(found.get(f"markout_{h}_bps")), found.get(f"markout_{h}_fills"),
             _number(found.get(f"markout_{h}_usdc"))) for h, label in HORIZON_LABELS.items()]
    rows = [row for row in rows if row[1] is not None]
    if not rows:
        return empty_figure(title, "No markouts: the run made no fill with a later mid or a resolution")
    counts = [f"{int(n):,} fills" if isinstance(n, int) else "fills not counted" for _, _, n, _ in rows]
    fig = go.Figure(go.Bar(
        x=[r[0] for r in rows], y=[r[1] for r in rows],
        text=[f"{r[1]:+,.0f} bps · {c}" for r, c in zip(rows, counts, strict=True)],
        textposition="outside", cliponaxis=False, marker_color=[GREEN if (r[1] or 0) >= 0 else RED for r in rows],
        customdata=[f"{r[3] or 0:+,.2f} pUSD, {c}" for r, c in zip(rows, counts, strict=True)],
        hovertemplate="%{y:+,.0f} bps (%{customdata})<extra></extra>"))
    fig.add_hline(y=0, line_color=GREY, line_dash="dot")
    fig.update_yaxes(title_text="markout (bps of the fills measured)", tickformat="+,.0f", zeroline=False)
    fig.update_xaxes(title_text="after the fill", type="category")
    fig.update_layout(title=text.plotly(title), height=340, showlegend=False, **LAYOUT)
    return fig


def markout_curve_figure(per_strategy: pd.DataFrame, title: str) -> go.Figure:
    """One line per strategy across the horizons (bps); hover gives pUSD and the fills counted."""
    if per_strategy.empty or not any(per_strategy[f"fills_{h}"].sum() for h in HORIZON_LABELS):
        return empty_figure(title, "No markouts yet: each fill's appear 1 s, 10 s and 60 s after it")
    fig = go.Figure()
    labels = list(HORIZON_LABELS.values())
    for _, row in per_strategy.iterrows():
        points = [_number(row[f"bps_{h}"]) for h in HORIZON_LABELS]
        hover = [f"{_number(row[f'usdc_{h}']) or 0:+,.2f} pUSD over {int(row[f'fills_{h}'])} fills"
                 for h in HORIZON_LABELS]
        fig.add_trace(go.Scatter(x=labels, y=points, name=text.plotly(row["strategy"]), mode="lines+markers",
                                 customdata=hover,
                                 hovertemplate="%{y:+,.0f} bps (%{customdata})<extra>%{fullData.name}</extra>",
                                 connectgaps=False))
    fig.add_hline(y=0, line_color=GREY, line_dash="dot")
    fig.update_yaxes(title_text="markout (bps of notional)", tickformat="+,.0f", zeroline=False)
    fig.update_xaxes(title_text="after the fill", type="category", categoryorder="array", categoryarray=labels)
    fig.update_layout(title=text.plotly(title), height=320, **LAYOUT)
    return fig
