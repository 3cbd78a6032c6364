"""The trading core: feeds -> strategies -> risk gate -> executor -> venue, once per tick.

It implements the `Trading` seam the lifecycle drives (start, pause, resume, stop, kill,
reload, mode switch) and owns the tick loop. Each tick: advance paper settlement, build the
market picture, ask every enabled strategy for intents (isolated), pass them through the
risk gate (decisions logged), hand the approved intents to the executor, reconcile, then
value the book and run the breakers.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import text

from engine.trading import arbs, core_state, operator_actions
from engine.feeds.catalog import MarketCatalog
from engine.domain import Book, Intent, MarketView
from engine.execution import portfolio
from engine.execution.executor import OPERATOR_BOOKS, Executor
from engine.execution.lookups import ExecutorConfig
from engine.execution.portfolio import StrategyBook
from engine.execution.recovery import recover
from engine.trading.exit_book import ExitBook
from engine.trading.exits import Exit, find_exits, hold_out, start_exits, take_exits
from engine.execution.bus import EventBus
from engine.feeds.books import BookCache
from engine.feeds.discovery import enrich_fees, make_refresh_job
from engine.feeds.events import MarketEvent, MarketResolved, TickSizeChanged
from engine.feeds.market_ws import MarketFeed
from engine.feeds.reference import ReferenceFeed
from engine.marketdata.recorder import Recorder
from engine.analytics.markout_job import MarkoutJob
from engine.trading.collections import Collections
from engine.trading.resolution import settle_missed_resolutions
from engine.trading.rewards import RewardTracker, reward_job
from engine.feeds.rest import RestClient
from engine.trading.ticks import apply_tick_change
from engine.trading.balance_watch import BalanceWatch
from engine.trading.venue_conditions import ConditionBoard, live_conditions
from engine.contracts.limits import Limits
from engine.contracts.strategy_limits import DEFAULTS as STRATEGY_DEFAULTS
from engine.risk import breakers
from engine.risk.monitor import RiskMonitor
from engine.contracts.command_refusal import CommandRejected
from engine.trading.jobs import CoreJobs, Job
from engine.trading.strategy_host import Failure, StrategyHost
from engine.venues.base import Venue
from engine.venues.paper import PaperConfig, PaperVenue
from engine.venues.paper_settlement import PaperSettlement
from engine.venues.settlement import SettlementVenue
from engine.trading.parts import Feed, ReplaySource
from engine.trading.views import candidates, load_fair_values, market_views, snapshot, strategy_state
from engine.trading.watch import Thresholds, Watch
from storage.audit import AlertLevel, raise_alert
from storage.db import Database, is_locked, now_ms
from engine.contracts.settings import Settings

log = logging.getLogger("engine.trading.core")


FAIR_VALUE_RELOAD_MS = 5_000
STOP_DRAIN_S = 5.0
REWARD_DEPTH = 100  # book levels the rewards estimate reads (the max spread is a few cents)


class TradingCore:
    def __init__(self, settings: Settings, db: Database, *, clock: Callable[[], int] = now_ms,
                 replay: ReplaySource | None = None):
        """`replay` runs the same core on recorded data (a backtest): no network, no recording,
        no wall-clock loop, deterministic order ids and paper settlement seed."""
        self.settings = settings
        self.db = db
        self.clock = clock
        self.replay = replay
        self.books = BookCache()
        self.catalog = MarketCatalog()
        # The feed stamps books with the core's clock: staleness is measured on one clock.
        self.feed: Feed = replay.feed(self.books) if replay else MarketFeed(settings.ws_host, settings.clob_host,
                                                                               self.books, clock_ms=clock)
        self.reference: ReferenceFeed | None = None
        self.host = StrategyHost(db, clock)
        self.loaded = core_state.load_all(db)
        self.config = self.loaded.config
        self.config_problems: set[str] = set()
        self.mode = core_state.current_mode(db)
        self.risk = RiskMonitor(db, self.mode, self.loaded.limits, self.loaded.memory, clock)
        # What the executor tells (fills, refusals, faults, the venue's phase) goes out on one
        # bus that outlives each executor built here (a mode switch, a reopened venue).
        self.bus = EventBus()
        self.risk.listen(self.bus)
        self.watch = Watch(self._alert, self._thresholds())
        self.watch.listen(self.bus, clock)
        self.conditions = ConditionBoard(db)
        self.conditions.listen(self.bus)
        self.executor = self._build_executor()
        self.exits = ExitBook()
        self.collections = Collections(self, self._build_settlement())
        self.rewards = RewardTracker(db, clock, sample_s=self.config["reward_sample_s"])
        self.deciding = False
        self.scheduled = CoreJobs(self)
        self.trading_since: int | None = None  # when trading last started (the early snapshots' clock)
        self.flatten_after_kill = False  # set by a kill-switch trip when kill_flatten is 1
        self._selection: dict[str, int] = {}  # markets each strategy selects, as last recorded
        self.arbitrage = arbs.Settlements()  # legs of unevenly filled arbitrages waiting to be unwound
        self.balance_watch = BalanceWatch(self._alert)
        self.fair_values: dict[str, int] = {}
        self._fair_at = 0
        self._loop: asyncio.Task[None] | None = None
        self.venue_live = False
        self.refresh_markets = make_refresh_job(db, settings.gamma_host, settings.clob_host,
                                                traded=self.relevant_markets)
        self.books.add_listener(self._on_market_event)
        self.recorder = None if replay else Recorder(db.path, self.books, depth=self.config["record_depth"])
        if self.recorder is not None:
            self.books.add_listener(self.recorder.on_market_event)
        self.markouts = MarkoutJob(db)  # a backtest computes its own (engine/backtest/runner.py)

    # -- construction ------------------------------------------------------------------

    def _build_executor(self) -> Executor:
        venue: Venue
        if self.mode == "paper":
            venue = PaperVenue(self.db, self.books, self.catalog, clock=self.clock, config=self._paper_config())
        else:
            # Imported here: the live venue's client (signing, web3) takes a second to import,
            # which a paper desk or a backtest never needs.
            from engine.venues.polymarket import PolymarketVenue, VenueConfig

            venue = PolymarketVenue(self.settings, VenueConfig(heartbeat_s=self.config["venue_heartbeat_s"]),
                                    fees=self.catalog.fee_schedule)
        counter = iter(range(1, 2**62))
        ids = (lambda: f"bt-{next(counter)}") if self.replay else None
        return Executor(self.db, venue, self.catalog, mode=self.mode, clock=self.clock, new_client_id=ids,
                        placement_check=self.risk.check_placement, bus=self.bus,
                        config=ExecutorConfig(lost_grace_ms=self.settings.lost_order_grace_s * 1000))

    def _build_settlement(self) -> SettlementVenue:
        """Where positions end in cash: the paper venue's own redemptions, or Polymarket's."""
        if self.mode == "paper":
            return PaperSettlement(self.db, self.catalog, clock=self.clock,
                                   delay_ms=self.config["paper_mined_after_ms"])
        from engine.venues.polymarket_settlement import PolymarketSettlement

        return PolymarketSettlement(self.settings)

    @property
    def settlement(self) -> SettlementVenue:
        return self.collections.venue

    @property
    def limits(self) -> Limits:
        return self.risk.limits

    def _reload_risk(self) -> None:
        self.loaded = core_state.load_all(self.db, self.loaded)
        self.config = self.loaded.config
        self.risk.reload(self.loaded.limits, self.loaded.memory, self.mode, self.loaded.strategy_limits)
        self.watch.configure(self._thresholds())
        self.config_problems = core_state.report_problems(self.db, self.loaded.problems, self.config_problems)
        self.risk.limits_checked(self.loaded.unkept_limits)
        for name, why in self.loaded.invalid_strategies.items():  # never on a wider default limit
            self.host.disable(name, f"invalid configuration: {why}")
            self.executor.withdraw(name)

    # -- the Trading seam --------------------------------------------------------------

    def _paper_config(self) -> PaperConfig:
        mined = self.config["paper_mined_after_ms"]
        seed = self.replay.seed if self.replay else self.settings.simulator_seed
        return PaperConfig(mined_after_ms=mined, confirmed_after_ms=mined * 3,
                           fail_rate=self.config["paper_fail_rate"], seed=seed,
                           save_queues_each_tick=self.replay is None)

    async def start(self, *, operator: bool = False) -> None:
        core_state.prepare(self.db, self.mode, operator_start=operator)
        if operator:
            self.risk.errors = breakers.ErrorCounter()  # the faults the halt was about are behind us
        self._reload_risk()
        await self._discover()
        await self.open_venue()
        report = await recover(self.executor, self.settlement if self.replay is None else None)
        if report.cash_flow:
            self.risk.cash_flow(report.cash_flow)
        if self.mode == "live":
            self.risk.balances_checked(report.mismatches)
            self.balance_watch.started(self.clock())
        await self.ensure_fees()
        await self._settle_missed()
        self._subscribe()
        await self.feed.start()
        if self.replay is None:
            self.trading_since = self.clock()
            self.scheduled.snapshot("scheduled")  # the equity curve starts when trading does
            await self._start_reference()
            if self.recorder is not None:
                await self.recorder.start()
            if self._loop is None or self._loop.done():
                # Its own context: the loop's placements are the strategies', not those of the
                # start command that happened to launch it (storage/command_effects.py).
                self._loop = asyncio.create_task(self._run(), name="trading-loop", context=contextvars.Context())
        self.deciding = True

    async def pause(self) -> None:
        self.deciding = False
        self.executor.withdraw()
        await self.executor.reconcile()

    async def resume(self) -> None:
        self.deciding = True

    async def stop(self) -> None:
        self.deciding = False
        self.executor.block()
        self.executor.withdraw()
        await self._drain_orders()
        await self._stop_loop()
        await self.feed.close()
        if self.reference is not None:
            await self.reference.close()
        if self.recorder is not None:
            await self.recorder.close()
        await self._close_venue()

    def block_orders(self) -> None:
        self.executor.block()

    def unblock_orders(self) -> None:
        self.executor.unblock()

    async def kill(self) -> dict[str, Any]:
        """Cancel everything; after a kill-switch trip with `kill_flatten` on, also sell what is
        held (the one order ever sent under the latch, asked for by the engine itself). Orders
        were blocked at the kill's claim; the executor's kill blocks them again for any caller
        outside the command path, before its first call to the venue."""
        self.deciding = False
        await self.open_venue()
        result: dict[str, Any] = dict(await self.executor.kill())
        if self.flatten_after_kill:
            self.flatten_after_kill = False
            result["flatten"] = await operator_actions.flatten(self, {}, after_kill=True)
        return result

    async def cancel_at_venue(self) -> None:
        if self.venue_live:
            await self.executor.venue.cancel_all()

    async def cancel_everything(self) -> dict[str, Any]:
        self.deciding = False
        await self.open_venue()
        try:
            return await self.executor.kill()
        finally:
            await self._close_venue()

    async def clear_start_halts(self) -> str | None:
        """An operator's Start while running: end a halt that a Start ends (an error-rate halt, a
        balance mismatch), as a Start from stopped would. A balance halt is checked again at once
        and the cash difference booked (the operator has looked), so it does not come straight back.
        Returns what it cleared, or None when nothing was halted that way."""
        reason = self.risk.memory.reason
        if self.risk.memory.trading_state is not breakers.TradingState.HALTED or \
                reason not in core_state.CLEARED_BY_START:
            return None
        with self.db.write() as conn:
            breakers.relax(conn, reason, "cleared by the operator's Start", self.clock())
            self.risk.memory = breakers.load_memory(conn)
        self.risk.errors = breakers.ErrorCounter()
        if reason == breakers.BALANCE_MISMATCH and self.mode == "live" and self.venue_live:
            await self.balance_watch.resync(self.executor, self.risk, self.clock())
        return reason

    async def reload_config(self) -> dict[str, Any]:
        self._reload_risk()
        self.catalog.load(self.db)
        before = {name: set(h.markets) for name, h in self.host.hosted.items()}
        versions = self.host.reload(candidates(self.db, self.catalog))
        self._record_selection()
        self._withdraw_dropped(before)
        await self.ensure_fees()
        self._subscribe()
        await self._start_reference()
        if isinstance(self.executor.venue, PaperVenue):
            self.executor.venue.config = self._paper_config()
        return {"strategies": versions, "markets": sorted(self.host.markets())}

    async def set_mode(self, mode: str) -> None:
        """Only while stopped. The risk memory forgets the other mode's peak and day (the
        controller resets them in the database, audited)."""
        await self._close_venue()
        self.mode = mode
        self.risk.reload(self.risk.limits, self.risk.memory, mode)
        self.executor = self._build_executor()
        await self.settlement.close()
        self.collections = Collections(self, self._build_settlement())

    async def handle(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        if kind in ("redeem", "merge"):
            if not self.venue_live:
                raise CommandRejected("the engine is not running: start it first (redemptions and merges go "
                                      "through the running engine, which books what the venue pays)")
            return await self.collections.command(kind, payload)
        return await operator_actions.handle(self, kind, payload)

    async def close(self) -> None:
        await self.stop()

    def jobs(self) -> list[Job]:
        return self.scheduled.all()

    # -- venue and feeds ---------------------------------------------------------------

    async def open_venue(self) -> None:
        if self.venue_live:
            return
        if self.executor.venue_closed:
            self.executor = self._build_executor()
        self.catalog.load(self.db)
        self.conditions.clear()
        await self.executor.start()
        self.venue_live = True

    async def _close_venue(self) -> None:
        if self.venue_live:
            await self.executor.close()
            await self.settlement.close()
            self.venue_live = False
            self.conditions.clear()

    async def _discover(self) -> None:
        if self.replay is None:
            try:
                await self.refresh_markets()
            except Exception as exc:  # the venue may be briefly down: trade what the table knows
                log.warning("market discovery failed; using stored markets", extra={"error": str(exc)})
        self.catalog.load(self.db)
        self.host.reload(candidates(self.db, self.catalog))
        self._record_selection()

    async def ensure_fees(self, condition_ids: list[str] | None = None) -> None:
        """Read the fee schedule of every market we trade, hold or work (or of `condition_ids`:
        a manual ticket's market) whose schedule is not known yet, so neither a preview nor a
        fill ever books an unknown fee as 0."""
        unknown = self.catalog.fees_unknown(self.relevant_markets() if condition_ids is None else condition_ids)
        if not unknown or self.replay is not None:
            return
        try:
            await enrich_fees(self.db, self.settings.clob_host, unknown)
        except Exception as exc:  # the next market refresh tries again
            log.warning("fee schedules could not be read", extra={"markets": len(unknown), "error": str(exc)})
        self.catalog.load(self.db)

    def relevant_markets(self) -> list[str]:
        """Strategies' markets plus any held or worked, sorted: every pass sees them in the
        same order, so a backtest replays the same decisions."""
        held = {cid for (cid, _) in self.executor.state.position_market.values()}
        working = {o.condition_id for o in self.executor.state.orders.values()}
        return sorted(self.host.markets() | held | working)

    def _subscribe(self) -> None:
        tokens = set()
        for cid in self.relevant_markets():
            info = self.catalog.get(cid)
            if info is not None:
                tokens |= {info.yes_token, info.no_token}
        current = self.feed.subscribed()
        if tokens - current:
            self.feed.subscribe(tokens - current)
        if current - tokens:
            self.feed.unsubscribe(current - tokens)

    async def _start_reference(self) -> None:
        url = self.config["reference_feed_url"]
        if self.reference is not None and self.reference.url != url:
            await self.reference.close()
            self.reference = None
        if url and self.reference is None:
            self.reference = ReferenceFeed(url)
            await self.reference.start()

    def marks(self, token_id: str) -> Book | None:
        return self.books.book(token_id, portfolio.MARK_DEPTH)

    def _on_market_event(self, event: MarketEvent) -> None:
        venue = self.executor.venue
        if isinstance(venue, PaperVenue) and self.venue_live:
            venue.on_market_event(event)
        if isinstance(event, MarketResolved) and event.winning_token:
            operator_actions.settle_resolution(self, event.condition_id, event.winning_token)
        elif isinstance(event, TickSizeChanged):
            apply_tick_change(self.catalog, self.db, event, self.clock())

    # -- the tick ----------------------------------------------------------------------

    async def _run(self) -> None:
        locked = False
        while True:
            try:
                await self.tick()
                locked = False
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not is_locked(exc):
                    log.exception("tick failed")
                elif not locked:  # another process holds the write lock: nothing is placed unrecorded
                    locked = True
                    log.warning("tick skipped: the database is locked by another process; trading resumes "
                                "when it is released")
            await asyncio.sleep(self.config["tick_interval_ms"] / 1000)

    async def tick(self) -> portfolio.Valuation:
        """One pass; returns the valuation the breakers judged (a backtest records it)."""
        now = self.clock()
        if self.recorder is not None:
            self.recorder.mark_decision(now)
        if isinstance(self.executor.venue, PaperVenue):
            self.executor.venue.advance()
        self.executor.drain()
        views = market_views(self.relevant_markets(), self.catalog, self.books, self._fair_values(now),
                             self.reference)
        self.risk.new_tick(now, self.executor.state, self.catalog, views)
        if self.deciding:
            start_exits(self, self._exits())  # a strategy whose position must be sold stays out of its market
            held = self.exits.held_markets(lambda key: self.executor.state.totals(*key).size > 0)
            intents = hold_out(self._decide(now, views), held)
            self.executor.set_intents(self.risk.check(intents, now))
        report = await self.executor.reconcile()
        self.risk.residuals(report.residuals, now)
        await self._settle_arbitrage()
        self._watch(now)
        valuation = portfolio.value(self.executor.state, self.marks)
        kill = self.risk.after_tick(now, valuation, portfolio.by_strategy(self.executor.state, self.marks))
        if kill is not None:
            self.executor.block()
            self.flatten_after_kill = self.risk.request_kill(kill, now)
        elif self.deciding:
            await take_exits(self, self._exits())
        return valuation

    def _exits(self) -> list[Exit]:
        return find_exits(self.executor.state, self.marks, self.risk.strategies.limits)

    def _thresholds(self) -> Thresholds:
        c = self.config
        return Thresholds(c["alert_feed_down_s"], c["alert_refusal_burst"], c["alert_low_collateral_usdc"],
                          c["alert_large_fill_usdc"])

    def _alert(self, level: AlertLevel, code: str, message: str) -> None:
        with self.db.write() as conn:
            raise_alert(conn, level=level, source="engine", code=code, message=message)

    def _watch(self, now: int) -> None:
        """The feed's and the venue's health, for the alerts a trader away from the screen needs."""
        if self.replay is not None:
            return
        self.watch.feed_ages([None if (at := self.books.updated_ms(t)) is None else now - at
                              for t in self.feed.subscribed()], now)
        if self.mode == "live":
            self.watch.venue_unreachable(self.executor.health.unreachable_since, now)
            venue, watch = self.executor.venue, self.balance_watch
            self.conditions.publish(live_conditions(
                unreachable_since=self.executor.health.unreachable_since,
                alert_after_s=self.config["alert_feed_down_s"], heartbeats=getattr(venue, "heartbeats", None),
                signer=getattr(getattr(venue, "calls", None), "signer", None),
                drift=watch.alerted_drift, drift_since=watch.drift_since_ms, now=now))

    async def _settle_arbitrage(self) -> None:
        """Unevenly filled arbitrage groups: completed or unwound as their strategy asks."""
        while self.executor.partials:
            await arbs.settle(self, self.executor.partials.pop(0), self.arbitrage)
        if self.arbitrage.pending:
            await arbs.unwind_settled(self, self.arbitrage)

    def _decide(self, now: int, views: dict[str, MarketView]) -> list[Intent]:
        """Every enabled strategy's intents; one that raises is disabled and withdrawn. A
        strategy with an allocation sizes from it (plus its own PnL), not from the wallet:
        each strategy's book is valued (once, before any decides) only if one has one."""
        intents: list[Intent] = []
        books: dict[str, StrategyBook] | None = None
        for name, hosted in list(self.host.hosted.items()):
            allocation = self.risk.strategies.limits.get(name, STRATEGY_DEFAULTS).usdc("allocation")
            if allocation > 0 and books is None:  # deciding changes no order or position: same books
                books = portfolio.by_strategy(self.executor.state, self.marks)
            state = strategy_state(name, hosted.markets, self.catalog, self.executor.state, allocation,
                                   books.get(name) if books is not None else None)
            result = self.host.decide(name, snapshot(now, views, hosted.markets), state, now)
            if isinstance(result, Failure):
                self.host.disable(name, result.error)
                self.executor.withdraw(name)
                continue
            intents += result
        return intents

    def _fair_values(self, now: int) -> dict[str, int]:
        # A replay's scratch database never changes its fair values: read them once.
        if self.replay is not None and self._fair_at:
            return self.fair_values
        if now - self._fair_at > FAIR_VALUE_RELOAD_MS:
            self.fair_values, self._fair_at = load_fair_values(self.db, now), now
        return self.fair_values

    # -- jobs -------------------------------------------------------------

    async def _settle_missed(self) -> None:
        if self.replay is not None:
            return
        try:
            await settle_missed_resolutions(self)
        except Exception as exc:  # best effort: the next refresh tries again
            log.warning("could not check held markets for resolution", extra={"error": str(exc)})

    async def refresh_markets_job(self) -> None:
        """The market refresh: resolutions missed, new markets, each strategy's selection afresh."""
        await self._settle_missed()
        await self.refresh_markets()
        self.catalog.load(self.db)
        before = {name: set(h.markets) for name, h in self.host.hosted.items()}
        self.host.reselect(candidates(self.db, self.catalog))
        self._record_selection()
        self._withdraw_dropped(before)
        self._subscribe()

    async def rewards_job(self) -> None:
        """Liquidity rewards: scoring of the resting orders, estimates and payouts (trading/rewards.py)."""
        if not self.venue_live or self.replay is not None:
            return
        live = self.mode == "live" and hasattr(self.executor.venue, "orders_scoring")
        venue = self.executor.venue if live else None
        refreshed = await reward_job(self.rewards, mode=self.mode, book_of=lambda t: self.books.book(t, REWARD_DEPTH),
                                     yes_token=lambda cid: (m.yes_token if (m := self.catalog.get(cid)) else None),
                                     fetch_page=self._reward_page, venue=venue)  # type: ignore[arg-type]
        if refreshed:
            self.catalog.load(self.db)  # the strategies see each market's program

    async def _reward_page(self, cursor: str) -> Any:
        rest = RestClient(self.settings.clob_host)
        try:
            return await rest.get_json("/rewards/markets/current", {"next_cursor": cursor})
        finally:
            await rest.close()

    def _record_selection(self) -> None:
        """How many markets each strategy selects, for the Strategies page; a strategy whose
        list or filter selects nothing says so with an alert (once, until it selects again)."""
        if self.replay is not None:
            return
        counts = {name: len(h.markets) for name, h in self.host.hosted.items()}
        if counts == self._selection:
            return
        now = self.clock()
        with self.db.write() as conn:
            conn.execute(text("DELETE FROM strategy_selection WHERE name NOT IN (SELECT value FROM json_each(:n))"),
                         {"n": json.dumps(sorted(counts))})
            for name, count in counts.items():
                note = None if count else "its market list or filter selects no market the engine knows"
                conn.execute(text("""INSERT INTO strategy_selection (name, selected, note, updated_at)
                                     VALUES (:n, :c, :note, :now) ON CONFLICT (name) DO UPDATE SET
                                     selected = excluded.selected, note = excluded.note,
                                     updated_at = excluded.updated_at"""),
                             {"n": name, "c": count, "note": note, "now": now})
                if count == 0 and self._selection.get(name) != 0:
                    raise_alert(conn, level="warning", source="engine", code="STRATEGY_NO_MARKETS",
                                message=f"strategy '{name}' selects no market: it quotes nothing until its market "
                                        "list or filter selects one (Strategies page)")
        self._selection = counts

    def _withdraw_dropped(self, before: dict[str, set[str]]) -> None:
        """Strategies disabled or removed, and markets a strategy no longer selects: their
        orders are cancelled on the next pass (orders of other origins are left alone)."""
        for name, markets in before.items():
            hosted = self.host.hosted.get(name)
            keep = set(hosted.markets) if hosted is not None else set()
            for cid in markets - keep:
                self.executor.latest[(name, cid)] = Intent(name, cid, ())

    async def _drain_orders(self) -> None:
        """Cancel strategy orders and wait (bounded) for the venue's ACKs."""
        deadline = asyncio.get_running_loop().time() + STOP_DRAIN_S
        while self.venue_live and asyncio.get_running_loop().time() < deadline:
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
