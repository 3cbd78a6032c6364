"""A ledger: one (venue, mode) the desk trades, with its own executor, risk, exits and settlement.

Every ledger the desk trades at once is one of these, on the desk's own feeds and books
(engine/trading/ledgers/venue_link.py), kept by the core in one map keyed (venue, mode)
(engine/trading/passes/routing.py), each served by the same pass (engine/trading/passes/ledger_pass.py),
timed and on events. Each has its own executor writing its rows (orders, fills, positions, cash, claims
of its venue and mode), its own risk, its own exits, settlement of resolved markets and redemptions,
and its own equity snapshots. Two ledgers never share an order, a position or a dollar of budget; a kill
blocks all (the desk's one order gate) and cancels all.

What differs between them is data, set where each is built:

- **The desk's ledger** (`desk_ledger`): the desk's venue in the desk's mode. It is opened and closed with
  the engine (its recovery, in engine/trading/core.py, settles what resolved while the engine was away and
  books the paper deposit once ever), rebuilt for the other mode by a mode switch, measured by the desk's
  own risk monitor (the desk's breakers), its kill switch closes the order gate and posts a kill for every
  ledger, the desk's lookout watches it, and the operator's manual orders rest in it.
- **Another ledger** (`other_ledger`), opened when its first strategy is hosted: the desk's venue on
  paper beside a live desk (a strategy never promoted trades on paper whatever the desk's mode; on a paper
  desk that is the desk's own ledger), and each venue armed on its own (`venues_armed_alone`), beside any desk,
  in its own armed mode. Its risk (engine/risk/ledger_risk.py) measures the desk's limit values on it and
  halts it, never the desk; its kill switch cancels its own orders and the desk trades on; it settles the
  markets the desk has seen resolve in its pass. On paper, a paper venue stands in for its venue (its fees
  with their rounding, its price grids, its lots), held while its exchange pauses
  (engine/trading/ledgers/exchange_pauses.py). Armed live, it runs on the venue itself (its adapter,
  engine/venues/registry.py): no paper deposit (its cash starts at the venue's balance at the first
  recovery), the venue's settlements booked as its credits, its balances compared with its rows while it
  trades, and only promoted strategies in it, one per market where the venue nets an account's positions
  (`traders_on`, routing.py). Nothing of one venue's is ever sent to another's.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from contracts import order_end
from contracts.domain import Book, Intent, MarketView
from contracts.payouts import Payouts
from contracts.venue_policies import policy_of, venues_armed_alone
from contracts.venues import LABELS, desk_venue
from engine.execution import portfolio
from engine.execution.bus import EventBus
from engine.execution.credits import window
from engine.execution.executor import Executor
from engine.execution.recovery import recover
from engine.risk.breakers import DECISIONS_FAILING
from engine.risk.ledger_risk import VenueLedgerRisk
from engine.risk.monitor import RiskMonitor
from engine.trading.exits.exit_book import ExitBook
from engine.trading.ledgers import arbs
from engine.trading.ledgers.exchange_pauses import held, hold_for_pause
from engine.trading.ledgers.venue_funds import FundsWatch
from engine.trading.lookouts.balance_watch import BalanceWatch
from engine.trading.lookouts.pass_guard import PassGuard
from engine.trading.operator.operator_actions import holdings_in_scope, settle_resolution
from engine.trading.operator.operator_exits import OperatorExits, exit_positions
from engine.trading.passes.ledger_pass import LedgerParts, ledger_pass
from engine.trading.settlement.collections import Collections
from engine.trading.settlement.pair_netting import net_held_pairs
from engine.trading.settlement.void_refunds import book_refunds
from engine.venues.base import SplitAccount, VenueError
from engine.venues.paper import PaperVenue
from engine.venues.registry import adapter_of
from engine.venues.settlement import RefundSource, ResultSource, SettlementVenue
from storage.desk.audit import AlertLevel, raise_alert
from storage.engine_stores import portfolio_snapshots

if TYPE_CHECKING:
    from engine.execution.state import ExecutionState
    from engine.feeds.market_data_events import MarketEvent
    from engine.trading.ledgers.own_orders import OwnOrders
    from engine.trading.ledgers.venue_conditions import ConditionBoard
    from engine.trading.ledgers.venue_link import VenueLink
    from engine.trading.parts import ReplaySource

log = logging.getLogger("engine.trading.passes.ledger")
CLOSE_DRAIN_S = 5.0  # how long a closing ledger waits for its cancels' answers
KillSwitch = Callable[[str, int], Awaitable[None]]


class Ledger:
    """A TradingSite (engine/trading/parts.py) on the desk's feeds: the rows of one (venue, mode)."""

    def __init__(self, link: VenueLink, venue_name: str, mode: str, *, risk: RiskMonitor, bus: EventBus,
                 desk: bool = False, label: str, answer_key: str, balance_watch: BalanceWatch,
                 on_kill: KillSwitch | None = None, look: Callable[[int], None] | None = None,
                 conditions: ConditionBoard | None = None) -> None:
        """Built by `desk_ledger` or `other_ledger`, which say what is the desk's own."""
        self.link = link
        self.venue_name = venue_name
        self.mode = mode
        self.desk = desk  # the desk's own ledger (its lifecycle is the engine's)
        self.settings, self.db, self.clock = link.settings, link.db, link.clock
        self.catalog, self.books = link.catalog, link.books
        self.risk = risk
        self.label = label  # how logs and alerts name it ("the desk", "paper ledger", "<venue> paper", "<venue> live")
        self.answer_key = answer_key  # how the answers to a kill or a flatten name it
        self.bus = bus
        self.executor: Executor = self._executor()
        self.settlement: SettlementVenue = link.build_settlement(mode, venue_name)
        # Live, its orders rest in its venue's books: what decisions, marks and exits read leaves them out
        # (engine/trading/ledgers/own_orders.py). Paper's are never in the book. The desk's are followed by
        # the link's own books from the start.
        self.own: OwnOrders | None = None
        if not desk and mode == "live" and link.replay is None:
            self.own = link.own.follow(venue_name, self.bus, lambda: self.executor.state)
        self.conditions = conditions  # the desk's: its venue's conditions board, cleared as it connects
        self.balance_watch = balance_watch  # live: the venue's balances against its rows (lookouts/balance_watch.py)
        self.collections = Collections(self)
        self.exits = ExitBook()
        self.operator_exits = OperatorExits()  # its positions the operator asked to sell
        self.arbitrage = arbs.Settlements()  # legs of unevenly filled arbitrages waiting to be unwound
        self.strategies: set[str] = set()  # the strategies it trades this tick (the desk's: whoever routes there)
        self.live = False  # its venue is connected
        self.passes = PassGuard(label)  # its passes' failures halt it alone (trading/lookouts/pass_guard.py)
        self.funds: FundsWatch | None = None  # live, its venue's sections said to the operator (venue_funds.py)
        # Its pass: every ledger's (passes/ledger_pass.py), with what is its own.
        self.parts = LedgerParts(self, self.risk, self.exits, self.arbitrage, self.operator_exits,
                                 on_kill=on_kill or self._kill_switch, venue_holds=self._venue_holds, look=look)

    def _executor(self) -> Executor:
        if not self.desk and self.mode == "live" and (
                policy_of(self.venue_name) not in venues_armed_alone()
                or not adapter_of(self.venue_name).reachable(self.settings)):
            raise VenueError(f"no live ledger other than the desk's for {self.venue_name}: the desk's own venue is "
                             "armed with set_mode")
        return self.link.executor_for(self.venue_name, self.mode, self.risk, self.bus)

    @property
    def replay(self) -> ReplaySource | None:
        """A backtest's replay (a backtest is a paper desk: a venue armed on its own has its only other ledger)."""
        return self.link.replay

    def marks(self, token_id: str) -> Book | None:
        """The book a position is valued and sold at: live, without the orders resting there."""
        return self.link.marks(token_id)

    # -- the venue ------------------------------------------------------------------------------

    async def connect(self) -> None:
        """Its venue connected (and its reconciliation started) if it is not yet; a venue closed since
        (a stop, then a start) gets a new executor."""
        if self.live:
            return
        if self.executor.venue_closed:
            self.executor = self._executor()
        if self.conditions is not None:  # the desk's: the catalog read afresh, the venue's conditions anew
            self.catalog.load(self.db)
            self.conditions.clear()
        await self.executor.start()
        self.live = True

    async def disconnect(self) -> None:
        if self.live:
            await self.executor.close()
            await self.settlement.close()
            self.live = False
            if self.conditions is not None:
                self.conditions.clear()

    async def switch_mode(self, mode: str) -> None:
        """The desk's, only while stopped: its venue closed, a new executor and settlement venue for `mode`."""
        await self.disconnect()
        self.mode = mode
        self.executor = self._executor()
        await self.settlement.close()
        self.settlement = self.link.build_settlement(mode, self.venue_name)

    async def cancel_at_venue(self) -> None:
        """Everything of its account at the venue cancelled, nothing written."""
        if self.live:
            await self.executor.venue.cancel_all()

    def reconfigure(self) -> None:
        """The desk's limits and paper settings, as just reloaded."""
        if isinstance(self.risk, VenueLedgerRisk):
            self.risk.sync_limits()
        venue = self.executor.venue
        if isinstance(venue, PaperVenue):
            venue.config = self.link.paper_config(self.venue_name)

    def forward(self, event: MarketEvent) -> None:
        """The paper venue matches its resting orders against the market's own moves."""
        venue = self.executor.venue
        if self.live and isinstance(venue, PaperVenue):
            venue.on_market_event(event)

    # -- a ledger other than the desk's: opened with its first strategy ---------------------------------

    async def open(self, starting_cash: int) -> None:
        """On paper, its opening deposit (once ever); the venue connected, what it did while the engine was
        away reconciled (live: its balances checked against its rows, and the cash synced with the venue
        when nothing rests there)."""
        if self.live:
            return
        if self.mode == "paper":
            self.executor.cash_book.opening_deposit(starting_cash)
        self.reconfigure()
        await self.executor.start()
        report = await recover(self.executor, self.settlement, settle_resolutions=self._before_balances)
        if report.cash_flow:
            self.risk.cash_flow(report.cash_flow)
        if self.mode == "live":
            self.risk.balances_checked(report.mismatches)
            self.balance_watch.started(self.clock())
        self.live = True  # (after its recovery: the market's moves reach its paper venue from now)
        log.info("ledger open", extra={"ledger": self.label, "strategies": sorted(self.strategies)})

    async def close(self) -> None:
        """Its strategies' orders cancelled and their answers awaited (bounded: the paper venue answers after
        its latency), the venue closed."""
        if not self.live:
            return
        self.executor.withdraw(why=order_end.STOPPED)
        deadline = asyncio.get_running_loop().time() + CLOSE_DRAIN_S
        while True:
            venue = self.executor.venue
            if isinstance(venue, PaperVenue):
                venue.advance()
            await self.executor.reconcile()
            self.executor.drain()
            if not self.executor.state.orders or asyncio.get_running_loop().time() >= deadline:
                break
            await asyncio.sleep(0.05)
        await self.executor.close()
        await self.settlement.close()
        if self.own is not None:
            self.link.own.forget(self.venue_name, self.own)
        self.live = False

    async def _before_balances(self) -> None:
        """At recovery, before the venue's balances are compared with the rows: what the venue did by itself
        meanwhile. A venue that nets pairs nets a market's YES and NO at once (a fill of each side while the
        engine was down is a dollar there, not two positions), so the ledger nets its pairs first; then, live,
        what the venue settled or voided meanwhile is booked (`_book_settled`)."""
        if policy_of(self.venue_name).nets_pairs:
            net_held_pairs(self.collections)
        if self.mode == "live":
            await self._book_settled()

    async def _book_settled(self) -> None:
        """The markets a venue that settles by itself settled or voided while the engine was away,
        booked before the comparison: its balances no longer hold their contracts, so the ledger still holding
        them would read as a mismatch and halt the ledger until the collections job booked them. A void or a
        settlement at a value is booked as the venue reports it (void_refunds.py), a result settles the
        positions at it (their claims then paid by the venue's payment, booked next). A venue that does not
        answer leaves them to the collections job, as before."""
        settlement = self.settlement
        try:
            if isinstance(settlement, RefundSource):
                await book_refunds(self.executor, self.catalog, settlement)
            span = window(self.executor)
            if isinstance(settlement, ResultSource) and span is not None:
                state = self.executor.state  # (not open yet: what it holds, read from its rows)
                held_now = {cid for (cid, _) in state.position_market.values()}
                for condition_id, winner in await settlement.results(span[1]):
                    if condition_id in held_now:  # (settling twice changes nothing)
                        settle_resolution(self, condition_id, Payouts.won_by(winner))
        except VenueError as exc:
            log.warning("what the venue settled while the engine was away could not be read before the balance "
                        "check", extra={"ledger": self.label, "error": str(exc)})

    # -- trading ------------------------------------------------------------------------------------

    async def kill(self) -> dict[str, object]:
        return await self.executor.kill() if self.live else {}

    def withdraw(self, strategy: str | None = None, why: str = order_end.WITHDRAWN) -> None:
        if self.live or self.desk:
            self.executor.withdraw(strategy, why)

    def held_markets(self) -> set[str]:
        """Markets it holds or works in: the feed must keep following them."""
        if not self.live:
            return set()
        state = self.executor.state
        return {cid for (cid, _) in state.position_market.values()} | {o.condition_id for o in state.orders.values()}

    def prepare(self) -> None:
        """What it keeps before its pass: its venue advanced (paper), its events drained; the desk's own
        orders loaded at a start adopted into its books; on another ledger, the resolutions the desk has seen
        settled (the desk settles its own as it hears of them) and a strategy no longer routed here withdrawn;
        a netting venue's pairs netted."""
        venue = self.executor.venue
        if isinstance(venue, PaperVenue):
            venue.advance()
        self.executor.drain()
        if self.desk:
            self.link.own.adopt()  # resting orders loaded at a start, never seen placed
        else:
            self._settle_resolved()
            if policy_of(self.venue_name).nets_pairs:
                net_held_pairs(self.collections)  # the venue holds no market's both sides: a pair is a dollar
            for name in {k[0] for k in self.executor.state.by_key} - self.strategies:
                self.executor.withdraw(name, order_end.DROPPED)  # promoted or gone: its orders here end

    async def run_pass(self, now: int, views: dict[str, MarketView], intents: Callable[[], list[Intent]] | None,
                       game_start_lead_ms: int, *, deciding: bool, also: Sequence[ExecutionState] = (),
                       fills_dark: bool = False, holding: bool = False) -> portfolio.Valuation:
        """Its pass (engine/trading/passes/ledger_pass.py). `intents`: its strategies' (asked once its exits
        have started; None: not deciding, orders left as they are). `also`: the other ledgers of its mode,
        whose exposure its total exposure limit counts too. Returns the valuation its breakers judged."""
        return await ledger_pass(self.parts, now, views, intents, game_start_lead_ms, deciding=deciding, also=also,
                                 fills_dark=fills_dark, holding=holding)

    async def tick(self, now: int, views: dict[str, MarketView], intents: Callable[[], list[Intent]] | None,
                   game_start_lead_ms: int, *, deciding: bool, also: Sequence[ExecutionState] = ()) -> None:
        """A ledger other than the desk's, after the desk's pass: what it keeps, then its pass (none when not open)."""
        if not self.live:
            return
        self.prepare()
        await self.run_pass(now, views, intents, game_start_lead_ms, deciding=deciding, also=also)

    async def _kill_switch(self, message: str, now: int) -> None:
        """A ledger other than the desk's: its kill switch cancels its own orders; the desk trades on."""
        log.warning("ledger kill switch: its orders are cancelled, the desk trades on",
                    extra={"ledger": self.label, "why": message})
        await self.executor.kill()

    def _venue_holds(self, intents: list[Intent], now: int) -> tuple[list[Intent], list[Any]]:
        """Intents its venue cannot take now, emptied with a decision each: the pauses its venue announces
        (engine/trading/ledgers/exchange_pauses.py); live, on a venue whose account is split into sections,
        the quotes their section cannot fund (engine/trading/ledgers/venue_funds.py)."""
        decisions: list[Any] = []
        if policy_of(self.venue_name).announces_pauses:
            intents, decisions = hold_for_pause(intents, self.link.references.exchange_state(), now)
        venue = self.executor.venue
        if self.mode == "live" and self.live and isinstance(venue, SplitAccount):
            if self.funds is None:
                self.funds = FundsWatch(self.db, self.venue_name, self.label)
            intents, held_out = self.funds.hold(venue.funds, intents, self.executor.state, self.catalog, now)
            decisions += held_out
        return intents, decisions

    def venue_held(self, now: int) -> str | None:
        """Why its venue takes nothing new now (None: it does)."""
        if not policy_of(self.venue_name).announces_pauses:
            return None
        return held(self.link.references.exchange_state(), now)

    def _settle_resolved(self) -> None:
        """Positions in markets the desk has seen resolve (the market channel, or the refresh's check of
        Gamma) settled here too."""
        state = self.executor.state
        held_now = {cid for key, (cid, _) in state.position_market.items() if state.totals(*key).size > 0}
        for cid in sorted(held_now):
            payouts = self.catalog.resolution(cid)
            if payouts is not None:
                settle_resolution(self, cid, payouts)

    # -- a ledger other than the desk's: its halts, balances and curve -------------------------------

    async def rearm(self) -> None:
        """An operator's Start: its halt ends (alerted). Live, a halt for its balances books the cash
        difference first, audited as the desk's Start does (the operator has looked), and checks the shares
        again at once: a mismatch that remains halts it again."""
        assert isinstance(self.risk, VenueLedgerRisk), "the desk's halts end in TradingCore.clear_start_halts"
        for_balances = self.risk.halted_for_balances
        if self.risk.memory.reason == DECISIONS_FAILING and not self.passes.deciding:
            log.warning("a Start leaves the ledger halted: its passes still fail", extra={"ledger": self.label})
            return  # its passes still fail: the halt stays (its alert names the error)
        self.passes.rearm()
        self.risk.rearm()
        if self.live and self.mode == "live" and for_balances:
            self.risk.balances_checked(await self.balance_watch.resync(self.executor, self.risk, self.clock()))

    async def check_balances(self, *, tolerance_usdc: float, every_s: float) -> None:
        """Live: the venue's balances against its rows, when `every_s` has passed since the last look
        (engine/trading/lookouts/balance_watch.py says what a difference does)."""
        if not self.live or self.mode != "live":
            return
        now = self.clock()
        if self.balance_watch.due(now, every_s):
            problems = await self.balance_watch.verdict(self.executor, tolerance_usdc=tolerance_usdc, now=now)
            if problems is not None:
                self.risk.balances_checked(problems)

    def snapshot(self, kind: str) -> portfolio.Valuation:
        """Its equity and each strategy's, for the Overview and Strategies pages."""
        valuation, books = portfolio.valued(self.executor.state, self.marks)
        now = self.clock()
        if not valuation.complete:  # a held position's book not here yet: no invented worth on the curve
            return valuation
        with self.db.write() as conn:
            portfolio_snapshots.write_snapshot(conn, self.mode, valuation, now, kind, self.venue_name)
            portfolio_snapshots.write_strategy_snapshots(conn, self.mode, books, now, self.venue_name)
        return valuation


