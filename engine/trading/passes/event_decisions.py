"""Decisions on events, live: a change that matters to a market decides that market at once, not at
the next timed pass (issue 58 item 1).

What marks a market (each `mark` is a few dict lookups; the decision runs later, from the core's
loop, through `DecisionSchedule`: coalesced per market, first marked first decided, the loop given
back between two decisions, at most one decision per market per `decision_min_gap_ms`):

- its book: the touch moved, or a level changed within the reach of a strategy quoting it
  (`StrategyBase.reach`; a change further out waits for the timed pass); when every strategy deciding
  it reads only its YES touch's prices (`StrategyBase.reads_touch_prices`), a move of those prices
  alone (depth, sizes, the NO book and prints cannot change what they decide);
- a trade print in it (not for such a market);
- the desk's own fill, order update or placement the venue refused there (every ledger's bus); a
  resting quote the venue refused is left out of the decisions on events until the next timed pass
  starts (`RefusedQuotes`): that pass tries it again, so a refusal that lasts is retried at the timed
  cadence, not once per decision. A placement refused before it was sent (the desk's own last check:
  the order rate, the venue's health) marks nothing: nothing the decision reads changed, and deciding
  again would only be refused again (issue 86 item 10: each such refusal after a timed pass cost a
  decision on events, which a backtest skipping quiet passes did not make, so its counts differed);
- an operator's command naming it; a reload of the configuration, a resume: every market.

A market's decision is the timed pass's decide-gate-place steps for the strategies hosting it, on
its views only: each strategy on that market alone, or on all its markets when it decides them
together (`StrategyBase.decides_whole`: neg-risk groups, a reward ranking). Cross-venue strategies
are decided by the timed pass only. Two short-circuits make a decision cost what changed: a market
whose inputs (books, the ledgers' rows for it, the timed passes, the configuration) are what they
were at its last decision returns at once; intents equal to those in force whose plan moves nothing
stop before the risk gate and the planner (no decisions-log row).

The timed pass (`TradingCore.tick`) still decides every market each `tick_interval_ms`: it is the
safety net for a missed trigger, and what time alone drives (valuation and breakers, exits, game
starts, staleness, references and signals) stays there.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Protocol

from contracts.domain import Intent, MarketView, Side, yes_space
from contracts.order_status import OrderStatus
from contracts.runtime_settings import RuntimeConfig
from engine.execution.bus import EventBus, FillApplied, OrderAdvanced, PlacementRefused
from engine.execution.executor import Executor
from engine.execution.state import ExecutionState
from engine.feeds.market_data_events import BookChanged, MarketEvent, TradePrint
from engine.trading.hosting.strategy_host import StrategyHost
from engine.trading.hosting.views import Views
from engine.trading.parts import ReplaySource
from engine.trading.passes.deciding import Deciders, Scope
from engine.trading.passes.decision_schedule import DecisionSchedule
from engine.trading.passes.ledger_pass import decide_between
from engine.trading.passes.refused_quotes import RefusedQuotes
from engine.trading.passes.routing import Ledgers

log = logging.getLogger("engine.trading.passes.event_decisions")

TOUCH = -1  # a reach that reads the touch's prices alone (StrategyBase.reads_touch_prices)
IN_FLIGHT = frozenset({OrderStatus.PENDING_SUBMIT, OrderStatus.CANCEL_PENDING})


class Core(Protocol):
    """What a market's decision reads of the trading core (engine/trading/core.py): the settings in force,
    whether it decides, its ledgers and strategies, how the strategies decide and what they see."""

    config: RuntimeConfig
    replay: ReplaySource | None
    deciding: bool
    host: StrategyHost
    ledgers: Ledgers
    deciders: Deciders
    views: Views

    def clock(self) -> int: ...


class EventDecisions:
    """The triggers and the per-market decision of one core. Live, the feed's listener and the buses
    mark markets and the core's loop runs the schedule; a backtest's replay marks them from the rows it
    applies and runs the schedule after each at its simulated time (engine/backtest/event_replay.py)."""

    def __init__(self, core: Core) -> None:
        self.core = core
        clock = None if core.replay is None else (lambda: core.clock() / 1000)  # a replay's simulated time
        self.schedule: DecisionSchedule[str] = DecisionSchedule(self.decide, self._failed, clock=clock)
        self.holding = True  # until a timed pass says the desk may move orders (fills dark, not started)
        self.fills_dark = False
        self.passes = 0  # timed passes so far: each may change what a decision reads
        self.generation = 0  # configuration reloads, resumes: a decision after one is never skipped
        self.views: Mapping[str, MarketView] = {}  # the last timed pass's (their indicators are reused)
        self._scopes: dict[str, Scope] | None = None  # market -> who decides what, rebuilt each pass
        self._reach: dict[str, int] = {}  # market -> the widest reach of the strategies quoting it
        self._touch_only: dict[str, bool] = {}  # market -> its deciders read only its YES touch's prices
        self._touch: dict[str, tuple[object, ...]] = {}  # token -> its levels within reach, last seen
        self._seen: dict[str, tuple[object, ...]] = {}  # market -> its inputs at its last decision
        self.unchanged_inputs = 0  # decisions skipped: nothing they read had changed
        self.unchanged_intents = 0  # decisions stopped before the gate: the quotes in force are wanted
        self.refused = RefusedQuotes()  # resting quotes the venue refused: left to the next timed pass

    # -- the triggers ----------------------------------------------------------------------------

    def listen(self, bus: EventBus) -> None:
        """A ledger's own fills, order updates and refusals decide their market again."""
        bus.subscribe(FillApplied, lambda e: self.mark(e.condition_id))
        bus.subscribe(OrderAdvanced, lambda e: self.mark(e.order.condition_id))
        bus.subscribe(PlacementRefused, self._refused)

    def _refused(self, event: PlacementRefused) -> None:
        self.refused.refused(event, self.core.clock())
        if event.by_venue:
            self.mark(event.market.condition_id)

    def on_market_event(self, event: MarketEvent) -> None:
        if isinstance(event, BookChanged):
            info = self.core.views.catalog.by_token(event.token_id)
            reach = self.reaches().get(info.condition_id) if info is not None else None
            if info is None or reach is None:
                return
            if self.touch_only(info.condition_id):
                if event.token_id == info.yes_token and self._moved(event.token_id, TOUCH):
                    self.schedule.mark(info.condition_id)
            elif self._moved(event.token_id, reach):
                self.schedule.mark(info.condition_id)
        elif isinstance(event, TradePrint):
            info = self.core.views.catalog.by_token(event.token_id)
            if info is not None and not self.touch_only(info.condition_id):  # (one reading prices only: not a print)
                self.mark(info.condition_id)

    def touch_only(self, condition_id: str) -> bool:
        """Whether every strategy deciding `condition_id` on events reads only its YES touch's prices
        (`StrategyBase.reads_touch_prices`): only a move of those marks it, not depth or prints."""
        if self._scopes is None:
            self._scope_map()
        return self._touch_only.get(condition_id, False)

    def mark(self, condition_id: object) -> None:
        """`condition_id`'s decision is due (ignored unless a strategy decides it)."""
        if isinstance(condition_id, str) and condition_id in self.reaches():
            self.schedule.mark(condition_id)

    def mark_all(self) -> None:
        """Something every market reads changed (the configuration, limits, the mode, a resume)."""
        self.generation += 1
        self._scopes = None
        self.schedule.mark_all(sorted(self._scope_map()))

    def _moved(self, token_id: str, reach: int) -> bool:
        """Whether the book of `token_id` changed at its touch or within `reach` of it (TOUCH: the touch's
        prices only; live, the desk's own orders left out: their coming and going is not the market
        moving)."""
        book = self.core.views.own.book(token_id)
        if book is None:
            return False
        bids, asks = book.bids, book.asks
        seen: tuple[object, ...]
        if reach == TOUCH:
            seen = (bids[0].price if bids else None, asks[0].price if asks else None)
        else:
            seen = (tuple(lv for lv in bids if lv.price >= bids[0].price - reach) if bids else (),
                    tuple(lv for lv in asks if lv.price <= asks[0].price + reach) if asks else ())
        if self._touch.get(token_id) == seen:
            return False
        self._touch[token_id] = seen
        return True

    # -- what a timed pass tells ----------------------------------------------------------------

    def passed(self, views: Mapping[str, MarketView], *, holding: bool, fills_dark: bool, started: int) -> None:
        """After a timed pass that started at `started`: what it saw, and whether orders may move
        between passes (the quotes refused before it started were tried again by it)."""
        self.views, self.holding, self.fills_dark = views, holding, fills_dark
        self.refused.passed(started)
        self.passes += 1
        self._scopes = None  # the strategies or their markets may have changed: read again when asked

    def reaches(self) -> dict[str, int]:
        """Each market decided on events, and the widest reach of the strategies quoting it (a new
        dict whenever the strategies or their markets may have changed)."""
        if self._scopes is None:
            self._scope_map()
        return self._reach

    def _scope_map(self) -> dict[str, Scope]:
        """Each market a strategy decides on events, and what its decision covers."""
        if self._scopes is None:
            scopes: dict[str, Scope] = {}
            reach: dict[str, int] = {}
            touch: dict[str, bool] = {}
            for name, hosted in self.core.host.hosted.items():
                if hosted.instance.spans_venues:
                    continue  # both venues' legs together: the timed pass's
                whole = tuple(hosted.markets) if hosted.instance.decides_whole() else None
                for cid in hosted.markets:
                    scopes.setdefault(cid, {})[name] = whole or (cid,)
                    reach[cid] = max(reach.get(cid, 0), hosted.instance.reach())
                    touch[cid] = touch.get(cid, True) and hosted.instance.reads_touch_prices()
            self._scopes, self._reach, self._touch_only = scopes, reach, touch
        return self._scopes

    # -- one market's decision ------------------------------------------------------------------

    async def decide(self, condition_id: str) -> None:
        core = self.core
        if core.config.decide_on_events and core.ledgers.desk.live:
            await self.decide_market(condition_id)

    async def decide_market(self, condition_id: str) -> None:
        """One market's decision (bench/decision_cost.py times it on a backtest's core)."""
        core = self.core
        if not core.deciding or self.holding:
            return
        scope = self._scope_map().get(condition_id)
        if not scope:
            return
        desk = core.ledgers.desk
        desk.executor.drain()
        markets = sorted({m for ms in scope.values() for m in ms})
        if self._in_flight(scope):  # the venue's answer marks it again (a decision over an order the
            return                  # venue has not confirmed would replace what it is placing)
        inputs = self._inputs(markets, self._touch_only.get(condition_id, False))
        if self._seen.get(condition_id) == inputs:
            self.unchanged_inputs += 1
            return
        self._seen[condition_id] = inputs
        now = core.clock()
        views = self._views(markets, now)
        decided = core.deciders.decide(now, views, only=scope)[0]
        hold = self.refused.hold  # (less the quotes the venue refused since the last timed pass)
        trading = [(ledger, hold(_within(scope, decided.get(key, [])), _working(ledger.executor)))
                   for key, ledger in ((core.ledgers.desk_key, desk), *core.ledgers.by_key())
                   if ledger is desk or ledger.live]
        executors = [ledger.executor for ledger, _ in trading]  # every one's exposure counts
        lead_ms = core.config.game_start_withdraw_s * 1000
        placed = False
        for ledger, theirs in trading:  # each through its own holds and gate, as its timed pass sends them
            if ledger is not desk:
                # A ledger whose last pass failed decides nothing until one completes (its guard fails it
                # closed; the desk's holds all decisions on events until its pass completes: `holding`).
                if not theirs or not ledger.passes.deciding:
                    continue
                ledger.executor.drain()
            placed = await decide_between(ledger.parts, theirs, now, views, lead_ms, also=_same_mode(
                ledger.executor, executors), fills_dark=self.fills_dark and ledger is desk) or placed
        if placed:
            self.schedule.acted(condition_id)
        else:
            self.unchanged_intents += 1

    def _in_flight(self, scope: Scope) -> bool:
        """Whether an order of these strategies there awaits the venue (placed or cancelled, unanswered)."""
        ledgers = [ledger.executor.state for ledger in self.core.ledgers.trading()]
        return any(o.status in IN_FLIGHT for state in ledgers for name, markets in scope.items()
                   for cid in markets for o in state.open_for(name, cid))

    def _inputs(self, markets: Sequence[str], touch: bool) -> tuple[object, ...]:
        """What a decision of these markets reads, as versions: equal means it would decide the same.
        `touch`: every strategy deciding them reads only the YES touch's prices of their books
        (`StrategyBase.reads_touch_prices`): a market's books count by those (and its facts), not by
        every change (a change within reach but behind the touch decides nothing then)."""
        core = self.core
        catalog, books, own = core.views.catalog, core.views.books, core.views.own
        token_books = books.token_books()
        parts: list[object] = [self.passes, self.generation, core.ledgers.desk.risk.memory.trading_state]
        for cid in markets:
            info = catalog.get(cid)
            if info is None:
                continue
            if touch and not own.nets(info.yes_token):  # (a netted touch moves with our orders)
                parts.append((info, books.best_prices(info.yes_token)))
                continue
            for token in (info.yes_token, info.no_token):
                book = token_books.get(token)
                parts.append(None if book is None else (book.version, book.updated_ms))
                parts.append(id(books.last_trade(token)))
        parts.append(core.ledgers.desk.executor.state.versions(markets))
        parts += [ledger.executor.state.versions(markets) for ledger in core.ledgers.others() if ledger.live]
        return tuple(parts)

    def _views(self, markets: Sequence[str], now: int) -> dict[str, MarketView]:
        """The markets as the timed pass would see them, their indicators as it last computed them."""
        views = self.core.views.of(markets, now)
        for cid, view in views.items():
            last = self.views.get(cid)
            if last is not None and last.indicators:
                views[cid] = replace(view, indicators=last.indicators)
        return views

    def _failed(self, condition_id: str, error: Exception) -> None:
        # The timed pass decides the market again and, if it fails too, its guard fails closed.
        log.error("an event-driven decision failed", extra={"market": condition_id, "error": str(error)})


def _same_mode(executor: Executor, ledgers: Sequence[Executor]) -> list[ExecutionState]:
    """The other ledgers of `executor`'s mode, whose exposure its total exposure limit counts too."""
    return [e.state for e in ledgers if e is not executor and e.mode == executor.mode]


def _working(executor: Executor) -> Callable[[str, str], list[tuple[Side, int]]]:
    """The YES side and price of each open order of a strategy in a market, in this ledger."""
    return lambda strategy, cid: [yes_space(o.outcome, o.side, o.price) for o in executor.state.open_for(strategy, cid)]


def _within(scope: Scope, intents: list[Intent]) -> list[Intent]:
    """Only the markets each strategy was asked about (one that answers for all its markets must not
    withdraw the others' quotes on a snapshot that left them out)."""
    return [i for i in intents if i.condition_id in scope.get(i.strategy, ())]
