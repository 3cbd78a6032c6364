"""Cancelling at the venue, and holding our orders to the venue's list of open ones.

A cancel marks the order CANCEL_PENDING (its reservation stays), asks the venue, and
releases only on the venue's acknowledgement; one never acknowledged is sent again. Unless it
records an operator command's effect, the mark is committed without waiting for the disk (the
fsync was most of a decision's reaction time, 1-5 ms on a busy disk, bench/reaction.py), and a
decision's cancel to a network venue is sent first and marked while its request travels (the
mark's transaction was ~0.6 ms of the reaction, more when another writer held the lock). The
answer is read only once the mark is committed. A crash, or a power loss, between the request
and its mark loses the mark, never the order: its row, synced when it was placed, still reads
open, and the venue sync closes it on the venue's word, as it does an order the venue
cancelled on its own. An operator command's cancel is marked, synced with the command's
noted effect, before it is sent. The kill's cancel-all never fails: when the venue cannot take
it now, every order is cancelled one by one on each pass until it can. The venue sync (every
few seconds in live) closes orders the venue no longer has, on its answer, and imports the ones
it has that we do not.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import cast

from contracts import order_end
from contracts.domain import fmt
from contracts.order_status import OrderStatus
from engine.execution import store
from engine.execution.bus import EventBus, VenueFault
from engine.execution.event_applier import EventApplier
from engine.execution.lookups import OrderLookups
from engine.execution.state import ExecutionState
from engine.execution.store import OrderRow
from engine.execution.transactions import OrderTracker, Transactions
from engine.execution.venue_health import VenueHealth
from engine.venues.base import CancelResult, SaysWhenSent, Venue, VenueBusy, VenueError, VenueUnavailable
from storage.command_queue import command_effects
from storage.desk.audit import raise_alert
from storage.engine_stores import execution_ledger

log = logging.getLogger("engine.executor")

CANCEL_RETRY_MS = 5_000
GONE_GRACE_MS = 5_000  # an order placed this recently may not be in the venue's listing yet
UNLISTED_GRACE_MS = 15_000  # left out of the listing this long while its lookup says open: cancelled


class Cancels:
    _venue: Venue
    _says_when_sent: bool

    def __init__(self, venue: Venue, state: ExecutionState, health: VenueHealth, transactions: Transactions,
                 tracker: OrderTracker, applier: EventApplier, lookups: OrderLookups, bus: EventBus,
                 clock: Callable[[], int]):
        self.venue = venue
        self.state = state
        self.health = health
        self.transactions = transactions
        self.tracker = tracker
        self.applier = applier
        self.lookups = lookups
        self.bus = bus
        self.clock = clock
        self._sent: dict[int, int] = {}

    @property
    def venue(self) -> Venue:
        return self._venue

    @venue.setter
    def venue(self, venue: Venue) -> None:
        # Whether it says when a cancel has left, asked once: a protocol's isinstance costs ~8 us,
        # on every cancelling decision.
        self._venue = venue
        self._says_when_sent = isinstance(venue, SaysWhenSent)

    def stale(self) -> list[OrderRow]:
        """Cancels sent but never acknowledged are sent again after a while."""
        now = self.clock()
        return [o for o in self.state.orders.values() if o.status is OrderStatus.CANCEL_PENDING
                and now - self._sent.get(o.id, 0) > CANCEL_RETRY_MS]

    async def cancel(self, orders: Sequence[OrderRow], *, gone_if_refused: str | None = None,
                     why: str | Mapping[int, str] = order_end.WITHDRAWN) -> int:
        """Mark CANCEL_PENDING (reservations stay), ask the venue, release only on its ACK. An
        order the venue will not cancel is looked up and closed if it has no such order; with
        `gone_if_refused` (a lookup already said open and was not believed) it is closed at once.
        `why`: the cause recorded on each order (contracts/order_end.py), one for all or by order id."""
        targets = [o for o in orders if o.venue_order_id]
        if not targets:
            return 0
        now = self.clock()
        ids = [o.venue_order_id for o in targets if o.venue_order_id]
        sending = await self._sent_first(ids)
        try:
            self._mark(targets, now, why)
        except BaseException:
            if sending is not None:  # out already: its answer is the venue's word, which the venue sync reads
                sending.add_done_callback(_unanswered)
            raise
        try:
            result = await (sending if sending is not None else self.venue.cancel(ids))
        except VenueBusy as exc:  # restarting or rate-limited: the orders still rest; sent again later
            self.health.busy(exc)
            log.info("cancel deferred: the venue is busy", extra={"error": str(exc), "orders": len(targets)})
            return 0
        except VenueError as exc:
            self.bus.publish(VenueFault(str(exc)))
            if isinstance(exc, VenueUnavailable):
                self.health.failed()
            log.warning("cancel failed; will retry", extra={"error": str(exc), "orders": len(targets)})
            return 0
        self.health.answered()
        self.applier.cancel_acknowledged(result.canceled)
        for venue_id in result.not_canceled:
            if gone_if_refused is None:
                await self.lookups.settle_by_lookup(venue_id, "the venue could not cancel it and has no such order")
            elif (order_id := self.state.by_venue.get(venue_id)) is not None:
                reason = result.not_canceled[venue_id]
                self.lookups.close_gone(self.state.orders[order_id], f"{gone_if_refused}; the venue had nothing "
                                                                     f"to cancel ({reason})")
        return len(result.canceled)

    async def _sent_first(self, ids: list[str]) -> asyncio.Task[CancelResult] | None:
        """A decision's cancel to a venue that says when its request has left: sent now, and
        returned (still travelling) once it has left or finished; None for every other cancel,
        which is recorded first. Recording it took ~0.6 ms of the desk's reaction to a move
        (bench/reaction.py), and a write lock held by another writer (the recorder's, an
        import's) held the cancel back with it."""
        if command_effects.current() is not None or self.transactions.is_open \
                or not self._says_when_sent:
            return None
        written: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        sending = asyncio.ensure_future(cast(SaysWhenSent, self.venue).cancel_sent(ids, written))
        try:
            await asyncio.wait((written, sending), return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            sending.cancel()
            raise
        return sending

    def _mark(self, targets: Sequence[OrderRow], now: int, why: str | Mapping[int, str]) -> None:
        """CANCEL_PENDING, and why, on each order (as the mirror holds it now: a fill may have come
        in while the request left)."""
        with self.transactions.tx(synced=command_effects.current() is not None) as conn:
            refreshed = [store.advance_row(conn, order.id, OrderStatus.CANCEL_PENDING, now,
                                           stored=self.state.orders.get(order.id),
                                           end_reason=why if isinstance(why, str) else why.get(order.id))
                         for order in targets]
            command_effects.note(conn, {"cancelling": [order.id for order in targets]})
        if len(self._sent) > 2 * len(self.state.orders) + 1_000:  # closed orders' stamps: never read again
            self._sent = {i: at for i, at in self._sent.items() if i in self.state.orders}
        for row in refreshed:
            self.tracker.track(row)
            self._sent[row.id] = now

    async def cancel_all(self, drain: Callable[[], int]) -> dict[str, object]:
        """Everything at the venue on its priority lane (the kill's cancel; the caller blocked
        placements first). `drain` applies the reports the cancel-all brought."""
        with self.transactions.tx() as conn:
            execution_ledger.mark_ending(conn, list(self.state.orders), order_end.KILLED, self.clock())
        try:
            result = await self.venue.cancel_all()
        except VenueError as exc:
            if isinstance(exc, VenueBusy):
                self.health.busy(exc)
            log.error("kill: the venue refused the cancel-all; cancelling order by order until it answers",
                      extra={"error": str(exc)})
            await self.cancel([o for o in self.state.orders.values() if o.status is not OrderStatus.CANCEL_PENDING],
                              why=order_end.KILLED)
            return {"cancelled": 0, "still_open": len(self.state.orders), "venue_error": str(exc)}
        self.applier.cancel_acknowledged(result.canceled)
        drain()
        for order in list(self.state.orders.values()):
            if order.venue_order_id:
                await self.lookups.settle_by_lookup(order.venue_order_id,
                                                    "the venue has no such order after a cancel-all")
        return {"cancelled": len(result.canceled), "still_open": len(self.state.orders)}


class VenueSync:
    """The venue's open orders against ours."""

    def __init__(self, venue: Venue, state: ExecutionState, health: VenueHealth, transactions: Transactions,
                 applier: EventApplier, lookups: OrderLookups, cancels: Cancels, clock: Callable[[], int]):
        self.venue = venue
        self.state = state
        self.health = health
        self.transactions = transactions
        self.applier = applier
        self.lookups = lookups
        self.cancels = cancels
        self.clock = clock
        self._unlisted: dict[int, int] = {}  # order id -> when the listing first left it out (lookup: open)

    async def run(self) -> int:
        """Orders it no longer has are looked up and closed on its answer, orders it has that we
        do not know are imported, and a cancel it never acknowledged is settled. Returns how
        many of our orders it closed or moved."""
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
            if await self.lookups.settle_by_lookup(row.venue_order_id, "the venue no longer has this order"):
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
        with self.transactions.tx() as conn:
            raise_alert(conn, level="warning", source="executor", code="ORDER_UNLISTED",
                        message=f"order {order.client_id} ({order.side.value} {fmt(order.size)} at {fmt(order.price)}) "
                                f"{why}; a strategy quotes afresh, a manual order must be placed again")
        await self.cancels.cancel([order], gone_if_refused=why, why=order_end.because("cancelled", why))
        return True


def _unanswered(sending: asyncio.Task[CancelResult]) -> None:
    """A cancel sent whose mark could not be written: its answer is dropped (the venue's own report
    of the cancel, or the venue sync, closes the orders), said once in the log."""
    if sending.cancelled():
        return
    error = sending.exception()
    log.warning("a cancel went out but could not be recorded; the venue's reports will close its orders",
                extra={"error": str(error) if error is not None else None})