def desk_ledger(link: VenueLink, mode: str, *, risk: RiskMonitor, bus: EventBus, balance_watch: BalanceWatch,
                conditions: ConditionBoard, on_kill: KillSwitch, look: Callable[[int], None] | None) -> Ledger:
    """The desk's own ledger: the desk's venue in `mode`, measured by the desk's risk monitor, its kill switch
    the desk's, watched by the desk's lookout (`look`, its balance watch and conditions board)."""
    return Ledger(link, desk_venue(), mode, risk=risk, bus=bus, desk=True, label="the desk", answer_key="desk",
                  balance_watch=balance_watch, on_kill=on_kill, look=look, conditions=conditions)


def other_ledger(link: VenueLink, desk_risk: RiskMonitor, venue_name: str, mode: str = "paper") -> Ledger:
    """A ledger other than the desk's: its own risk on the desk's limits, its own bus, its own kill switch."""
    risk = VenueLedgerRisk(link.db, desk_risk, link.clock, venue_name, mode)
    bus = EventBus()
    risk.listen(bus)  # its venue's faults count toward its own error breaker only
    label = risk.subject  # "paper ledger"; "<venue> paper", "<venue> live"
    # How the answers to a kill or a flatten name it ("paper_ledger" for the desk's venue, else "<venue>_<mode>").
    answer_key = f"{venue_name}_{mode}" if risk.elsewhere else "paper_ledger"

    def alert(level: AlertLevel, code: str, message: str) -> None:
        with link.db.write() as conn:
            raise_alert(conn, level=level, source="engine", code=code, subject=label, message=message)

    watch = BalanceWatch(alert, words=(f"{LABELS[venue_name]}'s balance", "USD", f"{venue_name}.com"))
    return Ledger(link, venue_name, mode, risk=risk, bus=bus, label=label, answer_key=answer_key,
                  balance_watch=watch)


def markets_held_by(ledger: Ledger | None) -> set[str]:
    """The markets a ledger holds or works in (none without one)."""
    return set() if ledger is None else ledger.held_markets()


async def flatten_ledger(ledger: Ledger, payload: dict[str, Any]) -> list[dict[str, Any]]:
    """The operator's flatten, on a ledger other than the desk's: every strategy's positions in scope sold through
    its exit path (tried again until nothing is held), one answer per strategy. A live ledger's flatten of
    everything (no market, no strategy named: every resting order of the account is to go) cancels them first
    in the venue's one call for all (its `cancel_all`: a kill's; a venue without one cancels them order by
    order), then sells."""
    answers: list[dict[str, Any]] = []
    if ledger.mode == "live" and ledger.live and not payload.get("condition_id") and not payload.get("strategy"):
        answers.append({"cancelled": await ledger.executor.kill()})
    strategies = sorted({h.strategy for h in holdings_in_scope(ledger, payload)})
    return answers + [await exit_positions(ledger, ledger.risk, ledger.exits, ledger.operator_exits,
                                           {**payload, "strategy": name, "reason": "flatten"}) for name in strategies]
