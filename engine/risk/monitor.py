"""The risk side of the trading core: the gate with its per-tick context, the decisions log,
the venue error counter, and the breakers run after each tick.

The core asks it three things: check these intents, may this order go, and what does the
book of positions now mean for the trading state (and, at the kill-switch drawdown, a kill).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from contracts import order_end
from contracts.domain import Intent, MarketInfo, MarketView, Quote, Side, yes_space
from contracts.limits import Limits
from engine.execution.bus import EventBus, PlacementRefused, PlacementsAnswered, VenueFault
from engine.execution.planner import TAKE, OrderSpec, Residual
from engine.execution.portfolio import StrategyBook, Valuation
from engine.execution.state import ExecutionState
from engine.feeds.catalog import MarketCatalog
from engine.risk import breakers, conflicts, gate_notes, self_trade
from engine.risk import context as risk_context
from engine.risk.correlation_guard import CorrelationGuard
from engine.risk.decisions_log import DecisionsLog
from engine.risk.gate import Budget, Decision, Reason, RiskContext, RiskGate, TradingState
from engine.risk.groups import drop_groups
from engine.risk.strategy_risk import StrategyRisk
from engine.risk.take_backoff import TakeBackoff, book_signature, hold_takes
from engine.risk.volatility_guard import VolatilityGuard
from engine.venues.refusals import about_the_book
from storage.sqlite.db import Database

log = logging.getLogger("engine.risk")


@dataclass(frozen=True)
class ManualVerdict:
    quotes: tuple[Quote, ...]
    reason: str  # "" when approved as asked


def whole_group(asked: list[Intent], checked: list[Intent], limits: Limits) -> list[Intent] | None:
    """The group's legs at the size every leg can take (the smallest approved), or None when a
    leg was refused, or the common size would be dust (below the min order value)."""
    asked_quotes = [q for i in asked for q in i.quotes]
    got = [q for i in checked for q in i.quotes]
    if len(got) != len(asked_quotes) or not got:
        return None
    size = min(q.size for q in got)
    if any(size * q.price // 1_000_000 < limits.usdc("min_order_value") for q in got):
        return None
    return [replace(i, quotes=tuple(replace(q, size=size) for q in i.quotes)) for i in checked]


class RiskMonitor:
    def __init__(self, db: Database, mode: str, limits: Limits, memory: breakers.RiskMemory,
                 clock: Callable[[], int]):
        self.db = db
        self.clock = clock
        self.limits = limits
        self.memory = memory
        self.strategies = StrategyRisk(db, mode, clock)  # each strategy's own breakers
        self.cooldowns: dict[tuple[str, str], int] = {}  # (strategy, market) -> no new risk until (ms)
        self.gate = RiskGate()
        self.errors = breakers.ErrorCounter()
        self.refusals = breakers.RefusalCounter()  # the venue refusing most orders halts this ledger
        self.volatility = VolatilityGuard(db)  # the volatility-spike breaker, fed each tick
        self.correlation = CorrelationGuard(db)  # correlated groups and the correlation-spike breaker
        self.takes = TakeBackoff()  # takes held back after the venue refused one, until the book changes
        self.decisions = DecisionsLog(db, mode)
        self.ctx: RiskContext | None = None
        # What this tick's checks have left of the limits: every check in a tick (the desk's pass, then a
        # cross-venue leg) continues from it, so a later check never starts again from the tick's start.
        self.budget: Budget | None = None
        self.state: ExecutionState | None = None  # the executor's live state, for the desk's own orders
        self.kill_requested = False
        self.limits_changed = False
        self.quotes_checked = 0  # quotes `check` was handed, and placements refused (engine/backtest/refusals.py)

    def reload(self, limits: Limits, memory: breakers.RiskMemory, mode: str,
               strategy_limits: Mapping[str, Limits] | None = None) -> None:
        """New limits and memory (from the database), or a mode switch: the other mode's peak
        and day reference mean nothing for this mode's equity (the controller persists that)."""
        if limits != self.limits:
            self.limits_changed = True  # a raised daily-loss limit may end its REDUCING state
        self.limits, self.memory = limits, memory
        if mode != self.decisions.mode:
            self.memory = breakers.forget_equity(memory)
            self.decisions = DecisionsLog(self.db, mode)
            self.cooldowns.clear()
        with self.db.read() as conn:
            self.strategies.load(conn, mode)
        if strategy_limits is not None:
            self.strategies.set_limits(strategy_limits)

    # -- before trading ----------------------------------------------------------------

    def new_tick(self, now: int, state: ExecutionState, catalog: MarketCatalog,
                 views: Mapping[str, MarketView], *, fills_dark: bool = False,
                 also: Sequence[ExecutionState] = (), timed: bool = True) -> None:
        """`also`: the other venues' ledgers of this mode, whose exposure the total limit counts too.
        `timed` False: a decision between timed passes (engine/trading/passes/event_decisions.py) on a few
        markets' `views`: the context is built again from the ledger as it is now, the breakers that
        judge every market over time (volatility, correlation) keep their last pass's verdicts."""
        self.state = state
        if timed:
            self.memory = self.volatility.tick(views, self.limits, self.memory, now)
            self.memory = self.correlation.tick(views, self.limits, self.memory, now)
        elif self.ctx is not None:
            views = {**self.ctx.markets, **views}
        self.ctx = risk_context.build(now, state, catalog, views, self.limits, self.memory, self.strategies,
                                      self.cooldowns, self.volatility.market_states, fills_dark=fills_dark,
                                      groups=self.correlation.groups, also=also)
        self.budget = None

    def check(self, intents: list[Intent], now: int) -> list[Intent]:
        """Approve, trim or refuse every quote; the trims and refusals go to the decisions log."""
        assert self.ctx is not None
        self.quotes_checked += sum(len(i.quotes) for i in intents)
        approved: dict[int, Intent] = {}
        decisions: list[Decision] = []
        intents = self._conflicts(intents, decisions)
        intents = self._no_self_trades(intents, decisions)
        intents = self._held_takes(intents, decisions, now)
        budget = self._tick_budget()
        groups: dict[str, list[int]] = {}
        for i, intent in enumerate(intents):  # each approval consumes the tick's budget: the next intent sees it
            group = intent.quotes[0].group if intent.quotes else ""
            if group:
                groups.setdefault(group, []).append(i)
                continue
            approved[i], why = self.gate.check_intent(intent, self.ctx, budget)
            decisions += why
        for group, members in groups.items():
            budget = self._check_group(group, [intents[i] for i in members], budget, approved, members, decisions)
        self.budget = budget
        self.decisions.write(decisions, now)
        self.decisions.regimes(intents, now)
        self.decisions.forecasts(intents, now)
        return gate_notes.noted([approved[i] for i in range(len(intents))], decisions)

    def _conflicts(self, intents: list[Intent], decisions: list[Decision]) -> list[Intent]:
        """Strategies wanting opposite things in one market: the surer one trades (engine/risk/conflicts.py)."""
        assert self.ctx is not None
        markets, state = self.ctx.markets, self.state

        def net_yes(strategy: str, condition_id: str) -> int:
            view = markets.get(condition_id)
            return state.position_view(strategy, view.info).net_yes if view is not None and state is not None else 0

        kept, refusals = conflicts.settle(intents, net_yes, self._priorities())
        return _held_back(intents, kept, refusals, Reason.CONFLICT, "a leg waits for a surer strategy's opposite want",
                          decisions)

    def _no_self_trades(self, intents: list[Intent], decisions: list[Decision]) -> list[Intent]:
        """Quotes that would trade with the desk's own orders wait (engine/risk/self_trade.py); an
        arbitrage missing a leg for that waits whole."""
        # Only the markets decided: an order elsewhere can match none of these quotes.
        markets = {intent.condition_id for intent in intents}
        orders = self_trade.resting(self.state.open_in(markets)) if self.state is not None else []
        kept, refusals = self_trade.arbitrate(intents, orders, self._priorities())
        return _held_back(intents, kept, refusals, Reason.SELF_TRADE, "a leg would trade with the desk's own order",
                          decisions)

    def _priorities(self) -> dict[str, int]:
        return {name: lim.count("priority") for name, lim in self.strategies.limits.items()}

    def _held_takes(self, intents: list[Intent], decisions: list[Decision], now: int) -> list[Intent]:
        """Takes held back after a refused one, until the market's book changes (take_backoff.py)."""
        assert self.ctx is not None
        kept, held = hold_takes(intents, self.takes, self.ctx.markets, now)
        decisions += [Decision(i.strategy, i.condition_id, q.side, q.price, q.size, 0, Reason.TAKE_HELD,
                               "a take here was refused (nothing left to match): takes wait for the book to change")
                      for i, q in held]
        kept, dropped = drop_groups(intents, kept, {q.group for _, q in held if q.group})
        decisions += [Decision(i.strategy, i.condition_id, q.side, q.price, q.size, 0, Reason.GROUP_INCOMPLETE,
                               "a leg's take is held until its book changes") for i, q in dropped]
        return kept

    def _tick_budget(self) -> Budget:
        """What the tick's earlier checks left, or the whole of it from the tick's start."""
        assert self.ctx is not None
        if self.budget is None:
            self.budget = Budget.of(self.ctx.exposure, self.ctx.open_orders, self.ctx.own_open_orders,
                                    self.ctx.groups)
        return self.budget

    def _check_group(self, group: str, intents: list[Intent], budget: Budget, approved: dict[int, Intent],
                     members: list[int], decisions: list[Decision]) -> Budget:
        """An arbitrage's legs are approved whole, at one common size, or not at all: checked on
        a copy of the budget, kept only when every leg passes."""
        assert self.ctx is not None
        if why := self._not_a_set(intents):
            decisions += [Decision(i.strategy, i.condition_id, q.side, q.price, q.size, 0, Reason.NEG_RISK_INCOMPLETE,
                                   f"group {group}: {why}") for i in intents for q in i.quotes]
            for k, i in zip(members, intents, strict=True):
                approved[k] = replace(i, quotes=(), reason=order_end.because(order_end.PROTECTION, why))
            return budget
        trial = budget.copy()
        checked = [self.gate.check_intent(intent, self.ctx, trial) for intent in intents]
        whole = whole_group(intents, [c for c, _ in checked], self.limits)
        for k, (member, intent) in enumerate(zip(members, intents, strict=True)):
            decisions += checked[k][1]
            approved[member] = whole[k] if whole else replace(
                intent, quotes=(), reason=order_end.because(order_end.PROTECTION, "a leg of its group was refused"))
        if whole:
            return trial
        decisions += [Decision(i.strategy, i.condition_id, q.side, q.price, q.size, 0, Reason.GROUP_INCOMPLETE,
                               f"group {group}: a leg was refused or could not be sized, so no leg is placed")
                      for i in intents for q in i.quotes]
        return budget

    def _not_a_set(self, intents: list[Intent]) -> str:
        """Why a group spanning several markets of one neg-risk event is not a complete set ("" when
        it is, or when the group is one market's YES and NO): buying one YES of each outcome pays 1
        only if they are all the event's outcomes."""
        assert self.ctx is not None
        markets = {i.condition_id for i in intents}
        if len(markets) < 2:
            return ""
        views = [self.ctx.markets.get(cid) for cid in sorted(markets)]
        if any(v is None or not v.info.neg_risk for v in views):
            return "a leg is not a market of a neg-risk event, so the legs are not one event's outcomes"
        if len({v.info.neg_risk_market_id for v in views if v is not None}) > 1:
            return "the legs belong to different neg-risk events"
        for view in views:
            refusal = view.info.neg_risk_set_refusal if view is not None else None
            if refusal is None:
                return "its event's outcome set was never judged, so it is not known to be complete"
            if refusal:
                return refusal
        return ""

    def check_manual(self, intent: Intent, view: MarketView, now: int) -> ManualVerdict:
        """An operator's ticket through the gate, outside the tick, against `view` (which the
        placement check sees too): its book's other orders stay, so their exposure and slots
        are not its to reuse. Refused or trimmed, it says why (and the decision is logged); an
        operator is never handed a silently smaller order."""
        if self.ctx is None:
            return ManualVerdict((), "the engine has no market picture yet: try again in a moment")
        self.ctx = replace(self.ctx, markets={**self.ctx.markets, intent.condition_id: view})
        ctx = replace(self.ctx, now_ms=now)
        key = (intent.strategy, intent.condition_id)
        budget = self._tick_budget().copy()  # a ticket's approval is not the tick's: it is checked again at placement
        budget.own_orders.pop(key, None)
        budget.own_open.pop(key, None)
        checked, decisions = self.gate.check_intent(intent, ctx, budget)
        self.decisions.write(decisions, now)
        trimmed = [d for d in decisions if d.approved < d.requested]
        if trimmed or not checked.quotes:
            why = "; ".join(f"{d.reason.value}{f' ({d.detail})' if d.detail else ''}"
                            + (f", it would allow {d.approved / 1e6:g} shares" if d.approved else "")
                            for d in decisions) or "no quote approved"
            return ManualVerdict((), why)
        return ManualVerdict(checked.quotes, "")

    def check_placement(self, strategy: str, market: MarketInfo, spec: OrderSpec, open_orders: int) -> str | None:
        if self.ctx is None:
            return Reason.STALE_DATA.value
        reason = self._self_trade_at_placement(market, spec) if self.state is not None else None
        if reason is None:  # (before the gate's check, which counts the order toward the order rate)
            reason = self.gate.check_placement(self.ctx, strategy, market, spec, open_orders, now_ms=self.clock())
        return None if reason is None else reason.value

    def listen(self, bus: EventBus) -> None:
        """Log every placement the executor did not make (the decisions log: "why didn't it
        trade?") and count every real venue fault toward the error-rate breaker."""
        bus.subscribe(PlacementRefused, self._placement_refused)
        bus.subscribe(PlacementsAnswered, lambda answered: self.refusals.accepted(answered.accepted, self.clock()))
        bus.subscribe(VenueFault, lambda fault: self.venue_error(fault.message))

    def _placement_refused(self, event: PlacementRefused) -> None:
        self.placement_refused(event.strategy, event.market, event.spec, event.reason, event.detail)
        if event.by_venue and event.reason == Reason.VENUE_REFUSED and not about_the_book(event.detail):
            halt = self.refusals.refused(event.detail, self.clock())
            if halt is not None:
                self.escalate(TradingState.HALTED, breakers.VENUE_REFUSING, halt)
        elif event.by_venue and event.reason == Reason.VENUE_REGION:
            self.escalate(*region_escalation(event.spec, event.detail))

    def _self_trade_at_placement(self, market: MarketInfo, spec: OrderSpec) -> Reason | None:
        """The last word: an order that would match any live order of the desk's never leaves."""
        assert self.state is not None
        live = self.state.open_in((market.condition_id,))
        if not live:
            return None
        side, price = yes_space(spec.outcome, spec.side, spec.price)
        found = self_trade.crossing(side, price, self_trade.resting(live))
        return None if found is None else Reason.SELF_TRADE

    def placement_refused(self, strategy: str, market: MarketInfo, spec: OrderSpec, reason: str,
                          detail: str = "refused at placement") -> None:
        # A placement refused (at its last check, by the venue's health or by the venue) is a check of its
        # own: an order the gate approved on an earlier pass and refused again now is counted again, so a
        # backtest's refusals never outnumber its checks (engine/backtest/refusals.py).
        self.quotes_checked += 1
        if reason == Reason.VENUE_REFUSED and spec.tif in TAKE and self.ctx is not None:
            self.takes.refused(strategy, market.condition_id,
                               book_signature(self.ctx.markets.get(market.condition_id)), self.clock())
        risk_context.log_refusal(self.decisions, strategy, market, spec, reason, self.clock(), detail)

    def residuals(self, residuals: Mapping[tuple[str, str], tuple[Residual, ...]], now: int) -> None:
        risk_context.log_residuals(self.decisions, residuals, now)

    def venue_error(self, message: str) -> None:
        """A real venue fault (the executor already told refusals and maintenance apart)."""
        log.info("venue error counted toward the error-rate breaker", extra={"error": message})
        self.errors.record(self.clock())

    # -- after trading -----------------------------------------------------------------

    def after_tick(self, now: int, valuation: Valuation,
                   books: Mapping[str, StrategyBook] | None = None) -> str | None:
        """Track the peak and the day, run the breakers (global, and each strategy's own on
        `books`); returns a kill reason when the kill-switch drawdown is reached (once per trip:
        the caller blocks orders and posts the kill; a later trip, after the drawdown cleared,
        asks again)."""
        if books is not None:
            self.strategies.after_tick(books, now)
        updated = breakers.next_equity_memory(self.memory, valuation.equity, now)
        if updated != self.memory:  # a new peak or a new day: most ticks write nothing
            self._remember_equity(updated)
        verdict = breakers.evaluate(self.limits, equity=valuation.equity, peak=self.memory.peak_equity or 0,
                                    day_start=self.memory.day_start_equity or valuation.equity,
                                    errors=self.errors.count(now))
        self._relax_if_cleared(verdict)
        self.limits_changed = False  # seen by one evaluation: after that a daily loss waits for 00:00 UTC
        if verdict.reason is not None:
            self.escalate(verdict.target, verdict.reason, verdict.message)
        if not verdict.kill:
            self.kill_requested = False
        elif not self.kill_requested:
            self.kill_requested = True
            return verdict.message
        return None

    def _relax_if_cleared(self, verdict: breakers.Verdict) -> None:
        """End a REDUCING state whose breach no longer holds: a drawdown as soon as equity is
        back within the limit; a daily loss only after its limit was changed (otherwise it
        waits for 00:00 UTC). A different breach that holds is escalated again right after."""
        state, reason = self.memory.trading_state, self.memory.reason
        if state is not TradingState.REDUCING or reason == verdict.reason:
            return
        if breakers.SEVERITY[verdict.target] > breakers.SEVERITY[TradingState.REDUCING]:
            return  # escalating to HALTED anyway
        if reason == breakers.DRAWDOWN:
            message = "equity recovered to within the max-drawdown limit"
        elif reason == breakers.DAILY_LOSS and self.limits_changed:
            message = "the max-daily-loss limit changed and is no longer exceeded"
        else:
            return
        self._relax(reason, message)

    def _remember_equity(self, updated: breakers.RiskMemory) -> None:
        """A new peak or a new day, persisted (the desk's breakers outlive a restart)."""
        with self.db.write() as conn:
            breakers.save_equity_memory(conn, self.memory, updated)
        self.memory = updated

    def _relax(self, reason: str, message: str) -> None:
        with self.db.write() as conn:
            breakers.relax(conn, reason, message, self.clock())
            self.memory = breakers.load_memory(conn)
        log.info("trading state relaxed", extra={"cleared": reason})

    def escalate(self, target: TradingState, reason: str, message: str) -> None:
        if breakers.SEVERITY[target] <= breakers.SEVERITY[self.memory.trading_state]:
            return  # already at least this cautious: nothing to write
        with self.db.write() as conn:
            if breakers.escalate(conn, self.memory, target, reason, message, self.clock()):
                self.memory = breakers.load_memory(conn)
                log.warning("trading state escalated", extra={"state": target.value, "reason": reason})
        if self.ctx is not None and breakers.SEVERITY[target] > breakers.SEVERITY[self.ctx.trading_state]:
            self.ctx = replace(self.ctx, trading_state=target)  # the gate acts on it now, not from the next pass

    def balances_checked(self, mismatches: list[str]) -> None:
        """Live: the venue's token balances against the ledger. A mismatch halts; a halt for
        a mismatch ends by itself once a later check agrees (settlement caught up)."""
        if mismatches:
            self.escalate(TradingState.HALTED, breakers.BALANCE_MISMATCH, "; ".join(mismatches))
            return
        if self.memory.trading_state is TradingState.HALTED and self.memory.reason == breakers.BALANCE_MISMATCH:
            with self.db.write() as conn:
                breakers.relax(conn, breakers.BALANCE_MISMATCH, "the venue's token balances agree with the ledger "
                               "again", self.clock())
                self.memory = breakers.load_memory(conn)
            log.info("trading state relaxed", extra={"cleared": breakers.BALANCE_MISMATCH})

    def limits_checked(self, unkept: frozenset[str]) -> None:
        """Risk limits stored invalid with no valid value in force to keep (a first start after a
        bad write) must not trade on a default that may be wider than intended: HALTED until every
        one validates again, which ends the halt by itself (the operator fixes it on the Risk page)."""
        if unkept:
            self.escalate(TradingState.HALTED, breakers.CONFIG_INVALID,
                          f"stored risk limits {', '.join(sorted(unkept))} do not validate and no valid "
                          "value is in force to keep: fix them on the Risk page")
            return
        if self.memory.trading_state is TradingState.HALTED and self.memory.reason == breakers.CONFIG_INVALID:
            with self.db.write() as conn:
                breakers.relax(conn, breakers.CONFIG_INVALID, "every stored risk limit validates again",
                               self.clock())
                self.memory = breakers.load_memory(conn)
            log.info("trading state relaxed", extra={"cleared": breakers.CONFIG_INVALID})

    @property
    def halted_for_balances(self) -> bool:
        return self.memory.trading_state is TradingState.HALTED and self.memory.reason == breakers.BALANCE_MISMATCH

    def cash_flow(self, amount: int) -> None:
        """Money moved into (+) or out of (-) the wallet is neither a gain nor a loss: the peak
        and the day's reference move with it, so a withdrawal does not read as a drawdown."""
        moved = breakers.shift_equity(self.memory, amount)
        with self.db.write() as conn:
            breakers.save_equity_memory(conn, self.memory, moved)
        self.memory = moved

    def daily_reset(self, equity: int) -> None:
        with self.db.write() as conn:
            self.memory = breakers.daily_reset(conn, self.memory, equity, self.clock())

    def request_kill(self, message: str, now: int) -> bool:
        """Post the kill; True when the kill that follows should also flatten (`kill_flatten`)."""
        risk_context.request_kill(self.db, message, trip_key=str(now))
        return self.limits.flag("kill_flatten")


