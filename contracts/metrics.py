"""Performance metrics from an equity curve and the fills, for backtests and for each live
strategy on the Strategies page alike. Pure functions, hand-checkable.

Conventions:
- returns are taken on a uniform time grid: the range is cut into `steps` equal periods
  (at least one minute each) and each period's last equity is used, so irregular samples
  (decisions come with market activity) do not bias the statistics;
- Sharpe = mean(period return) / stdev(period return); Sortino uses the downside deviation
  (sqrt of the mean of squared negative returns) instead; both None when undefined (fewer
  than two returns, or no variation / no downside). Per period (`*_per_period`, the
  grid's period is `period_ms`) always; annualized (× sqrt(periods per year)) only for
  runs of at least ANNUALIZE_MIN_MS: annualizing hours of data turns noise into big
  numbers, so shorter runs show None there with `not_annualized` saying why;
- max drawdown is the largest fall from a running peak, as a fraction of that peak, on every
  equity sample (not the grid), so it agrees with a chart of the curve; `drawdown_peak_at`
  and `drawdown_trough_at` say where it is (a thinned stored curve keeps those two points);
- Calmar = annualized return / max drawdown, under the same minimum span; any run also gets
  `return_over_drawdown`, the run's own return / max drawdown (None without a drawdown);
- `annualized_return` (compounded to a year) likewise only for runs of at least ANNUALIZE_MIN_MS
  (a 4-minute run compounded to a year read +1,975,223,739,151,541 %), shown with the span it comes
  from: on a month of data it is a projection, never a forecast;
- a round trip is a holding from its first share until it is flat again; `avg_holding_ms` is the
  mean time of the closed ones (None without any);
- a closing trade is a fill that realizes PnL (a sell of held shares, or a resolution); win
  rate = winning closing trades / closing trades; profit factor = gross gains / gross losses.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

YEAR_MS = 365 * 86_400_000
MIN_STEP_MS = 60_000


ANNUALIZE_MIN_MS = 30 * 86_400_000


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
    sharpe_per_period: float | None = None
    sortino_per_period: float | None = None
    period_ms: int = 0
    span_ms: int = 0
    return_over_drawdown: float | None = None
    drawdown_peak_at: int | None = None
    drawdown_trough_at: int | None = None
    not_annualized: str = ""  # why Sharpe, Sortino and Calmar are None ("" when they are annualized)
    # Backtests: liquidity rewards estimated and maker rebates accrued (pUSD), already in the equity
    # curve; None where they are not counted this way (a live strategy's own figures are on its page).
    rewards: float | None = None
    rebates: float | None = None
    annualized_return: float | None = None  # any span > 0: see span_ms for what it comes from
    round_trips: int = 0  # holdings opened and closed (flat again) within the run
    avg_holding_ms: float | None = None  # their mean holding time
    # Markouts (engine/analytics/markouts.py): the fills' markouts summed in pUSD and in bps of
    # their notional at 1 s, 10 s, 60 s and at resolution; positive: the fills earned against the
    # later mid; None where no fill has that horizon.
    markout_1s_usdc: float | None = None
    markout_1s_bps: float | None = None
    markout_10s_usdc: float | None = None
    markout_10s_bps: float | None = None
    markout_60s_usdc: float | None = None
    markout_60s_bps: float | None = None
    markout_resolution_usdc: float | None = None
    markout_resolution_bps: float | None = None
    # How many fills each horizon measured (a fill too close to the run's end has no 60 s markout).
    markout_1s_fills: int | None = None
    markout_10s_fills: int | None = None
    markout_60s_fills: int | None = None
    markout_resolution_fills: int | None = None
    # How sure the PnL and markouts are (backtests; contracts/bootstrap.py: a bootstrap over the run's
    # round trips, seeded by the run's seed): the PnL's 95 % interval (pUSD, around end - start equity), its
    # two-sided p-value against zero, each horizon's markout interval (pUSD), the fills and the independent
    # units (`interval_unit`: round trips) they rest on; `interval_none`: why there is none, in words (every
    # fill at one price, too few round trips, all of them alike). None where they are not computed (a live
    # strategy's figures, runs made before).
    pnl_low: float | None = None
    pnl_high: float | None = None
    pnl_p_value: float | None = None
    interval_fills: int | None = None
    interval_units: int | None = None
    interval_unit: str | None = None
    interval_none: str | None = None
    markout_1s_low: float | None = None
    markout_1s_high: float | None = None
    markout_10s_low: float | None = None
    markout_10s_high: float | None = None
    markout_60s_low: float | None = None
    markout_60s_high: float | None = None
    markout_resolution_low: float | None = None
    markout_resolution_high: float | None = None

    def as_dict(self) -> dict[str, float | int | str | None]:
        return asdict(self)


PNL_COLUMNS = ("pnl", "pnl_low", "pnl_high", "pnl_p", "pnl_sure")


def pnl_columns(metrics: Mapping[str, Any], prefix: str = "") -> dict[str, float | str | None]:
    """A run's stored metrics as its PnL (end - start equity, pUSD) with the PnL's 95 % interval and
    p-value against zero, and in words what they rest on or why there is none (`interval_words`), for a
    table or a JSON answer; None where a run has none."""
    start, end = metrics.get("start_equity"), metrics.get("end_equity")
    pnl = end - start if isinstance(start, (int, float)) and isinstance(end, (int, float)) else None
    return {f"{prefix}pnl": pnl, f"{prefix}pnl_low": metrics.get("pnl_low"),
            f"{prefix}pnl_high": metrics.get("pnl_high"), f"{prefix}pnl_p": metrics.get("pnl_p_value"),
            f"{prefix}pnl_sure": interval_words(metrics)}


def interval_words(metrics: Mapping[str, Any]) -> str:
    """How sure a run's PnL is, in the words every view shows (the Backtest page, its HTML report, the
    command line's JSON, a sweep's tables): "over 14 round trips (62 fills)", "no interval: every fill at
    one price (0.490): ...", or "" for a run that kept none (made before intervals were kept)."""
    why, fills, units = metrics.get("interval_none"), metrics.get("interval_fills"), metrics.get("interval_units")
    unit = metrics.get("interval_unit") or "round trip"
    if isinstance(why, str) and why:
        return f"no interval: {why}"
    if isinstance(units, int) and isinstance(metrics.get("pnl_low"), (int, float)):
        counted = f" ({fills:,} fill{'s' if fills != 1 else ''})" if isinstance(fills, int) else ""
        return f"over {units:,} {unit}{'s' if units != 1 else ''}{counted}"
    if isinstance(fills, int) and isinstance(metrics.get("pnl_low"), (int, float)):  # a run before round trips
        return f"over {fills:,} fills (resampled one by one: narrower than the truth)"
    if isinstance(fills, int):
        return f"no interval: {fills:,} fill{'s' if fills != 1 else ''}"
    return ""


