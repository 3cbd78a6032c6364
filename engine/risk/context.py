"""Assembling the risk gate's context each tick, and the core's risk side effects:
logging a placement refusal and asking for a kill when the kill-switch drawdown trips."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from contracts.domain import MarketInfo, MarketView, yes_space
from contracts.limits import Limits
from engine.execution.exposure import event_key
from engine.execution.planner import OrderSpec, Residual
from engine.execution.state import ExecutionState
from engine.feeds.catalog import MarketCatalog
from engine.risk.breakers import KILL_SWITCH_PREFIX, RiskMemory
from engine.risk.decisions_log import DecisionsLog
from engine.risk.gate import Decision, Reason, RiskContext, TradingState
from engine.risk.strategy_risk import StrategyRisk
from storage.command_queue.commands import post_command
from storage.sqlite.db import Database

RISK_ACTOR = "risk"
REASONS = {reason.value: reason for reason in Reason}


def build(now: int, state: ExecutionState, catalog: MarketCatalog, views: Mapping[str, MarketView],
          limits: Limits, memory: RiskMemory, strategies: StrategyRisk | None = None,
          cooldowns: Mapping[tuple[str, str], int] | None = None,
          market_states: Mapping[str, TradingState] | None = None, fills_dark: bool = False,
          groups: Mapping[str, str] | None = None, also: Sequence[ExecutionState] = ()) -> RiskContext:
    """`also`: the other ledgers of the same money (another venue's of this mode): their exposure
    counts toward the total exposure limit, which holds across venues in dollars (pUSD as dollars).
    The ledgers' figures are read as their executors keep them (engine/execution/figures.py), not
    folded from their orders and positions: what this costs does not grow with what they hold."""
    figures = state.figures
    caps = {name: lim.usdc("allocation") for name, lim in (strategies.limits if strategies else {}).items()
            if lim.usdc("allocation") > 0}
    return RiskContext(
        now_ms=now, trading_state=memory.trading_state, limits=limits,
        exposure=figures.exposure(event_lookup(catalog), sum(s.figures.total for s in also)),
        open_orders=len(state.orders),
        own_open_orders=dict(figures.own_open), positions=dict(figures.positions), markets=views,
        strategy_states=strategies.states() if strategies else {}, strategy_caps=caps,
        cooldowns={key: until for key, until in (cooldowns or {}).items() if until > now},
        market_states=dict(market_states or {}), fills_dark=fills_dark, groups=dict(groups or {}),
    )


def event_lookup(catalog: MarketCatalog) -> Callable[[str], str]:
    """A market's event for the limits (a market the catalog does not know is its own)."""
    def event_of(condition_id: str) -> str:
        market = catalog.get(condition_id)
        return event_key(market) if market is not None else condition_id
    return event_of


def log_refusal(log: DecisionsLog, strategy: str, market: MarketInfo, spec: OrderSpec, reason: str, now: int,
                detail: str = "refused at placement") -> None:
    side, price = yes_space(spec.outcome, spec.side, spec.price)
    code = REASONS.get(reason) or Reason(reason)  # the lookup: an Enum call costs more, on every refusal
    log.write([Decision(strategy, market.condition_id, side, price, spec.size, 0, code, detail)], now)


def log_residuals(log: DecisionsLog, residuals: Mapping[tuple[str, str], tuple[Residual, ...]], now: int) -> None:
    """What the planner could not turn into a legal order, so "why didn't it trade?" has an answer."""
    decisions = []
    for (strategy, condition_id), items in residuals.items():
        for residual in items:
            if residual.code is None:
                continue
            side, price = yes_space(residual.outcome, residual.side, residual.price)
            decisions.append(Decision(strategy, condition_id, side, price, residual.size, 0, Reason(residual.code),
                                      residual.reason))
    log.write(decisions, now)


def request_kill(db: Database, message: str, *, trip_key: str) -> None:
    """Post a kill (top priority, audited, latched).

    `trip_key` names this trip (the tick that saw it): posting it again is a no-op, while a
    second trip after a re-arm, even the same day, posts a kill of its own. The flatten a
    kill-switch kill may run (`kill_flatten`) is the engine's own: it never travels as a
    command, so no operator payload can ask for a flatten under the latch."""
    post_command(db, "kill", {"reason": f"{KILL_SWITCH_PREFIX}: {message}"}, actor=RISK_ACTOR,
                 idempotency_key=f"risk-kill:{trip_key}")
