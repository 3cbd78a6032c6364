"""Breakers: daily loss, drawdown from peak, the kill-switch drawdown and the error rate.

They move the persisted trading state (ACTIVE -> REDUCING -> HALTED) and raise alerts;
the kill-switch drawdown asks for a kill, which latches. Drawdown is measured from the
peak of equity, not from the start. The daily loss is measured from equity at 00:00 UTC.

A breach only ever makes the state more cautious; each state ends in one named way:
a drawdown REDUCING when equity recovers above the limit (or the limit is raised); a
daily-loss REDUCING at 00:00 UTC (a scheduled job) or when the limit is raised; an
error-rate, balance-mismatch or venue-refusing HALTED, and a region's REDUCING (close-only) or
HALTED (blocked), by an operator's Start (a balance mismatch
also when a later check agrees); a failing-passes HALTED by an operator's Start once passes succeed
again; an invalid-limit HALTED when the stored limit validates again; a kill-switch
HALTED by the operator's re-arm, which also restarts the peak from the equity the operator
accepted.
A mode switch restarts the peak and the day, since paper and live equity never mix.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Connection

from contracts.limits import Limits
from engine.risk.gate import TradingState
from storage.desk.audit import raise_alert
from storage.engine_stores import engine_state, ledger_risk_store
from storage.sqlite.db import utc_day_start

SEVERITY = {TradingState.ACTIVE: 0, TradingState.REDUCING: 1, TradingState.HALTED: 2}
ERROR_WINDOW_MS = 5 * 60_000
DAILY_LOSS = "DAILY_LOSS"
DRAWDOWN = "DRAWDOWN"
KILL_SWITCH = "KILL_SWITCH_DRAWDOWN"
ERROR_RATE = "ERROR_RATE"
# A ledger whose trading passes keep failing (engine/trading/lookouts/pass_guard.py): HALTED, its orders
# cancelled, until its passes succeed again and the operator starts it.
DECISIONS_FAILING = "DECISIONS_FAILING"
BALANCE_MISMATCH = "BALANCE_MISMATCH"
CONFIG_INVALID = "CONFIG_INVALID"  # a stored risk limit invalid with no valid value to keep
VENUE_REFUSING = "VENUE_REFUSING"  # the venue refuses most orders (a wallet not set up, a key it refuses)
# The venue refuses this server's region (contracts/geoblock.py): an order opening a position refused, close-only
# (REDUCING: the desk sells what it holds, opens nothing); one closing a position refused too, blocked (HALTED).
REGION_CLOSE_ONLY = "REGION_CLOSE_ONLY"
REGION_BLOCKED = "REGION_BLOCKED"
REFUSAL_WINDOW_MS = 60_000
REFUSAL_HALT_MIN = 5  # refusals in the window before a majority of them halts
# Equity-based REDUCING states: measured on one mode's equity, they do not outlive a mode switch.
EQUITY_REASONS = frozenset({DAILY_LOSS, DRAWDOWN})
# How a kill the kill switch posted names itself in the latch's reason.
KILL_SWITCH_PREFIX = "kill-switch drawdown"


@dataclass(frozen=True)
class RiskMemory:
    """What the breakers remember across restarts: the desk's on the engine_state row, a venue ledger's
    beside it in venue_risk (storage/engine_stores/ledger_risk_store.py)."""

    trading_state: TradingState
    reason: str | None
    peak_equity: int | None
    day_start_equity: int | None
    day_started_at: int | None


def load_memory(conn: Connection) -> RiskMemory:
    row = engine_state.risk_memory(conn)
    return RiskMemory(TradingState(row[0]), row[1], row[2], row[3], row[4])


def load_ledger_memory(conn: Connection, venue: str, mode: str = "paper") -> RiskMemory:
    """The memory of a ledger other than the desk's (engine/risk/ledger_risk.py): its row (venue, mode)
    of venue_risk (Polymarket's paper ledger, Kalshi's ledger on paper or live)."""
    stored = ledger_risk_store.read(conn, venue, mode)
    return RiskMemory(TradingState(stored.trading_state), stored.reason, stored.peak_equity,
                      stored.day_start_equity, stored.day_started_at)


def save_ledger_memory(conn: Connection, memory: RiskMemory, venue: str, *, now: int = 0,
                     mode: str = "paper") -> None:
    ledger_risk_store.write(conn, venue, mode, ledger_risk_store.LedgerRisk(
        memory.trading_state.value, memory.reason, memory.peak_equity, memory.day_start_equity,
        memory.day_started_at), now)


def set_trading_state(conn: Connection, state: TradingState, reason: str | None, now: int) -> None:
    engine_state.set_trading_state(conn, state.value, reason, now)


def escalate(conn: Connection, current: RiskMemory, target: TradingState, reason: str, message: str,
             now: int) -> bool:
    """Move to a more cautious state with an alert; never relaxes. True if it moved."""
    if SEVERITY[target] <= SEVERITY[current.trading_state]:
        return False
    set_trading_state(conn, target, reason, now)
    raise_alert(conn, level="critical" if target is TradingState.HALTED else "warning", source="risk",
                code=reason, message=f"trading state {target.value}: {message}")
    return True


def relax(conn: Connection, cleared: str, message: str, now: int) -> None:
    """Back to ACTIVE with an info alert, once the breach `cleared` no longer holds."""
    set_trading_state(conn, TradingState.ACTIVE, None, now)
    raise_alert(conn, level="info", source="risk", code=f"{cleared}_CLEARED",
                message=f"trading state ACTIVE: {message}")


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
        return Verdict(TradingState.REDUCING, DAILY_LOSS, f"down {loss / 1e6:.2f} pUSD since 00:00 UTC")
    return Verdict(TradingState.ACTIVE, None, "")


class ErrorCounter:
    """Venue errors and rejections in a rolling window, for the error-rate breaker."""

    def __init__(self) -> None:
        self.times: deque[int] = deque()

    def record(self, now_ms: int) -> None:
        self.times.append(now_ms)

    def leaves_at(self, now_ms: int) -> int | None:
        """When the oldest error still counted at `now_ms` stops counting (None: none is)."""
        return next((at + ERROR_WINDOW_MS + 1 for at in self.times if at >= now_ms - ERROR_WINDOW_MS), None)

    def count(self, now_ms: int) -> int:
        while self.times and self.times[0] < now_ms - ERROR_WINDOW_MS:
            self.times.popleft()
        return len(self.times)


class RefusalCounter:
    """The venue's answers to this ledger's placements in the last minute. A venue that refuses most
    of them (at least REFUSAL_HALT_MIN, more than it takes) is not refusing an order but the account:
    a wallet not deployed, approvals missing, a key it will not take. Sending on would only fill the
    decisions log, so the ledger halts with the venue's last answer as the reason."""

    def __init__(self) -> None:
        self.answers: deque[tuple[int, bool]] = deque()  # (when, refused)
        self.last = ""

    def accepted(self, count: int, now_ms: int) -> None:
        self.answers.extend((now_ms, False) for _ in range(count))

    def refused(self, detail: str, now_ms: int) -> str | None:
        """One refusal; the halt's message when the venue now refuses most orders, else None."""
        self.answers.append((now_ms, True))
        self.last = detail
        while self.answers and self.answers[0][0] < now_ms - REFUSAL_WINDOW_MS:
            self.answers.popleft()
        refused = sum(1 for _, no in self.answers if no)
        if refused < REFUSAL_HALT_MIN or refused * 2 <= len(self.answers):
            return None
        return (f"the venue refused {refused} of the last {len(self.answers)} orders within a minute (its last "
                f"answer: {self.last[:200]!r}); nothing more is sent. Read its answers in the decisions log "
                "(VENUE_REFUSED), run `python -m engine preflight` (or kalshi-preflight), fix what it names, "
                "then press Start")


