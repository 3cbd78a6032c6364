"""Breakers: daily loss, drawdown from peak, the kill-switch drawdown and the error rate.

They move the persisted trading state (ACTIVE -> REDUCING -> HALTED, automatically only
toward more caution) and raise alerts; the kill-switch drawdown asks for a kill, which
latches. Drawdown is measured from the peak of equity, not from the start. The daily loss
is measured from equity at 00:00 UTC and resets then (a scheduled job).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, text

from engine.risk.gate import TradingState
from engine.risk.limits import Limits
from storage.audit import raise_alert

SEVERITY = {TradingState.ACTIVE: 0, TradingState.REDUCING: 1, TradingState.HALTED: 2}
ERROR_WINDOW_MS = 5 * 60_000
DAILY_LOSS = "DAILY_LOSS"
DRAWDOWN = "DRAWDOWN"
KILL_SWITCH = "KILL_SWITCH_DRAWDOWN"
ERROR_RATE = "ERROR_RATE"
BALANCE_MISMATCH = "BALANCE_MISMATCH"


def utc_day_start(now_ms: int) -> int:
    day = datetime.fromtimestamp(now_ms / 1000, tz=UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return int(day.timestamp() * 1000)


@dataclass(frozen=True)
class RiskMemory:
    """What the breakers remember across restarts (engine_state columns)."""

    trading_state: TradingState
    reason: str | None
    peak_equity: int | None
    day_start_equity: int | None
    day_started_at: int | None


def load_memory(conn: Connection) -> RiskMemory:
    row = conn.execute(text("""SELECT trading_state, trading_state_reason, peak_equity, day_start_equity,
                                      day_started_at FROM engine_state WHERE id = 1""")).one()
    return RiskMemory(TradingState(row[0]), row[1], row[2], row[3], row[4])


def set_trading_state(conn: Connection, state: TradingState, reason: str | None, now: int) -> None:
    conn.execute(text("""UPDATE engine_state SET trading_state = :s, trading_state_reason = :r,
                             trading_state_at = :now, updated_at = :now WHERE id = 1"""),
                 {"s": state.value, "r": reason, "now": now})


def escalate(conn: Connection, current: RiskMemory, target: TradingState, reason: str, message: str,
             now: int) -> bool:
    """Move to a more cautious state with an alert; never relaxes. True if it moved."""
    if SEVERITY[target] <= SEVERITY[current.trading_state]:
        return False
    set_trading_state(conn, target, reason, now)
    raise_alert(conn, level="critical" if target is TradingState.HALTED else "warning", source="risk",
                code=reason, message=f"trading state {target.value}: {message}")
    return True


@dataclass(frozen=True)
class Verdict:
    target: TradingState
    reason: str | None
    message: str
    kill: bool = False


def evaluate(limits: Limits, *, equity: int, peak: int, day_start: int, errors: int) -> Verdict:
    """The most severe breach now (or ACTIVE with no reason)."""
    if peak > 0:
        drawdown = (peak - equity) / peak
        if limits.values["kill_switch_drawdown"] > 0 and drawdown >= limits.fraction("kill_switch_drawdown"):
            return Verdict(TradingState.HALTED, KILL_SWITCH,
                           f"equity {equity / 1e6:.2f} is {drawdown:.1%} below its peak {peak / 1e6:.2f}", kill=True)
    if errors >= limits.count("error_rate_breaker") > 0:
        return Verdict(TradingState.HALTED, ERROR_RATE, f"{errors} venue errors in 5 minutes")
    if peak > 0 and limits.values["max_drawdown"] > 0 and (peak - equity) / peak >= limits.fraction("max_drawdown"):
        return Verdict(TradingState.REDUCING, DRAWDOWN,
                       f"equity {equity / 1e6:.2f} is {(peak - equity) / peak:.1%} below its peak {peak / 1e6:.2f}")
    loss = day_start - equity
    if limits.usdc("max_daily_loss") > 0 and loss >= limits.usdc("max_daily_loss"):
        return Verdict(TradingState.REDUCING, DAILY_LOSS, f"down {loss / 1e6:.2f} USDC since 00:00 UTC")
    return Verdict(TradingState.ACTIVE, None, "")


class ErrorCounter:
    """Venue errors and rejections in a rolling window, for the error-rate breaker."""

    def __init__(self) -> None:
        self.times: deque[int] = deque()

    def record(self, now_ms: int) -> None:
        self.times.append(now_ms)

    def count(self, now_ms: int) -> int:
        while self.times and self.times[0] < now_ms - ERROR_WINDOW_MS:
            self.times.popleft()
        return len(self.times)


def next_equity_memory(memory: RiskMemory, equity: int, now: int) -> RiskMemory:
    """Raise the peak; start the day's reference at the first sight of a new UTC day (pure)."""
    peak = equity if memory.peak_equity is None else max(memory.peak_equity, equity)
    day_start_at = utc_day_start(now)
    new_day = memory.day_started_at is None or memory.day_started_at < day_start_at
    day_equity = equity if new_day or memory.day_start_equity is None else memory.day_start_equity
    return RiskMemory(memory.trading_state, memory.reason, peak, day_equity,
                      day_start_at if new_day else memory.day_started_at)


def save_equity_memory(conn: Connection, memory: RiskMemory) -> None:
    conn.execute(text("""UPDATE engine_state SET peak_equity = :peak, day_start_equity = :day,
                             day_started_at = :at WHERE id = 1"""),
                 {"peak": memory.peak_equity, "day": memory.day_start_equity, "at": memory.day_started_at})


def track_equity(conn: Connection, memory: RiskMemory, equity: int, now: int) -> RiskMemory:
    """`next_equity_memory`, saved when it changed."""
    updated = next_equity_memory(memory, equity, now)
    if updated != memory:
        save_equity_memory(conn, updated)
    return updated


def daily_reset(conn: Connection, memory: RiskMemory, equity: int, now: int) -> RiskMemory:
    """00:00 UTC: a new day's reference equity; a daily-loss REDUCING state ends."""
    conn.execute(text("UPDATE engine_state SET day_start_equity = :e, day_started_at = :at WHERE id = 1"),
                 {"e": equity, "at": utc_day_start(now)})
    state, reason = memory.trading_state, memory.reason
    if state is TradingState.REDUCING and reason == DAILY_LOSS:
        set_trading_state(conn, TradingState.ACTIVE, None, now)
        raise_alert(conn, level="info", source="risk", code="DAILY_RESET",
                    message="new UTC day: the daily-loss limit reset; trading state ACTIVE")
        state, reason = TradingState.ACTIVE, None
    return RiskMemory(state, reason, memory.peak_equity, equity, utc_day_start(now))
