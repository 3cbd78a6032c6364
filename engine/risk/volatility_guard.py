"""The volatility breaker's side effects: feed it the mids of the books the engine keeps, alert
on each market's state change, and move the desk's persisted trading state (reason VOLATILITY)
up and, by itself, back down. The logic is engine/risk/volatility.py."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from sqlalchemy import Connection

from contracts.domain import MarketView
from contracts.limits import Limits
from engine.risk import breakers
from engine.risk.gate import TradingState
from engine.risk.volatility import Change, Reading, Settings, VolatilityBreaker
from storage.desk.audit import AlertLevel, raise_alert
from storage.sqlite.db import Database

log = logging.getLogger("engine.risk.volatility")
VOLATILITY = "VOLATILITY"  # the desk's trading-state reason and alert code
MARKET_CODE = "VOLATILITY_MARKET"  # a market's alert code (…_CLEARED when it ends)
LEVELS: dict[TradingState, AlertLevel] = {TradingState.HALTED: "critical", TradingState.REDUCING: "warning",
                                          TradingState.ACTIVE: "info"}


def describe(reading: Reading) -> str:
    return (f"realised volatility {reading.short / 1e6:.4f} over the window is {reading.ratio:.1f}x its baseline "
            f"{reading.baseline / 1e6:.4f}")


def market_alert(conn: Connection, change: Change) -> None:
    """The state first, then the market: a list that cuts a long message (a market is shown by its
    question) still shows what happened."""
    code = MARKET_CODE if change.after is not TradingState.ACTIVE else f"{MARKET_CODE}_CLEARED"
    what = {TradingState.HALTED: "no new orders in it", TradingState.REDUCING: "no new risk in it",
            TradingState.ACTIVE: "trading in it resumes"}[change.after]
    state = "cleared" if change.after is TradingState.ACTIVE else change.after.value
    raise_alert(conn, level=LEVELS[change.after], source="risk", code=code,
                message=f"volatility {state} in market {change.scope}: {what}; {describe(change.reading)}")


class VolatilityGuard:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.breaker = VolatilityBreaker()
        self._limits: Limits | None = None  # the limits its settings were derived from (once per limits, not per pass)
        self._settings: Settings | None = None

    def settings(self, limits: Limits) -> Settings:
        if limits is not self._limits or self._settings is None:
            self._limits, self._settings = limits, Settings.of(limits)
        return self._settings

    @property
    def market_states(self) -> Mapping[str, TradingState]:
        return self.breaker.states

    def tick(self, views: Mapping[str, MarketView], limits: Limits, memory: breakers.RiskMemory,
             now: int) -> breakers.RiskMemory:
        """One pass: observe, judge, alert; returns the desk's risk memory (changed when the desk's
        volatility state moved)."""
        self.breaker.observe({cid: v.yes.mid if v.yes is not None else None for cid, v in views.items()}, now)
        desk_now = _desk_now(memory)
        changes, desk = self.breaker.evaluate(self.settings(limits), now, desk_now)
        if not changes and desk is desk_now:
            return memory
        with self.db.write() as conn:
            for change in changes:
                market_alert(conn, change)
            memory = self._desk(conn, memory, desk_now, desk, now)
        for change in changes:
            log.warning("market volatility state", extra={"market": change.scope, "state": change.after.value,
                                                          "ratio": round(change.reading.ratio, 2)})
        return memory

    def next_judgement(self, now: int, s: Settings, memory: breakers.RiskMemory, before: int) -> int | None:
        """When a pass may next change a state with no new mid, before `before` (None: not before it):
        a replay's quiet passes (engine/backtest/quiet_passes.py)."""
        return self.breaker.next_judgement(now, s, _desk_now(memory), before)

    def _desk(self, conn: Connection, memory: breakers.RiskMemory, before: TradingState, after: TradingState,
              now: int) -> breakers.RiskMemory:
        reading = self.breaker.desk_reading
        why = f"the desk's {describe(reading)}" if reading is not None else "the volatility breaker is off"
        if breakers.SEVERITY[after] > breakers.SEVERITY[memory.trading_state]:
            breakers.escalate(conn, memory, after, VOLATILITY, why, now)
        elif memory.reason == VOLATILITY and after is not before:
            if after is TradingState.ACTIVE:
                breakers.relax(conn, VOLATILITY, f"{why}: back within its limit", now)
            else:  # HALTED steps down to REDUCING
                breakers.set_trading_state(conn, after, VOLATILITY, now)
                raise_alert(conn, level="warning", source="risk", code=VOLATILITY,
                            message=f"trading state {after.value}: {why}")
        else:
            return memory
        log.warning("desk volatility state", extra={"state": after.value})
        return breakers.load_memory(conn)


def _desk_now(memory: breakers.RiskMemory) -> TradingState:
    """The desk's volatility state: its trading state while volatility put it there, else ACTIVE."""
    return memory.trading_state if memory.reason == VOLATILITY else TradingState.ACTIVE