def resample(curve: Sequence[tuple[int, float]], steps: int) -> tuple[list[float], int]:
    """Last equity in each of `steps` equal periods (carried forward); returns (values, step_ms).
    `curve` oldest first: each period's end is searched for, not walked to (a week's backtest holds
    1.2 M samples for 500 periods)."""
    if not curve:
        return [], MIN_STEP_MS
    start, end = curve[0][0], curve[-1][0]
    step = max(MIN_STEP_MS, math.ceil((end - start) / max(1, steps)))
    values: list[float] = []
    index, last = 0, curve[0][1]
    t = start + step
    while t <= end + step:
        after = bisect.bisect_left(curve, t, lo=index, key=_time)  # the first sample at or past t
        if after > index:
            index, last = after, curve[after - 1][1]
        values.append(last)
        t += step
    return values, step


def _time(sample: tuple[int, float]) -> int:
    return sample[0]


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


def drawdown_points(curve: Sequence[tuple[int, float]]) -> tuple[float, int | None, int | None]:
    """(max drawdown, time of its peak, time of its trough) over every sample of the curve."""
    peak, peak_at = -math.inf, None
    worst, worst_peak, worst_trough = 0.0, None, None
    for at, v in curve:
        if v > peak:
            peak, peak_at = v, at
        if peak > 0 and (peak - v) / peak > worst:
            worst, worst_peak, worst_trough = (peak - v) / peak, peak_at, at
    return worst, worst_peak, worst_trough


