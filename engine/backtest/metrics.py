"""Backtest metrics from an equity curve and the fills. Pure functions, hand-checkable.

Conventions:
- returns are taken on a uniform time grid: the range is cut into `steps` equal periods
  (at least one minute each) and each period's last equity is used, so irregular samples
  (decisions come with market activity) do not bias the statistics;
- Sharpe = mean(period return) / stdev(period return) * sqrt(periods per year); Sortino uses
  the downside deviation (sqrt of the mean of squared negative returns) instead; both are
  None when undefined (fewer than two returns, or no variation / no downside);
- max drawdown is the largest fall from a running peak, as a fraction of that peak;
- Calmar = annualized return / max drawdown (None without a drawdown) for runs of 30 days or
  more; shorter runs use the period's total return instead, since annualizing hours of data
  would produce meaningless numbers (compare runs of similar length);
- a closing trade is a fill that realizes PnL (a sell of held shares, or a resolution); win
  rate = winning closing trades / closing trades; profit factor = gross gains / gross losses.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

YEAR_MS = 365 * 86_400_000
MIN_STEP_MS = 60_000


@dataclass(frozen=True)
class Metrics:
    start_equity: float
    end_equity: float
    total_return: float
    sharpe: float | None
    sortino: float | None
    max_drawdown: float
    calmar: float | None
    win_rate: float | None
    profit_factor: float | None
    trades: int
    fees: float
    avg_exposure: float
    max_exposure: float

    def as_dict(self) -> dict[str, float | int | None]:
        return asdict(self)


def resample(curve: Sequence[tuple[int, float]], steps: int) -> tuple[list[float], int]:
    """Last equity in each of `steps` equal periods (carried forward); returns (values, step_ms)."""
    if not curve:
        return [], MIN_STEP_MS
    start, end = curve[0][0], curve[-1][0]
    step = max(MIN_STEP_MS, math.ceil((end - start) / max(1, steps)))
    values: list[float] = []
    index, last = 0, curve[0][1]
    t = start + step
    while t <= end + step:
        while index < len(curve) and curve[index][0] < t:
            last = curve[index][1]
            index += 1
        values.append(last)
        t += step
    return values, step


def period_returns(values: Sequence[float]) -> list[float]:
    return [(b - a) / a for a, b in zip(values, values[1:], strict=False) if a]


def sharpe(returns: Sequence[float], periods_per_year: float) -> float | None:
    if len(returns) < 2:
        return None
    mean = sum(returns) / len(returns)
    var = sum((r - mean) ** 2 for r in returns) / (len(returns) - 1)
    return None if var == 0 else mean / math.sqrt(var) * math.sqrt(periods_per_year)


def sortino(returns: Sequence[float], periods_per_year: float) -> float | None:
    if len(returns) < 2:
        return None
    downside = [r for r in returns if r < 0]
    if not downside:
        return None
    dd = math.sqrt(sum(r * r for r in downside) / len(returns))
    return sum(returns) / len(returns) / dd * math.sqrt(periods_per_year)


def max_drawdown(values: Sequence[float]) -> float:
    peak, worst = -math.inf, 0.0
    for v in values:
        peak = max(peak, v)
        if peak > 0:
            worst = max(worst, (peak - v) / peak)
    return worst


def trade_stats(realized_by_close: Sequence[float]) -> tuple[float | None, float | None]:
    """(win rate, profit factor) over closing trades' realized PnL."""
    if not realized_by_close:
        return None, None
    wins = [r for r in realized_by_close if r > 0]
    losses = [-r for r in realized_by_close if r < 0]
    win_rate = len(wins) / len(realized_by_close)
    profit_factor = None if not losses else sum(wins) / sum(losses)
    return win_rate, profit_factor


CALMAR_MIN_MS = 30 * 86_400_000


def _annualized(total: float, duration_ms: int) -> float | None:
    """The annualized return for runs of 30 days or more; the period's own return for
    shorter ones; None when it cannot be said (no duration, total loss, overflow)."""
    if duration_ms <= 0 or total <= -1:
        return None
    if duration_ms < CALMAR_MIN_MS:
        return total
    try:
        value = (1 + total) ** (YEAR_MS / duration_ms) - 1
    except OverflowError:
        return None
    return value if math.isfinite(value) else None


def compute(curve: Sequence[tuple[int, float]], exposure: Sequence[float], realized_by_close: Sequence[float],
            trades: int, fees: float, steps: int = 500) -> Metrics:
    """All metrics from (time ms, equity) samples, exposure samples and closing trades."""
    start_equity = curve[0][1] if curve else 0.0
    end_equity = curve[-1][1] if curve else 0.0
    total = (end_equity - start_equity) / start_equity if start_equity else 0.0
    values, step = resample(curve, steps)
    returns = period_returns(values)
    per_year = YEAR_MS / step
    drawdown = max_drawdown(values)
    duration = (curve[-1][0] - curve[0][0]) if len(curve) > 1 else 0
    annual = _annualized(total, duration)
    calmar = None if not drawdown or annual is None else annual / drawdown
    win_rate, profit_factor = trade_stats(realized_by_close)
    return Metrics(
        start_equity=start_equity, end_equity=end_equity, total_return=total,
        sharpe=sharpe(returns, per_year), sortino=sortino(returns, per_year), max_drawdown=drawdown,
        calmar=calmar, win_rate=win_rate, profit_factor=profit_factor, trades=trades, fees=fees,
        avg_exposure=sum(exposure) / len(exposure) if exposure else 0.0, max_exposure=max(exposure, default=0.0),
    )
