"""The executor: the only writer of orders, fills, positions and cash.

Strategies' intents come in (latest wins per strategy and market, no backlog); each
reconcile pass plans legal orders for every intent, amends in place what the venue can move
(amends.py), cancels what no longer matches, and places what is missing. Its seams are classes
of their own: the inbox of venue reports and the write transactions (inbox.py, transactions.py),
placing (placement.py), amending (amends.py), cancelling and the venue sync (cancels.py),
single-order lookups (lookups.py). What it did is published on its event bus (bus.py); nothing
it tells calls back into it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Collection, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace

from sqlalchemy import Connection

from contracts import order_end
from contracts.domain import GATE_APPROVED, Intent, MarketInfo, Quote, Side
from contracts.order_status import OrderStatus
from contracts.ticket import MANUAL
from contracts.venues import POLYMARKET
from engine.execution.amends import Amends, Move
from engine.execution.bus import EventBus, VenuePhase
from engine.execution.cancels import Cancels, VenueSync
from engine.execution.cash_book import CashBook
from engine.execution.event_applier import IMPORTED, EventApplier
from engine.execution.inbox import EventInbox
from engine.execution.lookups import ExecutorConfig, OrderLookups
from engine.execution.placement import OrderGate, Place, Placed, Placement, PlacementCheck
from engine.execution.planner import GROUP_INCOMPLETE, TAKE, Holdings, OrderSpec, Plan, Residual, WorkingOrder, plan
from engine.execution.state import ExecutionState, as_working
from engine.execution.store import OrderRow
from engine.execution.transactions import OrderTracker, Transactions
from engine.execution.venue_health import VenueHealth
from engine.feeds.catalog import MarketCatalog
from engine.venues.base import Venue, VenueBusy, VenueError
from storage.sqlite.db import Database, now_ms

log = logging.getLogger("engine.executor")

# Books whose orders are the operator's, not a strategy's: a pause or stop leaves them working
# (cancel them from the Orders page; a kill cancels everything).
OPERATOR_BOOKS = frozenset({IMPORTED, MANUAL})
WAITING = frozenset({OrderStatus.PENDING_SUBMIT, OrderStatus.CANCEL_PENDING})  # sent, the venue's answer not read

@dataclass
class PassReport:
    placed: int = 0
    residuals: dict[tuple[str, str], tuple[Residual, ...]] = field(default_factory=dict)
    ending: dict[int, str] = field(default_factory=dict)  # order id -> why its cancel is sent
    # (strategy, market) -> what the risk gate did with the intent its placements are for
    gate: dict[tuple[str, str], str] = field(default_factory=dict)
    amend: list[Move] = field(default_factory=list)  # orders the planner moves in place (amends.py)
    amended: int = 0  # of those, how many the venue took


class Executor:
    def __init__(self, db: Database, venue: Venue, catalog: MarketCatalog, *, mode: str,
                 clock: Callable[[], int] = now_ms, new_client_id: Callable[[], str] | None = None,
                 placement_check: PlacementCheck | None = None, config: ExecutorConfig | None = None,
                 bus: EventBus | None = None, gate: OrderGate | None = None, venue_name: str = POLYMARKET):
        """`gate`: the desk's one order gate (placement.py), shared by every executor built for
        it; a standalone executor makes its own, closed. `venue_name`: whose ledger it keeps
        (contracts/venues/__init__.py), one venue's orders, positions and cash of `mode`."""
        self.db = db
        self._venue = venue
        self.catalog = catalog
        self.mode = mode
        self.clock = clock
        self.config = config or ExecutorConfig()
        self.bus = bus or EventBus()
        self.venue_name = venue_name
        self.state = ExecutionState(mode, venue_name)
        self.health = VenueHealth(clock, self.bus)
        self.gate = gate or OrderGate()
        self.transactions = Transactions(db, self.bus)
        tracker = OrderTracker(self.state, self.transactions, clock)
        self.applier = EventApplier(self.state, catalog, self.transactions, tracker, mode=mode, clock=clock,
                                    request_lookup=lambda venue_order_id: self.lookups.request(venue_order_id))
        self.inbox = EventInbox(self.transactions, self.applier, self.load, venue.events)
        self.events = self.inbox.events
        self.lookups = OrderLookups(venue, self.state, self.health, self.transactions, tracker, self.applier,
                                    clock, self.config)
        self.cancels = Cancels(venue, self.state, self.health, self.transactions, tracker, self.applier,
                               self.lookups, self.bus, clock)
        self.venue_sync = VenueSync(venue, self.state, self.health, self.transactions, self.applier,
                                    self.lookups, self.cancels, clock)
        self.placement = Placement(venue, self.state, self.health, self.transactions, tracker, self.bus, self.gate,
                                   mode=mode, clock=clock, new_client_id=new_client_id or (lambda: uuid.uuid4().hex),
                                   placement_check=placement_check)
        self.amends = Amends(venue, self.state, self.health, self.transactions, tracker, self.bus, clock, mode=mode,
                             placement_check=lambda: self.placement.placement_check)
        self.cash_book = CashBook(self.tx, self.state, clock)  # what settles, and a paper ledger's deposit
        self.partials = self.placement.partials  # arbitrage groups that filled on some legs only, to settle
        self.latest: dict[tuple[str, str], Intent] = {}
        self.venue_closed = False
        # Each key's last plan and what it read: (market, keep_within, quotes, holdings, working, plan).
        self._planned: dict[tuple[str, str], Planned] = {}

    @property
    def venue(self) -> Venue:
        return self._venue

    @venue.setter
    def venue(self, venue: Venue) -> None:
        """Talk to another venue from now on (every seam that calls it)."""
        self._venue = venue
        self.inbox.events = self.events = venue.events
        for seam in (self.lookups, self.cancels, self.venue_sync, self.placement, self.amends):
            seam.venue = venue
        self._planned.clear()  # (what can be amended may differ)

    @property
    def placement_check(self) -> PlacementCheck | None:
        return self.placement.placement_check

    @placement_check.setter
    def placement_check(self, check: PlacementCheck | None) -> None:
        self.placement.placement_check = check

    # -- lifecycle ---------------------------------------------------------------------

    def load(self) -> None:
        with self.db.read() as conn:
            self.state.load(conn)

    async def start(self) -> None:
        """Load state, connect the venue (its reports start arriving on its queue, which the
        inbox drains) and apply them continuously."""
        self.load()
        await self.venue.start()
        self.inbox.start()

    async def close(self) -> None:
        self.inbox.stop()
        self.drain()
        await self.venue.close()
        self.venue_closed = True

    def tx(self) -> AbstractContextManager[Connection]:
        """One write transaction; nested calls join the open one. Never held across a venue call."""
        return self.transactions.tx()

    def after_commit(self, report: Callable[[], None]) -> None:
        self.transactions.after_commit(report)

    @property
    def blocked(self) -> bool:
        """Whether the order gate is closed (it is opened and closed by its owners, not here)."""
        return self.gate.blocked

    def next_due(self, now: int, before: int) -> int | None:
        """(contracts/due.py) `now` (it cannot tell) while anything of it waits on the venue: a report not
        yet applied, an order placed or cancelled and not answered, an amend whose answer was lost (looked
        up with the time), a take (its answer comes when the venue matches it), an arbitrage group filled
        on some legs, or the venue not taking orders (its phase ends with the time); else None: its orders
        change only with what the venue reports."""
        if (not self.events.empty() or self.partials or self.state.amending
                or self.health.phase is not VenuePhase.OPEN):
            return now
        for order in self.state.orders.values():
            if order.status in WAITING or order.tif in order_end.TAKES:
                return now
        return None

    def drain(self) -> int:
        """Apply every queued venue event now, in one transaction; returns how many applied
        (0 with them kept, in order, when the database is locked by another process)."""
        return self.inbox.drain()

    # -- intents -----------------------------------------------------------------------

    def set_intents(self, intents: Iterable[Intent]) -> None:
        """The intents in force from now on: each the risk gate checked (its `gate` note, if it
        trimmed any, goes with the orders placed for it)."""
        for intent in intents:
            self.latest[(intent.strategy, intent.condition_id)] = intent

    def unchanged(self, intent: Intent) -> bool:
        """Whether `intent` is the one in force and its last plan, against the orders and holdings
        as they are now, moved nothing: it needs neither the risk gate nor the planner again (an
        event-driven decision that changes nothing stops here; engine/trading/passes/event_decisions.py)."""
        key = (intent.strategy, intent.condition_id)
        if self.latest.get(key) != intent:  # nothing wanted where nothing is in force or working
            return not intent.quotes and key not in self.latest and not self.state.by_key.get(key)
        market = self.catalog.get(intent.condition_id)
        if market is None or not _can_trade(market) or any(q.tif in TAKE for q in intent.quotes):
            return False
        result = self._plan(key, intent.quotes, market, self.state.open_for(*key), intent.keep_within)
        # (the plan is kept: the next pass reuses it)
        return not result.cancel and not result.place and not result.amend

    def withdraw(self, strategy: str | None = None, why: str = order_end.WITHDRAWN) -> None:
        """Empty every intent (of one strategy): the next pass cancels their orders, `why` recorded
        on each (contracts/order_end.py). Orders imported from the venue or placed by hand are
        not a strategy's to cancel: the operator decides."""
        keys = {k for k in self.latest if strategy is None or k[0] == strategy}
        keys |= {k for k in self.state.by_key if (strategy is None or k[0] == strategy) and k[0] not in OPERATOR_BOOKS}
        for key in keys:
            self.latest[key] = Intent(key[0], key[1], (), why)

    def plan_all(self, only: Collection[tuple[str, str]] | None = None) -> tuple[
            list[tuple[str, MarketInfo, OrderSpec, str]], list[OrderRow], PassReport]:
        """Plan every intent (or those of the keys `only`) against the mirror; no I/O. Returns
        (places, cancels, report); why each cancel is sent is in `report.ending`."""
        report = PassReport()
        places: list[tuple[str, MarketInfo, OrderSpec, str]] = []
        cancels: list[OrderRow] = []
        broken: set[str] = set()  # arbitrage groups with a leg that cannot be placed
        # In the order intents came (as the whole pass goes), never a set's: a replay must place and
        # cancel in the same order in every process (a set's order changes with the hash seed).
        for key in list(self.latest) if only is None else [k for k in self.latest if k in only]:
            strategy, condition_id = key
            intent = self.latest[key]
            market = self.catalog.get(condition_id)
            quotes = intent.quotes if market is not None and _can_trade(market) else ()
            if market is None:
                if not self.state.by_key.get(key):
                    del self.latest[key]
                    self._planned.pop(key, None)
                continue
            open_orders = self.state.open_for(strategy, condition_id)
            result = self._plan(key, quotes, market, open_orders, intent.keep_within)
            if result.cancel:
                by_client = {o.client_id: o for o in open_orders}
                ended = [by_client[w.client_id] for w in result.cancel]
                cancels += ended
                why = _ending(intent, market, quotes)
                report.ending.update((o.id, why) for o in ended)
            if result.amend:
                by_client = {o.client_id: o for o in open_orders}
                report.amend += [Move(strategy, market, a, intent.reason, by_client[a.order.client_id])
                                 for a in result.amend]
            places += [(strategy, market, spec, intent.reason) for spec in result.place]
            if result.place:
                report.gate[key] = intent.gate or GATE_APPROVED
            group = quotes[0].group if quotes else ""
            if group and (result.residuals or len(result.place) < len(quotes)):
                broken.add(group)
            if result.residuals:
                report.residuals[key] = result.residuals
            resting = tuple(q for q in intent.quotes if q.tif not in TAKE)
            if len(resting) != len(intent.quotes):
                # Takes are one-shot: sent (or skipped) once; a strategy that still wants one re-emits it.
                self.latest[key] = replace(intent, quotes=resting)
            if not resting and not open_orders:
                del self.latest[key]
                self._planned.pop(key, None)
        return _whole_groups(places, broken, report), cancels, report

    def _plan(self, key: tuple[str, str], quotes: tuple[Quote, ...], market: MarketInfo,
              open_orders: list[OrderRow], keep_within: int) -> Plan:
        """The planner's answer for one (strategy, market), or its last one when nothing it
        reads changed (the planner is pure: the same inputs give the same plan). A third of
        a busy pass's intents repeat the last one against the same orders and holdings; most of
        an event-driven replay's decisions do, with no write to the market since (its mirror's
        version: then the holdings and working orders are not even rebuilt to compare)."""
        version = self.state.market_version(key[1])
        last = self._planned.get(key)
        state = self.state
        if last is not None and last[0] is market and last[1] == keep_within and last[2] == quotes:
            if last[6] == version:
                return last[5]
            holdings = state.holdings(key[0], market)
            working = tuple(as_working(open_orders, state.amending, state.unamendable))
            if last[3] == holdings and last[4] == working:
                self._planned[key] = (*last[:6], version)
                return last[5]
        else:
            holdings = state.holdings(key[0], market)
            working = tuple(as_working(open_orders, state.amending, state.unamendable))
        result = plan(quotes, market, holdings, working, keep_within=keep_within,
                      amends=self.config.amends and self.amends.can)
        self._planned[key] = (market, keep_within, quotes, holdings, working, result, version)
        return result

    async def reconcile(self, only: Collection[tuple[str, str]] | None = None) -> PassReport:
        """One pass: plan everything, cancel what no longer matches, place what is missing.
        `only`: plan just these (strategy, market) keys (an event's decision: the other keys'
        intents and orders did not change, so their plans would be the ones in force; a key of a
        group spanning markets must not be given alone, its legs are judged whole or not together)."""
        places, cancels, report = self.plan_all(only)
        if self.health.wants_probe():
            await self._probe()
        if report.amend:
            await self._amend(report, places, cancels)
        cancels += self.cancels.stale()
        await self.cancels.cancel(cancels, why=report.ending)
        await self.lookups.check_unresolved()
        if self.state.amending:
            await self.amends.settle()
        if places and not self.gate.blocked:
            report.placed = (await self.placement.place(places, gate_notes=report.gate)).count
        return report

    async def _amend(self, report: PassReport, places: list[tuple[str, MarketInfo, OrderSpec, str]],
                     cancels: list[OrderRow]) -> None:
        """Send the plan's amends (amends.py); a move not worth its requests, not approved now, or refused
        by the venue is replaced instead: its order cancelled, its new order placed (a SELL's once the cancel
        is acknowledged: the next pass plans it, as it plans every replaced SELL)."""
        moves = [m for m in report.amend if not m.amend.decrease]
        worth = not moves or self.amends.worth_moving(len(moves), len(cancels), len(places))
        send = [m for m in report.amend if m.amend.decrease or (worth and self.amends.approved(m))]
        replaced = [m for m in report.amend if m not in send]
        before = self.amends.applied
        replaced += await self.amends.send(send, lambda: self.gate.blocked)
        report.amended = self.amends.applied - before
        for move in replaced:
            cancels.append(move.order)
            report.ending[move.order.id] = order_end.REPLACED
            if move.amend.spec.side is Side.BUY:
                places.append((move.strategy, move.market, move.amend.spec, move.reason))
                report.gate.setdefault((move.strategy, move.market.condition_id), GATE_APPROVED)

    async def _probe(self) -> None:
        """Ask a restarting venue whether it is back (a cheap private read)."""
        try:
            await self.venue.open_orders()
        except VenueBusy as exc:
            self.health.busy(exc)
        except VenueError as exc:
            log.warning("venue probe failed", extra={"error": str(exc)})
        else:
            self.health.answered()

    # -- commands ----------------------------------------------------------------------

    async def place_now(self, places: Sequence[Place], *, override_block: bool = False) -> Placed:
        """Operator placements (flatten, a manual ticket, an exit). `override_block` is only for
        the flatten that a kill-switch kill is configured to run; nothing else may place while
        blocked."""
        return await self.placement.place(places, override_block=override_block)

    async def cancel_orders(self, orders: Sequence[OrderRow], *, gone_if_refused: str | None = None,
                            why: str = order_end.WITHDRAWN) -> int:
        return await self.cancels.cancel(orders, gone_if_refused=gone_if_refused, why=why)

    async def kill(self) -> dict[str, object]:
        """Cancel everything at the venue on its priority lane; the caller has closed the order
        gate first (the kill's claim, a kill-switch trip, a halt). Never fails: if the venue
        cannot take the cancel now (a restart), the orders stay CANCEL_PENDING and every pass
        sends their cancels again until it can."""
        self.withdraw()
        return await self.cancels.cancel_all(self.drain)

    async def sync_with_venue(self) -> int:
        """The venue's open orders against ours (every few seconds in live); returns how many of
        our orders it closed or moved."""
        return await self.venue_sync.run()

    def request_lookup(self, venue_order_id: str) -> None:
        self.lookups.request(venue_order_id)

    async def settle_lookups(self) -> None:
        await self.lookups.settle()

    def close_gone(self, order: OrderRow, why: str) -> None:
        self.lookups.close_gone(order, why)

    def mark_lost(self, order: OrderRow, why: str) -> None:
        self.lookups.mark_lost(order, why)


