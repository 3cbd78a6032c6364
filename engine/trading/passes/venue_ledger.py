"""A venue ledger: one (venue, mode) beside the desk's own, with its own executor, risk, exits and settlement.

The desk's ledger is the venue in use in the desk's mode (engine/trading/core.py). Every other ledger
the desk trades at once is one of these, on the desk's own feeds and books; the core keeps them in one
map keyed (venue, mode) and routes each strategy's intents to one of them.
Each has its own executor writing its ledger (orders, fills, positions, cash, claims of its venue and
mode), its own risk (engine/risk/ledger_risk.py: the desk's limit values measured on its ledger, breakers
that halt it and never the desk), its own exits, settlement of resolved markets and redemptions, and its
own equity snapshots. Two ledgers never share an order, a position or a dollar of budget; a kill blocks
all (the desk's one order gate) and cancels all.

Two kinds, by what the venue's policy says (contracts/venue_policies.py):

- The desk's venue on paper beside a live desk (its label: "paper lane"): a strategy never promoted
  (its `live` flag off) trades on paper whatever the desk's mode; on a paper desk that is the desk
  itself, on a live desk it is this ledger. It opens when such a strategy is hosted (or while its
  ledger holds a promoted strategy's paper leftovers) and closes with the desk or a switch to paper,
  where the desk is the paper venue and the same paper ledger carries on.
- A venue armed apart (`venues_apart`), beside any desk, in its own armed mode (engine_state). On
  paper, a paper venue standing in for it (its fees with their rounding, its price grids, its lots) on
  the books the desk follows for the operator's pairs, held while its exchange pauses
  (engine/trading/ledgers/exchange_pauses.py), keyed by its venue in every ledger table, with its own
  limits and breakers (venue_risk). Armed live, the same ledger runs on the venue itself (its adapter,
  engine/venues/registry.py): no paper deposit (its cash starts at the venue's balance at the first
  recovery), the venue's settlements booked as its credits, its balances compared with its ledger while
  it trades, and only promoted strategies in it, one per market where the venue nets an account's
  positions (`traders_on`). Nothing of one venue's is ever sent to another's.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from contracts import order_end
from contracts.domain import Book, Intent, MarketView
from contracts.payouts import Payouts
from contracts.venue_policies import DESK_VENUE, policy_of
from contracts.venues import LABELS, venue_of
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
from engine.trading.lookouts.balance_watch import BalanceWatch
from engine.trading.lookouts.pass_guard import PassGuard
from engine.trading.operator.operator_actions import holdings_in_scope, settle_resolution
from engine.trading.operator.operator_exits import OperatorExits, exit_positions
from engine.trading.passes.ledger_pass import LedgerParts, gate, ledger_pass
from engine.trading.settlement.collections import Collections
from engine.trading.settlement.pair_netting import net_held_pairs
from engine.trading.settlement.void_refunds import book_refunds
from engine.venues.base import VenueError
from engine.venues.paper import PaperVenue
from engine.venues.settlement import RefundSource, ResultSource, SettlementVenue
from storage.desk.audit import AlertLevel, raise_alert
from storage.engine_stores import portfolio_snapshots

if TYPE_CHECKING:
    from engine.execution.state import ExecutionState
    from engine.feeds.market_data_events import MarketEvent
    from engine.trading.ledgers.own_orders import OwnOrders
    from engine.trading.ledgers.venue_link import VenueLink
    from engine.trading.parts import ReplaySource

log = logging.getLogger("engine.trading.passes.venue_ledger")
CLOSE_DRAIN_S = 5.0  # how long a closing ledger waits for its cancels' answers


class VenueLedger:
    """A TradingSite (engine/trading/parts.py) on the desk's feeds: the ledger of one (venue, mode)
    beside the desk's (the desk's venue on paper beside a live desk; a venue armed apart, on paper or live)."""

    def __init__(self, link: VenueLink, desk_risk: RiskMonitor, venue_name: str = DESK_VENUE,
                 mode: str = "paper") -> None:
        self.link = link
        self.venue_name = venue_name
        self.mode = mode
        self.settings, self.db, self.clock = link.settings, link.db, link.clock
        self.catalog, self.books = link.catalog, link.books
        self.risk = VenueLedgerRisk(link.db, desk_risk, link.clock, venue_name, mode)
        self.label = self.risk.subject  # how logs and alerts name it ("paper lane"; "<venue> paper", "<venue> live")
        # How the answers to a kill or a flatten name it ("paper_lane" for the desk's venue, else "<venue>_<mode>").
        self.answer_key = "paper_lane" if venue_name == link.executor.venue_name else f"{venue_name}_{mode}"
        self.bus = EventBus()
        self.risk.listen(self.bus)  # its venue's faults count toward this ledger's error breaker only
        self.executor: Executor = link.lane_executor(self.risk, self.bus, venue_name, mode)
        self.settlement: SettlementVenue = link.build_settlement(mode, venue_name)
        # Live, its orders rest in its venue's books: what decisions, marks and exits read leaves them out
        # (engine/trading/ledgers/own_orders.py). Paper's are never in the book.
        self.own: OwnOrders | None = None
        if mode == "live" and link.replay is None:
            self.own = link.own.follow(venue_name, self.bus, lambda: self.executor.state)
        # Live: the venue's balances against this ledger while it trades (trading/lookouts/balance_watch.py).
        self.balance_watch = BalanceWatch(lambda level, code, message: _alert(self, level, code, message),
                                          words=(f"{LABELS[venue_name]}'s balance", "USD", f"{venue_name}.com"))
        self.collections = Collections(self)
        self.exits = ExitBook()
        self.operator_exits = OperatorExits()  # its positions the operator asked to sell
        self.arbitrage = arbs.Settlements()
        self.strategies: set[str] = set()  # the strategies it trades this tick
        self.live = False
        self.passes = PassGuard(self.label)  # its passes' failures halt it alone (trading/lookouts/pass_guard.py)
        # Its pass: every ledger's (passes/ledger_pass.py), with what is its own.
        self.parts = LedgerParts(self, self.risk, self.exits, self.arbitrage, self.operator_exits,
                                 on_kill=self._kill_switch, venue_holds=self._venue_holds)

    @property
    def replay(self) -> ReplaySource | None:
        """A backtest's replay (a backtest is a paper desk: a venue armed apart's is its only venue ledger)."""
        return self.link.replay

    def marks(self, token_id: str) -> Book | None:
        return self.link.marks(token_id)

    async def open(self, starting_cash: int) -> None:
        """On paper, the ledger's opening deposit (once ever); the venue connected, what it did
        while the engine was away reconciled (live: its balances checked against the ledger, and
        the cash synced with it when nothing rests there)."""
        if self.live:
            return
        if self.mode == "paper":
            self.executor.cash_book.opening_deposit(starting_cash)
        self.risk.sync_limits()
        await self.executor.start()
        report = await recover(self.executor, self.settlement, settle_resolutions=self._before_balances)
        if report.cash_flow:
            self.risk.cash_flow(report.cash_flow)
        if self.mode == "live":
            self.risk.balances_checked(report.mismatches)
            self.balance_watch.started(self.clock())
        self.live = True
        log.info("venue ledger open", extra={"ledger": self.label, "strategies": sorted(self.strategies)})

    async def close(self) -> None:
        """Its strategies' orders cancelled and their answers awaited (bounded: the paper venue
        answers after its latency), the venue closed."""
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

    async def kill(self) -> dict[str, object]:
        return await self.executor.kill() if self.live else {}

    def reconfigure(self) -> None:
        """The desk's limits and paper settings, as just reloaded."""
        self.risk.sync_limits()
        venue = self.executor.venue
        if isinstance(venue, PaperVenue):
            venue.config = self.link.paper_config(self.venue_name)

    def withdraw(self, strategy: str | None = None, why: str = order_end.WITHDRAWN) -> None:
        if self.live:
            self.executor.withdraw(strategy, why)

    def forward(self, event: MarketEvent) -> None:
        """The paper venue matches its resting orders against the market's own moves."""
        venue = self.executor.venue
        if self.live and isinstance(venue, PaperVenue):
            venue.on_market_event(event)

    def held_markets(self) -> set[str]:
        """Markets the ledger holds or works in: the feed must keep following them."""
        if not self.live:
            return set()
        state = self.executor.state
        return {cid for (cid, _) in state.position_market.values()} | {o.condition_id for o in state.orders.values()}

    async def tick(self, now: int, views: dict[str, MarketView], intents: list[Intent] | None,
                   game_start_lead_ms: int, *, also: Sequence[ExecutionState] = ()) -> None:
        """One pass of the ledger, after the desk's: what only it settles, then the pass every ledger runs
        (engine/trading/passes/ledger_pass.py). `intents` are its strategies' (None: not deciding, orders
        left as they are). `also`: the other ledgers of its mode (the desk's, another venue ledger's),
        whose exposure its total exposure limit counts too."""
        if not self.live:
            return
        venue = self.executor.venue
        if isinstance(venue, PaperVenue):
            venue.advance()
        self.executor.drain()
        self._settle_resolved()
        if policy_of(self.venue_name).nets_pairs:
            net_held_pairs(self.collections)  # the venue holds no market's both sides: a pair is a dollar
        for name in {k[0] for k in self.executor.state.by_key} - self.strategies:
            self.executor.withdraw(name, order_end.DROPPED)  # promoted or gone: its orders here end
        await ledger_pass(self.parts, now, views, None if intents is None else lambda: intents, game_start_lead_ms,
                          deciding=intents is not None, also=also)

    async def _kill_switch(self, message: str, now: int) -> None:
        """Its kill switch cancels its own orders; the desk trades on."""
        log.warning("venue ledger kill switch: its orders are cancelled, the desk trades on",
                    extra={"ledger": self.label, "why": message})
        await self.executor.kill()

    async def decide_now(self, now: int, views: dict[str, MarketView], intents: list[Intent],
                         game_start_lead_ms: int, *, also: Sequence[ExecutionState] = ()) -> None:
        """Between the desk's timed passes: its strategies' intents for a few markets (`views`),
        gated against the ledger as it is now and placed (engine/trading/passes/event_decisions.py)."""
        self.executor.drain()
        self.risk.new_tick(now, self.executor.state, self.catalog, views, also=also, timed=False)
        gate(self.parts, intents, now, game_start_lead_ms)
        report = await self.executor.reconcile()
        self.risk.residuals(report.residuals, now)

    async def _before_balances(self) -> None:
        """At recovery, before the venue's balances are compared with the ledger: what the venue did
        by itself meanwhile. A venue that nets pairs nets a market's YES and NO at once (a fill of each side
        while the engine was down is a dollar there, not two positions), so the ledger nets its pairs first;
        then, live, what the venue settled or voided meanwhile is booked (`_book_settled`)."""
        if policy_of(self.venue_name).nets_pairs:
            net_held_pairs(self.collections)
        if self.mode == "live":
            await self._book_settled()

    async def _book_settled(self) -> None:
        """The markets a venue that settles by itself (Kalshi) settled or voided while the engine was away,
        booked before the comparison: its balances no longer hold their contracts, so the ledger still
        holding them would read as a mismatch and halt the ledger until the collections job booked them.
        A void or a settlement at a value is booked as the venue reports it (void_refunds.py), a result
        settles the positions at it (their claims then paid by the venue's payment, booked next). A venue
        that does not answer leaves them to the collections job, as before."""
        settlement = self.settlement
        try:
            if isinstance(settlement, RefundSource):
                await book_refunds(self.executor, self.catalog, settlement)
            span = window(self.executor)
            if isinstance(settlement, ResultSource) and span is not None:
                held = self.held_markets()
                for condition_id, winner in await settlement.results(span[1]):
                    if condition_id in held:  # (settling twice changes nothing)
                        settle_resolution(self, condition_id, Payouts.won_by(winner))
        except VenueError as exc:
            log.warning("what the venue settled while the engine was away could not be read before the balance "
                        "check", extra={"ledger": self.label, "error": str(exc)})

    def _venue_holds(self, intents: list[Intent], now: int) -> tuple[list[Intent], list[Any]]:
        """Intents its venue cannot take now, emptied with a decision each: the pauses its venue
        announces (engine/trading/ledgers/exchange_pauses.py)."""
        if not policy_of(self.venue_name).announces_pauses:
            return intents, []
        return hold_for_pause(intents, self.link.references.exchange_state(), now)

    def venue_held(self, now: int) -> str | None:
        """Why its venue takes nothing new now (None: it does)."""
        if not policy_of(self.venue_name).announces_pauses:
            return None
        return held(self.link.references.exchange_state(), now)

    async def rearm(self) -> None:
        """An operator's Start: its halt ends (alerted). Live, a halt for its balances books the cash
        difference first, audited as the desk's Start does (the operator has looked), and checks the
        shares again at once: a mismatch that remains halts it again."""
        for_balances = self.risk.halted_for_balances
        if self.risk.memory.reason == DECISIONS_FAILING and not self.passes.deciding:
            log.warning("a Start leaves the venue ledger halted: its passes still fail", extra={"ledger": self.label})
            return  # its passes still fail: the halt stays (its alert names the error)
        self.passes.rearm()
        self.risk.rearm()
        if self.live and self.mode == "live" and for_balances:
            self.risk.balances_checked(await self.balance_watch.resync(self.executor, self.risk, self.clock()))

    async def check_balances(self, *, tolerance_usdc: float, every_s: float) -> None:
        """Live: the venue's balances against this ledger, when `every_s` has passed since the
        last look (engine/trading/lookouts/balance_watch.py says what a difference does)."""
        if not self.live or self.mode != "live":
            return
        now = self.clock()
        if self.balance_watch.due(now, every_s):
            problems = await self.balance_watch.verdict(self.executor, tolerance_usdc=tolerance_usdc, now=now)
            if problems is not None:
                self.risk.balances_checked(problems)

    def _settle_resolved(self) -> None:
        """Positions in markets the desk has seen resolve (the market channel, or the refresh's
        check of Gamma) are settled on the paper ledger too."""
        state = self.executor.state
        held = {cid for key, (cid, _) in state.position_market.items() if state.totals(*key).size > 0}
        for cid in sorted(held):
            payouts = self.catalog.resolution(cid)
            if payouts is not None:
                settle_resolution(self, cid, payouts)

    def snapshot(self, kind: str) -> portfolio.Valuation:
        """The paper ledger's equity and each strategy's, for the Overview and Strategies pages."""
        valuation, books = portfolio.valued(self.executor.state, self.marks)
        now = self.clock()
        if not valuation.complete:  # a held position's book not here yet: no invented worth on the curve
            return valuation
        with self.db.write() as conn:
            portfolio_snapshots.write_snapshot(conn, self.mode, valuation, now, kind, self.venue_name)
            portfolio_snapshots.write_strategy_snapshots(conn, self.mode, books, now, self.venue_name)
        return valuation


