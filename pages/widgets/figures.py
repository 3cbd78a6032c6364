"""Pure plotly figure builders of the dashboard's own pages (Overview, Risk, Markets): DataFrames
in, figures out. No streamlit here, so each builder is testable on its own and cheap to call
from a fragment. The look they share with the saved reports is in charts/style.py."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go

from charts import text
from charts.axes import padded
from charts.style import (  # the shared look, used by every page's charts through this module too
    AMBER as AMBER,
)
from charts.style import (
    BLUE as BLUE,
)
from charts.style import (
    CHART_CONFIG as CHART_CONFIG,
)
from charts.style import (
    GREEN as GREEN,
)
from charts.style import (
    GREY as GREY,
)
from charts.style import (
    LAYOUT as LAYOUT,
)
from charts.style import (
    MONEY as MONEY,
)
from charts.style import (
    PERCENT as PERCENT,
)
from charts.style import (
    RED as RED,
)
from charts.style import (
    empty_figure as empty_figure,
)
from charts.style import (
    equity_drawdown_figure as equity_drawdown_figure,
)


def equity_figure(curve: pd.DataFrame, mode: str, events: pd.DataFrame | None = None) -> go.Figure:
    """Equity (pUSD) above, drawdown from the running peak (%) below, times in UTC; `events` marked."""
    return equity_drawdown_figure(curve, f"Equity and drawdown ({mode})", "No portfolio snapshots yet", events)


LABEL_INSIDE_PCT = 50  # a bar this long has room for its used / limit label inside


def usage_figure(usage: pd.DataFrame) -> go.Figure:
    """One horizontal bar per limit: share of the limit in use (%), labelled with used / limit."""
    title = "Usage against each limit"
    if usage.empty:
        return empty_figure(title, "No limits to show")
    shown = usage.iloc[::-1]  # plotly draws bottom-up; keep the catalogue order top-down
    pct = shown["pct"].fillna(0).clip(lower=0)
    colors = [RED if p >= 100 else AMBER if p >= 80 else GREEN for p in pct]
    fig = go.Figure(
        go.Bar(
            x=pct,
            y=shown["title"],
            orientation="h",
            marker_color=colors,
            text=shown["label"],
            # Every row labelled: beside a short (or empty) bar, where "auto" would drop it, inside a long one.
            textposition=["inside" if p >= LABEL_INSIDE_PCT else "outside" for p in pct],
            cliponaxis=False,
            hovertemplate="%{y}: %{x:.1f} % of the limit<extra></extra>",
        )
    )
    fig.add_vline(x=100, line_dash="dash", line_color=RED)
    fig.update_xaxes(title_text="% of limit", range=[0, max(110.0, float(pct.max()) + 10)])
    fig.update_layout(title=title, height=80 + 34 * len(shown), **{**LAYOUT, "hovermode": "closest"})
    return fig


def depth_figure(
    bids: Sequence[tuple[float, float]], asks: Sequence[tuple[float, float]], title: str
) -> go.Figure:
    """Cumulative depth (shares) by price (probability): bids left in green, asks right in red."""
    if not bids and not asks:
        return empty_figure(title, "No recorded book")
    fig = go.Figure()
    prices_all = [p for p, _ in (*bids, *asks)]
    step = _level_step(prices_all)
    for levels, name, color, outward in ((bids, "bids", GREEN, -1), (asks, "asks", RED, 1)):
        if levels:
            prices = [p for p, _ in levels]
            depth = pd.Series([s for _, s in levels]).cumsum()
            # One more step past the outermost level, so its size is drawn as a step too
            # (the line used to end on it, at the frame's edge).
            prices.append(prices[-1] + outward * step)
            depth = pd.concat([depth, depth.iloc[-1:]], ignore_index=True)
            fig.add_trace(
                go.Scatter(
                    x=prices,
                    y=depth,
                    name=f"{name} (shares)",
                    line_shape="hv",
                    fill="tozeroy",
                    line_color=color,
                    hovertemplate="%{x:.3f}: %{y:,.0f} shares<extra>" + name + "</extra>",
                )
            )
    fig.update_xaxes(range=list(padded(prices_all, least=2 * step) or (0, 1)))
    fig.update_xaxes(title_text="price (probability)", tickformat=".3f")
    fig.update_yaxes(title_text="cumulative size (shares)", tickformat=",.0f")
    fig.update_layout(title=text.plotly(title), height=300, **{**LAYOUT, "hovermode": "closest"})
    return fig


def _level_step(prices: Sequence[float]) -> float:
    """The book's price step (the smallest gap between levels; a cent when there is one level)."""
    gaps = sorted({round(abs(a - b), 6) for a, b in zip(sorted(prices), sorted(prices)[1:], strict=False)} - {0.0})
    return gaps[0] if gaps else 0.01


EXPOSURE_LABEL_CHARS = 36


def exposure_figure(by: pd.DataFrame, label_column: str, title: str, limit: float | None) -> go.Figure:
    """Exposure (pUSD) per market, strategy or event, with the per-item limit as a line."""
    if by.empty:
        return empty_figure(title, "No exposure")
    shown = by.head(15).iloc[::-1]
    names = shown[label_column].astype(str)  # market questions, strategy names: outside text
    fig = go.Figure(
        go.Bar(
            x=shown["exposure"],
            # Cut with an ellipsis (the hover has it whole), then made literal (charts/text.py).
            y=[text.plotly(label) for label in _unique_cuts(list(names), EXPOSURE_LABEL_CHARS)],
            orientation="h",
            marker_color=BLUE,
            customdata=names.map(text.plotly).to_numpy(),
            hovertemplate="%{customdata}: %{x:,.2f} pUSD<extra></extra>",
        )
    )
    if limit is not None:
        fig.add_vline(x=limit, line_dash="dash", line_color=RED, annotation_text=f"limit {limit:,.0f} pUSD",
                      annotation_position="top left")
    fig.update_xaxes(title_text="exposure (pUSD)", tickformat=MONEY)
    fig.update_yaxes(type="category", automargin=True)  # ids like "0xa2…" must not be read as numbers
    fig.update_layout(title=text.plotly(title), height=120 + 28 * len(shown), **{**LAYOUT, "hovermode": "closest"})
    return fig


def _unique_cuts(names: list[str], limit: int) -> list[str]:
    """Each name within `limit` characters (… where cut), two names never cut to the same label
    (a category axis would merge their bars)."""
    out: list[str] = []
    for name in names:
        label = name if len(name) <= limit else name[: limit - 1].rstrip() + "…"
        while label in out:
            label += "\u200b"  # invisible, but a different category
        out.append(label)
    return out
