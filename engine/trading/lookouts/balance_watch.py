"""Live: the wallet against the ledger while trading, not only at start-up.

Every `balance_check_s` (a runtime setting) the venue's collateral and token balances are read
and compared with the ledger: the cash the ledger holds (plus winning shares it paid out that the
wallet has not redeemed yet) and the shares it says are there. A difference seen once may be a
fill on its way (the venue moved the money before its report reached us), so it counts only
when the next check, with no fill in between, finds the same one. Then:

- a cash drift (an unexplained deposit, withdrawal, rebate or fee) is alerted (`BALANCE_DRIFT`,
  once per amount) and shown as a venue condition; past `balance_drift_tolerance_usdc` it halts
  trading (`BALANCE_MISMATCH`), which a Start ends (it books the difference, audited, as the
  start-up sync does);
- fewer shares at the venue than the ledger says halts trading (`BALANCE_MISMATCH`), as at
  start-up; it ends by itself once a later check agrees, or with a Start.

Checks are skipped while fills are still settling (the chain lags the ledger then).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from contracts.venue_policies import policy_of
from contracts.venues import desk_venue
from engine.execution.executor import Executor
from engine.execution.recovery import balance_mismatches, held_tokens, sync_live_balances, wallet_cash
from engine.risk.monitor import RiskMonitor
from storage.desk.audit import AlertLevel
from storage.engine_stores import execution_ledger

Raise = Callable[[AlertLevel, str, str], None]


@dataclass(frozen=True)
class Reading:
    """One comparison: `drift` is the cash the wallet says the ledger should hold, less what it holds."""

    drift: int
    shortfalls: tuple[str, ...]
    fills: int  # fills in the ledger when it was taken (a new fill makes the next reading incomparable)


@dataclass
class BalanceWatch:
    emit: Raise
    last: Reading | None = None
    alerted_drift: int | None = None  # the confirmed drift last alerted (None: none outstanding)
    drift_since_ms: int | None = None
    problems: list[str] = field(default_factory=list)  # what halts trading now (empty: nothing)
    checked_at: int = 0  # when the wallet was last compared with the ledger (ms)
    # How alerts name the account, its money and where to look (the desk venue's, unless a ledger says
    # its own: contracts/venue_policies.py).
    words: tuple[str, str, str] = field(default_factory=lambda: _words_of(desk_venue()))

    def due(self, now: int, every_s: float) -> bool:
        return now - self.checked_at >= every_s * 1000

    async def verdict(self, ex: Executor, *, tolerance_usdc: float, now: int) -> list[str] | None:
        """Compare now: the problems that halt trading (empty: none), or None when not confirmed.
        The caller hands a verdict to the risk monitor, which moves the trading state."""
        self.checked_at = now
        return self.judge(await self.read(ex), round(tolerance_usdc * 1_000_000), now)

    async def resync(self, ex: Executor, risk: RiskMonitor, now: int) -> list[str]:
        """A Start: check at once and book the cash difference (the operator has looked).
        Returns the token mismatches, the verdict the caller hands to the risk monitor."""
        mismatches, flow = await sync_live_balances(ex)
        if flow:
            risk.cash_flow(flow)
        self.started(now)
        return mismatches

    def started(self, now: int) -> None:
        """Trading (re)started with a fresh comparison: nothing outstanding."""
        self.last, self.alerted_drift, self.drift_since_ms, self.problems = None, None, None, []
        self.checked_at = now

    async def read(self, ex: Executor) -> Reading | None:
        """Compare the wallet with the ledger; None when the ledger is mid-settlement or a fill
        landed while the venue was being read (nothing can be concluded this time)."""
        before = _ledger_marks(ex)
        if before[1]:
            return None
        balances = await ex.venue.balances(held_tokens(ex))
        if _ledger_marks(ex) != before:
            return None
        # Cash that cannot be compared now (the venue holds some back for resting orders) leaves the
        # drift as it was last confirmed: neither a new one nor one cleared.
        drift = wallet_cash(ex, balances) - before[2] if balances.collateral_exact else self.alerted_drift or 0
        return Reading(drift, tuple(balance_mismatches(ex, balances)), before[0])

    def judge(self, reading: Reading | None, tolerance: int, now: int) -> list[str] | None:
        """The problems that halt trading now (an empty list: none), or None when this reading is
        not confirmed yet (the first sight of a difference, or no reading at all)."""
        previous, self.last = self.last, reading
        if reading is None:
            return None
        clean = reading.drift == 0 and not reading.shortfalls
        if not clean and previous != reading:
            return None  # seen once: wait for the next check
        self._note_drift(reading.drift, now)
        problems = list(reading.shortfalls)
        account, unit, where = self.words
        if abs(reading.drift) > tolerance:
            problems.append(
                f"{account} differs from the ledger by {reading.drift / 1e6:+,.2f} {unit}, more than "
                f"the {tolerance / 1e6:,.2f} {unit} tolerance (an unbooked deposit, withdrawal or payment): check "
                f"{where}, then press Start to book it")
        self.problems = problems
        return problems

    def _note_drift(self, drift: int, now: int) -> None:
        if drift == (self.alerted_drift or 0):
            return
        if drift == 0:
            self.emit("info", "BALANCE_DRIFT_CLEARED", f"{self.words[0]} agrees with the ledger again")
            self.alerted_drift, self.drift_since_ms = None, None
            return
        self.emit("warning", "BALANCE_DRIFT", f"{self.words[0]} differs from the ledger by {drift / 1e6:+,.6f} "
                                              f"{self.words[1]} on two checks in a row, with no fill between")
        self.alerted_drift, self.drift_since_ms = drift, now


def _ledger_marks(ex: Executor) -> tuple[int, int, int]:
    """(fills recorded, fills still settling, ledger cash): if any moves, a reading is void."""
    with ex.db.read() as conn:
        return (execution_ledger.fill_count(conn, ex.mode, ex.venue_name),
                execution_ledger.pending_fill_count(conn, ex.mode, ex.venue_name), ex.state.cash)


def _words_of(venue: str) -> tuple[str, str, str]:
    policy = policy_of(venue)
    return policy.cash_held_in, policy.cash_unit, policy.site
