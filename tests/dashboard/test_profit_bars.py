"""Profit by day, week and month (charts/profit.py), by hand: each period's last equity less the
one before it (the curve's first equity for the first period); weeks run Monday to Sunday, UTC."""

from __future__ import annotations

import pandas as pd

from charts.profit import period_profit, profit_bars_figure

CURVE = pd.DataFrame({"at": pd.to_datetime(["2026-11-01 10:00", "2026-11-01 20:00", "2026-11-02 09:00",
                                            "2026-11-03 12:00", "2026-12-01 00:30"], utc=True),
                      "equity": [100.0, 103.0, 101.0, 110.5, 90.0]})


def test_profit_per_day_week_and_month_by_hand() -> None:
    days = period_profit(CURVE, "day")
    assert list(days["profit"]) == [3.0, -2.0, 9.5, -20.5]  # Nov 1: 103 - 100; Nov 2: 101 - 103; ...
    weeks = period_profit(CURVE, "week")  # Sunday Nov 1 ends a week; Monday Nov 2 starts the next
    assert [str(s.date()) for s in weeks["start"]] == ["2026-10-26", "2026-11-02", "2026-11-30"]
    assert list(weeks["profit"]) == [3.0, 7.5, -20.5]
    months = period_profit(CURVE, "month")
    assert list(months["profit"]) == [10.5, -20.5]


def test_bars_are_green_for_gains_and_red_for_losses() -> None:
    fig = profit_bars_figure(CURVE, "day", "Profit by day")
    assert list(fig.data[0].y) == [3.0, -2.0, 9.5, -20.5]
    assert fig.data[0].marker.color == ("#2e7d32", "#c62828", "#2e7d32", "#c62828")
    assert profit_bars_figure(CURVE.iloc[:0], "day", "Profit by day").layout.annotations  # says why empty


def test_daily_returns_are_each_days_profit_on_the_equity_it_started_from() -> None:
    from charts.profit import period_returns

    days = period_returns(CURVE, "day")
    assert list(days["period"]) == ["Sun Nov 01", "Mon Nov 02", "Tue Nov 03", "Tue Dec 01"]
    assert list(days["from_equity"]) == [100.0, 103.0, 101.0, 110.5]
    assert list(days["to_equity"]) == [103.0, 101.0, 110.5, 90.0]
    assert [round(r, 4) for r in days["return_pct"]] == [3.0, round(-2 / 103 * 100, 4), round(9.5 / 101 * 100, 4),
                                                          round(-20.5 / 110.5 * 100, 4)]
    assert period_returns(CURVE.iloc[0:0], "day").empty


def test_one_day_is_a_narrow_bar_not_the_whole_width() -> None:
    one_day = CURVE[CURVE["at"].dt.normalize() == CURVE["at"].dt.normalize().iloc[0]]
    fig = profit_bars_figure(one_day, "day", "Profit by day")
    low, high = fig.layout.xaxis.range
    assert high - low >= 7  # the one bar takes a seventh of the axis, as in a week of days
