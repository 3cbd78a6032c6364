"""The trading core's periodic work beside the tick, each on a timer of its own: the equity
curve's snapshots and the daily reset, retention, the live venue's order sync, the wallet
against the ledger, stale orders, collateral, and what the venue owes. The process's scheduler
(engine/process/scheduler.py) runs the `Job`s this module describes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from engine.execution import portfolio
from engine.marketdata.recorder import prune as prune_ticks
from engine.risk.decisions_log import prune
from engine.trading.exits import cancel_stale
from engine.trading.parts import CoreParts

if TYPE_CHECKING:
    from engine.analytics.markout_job import MarkoutJob
    from engine.domain import Book
    from engine.trading.balance_watch import BalanceWatch
    from engine.trading.collections import Collections
    from engine.trading.rewards import RewardTracker
    from engine.trading.watch import Watch

BALANCE_RECHECK_S = 30  # while halted for balances: look again this often
BALANCE_POLL_S = 5  # the balance job wakes this often and checks when `balance_check_s` has passed
ORDER_AGE_CHECK_S = 5
MARKOUT_S = 2  # the markout job's pass: a fill's 1 s markout is written within a few seconds
COLLATERAL_CHECK_S = 60
EARLY_SNAPSHOT_S = 10  # the equity curve's cadence for the first EARLY_WINDOW_MS of trading
EARLY_WINDOW_MS = 10 * 60_000


@dataclass(frozen=True)
class Job:
    id: str
    func: Callable[..., Any]
    trigger: BaseTrigger
    misfire_grace_s: int = 15


class JobsHost(CoreParts, Protocol):
    """What the jobs read of the trading core (engine/trading/core.py)."""

    mode: str
    config: dict[str, Any]
    venue_live: bool  # the venue is connected
    trading_since: int | None  # when trading last started (the early snapshots' clock)
    watch: Watch
    balance_watch: BalanceWatch
    collections: Collections
    rewards: RewardTracker
    markouts: MarkoutJob

    def marks(self, token_id: str) -> Book | None: ...

    async def refresh_markets_job(self) -> None: ...

    async def rewards_job(self) -> None: ...


class CoreJobs:
    def __init__(self, core: JobsHost):
        self.core = core

    def all(self) -> list[Job]:
        config = self.core.config
        return [
            Job("market_refresh", self.core.refresh_markets_job,
                IntervalTrigger(minutes=config["market_refresh_minutes"])),
            Job("portfolio_snapshot", self.snapshot, IntervalTrigger(seconds=config["snapshot_interval_s"])),
            Job("early_snapshots", self.early_snapshot, IntervalTrigger(seconds=EARLY_SNAPSHOT_S)),
            Job("daily_reset", self.daily, CronTrigger(hour=0, minute=0, timezone="UTC"), misfire_grace_s=3600),
            Job("decisions_retention", self.decisions_retention, IntervalTrigger(hours=1)),
            Job("ticks_retention", self.ticks_retention, IntervalTrigger(hours=6)),
            Job("venue_sync", self.venue_sync, IntervalTrigger(seconds=config["venue_sync_s"])),
            Job("balance_check", self.balance, IntervalTrigger(seconds=BALANCE_POLL_S)),
            Job("order_age", self.order_age, IntervalTrigger(seconds=ORDER_AGE_CHECK_S)),
            Job("collateral", self.collateral, IntervalTrigger(seconds=COLLATERAL_CHECK_S)),
            Job("collections", self.collections, IntervalTrigger(seconds=config["redeem_check_s"])),
            Job("liquidity_rewards", self.core.rewards_job, IntervalTrigger(seconds=self.core.rewards.sample_s)),
            Job("markouts", self.markouts, IntervalTrigger(seconds=MARKOUT_S)),
        ]

    async def markouts(self) -> None:
        """Each fill's markouts, written once their horizons have passed (engine/analytics/markout_job.py)."""
        await asyncio.to_thread(self.core.markouts.run, self.core.clock())

    def snapshot(self, kind: str = "scheduled") -> portfolio.Valuation:
        core = self.core
        valuation = portfolio.value(core.executor.state, core.marks)
        books = portfolio.by_strategy(core.executor.state, core.marks)
        with core.db.write() as conn:
            portfolio.write_snapshot(conn, core.mode, valuation, core.clock(), kind)
            portfolio.write_strategy_snapshots(conn, core.mode, books, core.clock())
        return valuation

    def early_snapshot(self) -> None:
        """Snapshots every EARLY_SNAPSHOT_S for the first minutes of trading, so the equity curve
        of a fresh start is a curve, not a line between two points a minute apart."""
        since = self.core.trading_since
        if since is not None and self.core.deciding and self.core.clock() - since <= EARLY_WINDOW_MS:
            self.snapshot("scheduled")

    def daily(self) -> None:
        self.core.risk.daily_reset(self.snapshot("daily").equity)

    def decisions_retention(self) -> None:
        prune(self.core.db, now=self.core.clock(), retention_days=self.core.config["decisions_retention_days"])

    async def ticks_retention(self) -> None:
        cutoff = self.core.clock() - self.core.config["record_retention_days"] * 86_400_000
        await asyncio.to_thread(prune_ticks, self.core.db.path, before_ms=cutoff)

    async def venue_sync(self) -> None:
        """Live: close orders the venue no longer has, import the ones it has that we do not."""
        if self.core.mode == "live" and self.core.venue_live and self.core.replay is None:
            await self.core.executor.sync_with_venue()

    async def balance(self) -> None:
        """Live: the wallet against the ledger every `balance_check_s` while trading (every
        BALANCE_RECHECK_S while halted for balances, so the halt ends once they agree again);
        engine/trading/balance_watch.py says what a difference does."""
        every = BALANCE_RECHECK_S if self.core.risk.halted_for_balances else self.core.config["balance_check_s"]
        if self.core.balance_watch.due(self.core.clock(), every):
            await self.check_balances()

    async def check_balances(self) -> None:
        """Live: compare the wallet with the ledger now (the balance job's work, without its timer)."""
        core = self.core
        if core.mode == "live" and core.venue_live and core.replay is None:
            await core.balance_watch.check(core.executor, core.risk, now=core.clock(),
                                           tolerance_usdc=core.config["balance_drift_tolerance_usdc"])

    async def order_age(self) -> None:
        """The stale-order clean-up: resting orders past their strategy's max order age."""
        if self.core.deciding and self.core.venue_live:
            await cancel_stale(self.core)

    async def collateral(self) -> None:
        """Live: the wallet's collateral; paper: the ledger's cash (against the low-collateral alert)."""
        core = self.core
        if not core.venue_live or core.replay is not None:
            return
        if core.mode == "live":
            collateral = (await core.executor.venue.balances([])).collateral
        else:
            collateral = core.executor.state.cash
        core.watch.collateral_now(collateral, core.clock())

    async def collections(self) -> None:
        """What the venue paid, booked; redeem and merge transactions followed; final markets
        redeemed (engine/trading/collections.py)."""
        core = self.core
        if not core.venue_live or core.replay is not None:
            return
        await core.collections.run(auto=bool(core.config["auto_redeem"]),
                                   grace_ms=core.config["auto_redeem_grace_s"] * 1000)
