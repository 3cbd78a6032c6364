"""The executor: the only writer of orders, fills, positions and cash.

Strategies' intents come in (latest wins per strategy and market, no backlog); each
reconcile pass plans legal orders for every intent, cancels what no longer matches, and
places what is missing. Intent before network: a placement's row, with its signed payload
and venue order id, is committed (FULL sync) before the request leaves. Venue reports
(order updates, trades) are queued by the venue and applied here, forward-only.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field, replace

from sqlalchemy import Connection

from engine.trading.catalog import MarketCatalog
from engine.contracts.expiry import expiry_problem
from engine.domain import Intent, MarketInfo, Quote, Tif, fmt
from engine.execution import store
from engine.execution.events import IMPORTED, EventApplier
from engine.contracts.ticket import MANUAL
from engine.execution.planner import GROUP_INCOMPLETE, TAKE, Holdings, OrderSpec, Plan, Residual, WorkingOrder, plan
from engine.execution.state import ExecutionState, as_working
from engine.contracts.order_status import RANK, TERMINAL_RANK, OrderStatus, ended, from_venue
from engine.execution.store import OrderRow
from engine.execution.venue_health import HealthChange, VenueHealth
from engine.process.failpoints import crash_point
from engine.venues.base import (
    OrderRejected,
    OrderRequest,
    PlaceResult,
    PreparedOrder,
    Venue,
    VenueBusy,
    VenueError,
    VenueEvent,
    VenueOrder,
    VenueOrderStatus,
    VenueUnavailable,
)
from engine.venues.refusals import Refusal, classify
from storage import command_effects
from storage.audit import raise_alert
from storage.db import Database, Joined, is_locked, now_ms

log = logging.getLogger("engine.executor")

BATCH = 15  # the venue's batch limit
# Books whose orders are the operator's, not a strategy's: a pause or stop leaves them working
# (cancel them from the Orders page; a kill cancels everything).
OPERATOR_BOOKS = frozenset({IMPORTED, MANUAL})
LOCKED_RETRY_S = 0.1  # how soon waiting venue events try the database again
CANCEL_RETRY_MS = 5_000
TAKE_CHECK_MS = 2_000

INVALID_EXPIRY = "INVALID_EXPIRY"  # the reason code for a GTD whose expiry is out of bounds
GONE_GRACE_MS = 5_000  # an order placed this recently may not be in the venue's listing yet
UNLISTED_GRACE_MS = 15_000  # left out of the listing this long while its lookup says open: cancelled

# A last-line check before a placement (risk gate), given the orders open right now (this one
# not included): a reason code to refuse, or None.
PlacementCheck = Callable[[str, MarketInfo, OrderSpec, int], str | None]
# Told why an order was not placed: (strategy, market, spec, reason code, detail).
ReasonSink = Callable[[str, MarketInfo, OrderSpec, str, str], None]


@dataclass
class ExecutorConfig:
    lost_grace_ms: int = 15_000
    # Told when an order is held back or refused (the decisions log: "why didn't it trade?").
    reason_sink: ReasonSink | None = None
    # Told of every real venue fault (for the error-rate breaker); refusals and maintenance are not faults.
    error_sink: Callable[[str], None] | None = None
    # Told when the venue starts or stops taking orders (maintenance, post-only phase, rate limit).
    health_sink: Callable[[HealthChange], None] | None = None
    # Told of each order the venue refused (for the refusal-burst alert), and of each new fill
    # (strategy, price, size, what it was: for the large-fill alert).
    refusal_sink: Callable[[], None] | None = None
    fill_sink: Callable[[str, int, int, str], None] | None = None


@dataclass
class Placed:
    """What a placement pass did: how many the venue took, the rows it recorded (sent or not),
    and what was refused before sending, with the reason code."""

    count: int = 0
    order_ids: list[int] = field(default_factory=list)
    refused: list[tuple[OrderSpec, str]] = field(default_factory=list)

    def add(self, other: Placed) -> None:
        self.count += other.count
        self.order_ids += other.order_ids
        self.refused += other.refused


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
        self.health = VenueHealth(clock, self.config.health_sink)
        self.applier = EventApplier(self)
        self.latest: dict[tuple[str, str], Intent] = {}
        self.blocked = True
        self.events: asyncio.Queue[VenueEvent] = asyncio.Queue()
        self.partials: list[GroupFill] = []  # arbitrage groups that filled on some legs only, to settle
        self._backlog: deque[VenueEvent] = deque()  # taken from the queue, not yet written
        self._cancel_sent: dict[int, int] = {}
        self._checked: dict[int, int] = {}
        self._unlisted: dict[int, int] = {}  # order id -> when the listing first left it out (lookup: open)
        self._event_task: asyncio.Task[None] | None = None
        self._lookups: set[asyncio.Task[None]] = set()
        self.venue_closed = False
        self._tx: Connection | None = None
        self._after_commit: list[Callable[[], None]] = []
        # Each key's last plan and what it read: (market, keep_within, quotes, holdings, working, plan).
        self._planned: dict[tuple[str, str], Planned] = {}

    # -- lifecycle ---------------------------------------------------------------------

    def load(self) -> None:
        with self.db.read() as conn:
            self.state.load(conn)

    async def start(self) -> None:
        """Load state, connect the venue (its events start flowing) and apply them continuously."""
        self.load()
        await self.venue.start(self.events.put_nowait)
        if self._event_task is None:  # its own context: it is no command's, whichever started it
            self._event_task = asyncio.create_task(self._apply_events_forever(), context=contextvars.Context())

    async def close(self) -> None:
        if self._event_task is not None:
            self._event_task.cancel()
            self._event_task = None
        self.drain()
        await self.venue.close()
        self.venue_closed = True

    def tx(self) -> AbstractContextManager[Connection]:
        """One write transaction; nested calls join the open one (a drain of many venue
        events commits once). Never held across a venue call."""
        if self._tx is not None:
            return Joined(self._tx)
        return self._own_tx()

    @contextmanager
    def _own_tx(self) -> Iterator[Connection]:
        try:
            with self.db.write() as conn:
                self._tx = conn
                try:
                    yield conn
                finally:
                    self._tx = None
        except BaseException:
            self._after_commit.clear()  # rolled back: what it would have announced did not happen
            raise
        done, self._after_commit = self._after_commit, []
        for report in done:
            try:
                report()
            except Exception:  # a report (an alert) that fails must not undo or replay what committed
                log.exception("a report after a commit failed")

    def after_commit(self, report: Callable[[], None]) -> None:
        """Run `report` once the open transaction commits (at once when none is open), never
        inside it: a report that writes through its own connection (an alert) would wait for the
        lock this transaction holds. Dropped if the transaction rolls back."""
        if self._tx is None:
            report()
        else:
            self._after_commit.append(report)

    def block(self) -> None:
        """No placement is sent after this returns (checked right before every send)."""
        self.blocked = True

    def unblock(self) -> None:
        self.blocked = False

    async def _apply_events_forever(self) -> None:
        """Apply venue events as they come. While another process holds the database's write
        lock they wait, in order, and are applied when it is released: never skipped."""
        while True:
            self._backlog.append(await self.events.get())
            while self._backlog:
                self._take_queued()
                try:
                    self._apply_backlog()
                except Exception:
                    log.exception("failed to apply venue events")
                if self._backlog:
                    await asyncio.sleep(LOCKED_RETRY_S)

    def drain(self) -> int:
        """Apply every queued venue event now, in one transaction; returns how many applied
        (0 with them kept, in order, when the database is locked by another process)."""
        self._take_queued()
        return self._apply_backlog()

    def _take_queued(self) -> None:
        while not self.events.empty():
            self._backlog.append(self.events.get_nowait())

    def _apply_backlog(self) -> int:
        """Apply the waiting events in one transaction (one commit: the common case). If one
        fails, the batch rolls back and is applied again event by event, so only a bad event
        is skipped (with an alert). A locked database is not a bad event: what is left waits."""
        if not self._backlog:
            return 0
        batch = list(self._backlog)
        try:
            with self.tx():
                for event in batch:
                    self.applier.apply(event)
        except Exception as exc:
            if self._tx is not None:
                raise  # joined an outer transaction: its owner decides
            self.load()  # the mirror may hold part of the rolled-back batch
            if is_locked(exc):
                return 0
            log.warning("a batch of venue events failed; applying them one at a time", extra={"events": len(batch)})
            return self._apply_one_by_one()
        self._backlog.clear()
        return len(batch)

    def _apply_one_by_one(self) -> int:
        applied = 0
        while self._backlog:
            event = self._backlog[0]
            try:
                with self.tx():
                    self.applier.apply(event)
                applied += 1
            except Exception as exc:
                self.load()  # it may have changed the mirror before it raised; its rows are gone
                if is_locked(exc) or not self._skip(event, exc):
                    return applied  # the database is locked: this event and the rest wait
            self._backlog.popleft()
        return applied

    def _skip(self, event: VenueEvent, exc: Exception) -> bool:
        """Skip a bad event with an alert; False if even the alert cannot be written now."""
        log.error("failed to apply a venue event; skipped", extra={"event": repr(event), "error": repr(exc)})
        try:
            with self.tx() as conn:
                raise_alert(conn, level="critical", source="executor", code="EVENT_FAILED",
                            message=f"a venue report could not be applied and was skipped ({exc!r}): {event!r}. "
                                    "Check that order at the venue; a restart reconciles open orders with it")
        except Exception as alert_exc:
            if is_locked(alert_exc):
                return False
            raise
        return True

    # -- intents -----------------------------------------------------------------------

    def set_intents(self, intents: Iterable[Intent]) -> None:
        for intent in intents:
            self.latest[(intent.strategy, intent.condition_id)] = intent

    def withdraw(self, strategy: str | None = None) -> None:
        """Empty every intent (of one strategy): the next pass cancels their orders. Orders
        imported from the venue or placed by hand are not a strategy's to cancel: the
        operator decides."""
        keys = {k for k in self.latest if strategy is None or k[0] == strategy}
        keys |= {k for k in self.state.by_key if (strategy is None or k[0] == strategy) and k[0] not in OPERATOR_BOOKS}
        for key in keys:
            self.latest[key] = Intent(key[0], key[1], ())

    def plan_all(self) -> tuple[list[tuple[str, MarketInfo, OrderSpec, str]], list[OrderRow], PassReport]:
        """Plan every intent against the mirror; no I/O. Returns (places, cancels, report)."""
        report = PassReport()
        places: list[tuple[str, MarketInfo, OrderSpec, str]] = []
        cancels: list[OrderRow] = []
        broken: set[str] = set()  # arbitrage groups with a leg that cannot be placed
        for key in list(self.latest):
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
                cancels += [by_client[w.client_id] for w in result.cancel]
            places += [(strategy, market, spec, intent.reason) for spec in result.place]
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
        a busy pass's intents repeat the last one against the same orders and holdings."""
        holdings = self.state.holdings(key[0], market)
        working = tuple(as_working(open_orders))
        last = self._planned.get(key)
        if (last is not None and last[0] is market and last[1] == keep_within and last[2] == quotes
                and last[3] == holdings and last[4] == working):
            return last[5]
        result = plan(quotes, market, holdings, working, keep_within=keep_within)
        self._planned[key] = (market, keep_within, quotes, holdings, working, result)
        return result

    async def reconcile(self) -> PassReport:
        """One pass: plan everything, cancel what no longer matches, place what is missing."""
        places, cancels, report = self.plan_all()
        if self.health.wants_probe():
            await self._probe()
        cancels += self._stale_cancels()
        await self.cancel_orders(cancels)
        await self._check_unresolved()
        if places and not self.blocked:
            report.placed = (await self._place(places)).count
        return report

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

    # -- placing -----------------------------------------------------------------------

    def _approved(self, places: Sequence[tuple[str, MarketInfo, OrderSpec, str]],
                  outcome: Placed) -> list[tuple[str, MarketInfo, OrderSpec, str]]:
        """What may be sent now: the venue takes it (not restarting, not post-only-only for a
        non-post-only order, not rate-limited) and the placement check passes."""
        approved: list[tuple[str, MarketInfo, OrderSpec, str]] = []
        for group in _by_group(places):
            passed = []
            for strategy, market, spec, reason in group:
                refusal = self._check_one(strategy, market, spec, len(approved) + len(passed))
                if refusal is None:
                    passed.append((strategy, market, spec, reason))
                    continue
                outcome.refused.append((spec, refusal))
                if spec.group:  # an arbitrage goes whole or not at all
                    for other in group:
                        if other[2] is not spec:
                            self._refused(other[0], other[1], other[2], "GROUP_INCOMPLETE", f"with {refusal}")
                    passed = []
                    break
            approved += passed
        return approved

    def _check_one(self, strategy: str, market: MarketInfo, spec: OrderSpec, approved_so_far: int) -> str | None:
        if spec.tif is Tif.GTD:  # before its row exists: a bad expiry never leaves an orphan to mark LOST
            problem = expiry_problem(spec.expires_at_s, self.clock() // 1000)
            if problem is not None:
                self._refused(strategy, market, spec, INVALID_EXPIRY, problem)
                return f"{INVALID_EXPIRY}: {problem}"
        held = self.health.holds_back(spec)
        if held is not None:
            self._refused(strategy, market, spec, held, f"held back: {self.health.phase.value}")
            return held
        open_now = len(self.state.orders) + approved_so_far  # each approval counts for the next
        refusal = self.placement_check(strategy, market, spec, open_now) if self.placement_check else None
        if refusal is not None:
            self._refused(strategy, market, spec, refusal, "refused at placement")
        return refusal

    def _refused(self, strategy: str, market: MarketInfo, spec: OrderSpec, reason: str, detail: str) -> None:
        if self.config.reason_sink is not None:
            self.config.reason_sink(strategy, market, spec, reason, detail)

    async def _place(self, places: Sequence[tuple[str, MarketInfo, OrderSpec, str]], *,
                     override_block: bool = False) -> Placed:
        outcome = Placed()
        approved = places if override_block else self._approved(places, outcome)
        for batch in _batches(approved):
            if self.blocked and not override_block:
                break
            outcome.add(await self._place_batch(batch, override_block))
        return outcome

    async def place_now(self, places: Sequence[tuple[str, MarketInfo, OrderSpec, str]], *,
                        override_block: bool = False) -> Placed:
        """Operator placements (flatten, a manual ticket, an exit). `override_block` is only for
        the flatten that a kill-switch kill is configured to run; nothing else may place while
        blocked."""
        return await self._place(places, override_block=override_block)

    async def _place_batch(self, batch: Sequence[tuple[str, MarketInfo, OrderSpec, str]],
                           override_block: bool = False) -> Placed:
        prepared = [await self.venue.prepare(self._request(market, spec)) for _, market, spec, _ in batch]
        now = self.clock()
        with self.tx() as conn:  # intent before network (its commit is the record of the attempt)
            rows = [store.insert_order(
                conn, client_id=p.request.client_id, venue_order_id=p.venue_order_id, mode=self.mode,
                strategy=strategy, condition_id=market.condition_id, token_id=spec.token_id, outcome=spec.outcome,
                side=spec.side, price=spec.price, size=spec.size, tif=spec.tif, post_only=spec.post_only,
                payload=p.record, reason=reason or None, now=now, submitted_at=now,
                expires_at=spec.expires_at_s * 1000 if spec.tif is Tif.GTD and spec.expires_at_s else None,
            ) for p, (strategy, market, spec, reason) in zip(prepared, batch, strict=True)]
            command_effects.note(conn, {"orders": [row.id for row in rows]})  # an operator's command, if any
        for row in rows:
            self.state.track(row)
        crash_point("after_intent_commit")
        ids = [row.id for row in rows]
        if self.blocked and not override_block:  # a kill or stop arrived while we prepared: never send
            self._finish_unsent(rows, "blocked before sending (kill or stop)")
            return Placed(0, ids)
        results, busy = await self._send(prepared, rows)
        crash_point("after_submit")
        self._record_acks(rows, results)
        self._explain_refusals(batch, results, busy)
        self.partials += uneven_groups(batch, results)
        return Placed(sum(1 for r in results if r is not None and r.error is None), ids)

    def _request(self, market: MarketInfo, spec: OrderSpec) -> OrderRequest:
        return OrderRequest(
            client_id=self.new_client_id(), condition_id=market.condition_id, token_id=spec.token_id,
            side=spec.side, price=spec.price, size=spec.size, tif=spec.tif, post_only=spec.post_only,
            expires_at_s=spec.expires_at_s, neg_risk=market.neg_risk, tick=market.tick,
        )

    async def _send(self, prepared: list[PreparedOrder],
                    rows: list[OrderRow]) -> tuple[list[PlaceResult | None], VenueBusy | None]:
        """Submit; an unknown outcome (None) leaves the row PENDING_SUBMIT for lookup later.
        A venue that answered it took nothing (restarting, rate-limited) refused them all."""
        try:
            if len(prepared) == 1:
                results = [await self.venue.submit(prepared[0])]
            else:
                results = list(await self.venue.submit_many(prepared))
        except OrderRejected as exc:
            return [PlaceResult(p.venue_order_id, VenueOrderStatus.INVALID, error=str(exc)) for p in prepared], None
        except VenueBusy as exc:
            self.health.busy(exc)
            return [PlaceResult(p.venue_order_id, VenueOrderStatus.INVALID, error=str(exc)) for p in prepared], exc
        except VenueError as exc:
            self._error(str(exc))
            self.health.failed()
            log.warning("placement outcome unknown; will look it up", extra={"error": str(exc)})
            return [None] * len(prepared), None
        if any(r.error is None for r in results):
            self.health.answered()
        return list(results), None

    def _record_acks(self, rows: list[OrderRow], results: list[PlaceResult | None]) -> None:
        """Every answered placement moves at once: refused -> REJECTED; a fill-and-kill (or
        fill-or-kill) is done with its answer -> FILLED for what traded (the rest cancelled, said
        in its note), or CANCELED if nothing did; a resting order -> LIVE (or DELAYED-then-matched
        later)."""
        now = self.clock()
        with self.tx() as conn:
            refreshed = []
            for row, result in zip(rows, results, strict=True):
                if result is None:  # unknown outcome: as stored (now submitted)
                    refreshed.append(store.order_by_id(conn, row.id))
                    continue
                status, filled, note = _answered_status(row, result)
                refreshed.append(store.advance_row(conn, row.id, status, now, filled=filled, error=note, acked=True,
                                                   stored=self.state.orders.get(row.id)))
        for row in refreshed:
            self.state.track(row)

    def _explain_refusals(self, batch: Sequence[tuple[str, MarketInfo, OrderSpec, str]],
                          results: list[PlaceResult | None], busy: VenueBusy | None) -> None:
        """A refusal is the venue's answer to this order (a decision with its reason), the
        venue's maintenance (a restart, its post-only phase, a rate limit), or a fault, the
        only kind counted toward the error-rate breaker."""
        for (strategy, market, spec, _), result in zip(batch, results, strict=True):
            if result is None or result.error is None:
                continue
            detail = result.error[:300]
            if self.config.refusal_sink is not None:
                self.config.refusal_sink()
            if busy is not None:
                self._refused(strategy, market, spec, "VENUE_MAINTENANCE" if busy.maintenance else
                              "VENUE_RATE_LIMITED", detail)
                continue
            kind = classify(result.error)
            if kind is Refusal.POST_ONLY_MODE:
                self.health.post_only_mode(result.error)
                self._refused(strategy, market, spec, "VENUE_POST_ONLY", detail)
                continue
            self._refused(strategy, market, spec, "VENUE_REFUSED", detail)
            if kind is Refusal.FAULT:
                self._error(result.error)
                log.warning("order rejected", extra={"strategy": strategy, "error": result.error})

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

    async def cancel_orders(self, orders: Sequence[OrderRow], *, gone_if_refused: str | None = None) -> int:
        """Mark CANCEL_PENDING (reservations stay), ask the venue, release only on its ACK. An
        order the venue will not cancel is looked up and closed if it has no such order; with
        `gone_if_refused` (a lookup already said open and was not believed) it is closed at once."""
        targets = [o for o in orders if o.venue_order_id]
        if not targets:
            return 0
        now = self.clock()
        with self.tx() as conn:
            refreshed = [store.advance_row(conn, order.id, OrderStatus.CANCEL_PENDING, now,
                                           stored=self.state.orders.get(order.id)) for order in targets]
            command_effects.note(conn, {"cancelling": [order.id for order in targets]})
        for row in refreshed:
            self.state.track(row)
            self._cancel_sent[row.id] = now
        try:
            result = await self.venue.cancel([o.venue_order_id for o in targets if o.venue_order_id])
        except VenueBusy as exc:  # restarting or rate-limited: the orders still rest; sent again later
            self.health.busy(exc)
            log.info("cancel deferred: the venue is busy", extra={"error": str(exc), "orders": len(targets)})
            return 0
        except VenueError as exc:
            self._error(str(exc))
            if isinstance(exc, VenueUnavailable):
                self.health.failed()
            log.warning("cancel failed; will retry", extra={"error": str(exc), "orders": len(targets)})
            return 0
        self.health.answered()
        self.applier.cancel_acknowledged(result.canceled)
        for venue_id in result.not_canceled:
            if gone_if_refused is None:
                await self._settle_by_lookup(venue_id, "the venue could not cancel it and has no such order")
            elif (order_id := self.state.by_venue.get(venue_id)) is not None:
                reason = result.not_canceled[venue_id]
                self.close_gone(self.state.orders[order_id], f"{gone_if_refused}; the venue had nothing to cancel "
                                                             f"({reason})")
        return len(result.canceled)

    async def kill(self) -> dict[str, object]:
        """Block placements, then cancel everything at the venue on its priority lane. Never
        fails: if the venue cannot take the cancel now (a restart), the orders stay
        CANCEL_PENDING and every pass sends their cancels again until it can."""
        self.block()
        self.withdraw()
        try:
            result = await self.venue.cancel_all()
        except VenueError as exc:
            if isinstance(exc, VenueBusy):
                self.health.busy(exc)
            log.error("kill: the venue refused the cancel-all; cancelling order by order until it answers",
                      extra={"error": str(exc)})
            await self.cancel_orders([o for o in self.state.orders.values() if o.status is not OrderStatus.CANCEL_PENDING])
            return {"cancelled": 0, "still_open": len(self.state.orders), "venue_error": str(exc)}
        self.applier.cancel_acknowledged(result.canceled)
        self.drain()
        for order in list(self.state.orders.values()):
            if order.venue_order_id:
                await self._settle_by_lookup(order.venue_order_id, "the venue has no such order after a cancel-all")
        return {"cancelled": len(result.canceled), "still_open": len(self.state.orders)}

    async def sync_with_venue(self) -> int:
        """The venue's open orders against ours (every few seconds in live): orders it no
        longer has are looked up and closed on its answer, orders it has that we do not know
        are imported, and a cancel it never acknowledged is settled. Returns how many of our
        orders it closed or moved."""
        try:
            listed = await self.venue.open_orders()
        except VenueBusy as exc:
            self.health.busy(exc)
            return 0
        except VenueError as exc:
            if isinstance(exc, VenueUnavailable):  # no answer: counts toward VENUE_UNREACHABLE
                self.health.failed()
            log.warning("venue order sync failed", extra={"error": str(exc)})
            return 0
        self.health.answered()
        listed_ids = {o.venue_order_id for o in listed}
        for order in listed:
            if order.venue_order_id not in self.state.by_venue:
                self.applier.order_report(order)
        now, moved = self.clock(), 0
        for order_id in [i for i in self._unlisted if i not in self.state.orders or
                         self.state.orders[i].venue_order_id in listed_ids]:
            del self._unlisted[order_id]  # closed, or listed again: the views agree
        for row in list(self.state.orders.values()):
            placed_at = row.submitted_at or row.created_at
            if (not row.venue_order_id or row.venue_order_id in listed_ids
                    or row.status is OrderStatus.PENDING_SUBMIT or now - placed_at < GONE_GRACE_MS):
                continue
            if await self._settle_by_lookup(row.venue_order_id, "the venue no longer has this order"):
                moved += 1
            elif row.id in self.state.orders and await self._unlisted_too_long(self.state.orders[row.id], now):
                moved += 1
        return moved

    async def _unlisted_too_long(self, order: OrderRow, now: int) -> bool:
        """The venue's listing leaves this order out while its lookup still says it is open: the
        two views disagree. Past UNLISTED_GRACE_MS the order is cancelled to be sure, and closed
        on the cancel's answer (one it has nothing to cancel for is not working there)."""
        first = self._unlisted.setdefault(order.id, now)
        if now - first < UNLISTED_GRACE_MS or order.status is OrderStatus.CANCEL_PENDING:
            return False
        del self._unlisted[order.id]
        why = (f"missing from the venue's open orders for {(now - first) // 1000} s while its lookup still said "
               "open: cancelled to be sure")
        with self.tx() as conn:
            raise_alert(conn, level="warning", source="executor", code="ORDER_UNLISTED",
                        message=f"order {order.client_id} ({order.side.value} {fmt(order.size)} at {fmt(order.price)}) "
                                f"{why}; a strategy quotes afresh, a manual order must be placed again")
        await self.cancel_orders([order], gone_if_refused=why)
        return True

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
        answered, _ = await self._ask(venue_order_id)
        return answered

    async def _ask(self, venue_order_id: str) -> tuple[bool, VenueOrder | None]:
        """(whether the venue answered, its report, applied) for one order id."""
        try:
            found = await self.venue.get_order(venue_order_id)
        except VenueBusy as exc:
            self.health.busy(exc)
            return False, None
        except VenueError as exc:
            self.health.failed()
            log.warning("order lookup failed", extra={"venue_order_id": venue_order_id, "error": str(exc)})
            return False, None
        if found is not None:
            self.applier.order_report(found)
        return True, found

    async def _settle_by_lookup(self, venue_order_id: str, why: str) -> bool:
        """Look an order up; if the venue answers that it has no such order, close ours (it
        cannot be working there). True when our order moved or closed."""
        order_id = self.state.by_venue.get(venue_order_id)
        before = self.state.orders.get(order_id) if order_id is not None else None
        answered, found = await self._ask(venue_order_id)
        current = self.state.orders.get(order_id) if order_id is not None else None
        if answered and found is None and current is not None and current.status is not OrderStatus.PENDING_SUBMIT:
            self.close_gone(current, why)
            return True
        return before is not None and (current is None or current.status is not before.status)

    def close_gone(self, order: OrderRow, why: str) -> None:
        """The venue answered it has no such order: it is not working there. It ends as
        `order_status.ended` says (FILLED if its fills cover it, or for a take if anything
        traded; else CANCELED); its reservation goes (nothing rests to honour it)."""
        now = self.clock()
        status = ended(size=order.size, filled=order.filled, take=order.tif in TAKE)
        with self.tx() as conn:
            if store.advance(conn, order.id, status, now, error=why):
                raise_alert(conn, level="warning", source="executor", code="ORDER_GONE",
                            message=f"order {order.client_id} ({order.side.value} {fmt(order.size)} at "
                                    f"{fmt(order.price)}) closed as {status.value}: {why}")
            row = store.order_by_id(conn, order.id)
        self.state.track(row)

    async def _check_unresolved(self) -> None:
        """Takes and unknown-outcome placements settle by lookup; long-unknown ones become LOST."""
        now = self.clock()
        for order in list(self.state.orders.values()):
            pending = order.status is OrderStatus.PENDING_SUBMIT and order.submitted_at is not None
            take = order.tif in TAKE
            if not (pending or take) or now - self._checked.get(order.id, order.created_at) < TAKE_CHECK_MS:
                continue
            self._checked[order.id] = now
            answered, found = await self._ask(order.venue_order_id) if order.venue_order_id else (True, None)
            if not answered:
                continue  # an outage is not an answer: the order may be resting there; ask again later
            current = self.state.orders.get(order.id)
            if current is None:
                continue
            if current.status is OrderStatus.PENDING_SUBMIT:
                if now - order.created_at > self.config.lost_grace_ms:
                    self.mark_lost(current, "the venue never acknowledged it and has no such order")
            elif take and found is None:  # a delayed take the venue is done with: it never rests
                self.close_gone(current, f"the venue no longer has this {current.tif.value} order")

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


Place = tuple[str, MarketInfo, OrderSpec, str]

Planned = tuple[MarketInfo, int, tuple[Quote, ...], Holdings, tuple[WorkingOrder, ...], Plan]


@dataclass(frozen=True)
class GroupFill:
    """An arbitrage group the venue filled unevenly: each leg with what it filled."""

    strategy: str
    group: str
    on_partial: str
    legs: tuple[tuple[MarketInfo, OrderSpec, int], ...]


def uneven_groups(batch: Sequence[Place], results: Sequence[PlaceResult | None]) -> list[GroupFill]:
    """Groups in this batch whose legs did not all fill the same (every leg answered)."""
    legs: dict[str, list[tuple[str, MarketInfo, OrderSpec, int | None]]] = {}
    for (strategy, market, spec, _), result in zip(batch, results, strict=True):
        if spec.group:
            filled = None if result is None else (0 if result.error else (result.filled or 0))
            legs.setdefault(spec.group, []).append((strategy, market, spec, filled))
    out = []
    for group, members in legs.items():
        fills = [f for *_, f in members]
        if None not in fills and len(set(fills)) > 1:
            out.append(GroupFill(members[0][0], group, members[0][2].on_partial,
                                 tuple((m, s, f or 0) for _, m, s, f in members)))
    return out


def _by_group(places: Sequence[Place]) -> list[list[Place]]:
    """Each ungrouped placement alone, each arbitrage group's legs together (they are adjacent)."""
    out: list[list[Place]] = []
    for place in places:
        group = place[2].group
        if group and out and out[-1][0][2].group == group:
            out[-1].append(place)
        else:
            out.append([place])
    return out


def _batches(places: Sequence[Place]) -> list[list[Place]]:
    """Batches of at most BATCH orders that never split an arbitrage group."""
    batches: list[list[Place]] = [[]]
    for group in _by_group(places):
        if batches[-1] and len(batches[-1]) + len(group) > BATCH:
            batches.append([])
        for start in range(0, len(group), BATCH):  # a group past the venue's batch limit cannot be one
            if start:
                batches.append([])
            batches[-1].extend(group[start:start + BATCH])
    return [b for b in batches if b]


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


def _answered_status(row: OrderRow, result: PlaceResult) -> tuple[OrderStatus, int | None, str | None]:
    """(status, shares filled if the answer said, note) for a placement the venue answered."""
    if result.error is not None:
        return OrderStatus.REJECTED, None, result.error
    filled = row.filled if result.filled is None else max(row.filled, result.filled)
    take = row.tif in TAKE
    status = from_venue(result.status, size=row.size, filled=filled, take=take)
    note = None
    if take and RANK[status] >= TERMINAL_RANK and filled < row.size:  # FILLED for what traded, or CANCELED
        note = (f"{row.tif.value}: {fmt(filled)} of {fmt(row.size)} shares traded; the venue cancelled the rest"
                if filled else f"{row.tif.value}: nothing traded")
    return status, filled if result.filled is not None else None, note


def _can_trade(market: MarketInfo) -> bool:
    return market.tradable and market.accepting_orders and not market.closed
