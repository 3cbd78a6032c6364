"""Backtest metrics against values computed by hand."""

from __future__ import annotations

import math
from dataclasses import asdict

import pytest

from contracts import metrics as m

HOUR = 3_600_000


def test_returns_drawdown_and_trade_stats_by_hand() -> None:
    values = [100.0, 110.0, 99.0, 121.0]
    # 110/100 - 1 = 0.1 ; 99/110 - 1 = -0.1 ; 121/99 - 1 = 0.2222...
    assert m.period_returns(values) == pytest.approx([0.1, -0.1, 22 / 99])
    # The peak 110 falls to 99: 11/110 = 10 %.
    assert m.max_drawdown(values) == pytest.approx(0.1)
    # Wins 5 and 3, losses 2 and 4: win rate 2/4, profit factor 8/6.
    assert m.trade_stats([5.0, -2.0, 3.0, -4.0]) == (0.5, pytest.approx(8 / 6))
    assert m.trade_stats([]) == (None, None)
    assert m.trade_stats([1.0, 2.0]) == (1.0, None)  # no losses: profit factor undefined


def test_sharpe_and_sortino_by_hand() -> None:
    returns = [0.1, -0.1, 0.2]
    mean = 0.2 / 3
    stdev = math.sqrt(((0.1 - mean) ** 2 + (-0.1 - mean) ** 2 + (0.2 - mean) ** 2) / 2)
    assert m.sharpe(returns, 4) == pytest.approx(mean / stdev * 2)
    downside = math.sqrt(0.01 / 3)  # only -0.1 is below zero; mean of squares over all 3
    assert m.sortino(returns, 4) == pytest.approx(mean / downside * 2)
    assert m.sharpe([0.01, 0.01], 4) is None  # no variation
    assert m.sortino([0.01, 0.02], 4) is None  # no downside
    assert m.sharpe([0.1], 4) is None


def test_resample_carries_the_last_value_forward() -> None:
    curve = [(0, 100.0), (30_000, 105.0), (150_000, 90.0), (240_000, 95.0)]
    values, step = m.resample(curve, steps=4)
    # 4 one-minute periods (the 60 s floor): last value seen before each period end.
    assert step == 60_000
    assert values == [105.0, 105.0, 90.0, 90.0, 95.0]


def test_compute_on_a_scripted_series() -> None:
    curve = [(0, 1000.0), (HOUR, 1100.0), (2 * HOUR, 990.0), (3 * HOUR, 1210.0)]
    result = m.compute(curve, exposure=[0.0, 50.0, 100.0, 50.0], realized_by_close=[10.0, -5.0], trades=6, fees=1.5,
                       steps=3)
    assert result.total_return == pytest.approx(0.21)
    assert result.max_drawdown == pytest.approx(0.1)  # 1100 -> 990
    assert (result.win_rate, result.profit_factor) == (0.5, pytest.approx(2.0))
    assert (result.trades, result.fees, result.avg_exposure, result.max_exposure) == (6, 1.5, 50.0, 100.0)
    # Three hours are too short to annualize: no Sharpe, Sortino or Calmar, with the reason;
    # per period (hourly returns 0.1, -0.1, 0.2222) and return over drawdown instead.
    assert (result.sharpe, result.sortino, result.calmar) == (None, None, None)
    assert "3.0 hours" in result.not_annualized and "30 days" in result.not_annualized
    assert result.sharpe_per_period == pytest.approx(m.sharpe([0.1, -0.1, 22 / 99], 1))
    assert result.period_ms == HOUR and result.span_ms == 3 * HOUR
    assert result.return_over_drawdown == pytest.approx(2.1)  # 0.21 / 0.1
    month = [(0, 1000.0), (15 * 86_400_000, 900.0), (60 * 86_400_000, 1100.0)]
    long_run = m.compute(month, [], [], trades=0, fees=0.0)
    assert long_run.calmar == pytest.approx((1.1 ** (365 / 60) - 1) / 0.1)
    assert long_run.not_annualized == "" and long_run.sharpe == pytest.approx(
        long_run.sharpe_per_period * math.sqrt(m.YEAR_MS / long_run.period_ms))


def test_drawdown_is_taken_on_every_sample_so_it_matches_the_chart() -> None:
    # A dip between two grid points: the resampled grid would never see 800.
    curve = [(0, 1000.0), (HOUR, 1000.0), (HOUR + 1_000, 800.0), (HOUR + 2_000, 1000.0), (10 * HOUR, 1000.0)]
    result = m.compute(curve, [], [], trades=0, fees=0.0, steps=5)
    assert result.max_drawdown == pytest.approx(0.2)
    assert (result.drawdown_peak_at, result.drawdown_trough_at) == (0, HOUR + 1_000)


def test_empty_curve_is_all_zero_not_an_error() -> None:
    result = m.compute([], [], [], trades=0, fees=0.0)
    assert (result.total_return, result.sharpe, result.max_drawdown, result.trades) == (0.0, None, 0.0, 0)


def test_no_annualized_figure_under_30_days_and_the_reason_is_shown() -> None:
    from charts.backtest_format import metric_rows

    day = 86_400_000
    short = m.compute([(0, 1000.0), (2 * day, 1010.0)], [], [], trades=0, fees=0.0, holdings_ms=[HOUR, 3 * HOUR])
    assert short.annualized_return is None  # 2 days compounded to a year is noise, not a figure
    assert short.calmar is None and short.sharpe is None and "need at least 30 days" in short.not_annualized
    assert (short.round_trips, short.avg_holding_ms) == (2, 2 * HOUR)
    shown = {spec.key: value for spec, value in metric_rows(asdict(short))}
    assert shown["annualized_return"] == "— (the run spans 2.0 days; needs 30 days)"
    assert shown["avg_holding_ms"] == "2.0 hours over 2 round trips"
    minutes = m.compute([(0, 1000.0), (4 * 60_000, 1000.5)], [], [], trades=0, fees=0.0)
    assert minutes.annualized_return is None  # was +1,975,223,739,151,541.5 % a year
    month = m.compute([(0, 1000.0), (40 * day, 1010.0)], [], [], trades=0, fees=0.0)
    assert month.annualized_return == pytest.approx(1.01 ** (365 / 40) - 1)
    assert {s.key: v for s, v in metric_rows(asdict(month))}["annualized_return"] == \
        f"{(1.01 ** (365 / 40) - 1) * 100:+,.1f} % a year, from 40.0 days"
    lost = m.compute([(0, 1000.0), (day, 0.0)], [], [], trades=0, fees=0.0)
    assert lost.annualized_return is None and lost.avg_holding_ms is None  # cannot be said: —
    assert {s.key: v for s, v in metric_rows(asdict(lost))}["avg_holding_ms"] == "—"


def test_a_fall_in_equity_never_reads_as_minus_zero() -> None:
    from charts.backtest_format import metric_rows

    def total(start: float, end: float) -> str:
        result = m.compute([(0, start), (HOUR, end)], [], [], trades=0, fees=0.0)
        return {s.key: v for s, v in metric_rows(asdict(result))}["total_return"]

    assert total(10_000.0, 9_999.97) == "-0.0003 %"  # was "-0.00 %" beside a 100 % win rate
    assert total(10_000.0, 10_000.0) == "0.00 %" and total(10_000.0, 10_100.0) == "+1.00 %"
