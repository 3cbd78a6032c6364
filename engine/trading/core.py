"""The trading core: feeds -> strategies -> risk gate -> executor -> venue, on events and once per tick.

It implements the `Trading` seam the lifecycle drives (start, pause, resume, stop, kill,
reload, mode switch) and owns the loop. Each tick (every `tick_interval_ms`): advance paper
settlement, build the market picture, ask every enabled strategy for intents (isolated), pass
them through the risk gate (decisions logged), hand the approved intents to the executor,
reconcile, then value the book and run the breakers. Between ticks, live, a market whose book,
trades or orders change is decided at once on its own (engine/trading/passes/event_decisions.py).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
from collections.abc import Callable
from typing import Any

from apscheduler.triggers.interval import IntervalTrigger

from contracts import order_end
from contracts.command_refusal import CommandRejected
from contracts.domain import Intent
from contracts.settings import Settings
from contracts.venue_policies import venues_armed_alone
from engine.analytics.markout_job import MarkoutJob
from engine.execution import portfolio
from engine.execution.bus import EventBus, FillApplied
from engine.execution.executor import OPERATOR_BOOKS, Executor
from engine.execution.placement import OrderGate
from engine.execution.recovery import recover
from engine.execution.state import ExecutionState
from engine.marketdata.recorder import Recorder
from engine.risk import breakers
from engine.risk.monitor import RiskMonitor
from engine.trading.hosting.indicator_host import IndicatorHost, wanted_indicators
from engine.trading.hosting.own_markouts import OwnMarkouts
from engine.trading.hosting.selection import Selection
from engine.trading.hosting.strategy_host import (
    StrategyHost,
)
from engine.trading.hosting.strategy_memory import SAVE_S as MEMORY_SAVE_S
from engine.trading.hosting.strategy_memory import StrategyMemory
from engine.trading.hosting.views import SignalReads, Views
from engine.trading.ledgers.venue_link import VenueLink
from engine.trading.lookouts.fills_dark import FillsDark
from engine.trading.lookouts.lookout import Lookout
from engine.trading.lookouts.pass_guard import failed, guarded_pass
from engine.trading.operator import operator_actions
from engine.trading.parts import ReplaySource
from engine.trading.passes import core_state, cross_arbs, downtime_cancels
from engine.trading.passes.deciding import Deciders
from engine.trading.passes.event_decisions import EventDecisions
from engine.trading.passes.jobs import CoreJobs, Job
from engine.trading.passes.ledger import Ledger, desk_ledger
from engine.trading.passes.market_events import MarketEvents
from engine.trading.passes.opening import Opening
from engine.trading.passes.operator_commands import OperatorCommands
from engine.trading.passes.routing import LedgerKey, Ledgers
from engine.trading.settlement.rewards import RewardTracker
from engine.venues.registry import adapter_of
from storage.sqlite.db import Database, is_locked, now_ms

log = logging.getLogger("engine.trading.core")


STOP_DRAIN_S = 5.0


class TradingCore:
    """The decisions; its collaborators own the rest: the venue and the feeds (`link`), the
    watch and its alerts (`lookout`), each strategy's markets (`selection`), the scheduled
    jobs (`scheduled`), what the venue owes (`collections`)."""

    def __init__(self, settings: Settings, db: Database, *, clock: Callable[[], int] = now_ms,
                 replay: ReplaySource | None = None, gate: OrderGate | None = None):
        """`replay` runs the same core on recorded data (a backtest): no network, no recording,
        no wall-clock loop, deterministic order ids and paper settlement seed. `gate`: the
        desk's one order gate (the composition root's; a core alone makes its own, closed)."""
        self.settings = settings
        self.db = db
        self.clock = clock
        self.replay = replay
        self.gate = gate or OrderGate()
        self.loaded = core_state.load_all(db)
        self.config = self.loaded.config
        memory = None if replay is not None else StrategyMemory(
            db, clock, lambda: self.config.strategy_memory_max_age_s * 1000)
        self.host = StrategyHost(db, clock, memory)
        self.config_problems: set[str] = set()
        mode = core_state.current_mode(db)
        self.risk = RiskMonitor(db, mode, self.loaded.limits, self.loaded.memory, clock)
        # What the executor tells (fills, refusals, faults, the venue's phase) goes out on one
        # bus that outlives each executor built here (a mode switch, a reopened venue).
        self.bus = EventBus()
        self.risk.listen(self.bus)
        self.lookout = Lookout(db, self.bus, clock, self.config)
        self.link = VenueLink(settings, db, clock=clock, replay=replay, config=lambda: self.config, bus=self.bus,
                              gate=self.gate, desk_state=lambda: self.executor.state,
                              strategy_markets=lambda: self.host.markets()
                              | set().union(*(ledger.held_markets() for ledger in self.ledgers.others()))
                              | cross_arbs.paired_legs(self.host.hosted, self.link.references.pairs()))
        self.books, self.catalog, self.feed = self.link.books, self.link.catalog, self.link.feed
        # Every ledger the desk trades (engine/trading/passes/ledger.py): its own, and the others, by (venue, mode),
        # the desk's venue on paper beside a live desk (paper-only strategies) and each venue armed on its own in its
        # own armed mode beside any desk (a replay trades it on paper). Which one a strategy trades: routing.py.
        desk = desk_ledger(self.link, mode, risk=self.risk, bus=self.bus, balance_watch=self.lookout.balance_watch,
                           conditions=self.lookout.conditions, on_kill=self._kill_switch,
                           look=None if replay is not None else lambda now: self.lookout.look(
                               self.link, self.desk, now, feed_down_s=self.config.alert_feed_down_s))
        armed = {} if replay is not None else core_state.current_armed_modes(db)
        self.ledgers = Ledgers(desk, {p.venue: armed.get(p.venue, "paper") for p in venues_armed_alone()})
        self.selection = Selection(db, self.host, self.catalog, clock, record=replay is None)
        self.fills_dark = FillsDark(self.lookout.alert)
        self.rewards = RewardTracker(db, clock, sample_s=self.config.reward_sample_s)
        self.deciding = False
        self.trading_since: int | None = None  # when trading last started (the early snapshots' clock)
        self.ledger_ready = False  # the desk's ledger recovered for its mode: only then is it valued for the curve
        self.flatten_after_kill = False  # set by a kill-switch trip when kill_flatten is 1
        self.cross = cross_arbs.CrossArbs()  # cross-venue arbitrages' legs, one on each venue's ledger
        self.signals = SignalReads(db, self.catalog, replay=replay is not None,
                                   followed_kept=lambda: self.scheduled.follower.kept)
        self.views = Views(self.catalog, self.books, self.signals, self.link.references, self.link.own)
        self.indicators = IndicatorHost(db)
        self.own_markouts = OwnMarkouts(self.books, self.catalog)  # what market making's toxicity reads
        self.noted: set[str] = set()  # what was alerted once this live session (paper-only strategies, ...)
        self.deciders = Deciders(db, self.host, self.ledgers, self.catalog, self.link.references.pairs,
                                 self.own_markouts, self.noted)
        self.opening = Opening(db, self.link, self.host, self.ledgers, self.risk, config=lambda: self.config,
                               wire=self._wire, noted=self.noted)
        self._loop: asyncio.Task[None] | None = None
        self.market_events = MarketEvents(self.link, self.ledgers, lambda: self.scheduled.settle_missed())
        self.books.add_listener(self.market_events.on_market_event)
        self.recorder = None if replay else Recorder(db.path, self.books, self.catalog, depth=self.config.record_depth)
        if self.recorder is not None:
            self.books.add_listener(self.recorder.on_market_event)
        self.markouts = MarkoutJob(db)  # a backtest computes its own (engine/backtest/runner.py)
        self.scheduled = CoreJobs(self.link, desk, self.lookout, self.selection, self.rewards, self.markouts,
                                  config=lambda: self.config, deciding=lambda: self.deciding,
                                  trading_since=lambda: self.trading_since, others=self.ledgers.others,
                                  ledger_ready=lambda: self.ledger_ready)
        self.bus.subscribe(FillApplied, lambda _: self.scheduled.note_fill())
        self.bus.subscribe(FillApplied, self.own_markouts.on_fill)
        self.events = EventDecisions(self)  # live: a market decided as soon as what it reads changes
        self.operator = OperatorCommands(self.link, self.ledgers, self.host, mark=self.events.mark,
                                         deciding=lambda: self.deciding)
        if replay is None:
            self.events.listen(self.bus)
            self.books.add_listener(self.events.on_market_event)

    @property
    def desk(self) -> Ledger:
        """The desk's own ledger (engine/trading/passes/ledger.py)."""
        return self.ledgers.desk

    @property
    def mode(self) -> str:
        return self.desk.mode

    @property
    def executor(self) -> Executor:
        """The desk's ledger's executor (rebuilt when its venue is reopened or the mode switched)."""
        return self.desk.executor

    def _reload_risk(self) -> None:
        self.loaded = core_state.load_all(self.db, self.loaded)
        self.config = self.loaded.config
        self.risk.reload(self.loaded.limits, self.loaded.memory, self.mode, self.loaded.strategy_limits)
        self.lookout.configure(self.config)
        self.config_problems = core_state.report_problems(self.db, self.loaded.problems, self.config_problems)
        self.risk.limits_checked(self.loaded.unkept_limits)
        for name, why in self.loaded.invalid_strategies.items():  # never on a wider default limit
            self.host.disable(name, f"invalid configuration: {why}")
            self.executor.withdraw(name, order_end.because(order_end.DISABLED, "invalid configuration"))

    # -- the Trading seam --------------------------------------------------------------

    async def start(self, *, operator: bool = False) -> None:
        self.ledger_ready = False
        starting_cash = core_state.prepare(self.db, self.mode, operator_start=operator)
        if starting_cash is not None:
            self.executor.cash_book.opening_deposit(starting_cash)
        if operator:
            self.risk.errors = breakers.ErrorCounter()  # the faults the halt was about are behind us
            self.desk.passes.rearm()
        self._reload_risk()
        await self.link.discover()
        self.selection.load()
        await self.desk.connect()
        report = await recover(self.executor, self.desk.settlement if self.replay is None else None,
                               settle_resolutions=self.scheduled.settle_missed if self.replay is None else None)
        self.ledger_ready = True  # what the ledger holds is known again (its snapshots may be written)
        if report.cash_flow:
            self.risk.cash_flow(report.cash_flow)
        if self.mode == "live":
            self.risk.balances_checked(report.mismatches)
            self.lookout.balance_watch.started(self.clock())
        await self.link.ensure_fees()
        await self.scheduled.settle_missed()
        self.link.subscribe()
        await self.feed.start()
        if self.replay is None:
            self.trading_since = self.clock()
            self.scheduled.snapshot("scheduled")  # the equity curve starts when trading does
            self.own_markouts.restore(self.db, self.mode, self.clock())  # toxicity survives a restart
            await self.link.start_reference()
            if self.recorder is not None:
                await self.recorder.start()
            await self._open_ledgers(rearm=operator)
            self.link.subscribe()  # what the other ledgers hold, followed too (opened after the desk subscribed)
            if self._loop is None or self._loop.done():
                # Its own context: the loop's placements are the strategies', not those of the
                # start command that happened to launch it (storage/command_queue/command_effects.py).
                self._loop = asyncio.create_task(self._run(), name="trading-loop", context=contextvars.Context())
        else:
            await self._open_ledgers()  # a backtest of a strategy on a venue armed on its own trades its paper ledger
        self.deciding = True

    async def pause(self) -> int:
        """Strategies stop deciding and their orders are withdrawn (the operator's stay); returns
        how many of theirs were working."""
        self.deciding = False
        working = sum(1 for o in self.executor.state.orders.values() if o.strategy not in OPERATOR_BOOKS)
        for ledger in self.ledgers.all():  # the others: their orders are cancelled by their next pass
            ledger.withdraw(why=order_end.PAUSED)
        await self.executor.reconcile()
        return working

    async def resume(self) -> None:
        self.deciding = True
        self.events.mark_all()

    async def stop(self) -> None:
        self.deciding = False
        self.ledger_ready = False  # its books stop moving: nothing more to value until the next start
        self.host.save_memory()  # what the strategies learnt, for the next start (trading/hosting/strategy_memory.py)
        self.gate.block()
        self.executor.withdraw(why=order_end.STOPPED)
        await self._drain_orders()
        await self._stop_loop()
        await self.ledgers.close_others()
        await self.link.close_feeds()
        if self.recorder is not None:
            await self.recorder.close()
        await self.scheduled.follower.close()
        await self.desk.disconnect()

    async def kill(self) -> dict[str, Any]:
        """Cancel everything; after a kill-switch trip with `kill_flatten` on, also sell what is
        held (the one order ever sent under the latch, asked for by the engine itself). The
        order gate was closed where the kill was claimed (engine/process/commands.py)."""
        self.deciding = False
        await self.desk.connect()
        result: dict[str, Any] = dict(await self.executor.kill())
        for ledger in self.ledgers.others():
            result[ledger.answer_key] = await ledger.kill()
        if self.flatten_after_kill:
            self.flatten_after_kill = False
            result["flatten"] = await operator_actions.flatten(self.desk, self.risk, {}, deciding=False,
                                                               after_kill=True)
        return result

    async def cancel_at_venue(self) -> None:
        await self.desk.cancel_at_venue()

    async def cancel_everything(self) -> dict[str, Any]:
        self.deciding = False
        await self.desk.connect()
        try:
            result = dict(await self.executor.kill())
            for venue, mode in self.ledgers.armed.items():  # each venue armed live on its own
                if mode == "live" and adapter_of(venue).armable(self.settings):
                    result[f"{venue}_live"] = await downtime_cancels.cancel_recorded(self.desk, self.risk, venue)
        finally:
            await self.desk.disconnect()
        return result

    async def clear_start_halts(self) -> str | None:
        """An operator's Start while running: end a halt that a Start ends (an error-rate halt, a
        balance mismatch), as a Start from stopped would. A balance halt is checked again at once
        and the cash difference booked (the operator has looked), so it does not come straight back.
        Returns what it cleared, or None when nothing was halted that way."""
        for ledger in self.ledgers.others():
            await ledger.rearm()  # a venue ledger's halt ends with the operator's Start too (alerted when it does)
        reason = self.risk.memory.reason
        if self.risk.memory.trading_state is breakers.TradingState.ACTIVE or \
                reason not in core_state.CLEARED_BY_START:
            return None
        if reason == breakers.DECISIONS_FAILING and not self.desk.passes.deciding:
            raise CommandRejected(self.desk.passes.still_failing())
        self.desk.passes.rearm()
        with self.db.write() as conn:
            breakers.relax(conn, reason, "cleared by the operator's Start", self.clock())
            self.risk.memory = breakers.load_memory(conn)
        self.risk.errors = breakers.ErrorCounter()
        self.risk.refusals = breakers.RefusalCounter()
        if reason == breakers.BALANCE_MISMATCH and self.mode == "live" and self.desk.live:
            await self.lookout.resync_balances(self.desk, self.risk, now=self.clock(),
                                               feed_down_s=self.config.alert_feed_down_s)
        return reason

    async def reload_config(self) -> dict[str, Any]:
        self._reload_risk()
        self.catalog.load(self.db)
        versions = self.selection.reload(self.executor)
        await self.link.ensure_fees()
        self.link.subscribe()
        await self.link.start_reference()
        self.desk.reconfigure()
        if self.desk.live:
            await self._open_ledgers()
            self.link.subscribe()
        self.events.mark_all()  # limits, parameters, markets: every decision reads them
        return {"strategies": versions, "markets": sorted(self.host.markets())}

    async def set_mode(self, mode: str, venue: str | None = None) -> None:
        """Only while stopped. The desk's (`venue` None): the risk memory forgets the other mode's peak and day (the
        controller resets them in the database, audited). A venue armed on its own: its ledger opens in `mode`
        at the next Start (its breakers are kept per mode)."""
        if venue is not None and venue in self.ledgers.armed:
            self.ledgers.armed[venue] = mode
            return
        self.ledger_ready = False  # the new mode's ledger is empty until a start recovers it
        self.risk.reload(self.risk.limits, self.risk.memory, mode)
        await self.desk.switch_mode(mode)
        self.desk.collections.switched_venue()

    async def close(self) -> None:
        await self.stop()

    def heartbeat_facts(self) -> tuple[int | None, int | None]:
        """What the heartbeat records for `engine status` and the metrics endpoint: the age of the
        oldest book the feed follows (None: it follows none; a book never received has no age and
        is left out, FEED_DOWN reports a feed that delivers nothing), and when the desk's last
        trading pass completed, or trading last started if later (None: neither yet), whose age
        is how long the desk has not decided."""
        passed = max((at for at in (self.desk.passes.last_ok_at, self.trading_since) if at is not None), default=None)
        if not self.desk.live:
            return None, passed
        now = self.clock()
        ages = [now - at for t in self.link.feed.subscribed() if (at := self.books.updated_ms(t)) is not None]
        return (max(ages) if ages else None), passed

    def jobs(self) -> list[Job]:
        return [*self.scheduled.all(), Job("strategy_memory", self.host.keep_memory,
                                           IntervalTrigger(seconds=MEMORY_SAVE_S))]

    # -- the tick ----------------------------------------------------------------------

    async def _run(self) -> None:
        """The timed pass every `tick_interval_ms`; between two, the markets events marked, one at a
        time, the loop given back after each (the feeds, the commands and the heartbeat run between)."""
        locked = False
        loop = asyncio.get_running_loop()
        schedule = self.events.schedule
        while True:
            now = self.clock()
            try:
                await self.tick()
                locked = False
                self.desk.passes.passed(now)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # Fail closed between passes too: no market is decided on events until a pass completes
                # (its guard halts the desk when they keep failing; a good pass releases the hold).
                self.events.holding = True
                if not is_locked(exc):
                    log.exception("tick failed")
                    # The other ledgers' decisions come from this pass: none of them decided either.
                    for ledger in self.ledgers.all():
                        if ledger.live or ledger.desk:
                            await failed(ledger, exc, now)
                elif not locked:  # another process holds the write lock: nothing is placed unrecorded
                    locked = True
                    log.warning("tick skipped: the database is locked by another process; trading resumes "
                                "when it is released")
            next_pass = loop.time() + self.config.tick_interval_ms / 1000
            schedule.min_gap_s = self.config.decision_min_gap_ms / 1000
            await asyncio.sleep(0)
            while (left := next_pass - loop.time()) > 0:
                if schedule.due:
                    await schedule.step()
                    await asyncio.sleep(0)
                else:
                    await schedule.wait(left)

    async def tick(self) -> portfolio.Valuation:
        """One pass of every ledger (passes/ledger_pass.py), the desk's first: the strategies of every ledger
        decide within the desk's, once its exits have started. Returns the valuation the desk's breakers
        judged (a backtest records it)."""
        now = self.clock()
        if self.recorder is not None:
            self.recorder.mark_decision(now)
        desk = self.desk
        desk.prepare()
        views = self.views.of(self.link.relevant_markets(), now)
        self.indicators.want(wanted_indicators(self.config.indicators, views, self.host.hosted.values()), views, now)
        views = self.indicators.observe(views, self.books, now)
        self.own_markouts.observe(now)
        dark = self._fills_dark(now)
        holding = dark and not self.config.fills_dark_cancel  # fills dark, resting orders kept: no order moves
        lead_ms = self.config.game_start_withdraw_s * 1000
        deciding = self.deciding and not holding
        decided: dict[LedgerKey, list[Intent]] = {}  # each ledger's strategies', once the desk's exits started
        crossing: list[cross_arbs.Decided] = []  # the cross-venue strategies', each leg on its own ledger

        def desk_intents() -> list[Intent]:
            by_ledger, found = self.deciders.decide(now, views)
            decided.update(by_ledger)
            crossing.extend(found)
            return decided.get(self.ledgers.desk_key, [])

        valuation = await desk.run_pass(now, views, desk_intents if deciding else None, lead_ms,
                                        deciding=self.deciding, also=self._same_mode(desk), fills_dark=dark,
                                        holding=holding)
        for key, ledger in self.ledgers.by_key():  # each guarded on its own: one that fails stops only itself
            await guarded_pass(ledger, now, functools.partial(
                ledger.tick, now, views, functools.partial(_intents_of, decided, key) if deciding else None, lead_ms,
                deciding=deciding, also=self._same_mode(ledger)), contain=self.replay is None)
        if crossing:  # after every ledger's pass: each leg checked by its own ledger's risk as it stands now
            await self.cross.run(crossing, self.link.references.pairs(), now)
        self.events.passed(views, holding=holding, fills_dark=dark, started=now)
        return valuation

    def _same_mode(self, ledger: Ledger) -> list[ExecutionState]:
        """The other ledgers trading in `ledger`'s mode: the total exposure limit spans the venues of one money."""
        return [other.executor.state for other in self.ledgers.all()
                if other is not ledger and other.mode == ledger.mode and (other.live or other.desk)]

    def _fills_dark(self, now: int) -> bool:
        """Live: whether the desk holds because it cannot see its fills (engine/trading/lookouts/fills_dark.py)."""
        if self.replay is not None or self.mode != "live":
            return False
        since = getattr(self.executor.venue, "fills_dark_since", None)
        return self.fills_dark.update(since, now, after_s=self.config.fills_dark_s,
                                      cancel=bool(self.config.fills_dark_cancel))

    async def _kill_switch(self, message: str, now: int) -> None:
        """The desk's kill switch: the order gate closes at once and a kill is posted for every ledger
        (with a flatten after it when `kill_flatten` is on)."""
        self.gate.block()
        self.flatten_after_kill = self.risk.request_kill(message, now)

    async def _open_ledgers(self, *, rearm: bool = False) -> None:
        await self.opening.open_others(rearm=rearm)

    def _wire(self, ledger: Ledger) -> None:
        """A new ledger other than the desk's: its fills and faults heard as the desk's are."""
        ledger.bus.on_error = self.lookout.handler_failed
        ledger.bus.subscribe(FillApplied, lambda _: self.scheduled.note_fill())
        ledger.bus.subscribe(FillApplied, self.own_markouts.on_fill)
        self.events.listen(ledger.bus)

    async def _drain_orders(self) -> None:
        """Cancel strategy orders and wait (bounded) for the venue's ACKs."""
        deadline = asyncio.get_running_loop().time() + STOP_DRAIN_S
        while self.desk.live and asyncio.get_running_loop().time() < deadline:
            await self.executor.reconcile()
            self.executor.drain()
            if all(o.strategy in OPERATOR_BOOKS for o in self.executor.state.orders.values()):
                return
            await asyncio.sleep(0.1)

    async def _stop_loop(self) -> None:
        if self._loop is not None:
            self._loop.cancel()
            await asyncio.gather(self._loop, return_exceptions=True)
            self._loop = None


def _intents_of(decided: dict[LedgerKey, list[Intent]], key: LedgerKey) -> list[Intent]:
    """A ledger's strategies' intents, as the desk's pass decided them."""
    return decided.get(key, [])
