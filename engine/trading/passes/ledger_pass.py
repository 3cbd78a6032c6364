"""One ledger's pass: the steps every ledger runs each tick, the desk's and each other one.

A protection written here applies to every ledger (engine/trading/core.py runs it for the desk's ledger,
engine/trading/passes/ledger.py for each other one). After the ledger's own bookkeeping (its
venue advanced, its events drained, what only it settles), one pass: the risk context built on its ledger
(`also`: the other ledgers of its mode, whose exposure the total limit counts too); its exits started
before its strategies' intents are gated (held out where an exit sells, before a game starts, while its
venue pauses) and handed to its executor; its orders reconciled with its intents; unevenly filled
arbitrage sets completed or unwound; its book valued and its breakers judged; then its kill switch, or
its exits taken. What truly differs between ledgers is data (`LedgerParts`): what its kill switch does
(the desk's closes the order gate and posts a kill for every ledger; another cancels its own
orders and the desk trades on), what its venue holds back, what watches it between settling and valuing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from contracts.domain import Intent, MarketView
from contracts.due import Due
from engine.execution import portfolio
from engine.risk.monitor import RiskMonitor
from engine.trading.exits.exit_book import ExitBook
from engine.trading.exits.game_start import hold_for_game_start
from engine.trading.exits.strategy_exits import Exit, hold_out, start_exits, take_exits
from engine.trading.exits.trailing import TrailBook, with_trails
from engine.trading.ledgers import arbs
from engine.trading.operator.icebergs import IcebergBook
from engine.trading.operator.operator_exits import OperatorExits
from engine.trading.parts import TradingSite

if TYPE_CHECKING:
    from engine.execution.state import ExecutionState


def no_holds(intents: list[Intent], now: int) -> tuple[list[Intent], list[Any]]:
    return intents, []


@dataclass(frozen=True)
class LedgerParts:
    """One ledger, as its pass sees it: where it trades, its gate, exits and arbitrage, and what of its
    pass is its own."""

    site: TradingSite  # its venue link (the desk's) or itself (another ledger): executor, catalog, marks
    risk: RiskMonitor
    exits: ExitBook
    arbitrage: arbs.Settlements
    operator_exits: OperatorExits  # what the operator asked it to sell
    on_kill: Callable[[str, int], Awaitable[None]]  # what its kill switch does
    venue_holds: Callable[[list[Intent], int], tuple[list[Intent], list[Any]]] = no_holds
    look: Callable[[int], None] | None = None  # watched between settling and valuing (the desk's lookout)
    trails: TrailBook | None = None  # its trailing stops (exits/trailing.py): marks followed, those fired sold
    icebergs: IcebergBook | None = None  # the manual ticket's icebergs on it (operator/icebergs.py): refilled


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
    if ledger.trails is not None:  # the best bids followed, a crossed stop fired (sold with the exits below)
        ledger.trails.observe(site, risk.strategies.limits, risk.limits.ms("max_data_age"), now)
    if intents is not None:
        # A strategy whose position must be sold stays out of its market from this pass.
        start_exits(site, risk, ledger.exits, exits_due(ledger))
        gate(ledger, intents(), now, game_start_lead_ms)
    if not holding:
        report = await executor.reconcile()
        risk.residuals(report.residuals, now)
        if ledger.icebergs is not None:  # a filled slice's next one (paused too: they are the operator's orders)
            await ledger.icebergs.refill(site, risk, now)
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


def clock_parts(ledger: LedgerParts) -> list[Due]:
    """Every part of `ledger`'s pass that reads the clock, each answering when it next changes with
    nothing new (contracts/due.py): what waits on its venue (its executor), its venue's own steps (a
    paper venue's settlements and expiries), its venue's pauses (the ledger), its exits, the operator's,
    its arbitrage legs waiting to settle, its trailing stops and icebergs, then its risk's parts. A part
    added to the pass that reads the clock is registered here (tests/backtest/test_clock_parts.py fails
    until it is)."""
    executor = ledger.site.executor
    # Its venue and the ledger itself where they answer (by the method: an isinstance of a Protocol costs microseconds).
    own = [cast(Due, part) for part in (executor.venue, ledger.site) if hasattr(part, "next_due")]
    standing = [book for book in (ledger.trails, ledger.icebergs) if book is not None]
    return [executor, *own, ledger.exits, ledger.operator_exits, ledger.arbitrage, *standing,
            *ledger.risk.clock_parts()]


def exits_due(ledger: LedgerParts) -> list[Exit]:
    """The operator's exits first, then the strategies' own (stop loss, take profit, ...), as the ledger
    stands now; a fired trailing stop's sale ahead of the strategies' own for the same position."""
    due = ledger.operator_exits.with_strategies(ledger.site, ledger.risk.strategies.limits)
    return due if ledger.trails is None else with_trails(due, ledger.trails.exits(ledger.site))


Hold = Callable[[LedgerParts, list[Intent], int, int], tuple[list[Intent], list[Any]]]


def held_by_exits(ledger: LedgerParts, intents: list[Intent], now: int, lead_ms: int) -> tuple[
        list[Intent], list[Any]]:
    """A strategy stays out of a market where an exit sells its position (an ask there would reserve the
    very shares being sold)."""
    state = ledger.site.executor.state
    return hold_out(intents, ledger.exits.held_markets(lambda key: state.totals(*key).size > 0)), []


def held_before_games(ledger: LedgerParts, intents: list[Intent], now: int, lead_ms: int) -> tuple[
        list[Intent], list[Any]]:
    """No quote in a market whose book the venue clears at its game's start (exits/game_start.py)."""
    return hold_for_game_start(intents, ledger.site.catalog, now, lead_ms)