def _alert(ledger: VenueLedger, level: AlertLevel, code: str, message: str) -> None:
    with ledger.db.write() as conn:
        raise_alert(conn, level=level, source="engine", code=code, subject=ledger.label, message=message)


def markets_held_by(ledger: VenueLedger | None) -> set[str]:
    """The markets a venue ledger holds or works in (none without one)."""
    return set() if ledger is None else ledger.held_markets()


def markets_on(hosted: Any, venue: str, pairs: Mapping[str, tuple[str, bool]]) -> list[str]:
    """The markets of `venue` a hosted strategy trades: those it names (a strategy trades one venue:
    contracts/market_filter.py refuses a list naming two), or, for one spanning venues (cross-venue
    arbitrage), those paired with its markets."""
    if hosted.markets and venue_of(hosted.markets[0]) == venue:
        return list(hosted.markets)
    if hosted.instance.spans_venues:
        return [pairs[cid][0] for cid in hosted.markets if cid in pairs and venue_of(pairs[cid][0]) == venue]
    return []


def traders_on(hosted: Mapping[str, Any], venue: str, mode: str,
               pairs: Mapping[str, tuple[str, bool]] | None = None) -> tuple[set[str], dict[str, str]]:
    """Which hosted strategies trade the ledger of a venue armed apart in `mode`, and why each other
    trading its markets is held. On paper, all of them. Live: only promoted ones (a strategy never
    promoted never trades real money), and, where the venue nets an account's positions in a market
    (`one_strategy_per_market_live`), one per market (two strategies' books there would not be theirs:
    the first by name keeps it)."""
    policy = policy_of(venue)
    markets = {name: markets_on(h, venue, pairs or {}) for name, h in hosted.items()}
    trading = sorted(name for name, found in markets.items() if found)
    if mode != "live":
        return set(trading), {}
    traders: set[str] = set()
    held: dict[str, str] = {}
    taken: dict[str, str] = {}
    for name in trading:
        if not hosted[name].live:
            held[name] = ("it is paper only: promote it on the Strategies page (its paper record first), or arm "
                          f"{policy.label} back to paper")
        elif policy.one_strategy_per_market_live and (shared := sorted(m for m in markets[name] if m in taken)):
            held[name] = (f"strategy {taken[shared[0]]} trades {shared[0]} already, and {policy.label} nets one "
                          f"account's positions in a market: one strategy per {policy.label} market while live")
        else:
            traders.add(name)
            taken.update({m: name for m in markets[name]})
    return traders, held


