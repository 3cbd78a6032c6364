"""The executor: the only writer of orders, fills, positions and cash.

Strategies' intents come in (latest wins per strategy and market, no backlog); each
reconcile pass plans legal orders for every intent, cancels what no longer matches, and
places what is missing. Intent before network: a placement's row, with its signed payload
and venue order id, is committed (FULL sync) before the request leaves. Venue reports
(order updates, trades) are queued by the venue and applied here, forward-only.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import Connection

from engine.catalog import MarketCatalog
from engine.domain import Intent, MarketInfo
from engine.execution import store
from engine.execution.events import IMPORTED, EventApplier
from engine.execution.planner import TAKE, OrderSpec, Plan, Residual, plan
from engine.execution.state import ExecutionState
from engine.execution.status import OrderStatus
from engine.execution.store import OrderRow
from engine.failpoints import crash_point
from engine.venues.base import (
    OrderRejected,
    OrderRequest,
    PlaceResult,
    PreparedOrder,
    Venue,
    VenueError,
    VenueEvent,
    VenueOrderStatus,
)
from storage.audit import raise_alert
from storage.db import Database, now_ms

log = logging.getLogger("engine.executor")

BATCH = 15  # the venue's batch limit
CANCEL_RETRY_MS = 5_000
TAKE_CHECK_MS = 2_000

# A last-line check before a placement (risk gate): a reason code to refuse, or None.
PlacementCheck = Callable[[str, MarketInfo, OrderSpec], str | None]


@dataclass
class ExecutorConfig:
    lost_grace_ms: int = 15_000
    # Told when the placement check refuses an order (strategy, market, spec, reason code).
    reason_sink: Callable[[str, MarketInfo, OrderSpec, str], None] | None = None
    # Told of every venue error or rejection (for the error-rate breaker).
    error_sink: Callable[[str], None] | None = None


@dataclass
class PassReport:
    placed: int = 0
    residuals: dict[tuple[str, str], tuple[Residual, ...]] = field(default_factory=dict)


class Executor:
    def __init__(self, db: Database, venue: Venue, catalog: MarketCatalog, *, mode: str,
                 clock: Callable[[], int] = now_ms, new_client_id: Callable[[], str] | None = None,
                 placement_check: PlacementCheck | None = None, config: ExecutorConfig | None = None):
        self.db = db
        self.venue = venue
        self.catalog = catalog
        self.mode = mode
        self.clock = clock
        self.new_client_id = new_client_id or (lambda: uuid.uuid4().hex)
        self.placement_check = placement_check
        self.config = config or ExecutorConfig()
        self.state = ExecutionState(mode)
        self.applier = EventApplier(self)
        self.latest: dict[tuple[str, str], Intent] = {}
        self.blocked = True
        self.events: asyncio.Queue[VenueEvent] = asyncio.Queue()
        self._cancel_sent: dict[int, int] = {}
        self._checked: dict[int, int] = {}
        self._event_task: asyncio.Task[None] | None = None
        self._lookups: set[asyncio.Task[None]] = set()
        self.venue_closed = False
        self._tx: Connection | None = None

    # -- lifecycle ---------------------------------------------------------------------

    def load(self) -> None:
        with self.db.read() as conn:
            self.state.load(conn)

    async def start(self) -> None:
        """Load state, connect the venue (its events start flowing) and apply them continuously."""
        self.load()
        await self.venue.start(self.events.put_nowait)
        if self._event_task is None:
            self._event_task = asyncio.create_task(self._apply_events_forever())

    async def close(self) -> None:
        if self._event_task is not None:
            self._event_task.cancel()
            self._event_task = None
        self.drain()
        await self.venue.close()
        self.venue_closed = True

    @contextmanager
    def tx(self) -> Iterator[Connection]:
        """One write transaction; nested calls join the open one (a drain of many venue
        events commits once). Never held across a venue call."""
        if self._tx is not None:
            yield self._tx
            return
        with self.db.write() as conn:
            self._tx = conn
            try:
                yield conn
            finally:
                self._tx = None

    def block(self) -> None:
        """No placement is sent after this returns (checked right before every send)."""
        self.blocked = True

    def unblock(self) -> None:
        self.blocked = False

    async def _apply_events_forever(self) -> None:
        while True:
            event = await self.events.get()
            try:
                self._apply_events([event])
            except Exception:
                log.exception("failed to apply a venue event", extra={"event": repr(event)})

    def drain(self) -> int:
        """Apply every queued venue event now, in one transaction; returns how many applied."""
        events: list[VenueEvent] = []
        while not self.events.empty():
            events.append(self.events.get_nowait())
        return self._apply_events(events)

    def _apply_events(self, events: Sequence[VenueEvent]) -> int:
        """Apply events in one transaction (one commit: the common case). If one fails, the
        batch rolls back and is applied again event by event, so only the bad one is skipped
        (a savepoint per event would tax every drain for a case that should never happen)."""
        if not events:
            return 0
        try:
            with self.tx():
                for event in events:
                    self.applier.apply(event)
            return len(events)
        except Exception:
            if self._tx is not None:
                raise  # joined an outer transaction: its owner decides
            self.load()  # the mirror may hold part of the rolled-back batch
            log.warning("a batch of venue events failed; applying them one at a time", extra={"events": len(events)})
            return sum(self._apply_alone(event) for event in events)

    def _apply_alone(self, event: VenueEvent) -> bool:
        try:
            with self.tx():
                self.applier.apply(event)
            return True
        except Exception as exc:
            log.exception("failed to apply a venue event; skipped", extra={"event": repr(event)})
            self.load()  # it may have changed the mirror before it raised; its rows are gone
            with self.tx() as conn:
                raise_alert(conn, level="critical", source="executor", code="EVENT_FAILED",
                            message=f"a venue report could not be applied and was skipped ({exc!r}): {event!r}. "
                                    "Check that order at the venue; a restart reconciles open orders with it")
            return False

    # -- intents -----------------------------------------------------------------------

    def set_intents(self, intents: Iterable[Intent]) -> None:
        for intent in intents:
            self.latest[(intent.strategy, intent.condition_id)] = intent

    def withdraw(self, strategy: str | None = None) -> None:
        """Empty every intent (of one strategy): the next pass cancels their orders. Orders
        imported from the venue are not a strategy's to cancel: the operator decides."""
        keys = {k for k in self.latest if strategy is None or k[0] == strategy}
        keys |= {k for k in self.state.by_key if (strategy is None or k[0] == strategy) and k[0] != IMPORTED}
        for key in keys:
            self.latest[key] = Intent(key[0], key[1], ())

    def plan_all(self) -> tuple[list[tuple[str, MarketInfo, OrderSpec, str]], list[OrderRow], PassReport]:
        """Plan every intent against the mirror; no I/O. Returns (places, cancels, report)."""
        report = PassReport()
        places: list[tuple[str, MarketInfo, OrderSpec, str]] = []
        cancels: list[OrderRow] = []
        for key in list(self.latest):
            strategy, condition_id = key
            intent = self.latest[key]
            market = self.catalog.get(condition_id)
            quotes = intent.quotes if market is not None and _can_trade(market) else ()
            if market is None:
                if not self.state.by_key.get(key):
                    del self.latest[key]
                continue
            result: Plan = plan(quotes, market, self.state.holdings(strategy, market),
                                self.state.working(strategy, condition_id))
            by_client = {o.client_id: o for o in self.state.open_for(strategy, condition_id)}
            cancels += [by_client[w.client_id] for w in result.cancel]
            places += [(strategy, market, spec, intent.reason) for spec in result.place]
            if result.residuals:
                report.residuals[key] = result.residuals
            resting = tuple(q for q in intent.quotes if q.tif not in TAKE)
            if len(resting) != len(intent.quotes):
                # Takes are one-shot: sent (or skipped) once; a strategy that still wants one re-emits it.
                self.latest[key] = Intent(strategy, condition_id, resting, intent.reason)
            if not resting and not by_client:
                del self.latest[key]
        return places, cancels, report

    async def reconcile(self) -> PassReport:
        """One pass: plan everything, cancel what no longer matches, place what is missing."""
        places, cancels, report = self.plan_all()
        cancels += self._stale_cancels()
        await self.cancel_orders(cancels)
        await self._check_unresolved()
        if places and not self.blocked:
            report.placed = await self._place(places)
        return report

    # -- placing -----------------------------------------------------------------------

    def _approved(self, places: Sequence[tuple[str, MarketInfo, OrderSpec, str]]) -> list[tuple[str, MarketInfo, OrderSpec, str]]:
        if self.placement_check is None:
            return list(places)
        approved = []
        for strategy, market, spec, reason in places:
            refusal = self.placement_check(strategy, market, spec)
            if refusal is None:
                approved.append((strategy, market, spec, reason))
            elif self.config.reason_sink is not None:
                self.config.reason_sink(strategy, market, spec, refusal)
        return approved

    async def _place(self, places: Sequence[tuple[str, MarketInfo, OrderSpec, str]], *,
                     override_block: bool = False) -> int:
        placed = 0
        approved = places if override_block else self._approved(places)
        for start in range(0, len(approved), BATCH):
            if self.blocked and not override_block:
                break
            placed += await self._place_batch(approved[start:start + BATCH], override_block)
        return placed

    async def place_now(self, places: Sequence[tuple[str, MarketInfo, OrderSpec, str]], *,
                        override_block: bool = False) -> int:
        """Operator placements (flatten). `override_block` is only for the flatten that a
        kill-switch kill is configured to run; nothing else may place while blocked."""
        return await self._place(places, override_block=override_block)

    async def _place_batch(self, batch: Sequence[tuple[str, MarketInfo, OrderSpec, str]],
                           override_block: bool = False) -> int:
        prepared = [await self.venue.prepare(self._request(market, spec)) for _, market, spec, _ in batch]
        now = self.clock()
        with self.tx() as conn:  # intent before network (its commit is the record of the attempt)
            rows = [store.insert_order(
                conn, client_id=p.request.client_id, venue_order_id=p.venue_order_id, mode=self.mode,
                strategy=strategy, condition_id=market.condition_id, token_id=spec.token_id, outcome=spec.outcome,
                side=spec.side, price=spec.price, size=spec.size, tif=spec.tif, post_only=spec.post_only,
                payload=p.record, reason=reason or None, now=now,
            ) for p, (strategy, market, spec, reason) in zip(prepared, batch, strict=True)]
            store.mark_submitted(conn, [r.id for r in rows], now)
        for row in rows:
            self.state.track(row)
        crash_point("after_intent_commit")
        if self.blocked and not override_block:  # a kill or stop arrived while we prepared: never send
            self._finish_unsent(rows, "blocked before sending (kill or stop)")
            return 0
        results = await self._send(prepared, rows)
        crash_point("after_submit")
        self._record_acks(rows, results)
        return sum(1 for r in results if r is not None and r.error is None)

    def _request(self, market: MarketInfo, spec: OrderSpec) -> OrderRequest:
        return OrderRequest(
            client_id=self.new_client_id(), condition_id=market.condition_id, token_id=spec.token_id,
            side=spec.side, price=spec.price, size=spec.size, tif=spec.tif, post_only=spec.post_only,
            neg_risk=market.neg_risk, tick=market.tick,
        )

    async def _send(self, prepared: list[PreparedOrder], rows: list[OrderRow]) -> list[PlaceResult | None]:
        """Submit; an unknown outcome (None) leaves the row PENDING_SUBMIT for lookup later."""
        try:
            if len(prepared) == 1:
                return [await self.venue.submit(prepared[0])]
            return list(await self.venue.submit_many(prepared))
        except OrderRejected as exc:
            return [PlaceResult(p.venue_order_id, VenueOrderStatus.INVALID, error=str(exc)) for p in prepared]
        except VenueError as exc:
            self._error(str(exc))
            log.warning("placement outcome unknown; will look it up", extra={"error": str(exc)})
            return [None] * len(prepared)

    def _record_acks(self, rows: list[OrderRow], results: list[PlaceResult | None]) -> None:
        now = self.clock()
        with self.tx() as conn:
            for row, result in zip(rows, results, strict=True):
                if result is None:
                    continue
                if result.error is not None:
                    store.advance(conn, row.id, OrderStatus.REJECTED, now, error=result.error, acked=True)
                elif result.status in (VenueOrderStatus.CANCELED, VenueOrderStatus.CANCELED_MARKET_RESOLVED):
                    store.advance(conn, row.id, OrderStatus.CANCELED, now, acked=True)
                else:
                    store.advance(conn, row.id, OrderStatus.LIVE, now, acked=True)
            refreshed = [store.order_by_id(conn, row.id) for row in rows]
        for row in refreshed:
            self.state.track(row)
        for row, result in zip(rows, results, strict=True):
            if result is not None and result.error is not None:
                self._error(result.error)
                log.warning("order rejected", extra={"client_id": row.client_id, "error": result.error})

    def _error(self, message: str) -> None:
        if self.config.error_sink is not None:
            self.config.error_sink(message)

    def _finish_unsent(self, rows: list[OrderRow], why: str) -> None:
        now = self.clock()
        with self.tx() as conn:
            for row in rows:
                store.advance(conn, row.id, OrderStatus.CANCELED, now, error=why)
        for row in rows:
            self.state.forget(row.id)

    # -- cancelling --------------------------------------------------------------------

    def _stale_cancels(self) -> list[OrderRow]:
        """Cancels sent but never acknowledged are sent again after a while."""
        now = self.clock()
        return [o for o in self.state.orders.values() if o.status is OrderStatus.CANCEL_PENDING
                and now - self._cancel_sent.get(o.id, 0) > CANCEL_RETRY_MS]

    async def cancel_orders(self, orders: Sequence[OrderRow]) -> int:
        """Mark CANCEL_PENDING (reservations stay), ask the venue, release only on its ACK."""
        targets = [o for o in orders if o.venue_order_id]
        if not targets:
            return 0
        now = self.clock()
        with self.tx() as conn:
            for order in targets:
                store.advance(conn, order.id, OrderStatus.CANCEL_PENDING, now)
            refreshed = [store.order_by_id(conn, o.id) for o in targets]
        for row in refreshed:
            self.state.track(row)
            self._cancel_sent[row.id] = now
        try:
            result = await self.venue.cancel([o.venue_order_id for o in targets if o.venue_order_id])
        except VenueError as exc:
            self._error(str(exc))
            log.warning("cancel failed; will retry", extra={"error": str(exc), "orders": len(targets)})
            return 0
        self.applier.cancel_acknowledged(result.canceled)
        for venue_id in result.not_canceled:
            await self._look_up(venue_id)
        return len(result.canceled)

    async def kill(self) -> dict[str, int]:
        """Block placements, then cancel everything at the venue on its priority lane."""
        self.block()
        self.withdraw()
        result = await self.venue.cancel_all()
        self.applier.cancel_acknowledged(result.canceled)
        self.drain()
        for order in list(self.state.orders.values()):
            if order.venue_order_id:
                await self._look_up(order.venue_order_id)
        return {"cancelled": len(result.canceled), "still_open": len(self.state.orders)}

    # -- lookups -----------------------------------------------------------------------

    def request_lookup(self, venue_order_id: str) -> None:
        """Ask the venue about an order we only know from a trade (applied when it answers)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # replay without a loop: the order's own report will come in the stream
        task = loop.create_task(self._adopt(venue_order_id))
        self._lookups.add(task)
        task.add_done_callback(self._lookups.discard)

    async def settle_lookups(self) -> None:
        """Wait for every pending order lookup (recovery wants a settled picture)."""
        while self._lookups:
            await asyncio.gather(*list(self._lookups), return_exceptions=True)

    async def _adopt(self, venue_order_id: str) -> None:
        await self._look_up(venue_order_id)
        self.applier.import_orphans_as_is(venue_order_id)

    async def _look_up(self, venue_order_id: str) -> bool:
        """Apply the venue's report of an order. True if the venue answered (whether or not it
        has the order); False if it did not, which says nothing about the order."""
        try:
            found = await self.venue.get_order(venue_order_id)
        except VenueError as exc:
            log.warning("order lookup failed", extra={"venue_order_id": venue_order_id, "error": str(exc)})
            return False
        if found is not None:
            self.applier.order_report(found)
        return True

    async def _check_unresolved(self) -> None:
        """Takes and unknown-outcome placements settle by lookup; long-unknown ones become LOST."""
        now = self.clock()
        for order in list(self.state.orders.values()):
            pending = order.status is OrderStatus.PENDING_SUBMIT and order.submitted_at is not None
            take = order.tif in TAKE
            if not (pending or take) or now - self._checked.get(order.id, order.created_at) < TAKE_CHECK_MS:
                continue
            self._checked[order.id] = now
            if order.venue_order_id and not await self._look_up(order.venue_order_id):
                continue  # an outage is not an answer: the order may be resting there; ask again later
            current = self.state.orders.get(order.id)
            if current is not None and current.status is OrderStatus.PENDING_SUBMIT \
                    and now - order.created_at > self.config.lost_grace_ms:
                self.mark_lost(current, "the venue never acknowledged it and has no such order")

    def mark_lost(self, order: OrderRow, why: str) -> None:
        """LOST, with a flag and an alert, unless it has meanwhile reached a final state."""
        now = self.clock()
        with self.tx() as conn:
            if store.advance(conn, order.id, OrderStatus.LOST, now, error=why):
                store.add_flag(conn, order.id, "lost", now)
                raise_alert(conn, level="warning", source="executor", code="ORDER_LOST",
                            message=f"order {order.client_id} marked LOST: {why}; it was not resubmitted")
            row = store.order_by_id(conn, order.id)
        self.state.track(row)


def _can_trade(market: MarketInfo) -> bool:
    return market.tradable and market.accepting_orders and not market.closed
