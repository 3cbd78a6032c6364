"""Each strategy's own breakers, next to the global ones: its daily loss puts only it in
REDUCING, its drawdown (from the peak of allocation + its PnL) only it in HALTED, each with an
alert, and each ends its own way (a new UTC day or a raised limit; equity back within the
limit or a raised limit). The memory (state, peak, the day's reference) lives in
`strategy_risk`, per mode, so a restart keeps it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from sqlalchemy import Connection

from contracts.limits import Limits
from contracts.strategy_limits import DEFAULTS
from engine.execution.portfolio import StrategyBook
from engine.risk.breakers import SEVERITY
from engine.risk.gate import TradingState
from storage.desk.audit import AlertLevel, raise_alert
from storage.engine_stores import risk_store
from storage.sqlite.db import Database, utc_day_start

log = logging.getLogger("engine.risk.strategy")
DAILY_LOSS = "STRATEGY_DAILY_LOSS"
DRAWDOWN = "STRATEGY_DRAWDOWN"


@dataclass(frozen=True)
class Memory:
    state: TradingState = TradingState.ACTIVE
    reason: str | None = None
    peak_equity: int | None = None
    day_start_pnl: int | None = None
    day_started_at: int | None = None


def verdict(limits: Limits, memory: Memory, book: StrategyBook) -> tuple[TradingState, str | None, str]:
    """The most severe breach of one strategy now (pure): (state, reason, message)."""
    allocation = limits.usdc("allocation")
    equity = allocation + book.pnl
    if allocation > 0 and limits.values["max_drawdown"] > 0 and memory.peak_equity:
        fall = (memory.peak_equity - equity) / memory.peak_equity
        if fall >= limits.fraction("max_drawdown"):
            return TradingState.HALTED, DRAWDOWN, (f"its equity {equity / 1e6:.2f} is {fall:.1%} below its peak "
                                                   f"{memory.peak_equity / 1e6:.2f} pUSD")
    loss = (memory.day_start_pnl if memory.day_start_pnl is not None else book.pnl) - book.pnl
    if limits.usdc("max_daily_loss") > 0 and loss >= limits.usdc("max_daily_loss"):
        return TradingState.REDUCING, DAILY_LOSS, f"down {loss / 1e6:.2f} pUSD since 00:00 UTC"
    return TradingState.ACTIVE, None, ""


class StrategyRisk:
    def __init__(self, db: Database, mode: str, clock: Callable[[], int]):
        self.db = db
        self.mode = mode
        self.clock = clock
        self.memory: dict[str, Memory] = {}
        self.limits: Mapping[str, Limits] = {}
        self._raised: set[str] = set()  # strategies whose limits changed since the last evaluation

    def load(self, conn: Connection, mode: str) -> None:
        self.mode = mode
        self.memory = {name: Memory(TradingState(state), reason, peak, day, day_at)
                       for name, state, reason, peak, day, day_at in risk_store.strategy_risk_rows(conn, mode)}

    def set_limits(self, limits: Mapping[str, Limits]) -> None:
        self._raised |= {name for name in set(limits) | set(self.limits) if limits.get(name) != self.limits.get(name)}
        self.limits = limits

    def states(self) -> dict[str, TradingState]:
        return {name: m.state for name, m in self.memory.items() if m.state is not TradingState.ACTIVE}

    def after_tick(self, books: Mapping[str, StrategyBook], now: int) -> None:
        """Track each strategy's peak and day, move its state, write what changed (once per
        change: most ticks write nothing)."""
        changes: list[tuple[str, Memory, Memory, str]] = []
        for name, book in books.items():
            limits = self.limits.get(name, DEFAULTS)
            before = self.memory.get(name, Memory())
            tracked = _track(before, limits, book, now)
            state, reason, message = verdict(limits, tracked, book)
            after = self._next(name, tracked, state, reason, now)
            if after is not before and after != before:
                changes.append((name, before, after, message))
        self._raised.clear()
        if changes:
            self._write(changes, now)

    def _next(self, name: str, memory: Memory, state: TradingState, reason: str | None, now: int) -> Memory:
        """Escalate to a breach; relax one that no longer holds: a drawdown once equity is back
        (or its limit raised), a daily loss only at a new day (`_track`) or when its limit changed."""
        if SEVERITY[state] > SEVERITY[memory.state]:
            return replace(memory, state=state, reason=reason)
        if memory.state is TradingState.ACTIVE or reason == memory.reason:
            return memory
        if memory.reason == DAILY_LOSS and name not in self._raised:
            return memory  # waits for 00:00 UTC
        return replace(memory, state=state, reason=reason)

    def _write(self, changes: list[tuple[str, Memory, Memory, str]], now: int) -> None:
        with self.db.write() as conn:
            for name, before, after, message in changes:
                risk_store.save_strategy_risk(conn, mode=self.mode, strategy=name, trading_state=after.state.value,
                                              reason=after.reason, peak_equity=after.peak_equity,
                                              day_start_pnl=after.day_start_pnl,
                                              day_started_at=after.day_started_at, now=now)
                if after.state is not before.state:
                    _alert(conn, name, before, after, message)
        for name, _, after, _ in changes:
            self.memory[name] = after


def _track(memory: Memory, limits: Limits, book: StrategyBook, now: int) -> Memory:
    """A new peak of allocation + PnL; the day's reference PnL at the first sight of a new UTC
    day, which also ends a daily-loss REDUCING."""
    equity = limits.usdc("allocation") + book.pnl
    peak = equity if memory.peak_equity is None else max(memory.peak_equity, equity)
    day = utc_day_start(now)
    if memory.day_started_at is None or memory.day_started_at < day:
        ended = memory.state is TradingState.REDUCING and memory.reason == DAILY_LOSS
        return Memory(TradingState.ACTIVE if ended else memory.state, None if ended else memory.reason, peak,
                      book.pnl, day)
    if peak == memory.peak_equity:  # most passes: nothing to derive, nothing that could be written
        return memory
    return Memory(memory.state, memory.reason, peak, memory.day_start_pnl, memory.day_started_at)


def _alert(conn: Connection, name: str, before: Memory, after: Memory, message: str) -> None:
    if SEVERITY[after.state] > SEVERITY[before.state]:
        level: AlertLevel = "critical" if after.state is TradingState.HALTED else "warning"
        raise_alert(conn, level=level, source="risk", code=after.reason or "STRATEGY_RISK",
                    message=f"strategy '{name}' {after.state.value}: {message}")
    else:
        raise_alert(conn, level="info", source="risk", code=f"{before.reason}_CLEARED",
                    message=f"strategy '{name}' back to {after.state.value}")
    log.warning("strategy trading state", extra={"strategy": name, "from_state": before.state.value,
                                                 "to_state": after.state.value, "reason": after.reason})
