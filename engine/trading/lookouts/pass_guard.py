"""Fail closed: a ledger whose trading passes keep failing stops quoting.

A pass (one ledger's decisions: its market picture, strategies, risk gate and executor) that
raises is logged and tried again at the next tick; one failure is a hiccup. A ledger whose passes
fail FAILS_IN_A_ROW times in a row, or FAILING_SHARE of its passes within WINDOW_MS (one poisoned
input failing every other pass), cannot decide: its resting orders would stay at the venue, priced
by a picture nobody updates. So it trips: the ledger is HALTED with a critical alert naming the
error (DECISIONS_FAILING), its orders are cancelled at the venue, and the halt ends only when its
passes succeed again *and* the operator starts it (a Start while they still fail is refused with
the error). The desk's own pass and each ledger's are guarded apart (a ledger on another venue that fails
does not stop the desk); a desk pass that fails before the ledgers ran counts against them too, since their
decisions come from it.

The time of each ledger's last completed pass goes out with the heartbeat (engine_state.last_pass_at),
so every surface can tell a desk that runs from one that decides.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from engine.risk.breakers import DECISIONS_FAILING
from engine.risk.gate import TradingState
from storage.sqlite.db import is_locked

log = logging.getLogger("engine.trading.lookouts.pass_guard")

FAILS_IN_A_ROW = 3  # consecutive failed passes that trip the guard
WINDOW_MS = 60_000  # or, within this window,
FAILING_SHARE = 0.5  # this share of the passes failed,
MIN_WINDOW_PASSES = 10  # once the window holds at least this many passes


@dataclass
class PassGuard:
    """One ledger's passes: how many failed in a row, the window's outcomes, the last success."""

    label: str  # how alerts name the ledger: "the desk", "<venue> paper", "paper ledger"
    in_a_row: int = 0
    last_ok_at: int | None = None
    last_error: str | None = None
    tripped: bool = False  # halted for failing passes: the operator's Start ends it once passes succeed
    window: deque[tuple[int, bool]] = field(default_factory=deque)  # (at, ok) within WINDOW_MS

    def passed(self, now: int) -> None:
        self.in_a_row = 0
        self.last_ok_at = now
        self._note(now, True)

    def failed(self, error: BaseException, now: int) -> bool:
        """Count a failed pass; True the first time the guard trips (the caller halts the ledger)."""
        self.in_a_row += 1
        self.last_error = f"{type(error).__name__}: {error}"[:300]
        self._note(now, False)
        if self.tripped or not self._failing():
            return False
        self.tripped = True
        return True

    @property
    def deciding(self) -> bool:
        """Whether its last pass completed (a Start may end its halt)."""
        return self.in_a_row == 0 and self.last_ok_at is not None

    def why(self) -> str:
        failed = sum(1 for _, ok in self.window if not ok)
        return (f"{self.label}'s trading passes keep failing ({self.in_a_row} in a row, {failed} of the last "
                f"{len(self.window)} within {WINDOW_MS // 1000} s): {self.last_error}. Its resting orders are "
                "cancelled; trading resumes when its passes succeed again and the operator starts it")

    def still_failing(self) -> str:
        """What a refused Start says."""
        return (f"{self.label}'s trading passes still fail ({self.last_error}): the {DECISIONS_FAILING} halt stays "
                "until a pass completes; fix the cause (the alert names it) and start again")

    def rearm(self) -> None:
        self.tripped = False
        self.window.clear()

    def _note(self, now: int, ok: bool) -> None:
        self.window.append((now, ok))
        while self.window and self.window[0][0] < now - WINDOW_MS:
            self.window.popleft()

    def _failing(self) -> bool:
        if self.in_a_row >= FAILS_IN_A_ROW:
            return True
        failed = sum(1 for _, ok in self.window if not ok)
        return len(self.window) >= MIN_WINDOW_PASSES and failed >= FAILING_SHARE * len(self.window)


class Halts(Protocol):
    """What a tripped guard needs of a ledger's risk: the desk's monitor and a ledger's both escalate."""

    def escalate(self, target: TradingState, reason: str, message: str) -> None: ...


class Cancels(Protocol):
    async def kill(self) -> dict[str, object]: ...


async def fail_closed(guard: PassGuard, risk: Halts, executor: Cancels) -> None:
    """The ledger HALTED with a critical alert naming the error, then its orders cancelled at the
    venue. Each step on its own: a database that refuses the halt must not keep the cancels from
    going out, nor the reverse."""
    log.error("trading passes keep failing: halting the ledger and cancelling its orders",
              extra={"ledger": guard.label, "error": guard.last_error, "in_a_row": guard.in_a_row})
    try:
        risk.escalate(TradingState.HALTED, DECISIONS_FAILING, guard.why())
    except Exception:
        log.exception("the halt for failing passes could not be written", extra={"ledger": guard.label})
    try:
        await executor.kill()
    except Exception:
        log.exception("cancelling the orders of a ledger that cannot decide failed", extra={"ledger": guard.label})


class Ledger(Protocol):
    """A ledger the guard watches: the desk (its link) or a ledger."""

    passes: PassGuard

    @property
    def risk(self) -> Halts: ...

    @property
    def executor(self) -> Cancels: ...


async def guarded_pass(ledger: Ledger, now: int, run: Callable[[], Awaitable[None]], *, contain: bool = True) -> None:
    """Run one ledger's pass; a failure is counted (and logged) instead of raised, and trips the
    guard when passes keep failing. `contain` False (a backtest): a failure is raised as it is.
    A pass the database lock held up (another process writing) is neither: it placed nothing."""
    if not contain:
        await run()
        return
    try:
        await run()
    except Exception as exc:
        if is_locked(exc):
            return
        log.exception("trading pass failed", extra={"ledger": ledger.passes.label})
        await failed(ledger, exc, now)
    else:
        ledger.passes.passed(now)


async def failed(ledger: Ledger, error: BaseException, now: int) -> None:
    """A failed pass counted against `ledger`; the ledger fails closed when its passes keep failing."""
    if ledger.passes.failed(error, now):
        await fail_closed(ledger.passes, ledger.risk, ledger.executor)