def held_by_venue(ledger: LedgerParts, intents: list[Intent], now: int, lead_ms: int) -> tuple[
        list[Intent], list[Any]]:
    """Nothing its venue cannot take now (the pauses it announces)."""
    return ledger.venue_holds(intents, now)


# The protections every ledger's intents pass before the risk gate, in order, on the timed pass and on
# events alike: a hold added here applies to every ledger's decisions both ways
# (tests/trading/test_one_gate_path.py).
HOLDS: list[Hold] = [held_by_exits, held_before_games, held_by_venue]


def gate(ledger: LedgerParts, intents: list[Intent], now: int, game_start_lead_ms: int) -> list[Intent]:
    """The holds (`HOLDS`), each quote held out logged with its reason; then the risk gate, whose
    answer becomes the ledger's intents. Returns what the gate let through."""
    decisions: list[Any] = []
    for hold in HOLDS:
        intents, said = hold(ledger, intents, now, game_start_lead_ms)
        decisions += said
    ledger.risk.decisions.write(decisions, now)
    checked = ledger.risk.check(intents, now)
    ledger.site.executor.set_intents(checked)
    return checked


async def decide_between(ledger: LedgerParts, intents: list[Intent], now: int, views: dict[str, MarketView],
                         game_start_lead_ms: int, *, also: Sequence[ExecutionState] = (),
                         fills_dark: bool = False) -> bool:
    """Between two timed passes (engine/trading/passes/event_decisions.py): the intents a decision on
    events found, through the same holds and gate as the timed pass, gated against the ledger as it is
    now and placed. False when every one is what is in force already (nothing checked, logged or
    planned). Only what the decision changed is planned again; a group spanning markets is judged
    whole or not with all its legs, so then everything is."""
    executor = ledger.site.executor
    changed = [i for i in intents if not executor.unchanged(i)]
    if not changed:
        return False
    ledger.risk.new_tick(now, executor.state, ledger.site.catalog, views, fills_dark=fills_dark, also=also,
                         timed=False)
    checked = gate(ledger, changed, now, game_start_lead_ms)
    both = (*changed, *checked)  # the keys the gate answered for, whatever it did with them
    grouped = any(q.group for intent in both for q in intent.quotes)
    report = await executor.reconcile(None if grouped else {(i.strategy, i.condition_id) for i in both})
    ledger.risk.residuals(report.residuals, now)
    return True
