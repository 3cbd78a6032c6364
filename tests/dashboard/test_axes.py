"""Charts that read: tick labels that differ on a quiet curve, whole trial numbers, a param's
axis over its searched range, the depth chart's outer levels inside the frame, and exposure
labels cut with an ellipsis (the hover keeps the whole name)."""

from __future__ import annotations

import pandas as pd
import pytest

from charts.axes import decimals_for, nice_step, nice_ticks, padded, whole_dtick
from charts.sweep import history_figure, param_figure
from pages.widgets.figures import depth_figure, equity_drawdown_figure, exposure_figure


def _curve(drawdowns: list[float]) -> pd.DataFrame:
    at = pd.date_range("2026-11-23", periods=len(drawdowns), freq="min", tz="UTC")
    equity = [10_000 * (1 - d / 100) for d in drawdowns]
    return pd.DataFrame({"at": at, "equity": equity, "peak": [10_000.0] * len(drawdowns), "drawdown_pct": drawdowns})


@pytest.mark.parametrize("deepest", [0.0, 0.004, 0.01, 0.37, 2.5, 41.0])
def test_every_drawdown_tick_reads_differently(deepest: float) -> None:
    fig = equity_drawdown_figure(_curve([0.0, deepest / 2, deepest, 0.0]), "t", "none")
    axis = fig.layout.yaxis2
    assert axis.ticktext is not None and len(set(axis.ticktext)) == len(axis.ticktext) >= 2
    assert all(t.endswith(" %") for t in axis.ticktext)
    assert axis.range[0] <= -deepest and axis.range[1] == 0
    money = fig.layout.yaxis
    assert len(set(money.ticktext)) == len(money.ticktext) and all("." in t for t in money.ticktext)


def test_nice_ticks_cover_the_range_on_a_round_step() -> None:
    values, labels = nice_ticks(-0.0123, 0)
    assert values[0] <= -0.0123 and values[-1] == 0
    assert labels == ["-0.015", "-0.010", "-0.005", "0.000"]
    assert nice_step(0.3) == 0.1 and decimals_for(0.25) == 2 and decimals_for(5) == 0
    assert whole_dtick(3) == 1 and whole_dtick(40) == 5
    assert padded([1.0, 3.0], share=0.5) == (0.0, 4.0) and padded([]) is None


def _trials(numbers: list[int], values: list[float], spreads: list[object]) -> pd.DataFrame:
    return pd.DataFrame({"number": numbers, "state": ["COMPLETE"] * len(numbers), "value": values,
                         "half_spread": spreads, "test": [None] * len(numbers), "why": [""] * len(numbers)})


def test_trials_are_whole_numbers_on_the_axis() -> None:
    fig = history_figure(_trials([2, 3], [0.1, 0.3], [0.01, 0.02]), "sharpe")
    assert fig.layout.xaxis.dtick == 1 and fig.layout.xaxis.range == (1.5, 3.5)


def test_a_param_axis_spans_its_searched_range_not_a_category_range() -> None:
    # One trial, its value stored as an object column (as a running sweep's frame has it).
    trials = _trials([0], [0.2], pd.Series([0.02], dtype=object))
    fig = param_figure(trials, "half_spread", "sharpe", [0.005, 0.05])
    axis = fig.layout.xaxis
    assert axis.type != "category"
    low, high = axis.range
    assert low < 0.005 and high > 0.05 and high - low < 0.06  # not -0.5 .. 1
    log = param_figure(trials, "half_spread", "sharpe", [0.005, 0.05, "log"]).layout.xaxis
    assert log.type == "log"


def test_the_depth_chart_shows_its_outer_levels() -> None:
    bids = [(0.48, 100.0), (0.47, 50.0), (0.46, 25.0)]
    asks = [(0.52, 80.0), (0.53, 40.0)]
    fig = depth_figure(bids, asks, "depth")
    low, high = fig.layout.xaxis.range
    assert low < 0.46 - 0.005 and high > 0.53 + 0.005
    bid_trace = next(t for t in fig.data if t.name.startswith("bids"))
    assert list(bid_trace.x)[-1] == pytest.approx(0.45) and list(bid_trace.y)[-1] == 175.0  # the last step drawn


def test_exposure_labels_are_cut_with_an_ellipsis_and_hover_in_full() -> None:
    long = "2022 Wimbledon Championships: Who will win Djokovic vs. Sinner?"
    by = pd.DataFrame({"question": [long, long[:30] + " other", "short"], "exposure": [28.4, 10.0, 5.0]})
    fig = exposure_figure(by, "question", "Exposure by market", 200.0)
    bar = fig.data[0]
    assert all(len(label.rstrip("\u200b")) <= 36 for label in bar.y)
    assert any(label.endswith("…") for label in bar.y) and long in list(bar.customdata)
    assert len(set(bar.y)) == 3