async def ledger_kept_open(ledger: VenueLedger | None, make: Callable[[], VenueLedger], names: set[str],
                           starting_cash: int, *, rearm: bool, holds: bool = False) -> VenueLedger | None:
    """The ledger its strategies (`names`) trade in: opened when the first is hosted, or while its ledger
    `holds` positions (leftovers of strategies promoted since: valued and exitable, never traded on);
    kept only once open (a failed open is tried again at the next start or reload), its strategies and
    limits brought up to date. `rearm`: an operator's Start, which ends a ledger halt as it ends the desk's."""
    if ledger is None and (names or holds):
        opened = make()
        opened.strategies = names
        await opened.open(starting_cash)
        ledger = opened
        if rearm:
            await ledger.rearm()
    if ledger is not None:
        ledger.strategies = names
        ledger.reconfigure()
    return ledger


async def flatten_ledger(ledger: VenueLedger, payload: dict[str, Any]) -> list[dict[str, Any]]:
    """The operator's flatten, on a venue ledger: every strategy's positions in scope sold through
    its exit path (tried again until nothing is held), one answer per strategy."""
    strategies = sorted({h.strategy for h in holdings_in_scope(ledger, payload)})
    return [await exit_positions(ledger, ledger.risk, ledger.exits, ledger.operator_exits,
                                 {**payload, "strategy": name, "reason": "flatten"}) for name in strategies]