# (market, keep_within, quotes, holdings, working orders, the plan, the mirror's version of the market)
Planned = tuple[MarketInfo, int, tuple[Quote, ...], Holdings, tuple[WorkingOrder, ...], Plan, tuple[int, int]]


def _whole_groups(places: list[tuple[str, MarketInfo, OrderSpec, str]], broken: set[str],
                  report: PassReport) -> list[tuple[str, MarketInfo, OrderSpec, str]]:
    """Drop every leg of a broken arbitrage group (each is told why), and keep each group's
    legs next to each other so they go out in one batch."""
    kept = []
    for strategy, market, spec, reason in places:
        if spec.group in broken:
            residual = Residual(spec.outcome, spec.side, spec.price, spec.size, GROUP_INCOMPLETE)
            key = (strategy, market.condition_id)
            report.residuals[key] = (*report.residuals.get(key, ()), residual)
        else:
            kept.append((strategy, market, spec, reason))
    return sorted(kept, key=lambda p: p[2].group)  # stable: ungrouped first, in planning order



def _ending(intent: Intent, market: MarketInfo, quotes: tuple[Quote, ...]) -> str:
    """Why the planner cancels this intent's orders: a better one replaces them, the market
    cannot be traded, or whoever emptied the intent says why (contracts/order_end.py)."""
    if quotes:
        return order_end.REPLACED
    if not _can_trade(market):
        return order_end.because(order_end.MARKET_CLOSED, "" if market.closed else "not accepting orders")
    return order_end.of_empty_intent(intent.reason)


def _can_trade(market: MarketInfo) -> bool:
    return market.tradable and market.accepting_orders and not market.closed