def next_equity_memory(memory: RiskMemory, equity: int, now: int) -> RiskMemory:
    """Raise the peak; start the day's reference at the first sight of a new UTC day (pure)."""
    peak = equity if memory.peak_equity is None else max(memory.peak_equity, equity)
    day_start_at = utc_day_start(now)
    new_day = memory.day_started_at is None or memory.day_started_at < day_start_at
    day_equity = equity if new_day or memory.day_start_equity is None else memory.day_start_equity
    return RiskMemory(memory.trading_state, memory.reason, peak, day_equity,
                      day_start_at if new_day else memory.day_started_at)


def save_equity_memory(conn: Connection, before: RiskMemory, after: RiskMemory) -> None:
    """Write only what moved (a new peak, or a new day): an operator's reset of the peak
    (re-arm, mode switch) is never overwritten by a day change seen from older memory."""
    if after.peak_equity != before.peak_equity:
        engine_state.set_peak_equity(conn, after.peak_equity)
    if (after.day_start_equity, after.day_started_at) != (before.day_start_equity, before.day_started_at):
        engine_state.set_day_start(conn, after.day_start_equity, after.day_started_at)


def shift_equity(memory: RiskMemory, amount: int) -> RiskMemory:
    """The peak and the day's reference moved by a deposit (+) or withdrawal (-) (pure)."""
    return replace(memory, peak_equity=None if memory.peak_equity is None else memory.peak_equity + amount,
                   day_start_equity=None if memory.day_start_equity is None else memory.day_start_equity + amount)


