"""One ledger's pass: the steps every ledger runs each tick, the desk's and each one beside it.

A protection written here applies to every ledger (engine/trading/core.py runs it for the desk's ledger,
engine/trading/passes/venue_ledger.py for each one beside it). After the ledger's own bookkeeping (its
venue advanced, its events drained, what only it settles), one pass: the risk context built on its ledger
(`also`: the other ledgers of its mode, whose exposure the total limit counts too); its exits started
before its strategies' intents are gated (held out where an exit sells, before a game starts, while its
venue pauses) and handed to its executor; its orders reconciled with its intents; unevenly filled
arbitrage sets completed or unwound; its book valued and its breakers judged; then its kill switch, or
its exits taken. What truly differs between ledgers is data (`LedgerParts`): what its kill switch does
(the desk's closes the order gate and posts a kill for every ledger; one beside it cancels its own
orders and the desk trades on), what its venue holds back, what watches it between settling and valuing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from contracts.domain import Intent, MarketView
from engine.execution import portfolio
from engine.trading.exits.game_start import hold_for_game_start
from engine.trading.exits.strategy_exits import Exit, hold_out, start_exits, take_exits
from engine.trading.ledgers import arbs
from engine.trading.operator.operator_exits import OperatorExits

if TYPE_CHECKING:
    from engine.execution.state import ExecutionState
    from engine.risk.monitor import RiskMonitor
    from engine.trading.exits.exit_book import ExitBook
    from engine.trading.parts import TradingSite


def no_holds(intents: list[Intent], now: int) -> tuple[list[Intent], list[Any]]:
    return intents, []


@dataclass(frozen=True)
class LedgerParts:
    """One ledger, as its pass sees it: where it trades, its gate, exits and arbitrage, and what of its
    pass is its own."""

    site: TradingSite  # its venue link (the desk's) or itself (one beside it): executor, catalog, marks
    risk: RiskMonitor
    exits: ExitBook
    arbitrage: arbs.Settlements
    operator_exits: OperatorExits  # what the operator asked it to sell
    on_kill: Callable[[str, int], Awaitable[None]]  # what its kill switch does
    venue_holds: Callable[[list[Intent], int], tuple[list[Intent], list[Any]]] = no_holds
    look: Callable[[int], None] | None = None  # watched between settling and valuing (the desk's lookout)


async def ledger_pass(ledger: LedgerParts, now: int, views: dict[str, MarketView],
                      intents: Callable[[], list[Intent]] | None, game_start_lead_ms: int, *, deciding: bool,
                      also: Sequence[ExecutionState] = (), fills_dark: bool = False,
                      holding: bool = False) -> portfolio.Valuation:
    """One pass of `ledger`; returns the valuation its breakers judged. `intents`: its strategies'
    (asked once its exits have started; None: not deciding this pass, orders left as they are);
    `deciding`: whether its exits are taken; `holding`: its venue's fills are dark and its resting
    orders kept, so no order moves (only the desk's venue reports that)."""
    site, risk = ledger.site, ledger.risk
    executor = site.executor
    risk.new_tick(now, executor.state, site.catalog, views, fills_dark=fills_dark, also=also)
    if intents is not None:
        # A strategy whose position must be sold stays out of its market from this pass.
        start_exits(site, risk, ledger.exits, exits_due(ledger))
        gate(ledger, intents(), now, game_start_lead_ms)
    if not holding:
        report = await executor.reconcile()
        risk.residuals(report.residuals, now)
    while executor.partials:  # unevenly filled arbitrage groups: completed or unwound as their strategy asks
        await arbs.settle(site, executor.partials.pop(0), ledger.arbitrage)
    if ledger.arbitrage.pending:
        await arbs.unwind_settled(site, risk.limits, ledger.arbitrage)
    if ledger.look is not None:
        ledger.look(now)
    valuation, books = portfolio.valued(executor.state, site.marks)
    kill = risk.after_tick(now, valuation, books)
    if kill is not None:
        await ledger.on_kill(kill, now)
    elif deciding:
        await take_exits(site, risk, ledger.exits, exits_due(ledger))
    return valuation


def exits_due(ledger: LedgerParts) -> list[Exit]:
    """The operator's exits first, then the strategies' own (stop loss, take profit, ...), as the ledger
    stands now."""
    return ledger.operator_exits.with_strategies(ledger.site, ledger.risk.strategies.limits)


def gate(ledger: LedgerParts, intents: list[Intent], now: int, game_start_lead_ms: int) -> None:
    """Held out where an exit sells, before a game starts and while its venue pauses; then the gate."""
    state = ledger.site.executor.state
    held = ledger.exits.held_markets(lambda key: state.totals(*key).size > 0)
    intents, kickoff = hold_for_game_start(hold_out(intents, held), ledger.site.catalog, now, game_start_lead_ms)
    intents, paused = ledger.venue_holds(intents, now)
    ledger.risk.decisions.write(kickoff + paused, now)
    ledger.site.executor.set_intents(ledger.risk.check(intents, now))