def _held_back(intents: list[Intent], kept: list[Intent], refusals: list[self_trade.Refusal], reason: Reason,
               leg_why: str, decisions: list[Decision]) -> list[Intent]:
    """The quotes a rule held back, logged with its reason; an arbitrage missing a leg for it waits whole."""
    decisions += [Decision(r.strategy, r.condition_id, r.quote.side, r.quote.price, r.quote.size, 0, reason, r.detail)
                  for r in refusals]
    kept, dropped = drop_groups(intents, kept, {r.quote.group for r in refusals if r.quote.group})
    decisions += [Decision(i.strategy, i.condition_id, q.side, q.price, q.size, 0, Reason.GROUP_INCOMPLETE, leg_why)
                  for i, q in dropped]
    return kept


def region_escalation(spec: OrderSpec, said: str) -> tuple[TradingState, str, str]:
    """The venue refused an order for this server's region: one opening a position (a BUY), close-only,
    so the desk only reduces (sells what it holds); one closing a position (a SELL), blocked outright."""
    if spec.side is Side.BUY:
        return (TradingState.REDUCING, breakers.REGION_CLOSE_ONLY,
                f"the venue takes only orders that close positions from this server's region (close-only: "
                f"{said[:200]}): the desk sells what it holds and opens nothing; only the operator's Start "
                "ends it (run `engine preflight` first: its region line)")
    return (TradingState.HALTED, breakers.REGION_BLOCKED,
            f"the venue refuses even orders that close positions from this server's region (blocked: "
            f"{said[:200]}): nothing is sent; only the operator's Start ends it (run `engine preflight` "
            "first: its region line)")