def forget_equity(memory: RiskMemory) -> RiskMemory:
    """The same memory with no peak and no day reference: the next equity seen starts both."""
    return replace(memory, peak_equity=None, day_start_equity=None, day_started_at=None)


def _equity_fields(memory: RiskMemory) -> dict[str, Any]:
    return {"trading_state": memory.trading_state.value, "trading_state_reason": memory.reason,
            "peak_equity": memory.peak_equity, "day_start_equity": memory.day_start_equity,
            "day_started_at": memory.day_started_at}


def reset_for_new_mode(conn: Connection, now: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """A mode switch (operator, audited by the caller): forget the peak and the day, and end
    a REDUCING state those measured, since they were the other mode's equity. Returns the
    (before, after) for the audit row."""
    before = load_memory(conn)
    engine_state.forget_equity_memory(conn)
    if before.trading_state is TradingState.REDUCING and before.reason in EQUITY_REASONS:
        set_trading_state(conn, TradingState.ACTIVE, None, now)
    return _equity_fields(before), _equity_fields(load_memory(conn))


def tripped_kill_switch(memory: RiskMemory, kill_reason: str | None) -> bool:
    """Whether the latched kill came from the kill switch (its state, or the kill's reason)."""
    return memory.reason == KILL_SWITCH or (kill_reason or "").startswith(KILL_SWITCH_PREFIX)


def clear_kill_switch(conn: Connection, kill_reason: str | None, now: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The operator's re-arm after a kill-switch kill (audited by the caller): the HALTED
    state it set ends, and the peak restarts from the next equity seen, i.e. the equity the
    operator accepted by re-arming; otherwise the first tick would trip the switch again.
    Any other halt is left to its own way out. Returns the (before, after) for the audit."""
    before = load_memory(conn)
    if not tripped_kill_switch(before, kill_reason):
        return {}, {}
    engine_state.set_peak_equity(conn, None)
    if before.trading_state is TradingState.HALTED and before.reason == KILL_SWITCH:
        set_trading_state(conn, TradingState.ACTIVE, None, now)
    return _equity_fields(before), _equity_fields(load_memory(conn))


def daily_reset(conn: Connection, memory: RiskMemory, equity: int, now: int) -> RiskMemory:
    """00:00 UTC: a new day's reference equity; a daily-loss REDUCING state ends."""
    engine_state.set_day_start(conn, equity, utc_day_start(now))
    state, reason = memory.trading_state, memory.reason
    if state is TradingState.REDUCING and reason == DAILY_LOSS:
        set_trading_state(conn, TradingState.ACTIVE, None, now)
        raise_alert(conn, level="info", source="risk", code="DAILY_RESET",
                    message="new UTC day: the daily-loss limit reset; trading state ACTIVE")
        state, reason = TradingState.ACTIVE, None
    return RiskMemory(state, reason, memory.peak_equity, equity, utc_day_start(now))