def trade_stats(realized_by_close: Sequence[float]) -> tuple[float | None, float | None]:
    """(win rate, profit factor) over closing trades' realized PnL."""
    if not realized_by_close:
        return None, None
    wins = [r for r in realized_by_close if r > 0]
    losses = [-r for r in realized_by_close if r < 0]
    win_rate = len(wins) / len(realized_by_close)
    profit_factor = None if not losses else sum(wins) / sum(losses)
    return win_rate, profit_factor


def _annualized(total: float, duration_ms: int) -> float | None:
    """The annualized return; None when it cannot be said (total loss, overflow)."""
    if duration_ms <= 0 or total <= -1:
        return None
    try:
        value = (1 + total) ** (YEAR_MS / duration_ms) - 1
    except OverflowError:
        return None
    return value if math.isfinite(value) else None


def _span_words(ms: int) -> str:
    if ms < 3_600_000:
        return f"{ms / 60_000:.0f} minutes"
    hours = ms / 3_600_000
    return f"{hours:.1f} hours" if hours < 48 else f"{hours / 24:.1f} days"


def compute(curve: Sequence[tuple[int, float]], exposure: Sequence[float], realized_by_close: Sequence[float],
            trades: int, fees: float, steps: int = 500, rewards: float | None = None,
            rebates: float | None = None, holdings_ms: Sequence[int] = ()) -> Metrics:
    """All metrics from (time ms, equity) samples, exposure samples and closing trades."""
    start_equity = curve[0][1] if curve else 0.0
    end_equity = curve[-1][1] if curve else 0.0
    total = (end_equity - start_equity) / start_equity if start_equity else 0.0
    values, step = resample(curve, steps)
    returns = period_returns(values)
    per_year = YEAR_MS / step
    drawdown, peak_at, trough_at = drawdown_points(curve)
    duration = (curve[-1][0] - curve[0][0]) if len(curve) > 1 else 0
    annualize = duration >= ANNUALIZE_MIN_MS
    why = "" if annualize else (f"the run spans {_span_words(duration)}; annualized figures (return, Sharpe, "
                                f"Sortino, Calmar) need at least {ANNUALIZE_MIN_MS // 86_400_000} days")
    annual = _annualized(total, duration) if annualize else None
    win_rate, profit_factor = trade_stats(realized_by_close)
    return Metrics(
        start_equity=start_equity, end_equity=end_equity, total_return=total,
        sharpe=sharpe(returns, per_year) if annualize else None,
        sortino=sortino(returns, per_year) if annualize else None, max_drawdown=drawdown,
        calmar=None if not drawdown or annual is None else annual / drawdown,
        win_rate=win_rate, profit_factor=profit_factor, trades=trades, fees=fees,
        avg_exposure=sum(exposure) / len(exposure) if exposure else 0.0, max_exposure=max(exposure, default=0.0),
        sharpe_per_period=sharpe(returns, 1), sortino_per_period=sortino(returns, 1), period_ms=step,
        span_ms=duration, return_over_drawdown=total / drawdown if drawdown else None,
        drawdown_peak_at=peak_at, drawdown_trough_at=trough_at, not_annualized=why, rewards=rewards, rebates=rebates,
        annualized_return=annual, round_trips=len(holdings_ms),
        avg_holding_ms=sum(holdings_ms) / len(holdings_ms) if holdings_ms else None,
    )
