"""The risk of a ledger other than the desk's (engine/trading/passes/ledger.py); first, the
paper ledger: paper-only strategies trading on paper beside a live desk.

Its limits are the desk's values, measured on the paper ledger alone: its exposure,
orders and equity never count against live's, nor live's against it. Its breakers (drawdown,
daily loss, the kill-switch drawdown, the error rate of the paper venue) act on the ledger only; the
kill latch is the live desk's alone. A breach is alerted with the ledger named and never moves
the desk; the operator's Start ends it.

Kalshi's ledger, beside any desk, is one too: the same limits and breakers on its own figures,
alerted as "Kalshi paper" or, once Kalshi is armed live, "Kalshi live" (whose venue's balances are
checked against its ledger: a mismatch halts it alone).

Every such ledger's memory (state, reason, peak, day start) lives in one store, `venue_risk`, one
row per (venue, mode) (storage/engine_stores/ledger_risk_store.py; the paper ledger's is
(polymarket, paper)), beside the desk's own on the engine_state row: a halt outlives a restart,
and `engine status` and the dashboard read it from there.

It is never less cautious than the desk: a desk that is REDUCING or HALTED (a volatility or
correlation spike, a kill, a halt) holds the ledger the same way, and the desk's per-market
volatility states and correlated groups apply to it, so paper shows what live would do.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from contracts.domain import MarketView
from contracts.venue_policies import policy_of, venues_armed_alone
from contracts.venues import LABELS
from engine.execution.state import ExecutionState
from engine.feeds.catalog import MarketCatalog
from engine.risk import breakers
from engine.risk import context as risk_context
from engine.risk.gate import TradingState
from engine.risk.monitor import RiskMonitor
from storage.desk.audit import AlertLevel, raise_alert
from storage.sqlite.db import Database

log = logging.getLogger("engine.risk.ledger")

PAPER_LEDGER = "paper ledger"  # how alerts name Polymarket's (their subject); another venue's is "<Venue> paper"
# The desk's halts that its own venue caused (its faults, its wallet disagreeing with the ledger): a
# ledger on another venue's books and ledger does not depend on them, so they do not hold it.
VENUE_OWN = frozenset({breakers.ERROR_RATE, breakers.BALANCE_MISMATCH, breakers.VENUE_REFUSING,
                       breakers.REGION_CLOSE_ONLY, breakers.REGION_BLOCKED})
FRESH = breakers.RiskMemory(TradingState.ACTIVE, None, None, None, None)


class VenueLedgerRisk(RiskMonitor):
    def __init__(self, db: Database, desk: RiskMonitor, clock: Callable[[], int], venue_name: str,
                 mode: str = "paper"):
        with db.read() as conn:
            memory = breakers.load_ledger_memory(conn, venue_name, mode)
        super().__init__(db, mode, desk.limits, memory, clock)
        self.mode = mode
        self.desk = desk
        self.venue_name = venue_name
        # A ledger of a venue armed on its own, rather than the desk venue's paper ledger beside a live desk.
        self.elsewhere = policy_of(venue_name) in venues_armed_alone()
        self.subject = f"{LABELS[venue_name]} {mode}" if self.elsewhere else PAPER_LEDGER

    def sync_limits(self) -> None:
        """The desk's limits and each strategy's, as last reloaded (the ledger's breakers kept)."""
        self.reload(self.desk.limits, self.memory, self.mode, self.desk.strategies.limits)

    def balances_checked(self, mismatches: list[str]) -> None:
        """A live ledger: its venue's token balances against its ledger. A mismatch halts the ledger;
        the halt ends by itself once a later check agrees (the desk's memory is never touched)."""
        if mismatches:
            self.escalate(TradingState.HALTED, breakers.BALANCE_MISMATCH, "; ".join(mismatches))
        elif self.memory.trading_state is TradingState.HALTED and self.memory.reason == breakers.BALANCE_MISMATCH:
            self._relax(breakers.BALANCE_MISMATCH, "its venue's balances agree with its ledger again")

    def rearm(self) -> bool:
        """An operator's Start: a ledger halt or reduction ends, its peak and day starting again from
        its equity (the equity the operator accepted); True when there was one to end."""
        self.errors = breakers.ErrorCounter()
        self.refusals = breakers.RefusalCounter()
        self.kill_requested = False
        if self.memory.trading_state is TradingState.ACTIVE:
            return False
        self._alert("info", f"{self.memory.reason}_CLEARED", f"{self.subject} ACTIVE: cleared by the operator's Start")
        self._keep(FRESH)
        return True

    def in_force(self) -> breakers.RiskMemory:
        """The ledger's own memory, held at the desk's state when the desk is more cautious (for a
        ledger on another venue, unless the desk's venue alone caused it: a venue that is down halts
        only what depends on it)."""
        desk = self.desk.memory
        if self.elsewhere and desk.reason in VENUE_OWN:
            return self.memory
        if breakers.SEVERITY[desk.trading_state] > breakers.SEVERITY[self.memory.trading_state]:
            return replace(self.memory, trading_state=desk.trading_state, reason=desk.reason)
        return self.memory

    def new_tick(self, now: int, state: ExecutionState, catalog: MarketCatalog,
                 views: Mapping[str, MarketView], *, fills_dark: bool = False,
                 also: Sequence[ExecutionState] = (), timed: bool = True) -> None:
        """The desk's guards already ran this tick on the same views: their verdicts are read, not rerun.
        `timed` False: between passes, on a few markets' views (the last pass's others kept)."""
        self.state = state
        if not timed and self.ctx is not None:
            views = {**self.ctx.markets, **views}
        self.ctx = risk_context.build(now, state, catalog, views, self.limits, self.in_force(), self.strategies,
                                      self.cooldowns, self.desk.volatility.market_states, fills_dark=fills_dark,
                                      groups=self.desk.correlation.groups, also=also)
        self.budget = None  # a new tick's checks start from its own exposure

    # -- the breakers, on the ledger's own memory ----------------------------------------------

    def _keep(self, memory: breakers.RiskMemory) -> None:
        with self.db.write() as conn:
            breakers.save_ledger_memory(conn, memory, self.venue_name, now=self.clock(), mode=self.mode)
        self.memory = memory

    def _remember_equity(self, updated: breakers.RiskMemory) -> None:
        new_day = updated.day_started_at != self.memory.day_started_at
        self._keep(updated)
        if new_day and updated.reason == breakers.DAILY_LOSS:  # a daily loss ends at 00:00 UTC
            self._relax(breakers.DAILY_LOSS, "a new UTC day")

    def _relax(self, reason: str, message: str) -> None:
        self._keep(replace(self.memory, trading_state=TradingState.ACTIVE, reason=None))
        self._alert("info", f"{reason}_CLEARED", f"{self.subject} ACTIVE: {message}")

    def escalate(self, target: TradingState, reason: str, message: str) -> None:
        if breakers.SEVERITY[target] <= breakers.SEVERITY[self.memory.trading_state]:
            return
        self._keep(replace(self.memory, trading_state=target, reason=reason))
        self._alert("critical" if target is TradingState.HALTED else "warning", reason,
                    f"{self.subject} {target.value}: {message} (on its own {self.mode} ledger; the desk's trading "
                    "is not affected)")
        log.warning("paper ledger escalated", extra={"ledger": self.subject, "state": target.value, "reason": reason})

    def cash_flow(self, amount: int) -> None:
        self._keep(breakers.shift_equity(self.memory, amount))

    def daily_reset(self, equity: int) -> None:
        self._remember_equity(breakers.next_equity_memory(self.memory, equity, self.clock()))

    def request_kill(self, message: str, now: int) -> bool:
        """The ledger's kill switch halts the ledger (its caller cancels the ledger's orders), not the desk."""
        return False

    def _alert(self, level: AlertLevel, code: str, message: str) -> None:
        with self.db.write() as conn:
            raise_alert(conn, level=level, source="risk", code=code, subject=self.subject, message=message)
